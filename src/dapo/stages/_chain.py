"""Arguments and endings shared by the stages of one DAPO chain (one seed, one iteration)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..io import write_json
from ..tracking import StageRun
from . import STARTED, _cli


def add_chain_args(p) -> None:
    p.add_argument("--seed", type=int, required=True, help="chain seed (0..seeds-1)")
    p.add_argument("--iteration", type=int, required=True, help="DAPO iteration (1..iterations)")


def chain_seed(args, stage_offset: int) -> int:
    """A distinct, reproducible seed per (stage, chain seed, iteration)."""
    return 1_000_003 * args.seed + 1_009 * args.iteration + stage_offset


def start_run(stage: str, params: dict[str, Any], args) -> StageRun:
    """The stage's MLflow run, tagged with the chain's seed and iteration."""
    return StageRun(stage, params, seed=args.seed, iteration=args.iteration)


def finish(run: StageRun, out: Path, metrics: dict[str, Any], curve: _cli.Curve | None = None) -> None:
    """Write <out>/metrics.json and, for a training stage, <out>/curve.csv (the DVC-tracked
    records), with the job's wall time from process start (`<stage>/job_seconds`, for the compute
    table); print and log the scalar metrics."""
    metrics = {**metrics, f"{run.stage}/job_seconds": time.time() - STARTED}
    if curve is not None:
        curve.write(out / "curve.csv")
    write_json(out / "metrics.json", metrics)
    scalars = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
    print(scalars)
    run.log_metrics(scalars)
    run.flush(artifacts=[out / "metrics.json"])

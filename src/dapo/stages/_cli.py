"""What every stage CLI shares: argument parsing and one-line errors for bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..io import InputError, atomic_path
from ..params import load_params, override
from ..tracking import StageRun


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--params", required=True, help="experiment file, e.g. params/default.yaml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="run at another value of one params key (an ablation); repeatable")
    return p


def run(main: Callable[[argparse.Namespace, dict], None], p: argparse.ArgumentParser) -> None:
    """Parse, load params, run `main`; bad input ends the process with one line naming the cause."""
    args = p.parse_args()
    try:
        params = load_params(args.params)
        if args.set:
            params = override(params, args.set)
        main(args, params)
    except (InputError, FloatingPointError) as e:
        sys.exit(f"error: {e}")


class Curve:
    """A training loop's logged metrics by step: each row goes to the stage's MLflow run and into a
    csv (the stage's DVC plot), columns `step` and the metric names without their stage prefix."""

    def __init__(self, run: StageRun):
        self.run, self.rows = run, []

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.run.log_metrics(metrics, step)
        self.rows.append({"step": step, **{k.split("/", 1)[-1]: v for k, v in metrics.items()}})

    def write(self, path) -> None:
        import pandas as pd

        with atomic_path(path) as tmp:
            pd.DataFrame(self.rows).to_csv(tmp, index=False)

"""MLflow logging of stage runs. MLflow records; it never decides what reruns.

One MLflow experiment per params experiment (`dapo-<experiment>`), one run per stage job, tagged
with stage, experiment and git commit; a job run by `dvc exp run` is also tagged with the DVC
experiment's name and baseline commit (`dvc_exp`, `dvc_baseline`), so the UI can set an ablation
beside its baseline. A Snakemake invocation that runs jobs also opens a parent run (stage
`pipeline`) holding the experiment's params and, once the table is built, its metrics; the
invocation's stage runs nest under it. Metrics are buffered and sent once the stage's outputs are
on disk, and any tracking failure is reported as a warning: it can never lose a stage's outputs.

Store: `MLFLOW_TRACKING_URI` if set, else a sqlite file `mlflow.db` at the repository root.
`python -m dapo.tracking ui` serves the UI in its own process group and stops the whole group on
Ctrl-C (plain `mlflow ui` leaves worker processes behind).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from .params import ROOT, flatten

# The parent run of the workflow invocation a stage job belongs to (set by workflow/rules/tracking.smk).
PIPELINE_RUN = "DAPO_PIPELINE_RUN"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{ROOT / 'mlflow.db'}"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def dvc_experiment_tags() -> dict[str, str]:
    """`dvc exp run` passes the experiment's name and baseline commit to each stage it runs."""
    names = {"dvc_exp": "DVC_EXP_NAME", "dvc_baseline": "DVC_EXP_BASELINE_REV"}
    return {tag: os.environ[var] for tag, var in names.items() if os.environ.get(var)}


class StageRun:
    """Collects what a stage wants recorded; `flush()` sends it to MLflow in one run.

    >>> run = StageRun("sft", params)
    >>> run.log_metrics({"sft/loss": 0.3}, step=10)
    >>> ... write outputs ...
    >>> run.flush(artifacts=[metrics_path])
    """

    def __init__(self, stage: str, params: dict[str, Any], **tags: Any):
        self.stage = stage
        self.experiment = params.get("experiment", "default")
        self.params = flatten({k: v for k, v in params.items() if k != "experiment"})
        self.tags = {"stage": stage, "experiment": self.experiment, "git_commit": git_commit(),
                     **dvc_experiment_tags(), **{k: str(v) for k, v in tags.items()}}
        if os.environ.get(PIPELINE_RUN) and stage != "pipeline":
            self.tags["mlflow.parentRunId"] = os.environ[PIPELINE_RUN]  # how the UI nests runs
        self.metrics: list[tuple[str, float, int]] = []
        self.started = time.time()

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        self.metrics.extend((k, float(v), step) for k, v in metrics.items())

    def flush(self, artifacts: list[str | Path] = ()) -> str | None:
        """Send params, tags, metrics and artifacts; returns the run id, or None if tracking failed."""
        return self._send(artifacts, "FINISHED")

    def _send(self, artifacts: list[str | Path], status: str | None) -> str | None:
        """Create the run and log everything; end it with `status` (None leaves it running)."""
        try:
            import mlflow
            from mlflow.entities import Metric, Param, RunTag

            mlflow.set_tracking_uri(tracking_uri())
            client = mlflow.MlflowClient()
            exp = client.get_experiment_by_name(f"dapo-{self.experiment}")
            exp_id = exp.experiment_id if exp else client.create_experiment(f"dapo-{self.experiment}")
            name = "-".join([self.stage] + [self.tags[k] for k in ("model", "seed", "iteration") if k in self.tags])
            run = client.create_run(exp_id, run_name=name, start_time=int(self.started * 1000))
            rid = run.info.run_id
            now = int(time.time() * 1000)
            _log_batches(client, rid, params=[Param(k, str(v)[:6000]) for k, v in self.params.items()],
                         tags=[RunTag(k, v) for k, v in self.tags.items()],
                         metrics=[Metric(k, v, now, s) for k, v, s in self.metrics])
            for path in artifacts:
                client.log_artifact(rid, str(path))
            if status:
                client.set_terminated(rid, status)
            return rid
        except Exception as e:  # noqa: BLE001 - outputs are already written; tracking is a view
            warnings.warn(f"MLflow tracking failed for stage {self.stage!r} ({type(e).__name__}: {e}); "
                          "the stage's outputs are written and valid", stacklevel=2)
            return None


def _log_batches(client, run_id: str, params=(), tags=(), metrics=()) -> None:
    """Send params, tags and metrics in as few `log_batch` calls as MLflow's limits per call allow
    (100 params, 100 tags, 1000 entries in all)."""
    params, tags, metrics = list(params), list(tags), list(metrics)
    calls = max(math.ceil(len(params) / 90), math.ceil(len(tags) / 90), math.ceil(len(metrics) / 720), 1)
    for c in range(calls):
        client.log_batch(run_id, params=params[90 * c:90 * (c + 1)], tags=tags[90 * c:90 * (c + 1)],
                         metrics=metrics[720 * c:720 * (c + 1)])


def flat_metrics(table: dict[str, dict[str, float | None]]) -> dict[str, float]:
    """The main table's numbers ({model: {name: value}}, results/tables/metrics.json) as MLflow
    metrics named `<model>/<name>`; empty cells are left out."""
    return {f"{model}/{name}": float(v) for model, row in table.items() for name, v in row.items() if v is not None}


def start_pipeline_run(params: dict[str, Any]) -> str | None:
    """Open the parent run of one workflow invocation (stage `pipeline`, the experiment's params),
    left running; returns its id, or None with a warning. The workflow exports the id as
    DAPO_PIPELINE_RUN, so every stage run of the invocation nests under it."""
    return StageRun("pipeline", params)._send([], status=None)


def end_pipeline_run(run_id: str | None, metrics_file: str | Path, started: float, status: str) -> None:
    """End the parent run with `status`; on success log the table's metrics (`flat_metrics`) if
    this invocation wrote them (the file is newer than `started`)."""
    if not run_id:
        return
    try:
        import mlflow
        from mlflow.entities import Metric

        mlflow.set_tracking_uri(tracking_uri())
        client = mlflow.MlflowClient()
        path = Path(metrics_file)
        if status == "FINISHED" and path.is_file() and path.stat().st_mtime >= started:
            now = int(time.time() * 1000)
            _log_batches(client, run_id,
                         metrics=[Metric(k, v, now, 0) for k, v in flat_metrics(json.loads(path.read_text())).items()])
        client.set_terminated(run_id, status)
    except Exception as e:  # noqa: BLE001 - the workflow's outputs are written; tracking is a view
        warnings.warn(f"MLflow tracking failed for the pipeline run ({type(e).__name__}: {e})", stacklevel=2)


def serve_ui(port: int = 5000) -> int:
    """Run `mlflow ui` in its own process group; Ctrl-C stops the group, workers included."""
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri(),
           "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    print(f"MLflow UI on http://127.0.0.1:{port} (store {tracking_uri()}); Ctrl-C stops it", flush=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["ui"])
    parser.add_argument("--port", type=int, default=5000)
    sys.exit(serve_ui(parser.parse_args().port))

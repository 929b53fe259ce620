"""Running the workflow in a throw-away copy of the repository."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def workflow_copy(dest: Path) -> Path:
    """Copy what a workflow run reads (Snakefile, environment.yml, workflow/, params/, src/)."""
    for f in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / f, dest / f)
    for d in ("workflow", "params", "src"):
        shutil.copytree(REPO / d, dest / d, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return dest


def snakemake(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}
    return subprocess.run([str(BIN / "snakemake"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)

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


def dvc_workflow_copy(dest: Path, experiment: str, edit_params=None) -> Path:
    """A git repository holding the workflow, DVC's config and a dvc.yaml generated for `experiment`.

    edit_params(text) -> text may change the copy's params/<experiment>.yaml before generation.
    """
    dest.mkdir(parents=True, exist_ok=True)
    workflow_copy(dest)
    for f in (".gitignore", ".dvcignore"):
        shutil.copy(REPO / f, dest / f)
    (dest / ".dvc").mkdir()
    shutil.copy(REPO / ".dvc" / "config", dest / ".dvc" / "config")
    shutil.copy(REPO / ".dvc" / ".gitignore", dest / ".dvc" / ".gitignore")
    if edit_params:
        path = dest / "params" / f"{experiment}.yaml"
        text = path.read_text()
        assert edit_params(text) != text, f"edit_params left {path.name} unchanged"
        path.write_text(edit_params(text))
    run(dest, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", experiment)
    run(dest, "git", "init", "-q")
    git_commit(dest, "workflow")
    return dest


GIT_ENV = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com"}


def git_commit(cwd: Path, message: str) -> None:
    run(cwd, "git", "add", "-A")
    run(cwd, "git", "commit", "-q", "--allow-empty", "-m", message)


def toolchain_env(cwd: Path) -> dict[str, str]:
    """The venv first on PATH, and the MLflow store inside cwd."""
    return {**os.environ, **GIT_ENV, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "MLFLOW_TRACKING_URI": f"sqlite:///{cwd / 'mlflow.db'}"}


def run(cwd: Path, *cmd: str, timeout: int = 600, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command of the workflow's toolchain (venv first on PATH, MLflow store inside cwd)."""
    env = toolchain_env(cwd)
    result = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}:\n{(result.stdout + result.stderr)[-3000:]}")
    return result


def snakemake(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return run(cwd, str(BIN / "snakemake"), *args, timeout=timeout, check=False)


def dvc(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return run(cwd, str(BIN / "dvc"), *args, timeout=timeout)

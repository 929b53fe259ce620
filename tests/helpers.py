"""Running the workflow, or single stages, in throw-away directories."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch
import yaml

from conftest import TINY_LLAMA
from dapo.models import (
    build_char_tokenizer,
    build_policy,
    load_critic,
    load_policy,
    save_checkpoint,
)
from dapo.tasks import get_task

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


def training_workspace(d: Path) -> Path:
    """Inputs for every training stage in `d`: smoke params with more logged steps and batches that
    do not split evenly over two processes, a tiny checkpoint, 24 problems, MC-labelled states, an
    advantages table and generate-stage responses (tests/test_multiprocess.py, tests/test_gpu.py)."""
    params = yaml.safe_load((REPO / "params/smoke.yaml").read_text())
    params["sft"].update(steps=8, log_every=1, batch_size=15)
    params["critic"].update(epochs=2, log_every=1, batch_size=7)
    params["actor"].update(epochs=2, log_every=1, states_per_batch=3)
    params["rft"].update(steps=8, log_every=1, batch_size=5)
    params["dpo"].update(steps=4, log_every=1, batch_size=4)
    params["grpo"].update(steps=2, prompts_per_step=2, group_size=4, log_every=1)
    # one rollout of 15 responses, 4 epochs of 2 minibatches (8 and 7 responses, split unevenly)
    params["ppo"].update(steps=1, prompts_per_step=5, samples_per_prompt=3, ppo_epochs=4, minibatches=2)
    (d / "params.yaml").write_text(yaml.safe_dump(params))
    tok = build_char_tokenizer()
    save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, d / "ckpt")
    task = get_task("countdown")
    problems = task.make_problems(params["data"]["train"], size=24, seed=0)
    (d / "problems.jsonl").write_text("".join(json.dumps(p) + "\n" for p in problems))
    states, advantages, responses = [], [], []
    for k, p in enumerate(problems[:12]):
        lines = task.write_solution(p).splitlines(keepends=True)
        responses += [{"prompt_id": p["id"], "sample": 0, "response": "".join(lines), "finished": True, "correct": True},
                      {"prompt_id": p["id"], "sample": 1, "response": "1 + 1 = 2\nA: 2", "finished": True,
                       "correct": False}]
        states += [{"prompt_id": p["id"], "prefix": "".join(lines[:j]), "mc_value": ((7 * k + 3 * j) % 9) / 8}
                   for j in range(len(lines))]
        for a, (action, eos) in enumerate([(lines[0], False), ("1 + 1 = 2\n", False), (lines[-1], True)]):
            advantages.append({"state_id": k, "state": task.render_prompt(p), "action": action, "eos": eos,
                               "count": 1 + a % 2, "advantage": (0.3, -0.2, 0.1)[a], "ref_logp": -20.0 - a})
    pd.DataFrame(states).to_parquet(d / "states.parquet")
    pd.DataFrame(advantages).to_parquet(d / "advantages.parquet")
    pd.DataFrame(responses).to_parquet(d / "responses.parquet")
    return d


def stage_args(ws: Path, stage: str, out: str) -> list[str]:
    common = ["--params", str(ws / "params.yaml")]
    chain = ["--seed", "0", "--iteration", "1"]
    return {
        "sft": common + ["--data", str(ws / "problems.jsonl"), "--out", f"{out}/model",
                         "--metrics", f"{out}/metrics.json", "--curve", f"{out}/curve.csv"],
        "critic": common + chain + ["--init", str(ws / "ckpt"), "--data", str(ws / "problems.jsonl"),
                                    "--states", str(ws / "states.parquet"), "--out", out],
        "actor": common + chain + ["--policy", str(ws / "ckpt"), "--advantages", str(ws / "advantages.parquet"),
                                   "--out", out],
        "rft": common + chain + ["--policy", str(ws / "ckpt"), "--data", str(ws / "problems.jsonl"),
                                 "--responses", str(ws / "responses.parquet"), "--out", out],
        "dpo": common + chain + ["--policy", str(ws / "ckpt"), "--data", str(ws / "problems.jsonl"),
                                 "--responses", str(ws / "responses.parquet"), "--out", out],
        "grpo": common + chain + ["--policy", str(ws / "ckpt"), "--data", str(ws / "problems.jsonl"), "--out", out],
        "ppo": common + chain + ["--policy", str(ws / "ckpt"), "--data", str(ws / "problems.jsonl"), "--out", out],
    }[stage]


def assert_same_training(a: Path, b: Path, stage: str, rtol: float, atol: float = 1e-6) -> None:
    """Two runs of a training stage logged the same loss curve (8 rows, and one that moved) and
    saved the same weights, to `rtol`."""
    curve_a, curve_b = pd.read_csv(a / "curve.csv"), pd.read_csv(b / "curve.csv")
    assert list(curve_a.columns) == list(curve_b.columns) and len(curve_a) == 8
    pd.testing.assert_frame_equal(curve_a, curve_b, rtol=rtol, check_exact=False)
    assert curve_a.iloc[-1, 1] != curve_a.iloc[0, 1]  # the curve moved, so equal curves mean equal training
    load = load_critic if stage == "critic" else load_policy
    wa, wb = load(a / "model")[0].state_dict(), load(b / "model")[0].state_dict()
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=rtol, atol=atol, msg=name)


def stage_workspace(d, size):
    """A baseline stage's inputs in `d`: the smoke params (params.yaml), a tiny pi_0 (pi0/) and
    `size` countdown problems (rl.jsonl); returns the params and the problems."""
    params = yaml.safe_load((REPO / "params/smoke.yaml").read_text())
    (d / "params.yaml").write_text(yaml.safe_dump(params))
    tok = build_char_tokenizer()
    save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, d / "pi0")
    problems = get_task("countdown").make_problems(params["data"]["train"], size=size, seed=0)
    (d / "rl.jsonl").write_text("".join(json.dumps(p) + "\n" for p in problems))
    return params, problems

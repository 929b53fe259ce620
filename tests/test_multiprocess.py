"""Data-parallel training on the CPU: the sft, critic, actor and rft stages under `accelerate launch`
with two processes (gloo, workflow/accelerate/cpu2.yaml, the launcher of the cpu-ddp profile) give
the single-process loss curve and weights, and only the main process writes outputs and MLflow runs.
So does one ppo rollout (both processes sample it; each trains on its shard of every minibatch).
The dpo and grpo stages run under both launchers too; their trainers (TRL on transformers' Trainer)
shard the data with their own distributed samplers, which order it differently from one process,
and each grpo process samples its share of the responses from its own random stream, so only
their global batches are the same, not their curves.

A two-process job killed after a checkpoint resumes, in both processes, to the bytes of an
uninterrupted two-process run.

Tolerance: the two runs differ only in float summation order (each process sums its shard, DDP
sums the processes), about 1e-7 relative per step here; 1e-4 leaves room for it to compound.
"""

import json
import shlex
import subprocess
import sys
import time

import mlflow
import pandas as pd
import psutil
import pytest
import torch
import yaml
from accelerate.commands.config.config_args import load_config_from_file

from dapo.models import load_policy
from dapo.training import CHECKPOINT_MINUTES
from helpers import REPO, assert_same_training, run, stage_args, toolchain_env, training_workspace

pytestmark = pytest.mark.slow
LAUNCHER = yaml.safe_load((REPO / "workflow/profiles/cpu-ddp/config.yaml").read_text())["set-resources"]
RTOL = 1e-4
STAGES = ["sft", "critic", "actor", "rft", "dpo", "grpo", "ppo"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return training_workspace(tmp_path_factory.mktemp("multiprocess"))


@pytest.fixture(scope="module")
def runs(ws):
    """Each stage once as a plain process and once as two accelerate processes, each kind into its
    own directory and MLflow store."""
    for kind in ("plain", "ddp"):
        (ws / kind).mkdir()
    for stage in STAGES:
        run(ws / "plain", sys.executable, "-m", f"dapo.stages.{stage}", *stage_args(ws, stage, str(ws / "plain" / stage)))
        launcher = LAUNCHER[stage]["launcher"].replace("workflow/", f"{REPO}/workflow/")
        run(ws / "ddp", *shlex.split(launcher), "-m", f"dapo.stages.{stage}",
            *stage_args(ws, stage, str(ws / "ddp" / stage)))
    return ws


@pytest.mark.parametrize("stage", ["sft", "critic", "actor", "rft"])
def test_two_processes_train_as_one(runs, stage):
    plain, ddp = runs / "plain" / stage, runs / "ddp" / stage
    metrics = {k: json.loads((d / "metrics.json").read_text()) for k, d in (("plain", plain), ("ddp", ddp))}
    assert (metrics["plain"][f"{stage}/processes"], metrics["ddp"][f"{stage}/processes"]) == (1, 2)
    assert_same_training(plain, ddp, stage, RTOL)


def test_one_ppo_rollout_trains_as_one_over_two_processes(runs):
    plain, ddp = runs / "plain" / "ppo", runs / "ddp" / "ppo"
    metrics = {k: json.loads((d / "metrics.json").read_text()) for k, d in (("plain", plain), ("ddp", ddp))}
    assert (metrics["plain"]["ppo/processes"], metrics["ddp"]["ppo/processes"]) == (1, 2)
    for key in ("ppo/responses_sampled", "ppo/tokens_generated", "ppo/tokens_trained", "ppo/actor_updates"):
        assert metrics["plain"][key] == metrics["ddp"][key], key  # the same rollout and updates
    curves = [pd.read_csv(d / "curve.csv") for d in (plain, ddp)]
    pd.testing.assert_frame_equal(*curves, rtol=RTOL, check_exact=False)
    wa, wb = (load_policy(d / "model")[0].state_dict() for d in (plain, ddp))
    assert any(not torch.equal(wa[k], v) for k, v in load_policy(runs / "ckpt")[0].state_dict().items())
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=RTOL, atol=1e-6, msg=name)


def test_dpo_keeps_its_global_batch_over_two_processes(runs):
    plain, ddp = (json.loads((runs / kind / "dpo" / "metrics.json").read_text()) for kind in ("plain", "ddp"))
    assert (plain["dpo/processes"], ddp["dpo/processes"]) == (1, 2)
    assert plain["dpo/steps"] == ddp["dpo/steps"] == 4 and plain["dpo/pairs"] == ddp["dpo/pairs"] == 12
    assert len(pd.read_csv(runs / "ddp" / "dpo" / "curve.csv")) == 4  # one row per logged step, one writer


def test_grpo_keeps_its_global_batch_over_two_processes(runs):
    plain, ddp = (json.loads((runs / kind / "grpo" / "metrics.json").read_text()) for kind in ("plain", "ddp"))
    assert (plain["grpo/processes"], ddp["grpo/processes"]) == (1, 2)
    # 2 steps of 2 prompts x 4 responses: each process samples 4 of every step's 8
    assert plain["grpo/steps"] == ddp["grpo/steps"] == 2
    assert plain["grpo/responses_sampled"] == ddp["grpo/responses_sampled"] == 16
    assert 0 < ddp["grpo/tokens_generated"] <= 16 * 32  # over every process: at most max_new_tokens each
    assert len(pd.read_csv(runs / "ddp" / "grpo" / "curve.csv")) == 2  # one row per logged step, one writer


def test_only_the_main_process_writes(runs):
    ddp = runs / "ddp"
    mlflow.set_tracking_uri(f"sqlite:///{ddp / 'mlflow.db'}")
    stages = mlflow.search_runs(search_all_experiments=True)["tags.stage"].tolist()
    assert sorted(stages) == sorted(STAGES)
    for stage in STAGES:
        names = sorted(p.name for p in (ddp / stage).iterdir())
        assert names == ["curve.csv", "metrics.json", "model"], names  # no second writer's temporaries


def test_a_killed_two_process_job_resumes_to_the_same_bytes(ws):
    """The actor stage under the cpu-ddp launcher, saving after every step: kill -9 the launch
    (launcher and both workers, as a preempted node would lose them) once a save is on disk; the rerun resumes in both processes and
    writes the model and curve of an uninterrupted two-process run, byte for byte."""
    launcher = shlex.split(LAUNCHER["actor"]["launcher"].replace("workflow/", f"{REPO}/workflow/"))
    cwd = ws / "resume"
    cwd.mkdir()

    def command(out: str) -> list[str]:  # 12 states, 3 per batch, 40 epochs: 160 steps
        return [*launcher, "-m", "dapo.stages.actor", *stage_args(ws, "actor", str(cwd / out)),
                "--set", "actor.epochs=40"]

    def env(minutes: str) -> dict[str, str]:
        return {**toolchain_env(cwd), CHECKPOINT_MINUTES: minutes}

    subprocess.run(command("whole"), cwd=cwd, env=env("0"), check=True, capture_output=True, timeout=600)
    job = subprocess.Popen(command("killed"), cwd=cwd, env=env("1e-9"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list((cwd / "killed.resume").glob("step-*[0-9]")):
        assert job.poll() is None and time.time() < deadline, "the job ended or stalled before its first save"
        time.sleep(0.01)
    # torchrun starts each worker in a session of its own: kill the whole tree, the launcher last
    for proc in [*psutil.Process(job.pid).children(recursive=True), psutil.Process(job.pid)]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    job.wait()
    rerun = subprocess.run(command("killed"), cwd=cwd, env=env("0"), capture_output=True, text=True, timeout=600,
                           check=False)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stdout.count("actor: resumed at step ") == 2  # once per process
    assert not (cwd / "killed.resume").exists()
    for f in ("model/model.safetensors", "curve.csv"):
        assert (cwd / "killed" / f).read_bytes() == (cwd / "whole" / f).read_bytes(), f


def test_accelerate_configs_load():
    configs = sorted((REPO / "workflow/accelerate").glob("*.yaml"))
    assert {c.stem for c in configs} >= {"cpu2", "gpu1", "ddp8", "fsdp8"}
    for path in configs:
        config = load_config_from_file(str(path))
        assert config.num_processes == {"cpu2": 2, "gpu1": 1, "ddp8": 8, "fsdp8": 8}.get(path.stem, config.num_processes)

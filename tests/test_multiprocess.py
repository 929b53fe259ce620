"""Data-parallel training on the CPU: the sft, critic, actor and rft stages under `accelerate launch`
with two processes (gloo, workflow/accelerate/cpu2.yaml, the launcher of the cpu-ddp profile) give
the single-process loss curve and weights, and only the main process writes outputs and MLflow runs.
So does one ppo rollout (both processes sample it; each trains on its shard of every minibatch).
The dpo and grpo stages run under both launchers too; their trainers (TRL on transformers' Trainer)
shard the data with their own distributed samplers, which order it differently from one process,
and each grpo process samples its share of the responses from its own random stream, so only
their global batches are the same, not their curves.

Tolerance: the two runs differ only in float summation order (each process sums its shard, DDP
sums the processes), about 1e-7 relative per step here; 1e-4 leaves room for it to compound.
"""

import json
import shlex
import sys

import mlflow
import pandas as pd
import pytest
import torch
import yaml
from accelerate.commands.config.config_args import load_config_from_file

from dapo.models import load_policy
from helpers import REPO, assert_same_training, run, stage_args, training_workspace

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


def test_accelerate_configs_load():
    configs = sorted((REPO / "workflow/accelerate").glob("*.yaml"))
    assert {c.stem for c in configs} >= {"cpu2", "gpu1", "ddp8", "fsdp8"}
    for path in configs:
        config = load_config_from_file(str(path))
        assert config.num_processes == {"cpu2": 2, "gpu1": 1, "ddp8": 8, "fsdp8": 8}.get(path.stem, config.num_processes)

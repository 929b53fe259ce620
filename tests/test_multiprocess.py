"""Data-parallel training on the CPU: the sft, critic, actor and rft stages under `accelerate launch`
with two processes (gloo, workflow/accelerate/cpu2.yaml, the launcher of the cpu-ddp profile) give
the single-process loss curve and weights, and only the main process writes outputs and MLflow runs.
The dpo stage runs under both launchers too; its trainer (TRL on transformers' Trainer) shards the
pairs with its own distributed sampler, which orders them differently from one process, so only
its global batch size is the same, not its curve.

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

from conftest import TINY_LLAMA
from dapo.models import (
    build_char_tokenizer,
    build_policy,
    load_critic,
    load_policy,
    save_checkpoint,
)
from dapo.tasks import get_task
from helpers import REPO, run

pytestmark = pytest.mark.slow
LAUNCHER = yaml.safe_load((REPO / "workflow/profiles/cpu-ddp/config.yaml").read_text())["set-resources"]
RTOL = 1e-4
STAGES = ["sft", "critic", "actor", "rft", "dpo"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Smoke params with more logged steps and batches that do not split evenly over two processes,
    a tiny checkpoint, 24 problems, MC-labelled states and an advantages table."""
    d = tmp_path_factory.mktemp("multiprocess")
    params = yaml.safe_load((REPO / "params/smoke.yaml").read_text())
    params["sft"].update(steps=8, log_every=1, batch_size=15)
    params["critic"].update(epochs=2, log_every=1, batch_size=7)
    params["actor"].update(epochs=2, log_every=1, states_per_batch=3)
    params["rft"].update(steps=8, log_every=1, batch_size=5)
    params["dpo"].update(steps=4, log_every=1, batch_size=4)
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


def stage_args(ws, stage: str, out: str) -> list[str]:
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
    }[stage]


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
    a, b = pd.read_csv(plain / "curve.csv"), pd.read_csv(ddp / "curve.csv")
    assert list(a.columns) == list(b.columns) and len(a) == 8
    pd.testing.assert_frame_equal(a, b, rtol=RTOL, check_exact=False)
    assert a.iloc[-1, 1] != a.iloc[0, 1]  # the curve moved, so equal curves mean equal training
    load = load_critic if stage == "critic" else load_policy
    wa, wb = load(plain / "model")[0].state_dict(), load(ddp / "model")[0].state_dict()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=RTOL, atol=1e-6, msg=name)


def test_dpo_keeps_its_global_batch_over_two_processes(runs):
    plain, ddp = (json.loads((runs / kind / "dpo" / "metrics.json").read_text()) for kind in ("plain", "ddp"))
    assert (plain["dpo/processes"], ddp["dpo/processes"]) == (1, 2)
    assert plain["dpo/steps"] == ddp["dpo/steps"] == 4 and plain["dpo/pairs"] == ddp["dpo/pairs"] == 12
    assert len(pd.read_csv(runs / "ddp" / "dpo" / "curve.csv")) == 4  # one row per logged step, one writer


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
    assert {c.stem for c in configs} >= {"cpu2", "gpu1", "ddp8"}
    for path in configs:
        config = load_config_from_file(str(path))
        assert config.num_processes == {"cpu2": 2, "gpu1": 1, "ddp8": 8}.get(path.stem, config.num_processes)

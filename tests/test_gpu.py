"""The gpu execution profile on a CUDA device, and FSDP. Skipped without CUDA: run it on a GPU
machine with `pytest -m gpu tests/test_gpu.py`.

- FSDP (workflow/accelerate/fsdp8.yaml, here with one process and fp32 so that it can be compared
  with a plain run): the sft, critic, actor and rft stages give the plain run's loss curve and
  weights, so gathering the sharded weights (`dapo.training.trained_model`) saves the model trained.
- The gpu profile's launcher (workflow/accelerate/gpu1.yaml, bf16 autocast): the same stages train
  and save fp32 checkpoints whose loss curves stay near the fp32 ones.
- The inference stages (generate, complete, advantages, evaluate) load their models onto the GPU
  (`dapo.models.default_device`) and run end to end there.
"""

import json
import shlex
import sys

import pandas as pd
import pytest
import torch
import yaml

from dapo.models import load_policy
from helpers import REPO, assert_same_training, run, stage_args, training_workspace

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
TRAINING = ["sft", "critic", "actor", "rft"]
GPU_LAUNCHER = yaml.safe_load((REPO / "workflow/profiles/gpu/config.yaml").read_text())["set-resources"]
FSDP_LAUNCHER = (f"accelerate launch --config_file {REPO}/workflow/accelerate/fsdp8.yaml "
                 "--num_processes 1 --mixed_precision no")
# fp32 on one GPU either way; FSDP adds only its collectives over one process
RTOL = 1e-4
# bf16 autocast against fp32: the loss curve of 8 steps of a tiny model stays within a few percent
BF16_RTOL = 5e-2


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The workspace; `trained(ws, kind)` runs the training stages under one launcher, once."""
    return training_workspace(tmp_path_factory.mktemp("gpu"))


def trained(ws, kind: str):
    if not (ws / kind).exists():
        (ws / kind).mkdir()
        for stage in TRAINING:
            launcher = {"plain": sys.executable, "fsdp": FSDP_LAUNCHER,
                        "bf16": GPU_LAUNCHER[stage]["launcher"].replace("workflow/", f"{REPO}/workflow/")}[kind]
            run(ws / kind, *shlex.split(launcher), "-m", f"dapo.stages.{stage}",
                *stage_args(ws, stage, str(ws / kind / stage)))
    return ws / kind


@pytest.mark.parametrize("stage", TRAINING)
def test_fsdp_trains_as_a_plain_process(runs, stage):
    plain, fsdp = trained(runs, "plain") / stage, trained(runs, "fsdp") / stage
    sharded = [json.loads((d / "metrics.json").read_text())[f"{stage}/sharded"] for d in (plain, fsdp)]
    assert sharded == [0, 1]  # accelerate did not fall back to an unsharded run
    assert_same_training(plain, fsdp, stage, RTOL)


@pytest.mark.parametrize("stage", TRAINING)
def test_the_gpu_profile_trains_in_bf16(runs, stage):
    plain, bf16 = trained(runs, "plain") / stage, trained(runs, "bf16") / stage
    assert json.loads((bf16 / "metrics.json").read_text())[f"{stage}/processes"] == 1
    a, b = pd.read_csv(plain / "curve.csv"), pd.read_csv(bf16 / "curve.csv")
    loss = a.columns[1]
    pd.testing.assert_series_equal(a[loss], b[loss], rtol=BF16_RTOL, check_exact=False)
    assert not a[loss].equals(b[loss])  # autocast was on: bf16 matmuls do not round like fp32
    if stage != "critic":
        model = load_policy(bf16 / "model")[0]
        assert model.device.type == "cuda" and model.dtype == torch.float32


def test_the_inference_stages_run_on_the_gpu(runs, tmp_path):
    ws = runs
    params = ["--params", str(ws / "params.yaml")]
    chain = ["--seed", "0", "--iteration", "1"]
    data = ["--data", str(ws / "problems.jsonl")]
    benchmarks = yaml.safe_load((ws / "params.yaml").read_text())["data"]["benchmarks"]
    for bench in benchmarks:
        (tmp_path / f"{bench}.jsonl").write_text((ws / "problems.jsonl").read_text())
    stages = {
        "generate": chain + ["--policy", str(ws / "ckpt")] + data + ["--out", str(tmp_path / "generate")],
        "complete": chain + ["--policy", str(ws / "ckpt")] + data + [
            "--responses", str(tmp_path / "generate/responses.parquet"), "--out", str(tmp_path / "complete")],
        "advantages": chain + ["--critic", str(trained(ws, "plain") / "critic/model"), "--reference", str(ws / "ckpt")] + data + [
            "--states", str(tmp_path / "complete/states.parquet"),
            "--completions", str(tmp_path / "complete/completions.parquet"),
            "--value-source", "critic", "--out", str(tmp_path / "advantages")],
        "evaluate": ["--model", str(trained(ws, "plain") / "actor/model"), "--name", "actor", "--data-dir", str(tmp_path),
                     "--out", str(tmp_path / "evaluate")],
    }
    for stage, args in stages.items():
        run(tmp_path, sys.executable, "-m", f"dapo.stages.{stage}", *params, *args)
    assert len(pd.read_parquet(tmp_path / "generate/responses.parquet")) > 0
    assert pd.read_parquet(tmp_path / "complete/states.parquet")["mc_value"].between(0, 1).all()
    advantages = pd.read_parquet(tmp_path / "advantages/advantages.parquet")
    assert advantages["ref_logp"].lt(0).all() and advantages["advantage"].notna().all()
    for bench in benchmarks:
        assert json.loads((tmp_path / "evaluate" / f"{bench}.json").read_text())["n"] == 24


def test_a_loaded_model_runs_on_the_gpu(runs):
    model, _ = load_policy(runs / "ckpt")
    assert model.device.type == "cuda"

"""The smoke experiment through snakemake, end to end, in a temporary copy of the repository."""

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dapo.io import read_jsonl
from dapo.models import load_critic, load_policy
from helpers import BIN, snakemake, toolchain_env, workflow_copy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    repo = workflow_copy(tmp_path_factory.mktemp("repo"))
    result = snakemake(repo, "--config", "experiment=smoke", "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    return repo, repo / "results" / "smoke"


def test_data_splits_are_written(smoke_run):
    _, out = smoke_run
    sizes = {s: len(read_jsonl(out / "data" / f"{s}.jsonl")) for s in ("sft", "rl", "val", "countdown", "countdown_four")}
    assert sizes == {"sft": 64, "rl": 8, "val": 8, "countdown": 12, "countdown_four": 12}


def test_base_policy_reloads_and_logs(smoke_run):
    _, out = smoke_run
    model, _tok = load_policy(out / "sft" / "model")
    assert model.config.model_type == "llama" and model.config.hidden_size == 32
    metrics = json.loads((out / "sft" / "metrics.json").read_text())
    assert metrics["sft/parameters"] == sum(p.numel() for p in model.parameters())
    assert "sft: 100%" in (out / "logs" / "sft.log").read_text()


CHAINS = [(seed, it) for seed in (0, 1) for it in (1, 2)]  # params/smoke.yaml: 2 seeds x 2 iterations


def test_responses_are_graded_and_balanced(smoke_run):
    _, out = smoke_run
    for seed, it in CHAINS:
        df = pd.read_parquet(out / "generate" / f"seed{seed}" / f"iter{it}" / "responses.parquet")
        assert len(df) and df.groupby("prompt_id").size().max() <= 2  # n = 2 kept per prompt
        assert df["correct"].dtype == bool


def test_mc_values_are_fractions_of_n_completions(smoke_run):
    _, out = smoke_run
    for seed, it in CHAINS:
        d = out / "complete" / f"seed{seed}" / f"iter{it}"
        states = pd.read_parquet(d / "states.parquet")
        completions = pd.read_parquet(d / "completions.parquet")
        assert states["mc_value"].between(0, 1).all() and not states["mc_value"].isna().any()
        assert (completions.groupby("state_id").size() == 4).all()  # N = 4
        recomputed = completions.groupby("state_id")["correct"].mean()
        assert (recomputed.loc[states["state_id"]].to_numpy() == states["mc_value"].to_numpy()).all()
        assert not states.duplicated(["prompt_id", "prefix"]).any()
        assert json.loads((d / "metrics.json").read_text())["complete/completions_per_second"] > 0


def test_advantages_are_centred_per_state_with_reference_logps(smoke_run):
    _, out = smoke_run
    for seed, it in CHAINS:
        adv = pd.read_parquet(out / "advantages" / f"seed{seed}" / f"iter{it}" / "advantages.parquet")
        assert len(adv) and not adv.isna().any().any()
        weighted = (adv["count"] * adv["advantage"]).groupby(adv["state_id"]).sum()
        assert weighted.abs().max() < 1e-9
        assert not adv.duplicated(["state_id", "action"]).any()
        assert (adv["ref_logp"] < 0).all()


def test_critic_and_actor_checkpoints_reload(smoke_run):
    _, out = smoke_run
    for seed, it in CHAINS:
        critic, _ = load_critic(out / "critic" / f"seed{seed}" / f"iter{it}" / "model")
        assert critic.config.num_labels == 1
        actor, _ = load_policy(out / "actor" / f"seed{seed}" / f"iter{it}" / "model")
        metrics = json.loads((out / "actor" / f"seed{seed}" / f"iter{it}" / "metrics.json").read_text())
        assert metrics["actor/steps"] >= 1 and np.isfinite(metrics["actor/final_loss"])
        assert actor.config.model_type == "llama"
    critic = json.loads((out / "critic" / "seed0" / "iter1" / "metrics.json").read_text())
    assert {"critic/val_bce", "critic/val_mae", "critic/val_brier", "critic/val_calibration"} <= set(critic)


def test_evaluation_records_and_table(smoke_run):
    _, out = smoke_run
    records = read_jsonl(out / "evaluate" / "base" / "countdown.jsonl", required=("response", "correct"))
    assert len(records) == 12
    summary = json.loads((out / "evaluate" / "base" / "countdown.json").read_text())
    assert summary["accuracy"] == sum(r["correct"] for r in records) / 12
    table = pd.read_csv(out / "tables" / "main.csv")
    assert table["model"].tolist() == ["base", "dapo-iter1", "dapo-iter2", "rft", "dpo"]
    assert table["seeds"].tolist() == [1, 2, 2, 2, 2]
    cols = ["", "_std", "_n", "_sampled", "_delta", "_lo", "_hi", "_sampled_delta", "_sampled_lo", "_sampled_hi"]
    assert list(table.columns) == ["model", "seeds", *(b + c for b in ("countdown", "countdown_four") for c in cols)]
    assert table.loc[0, "countdown"] == pytest.approx(100 * summary["accuracy"], abs=0.01)
    assert table.loc[0, "countdown_sampled"] == pytest.approx(100 * summary["sampled_accuracy"], abs=0.01)
    assert table.loc[1:, "countdown_delta"].notna().all() and table.loc[0, "countdown_delta"] != table.loc[0, "countdown_delta"]
    assert (table.loc[1:, "countdown_lo"] <= table.loc[1:, "countdown_delta"]).all()
    assert (out / "figures" / "main.png").read_bytes()[:4] == b"\x89PNG"
    for rule in ("data", "sft", "evaluate/base", "evaluate/dapo-iter2-seed1", "evaluate/rft-seed1", "rft/seed0",
                 "evaluate/dpo-seed0", "dpo/seed1", "tables",
                 *(f"{stage}/seed{seed}/iter{it}" for stage in ("generate", "complete", "critic", "advantages", "actor")
                   for seed, it in CHAINS)):
        assert (out / "benchmarks" / f"{rule}.tsv").is_file()


def test_every_stage_is_in_mlflow(smoke_run):
    import mlflow

    repo, _ = smoke_run
    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["dapo-smoke"])
    assert runs["tags.stage"].value_counts().to_dict() == {
        "evaluate": 9, "generate": 4, "complete": 4, "critic": 4, "advantages": 4, "actor": 4,
        "rft": 2, "dpo": 2, "data": 1, "sft": 1, "tables": 1}
    chain = runs[runs["tags.stage"] == "actor"]
    assert sorted(zip(chain["tags.seed"], chain["tags.iteration"])) == [("0", "1"), ("0", "2"), ("1", "1"), ("1", "2")]
    assert set(runs["status"]) == {"FINISHED"}


def test_second_invocation_has_nothing_to_do(smoke_run):
    repo, _ = smoke_run
    result = snakemake(repo, "--config", "experiment=smoke", "--cores", "2", "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_another_launcher_finds_the_outputs_cached(smoke_run):
    """The cpu-ddp profile trains under accelerate launch; what a plain run built stays valid."""
    repo, _ = smoke_run
    result = snakemake(repo, "--config", "experiment=smoke", "-n", "--workflow-profile", "workflow/profiles/cpu-ddp")
    assert "Nothing to be done" in result.stdout + result.stderr
    forced = snakemake(repo, "--config", "experiment=smoke", "-n", "-p", "--forcerun", "critic",
                       "--workflow-profile", "workflow/profiles/cpu-ddp")
    assert "accelerate launch --config_file workflow/accelerate/cpu2.yaml -m dapo.stages.critic" in forced.stdout



def stage_process(repo, stage: str) -> int | None:
    """The pid of a running `python -m dapo.stages.<stage>` job of the build in `repo`."""
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if f"dapo.stages.{stage}".encode() in cmd and Path(os.readlink(proc / "cwd")) == repo:
                return int(proc.name)
        except (OSError, ValueError):
            continue
    return None


# Every kind of stage, in DAG order (the smoke experiment has no oracle row). The baselines' jobs wait
# only on generate, so their rounds build just one baseline model each: a whole build could finish
# them before a kill, leaving none for their round.
KILLED = ["data", "sft", "generate", "rft", "dpo", "complete", "critic", "advantages", "actor", "evaluate",
          "tables"]
ROUND_TARGET = {"rft": ["results/smoke/rft/seed0/model"], "dpo": ["results/smoke/dpo/seed0/model"]}
JOB = re.compile(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    output: (.*)$", re.MULTILINE)


def started_jobs(log: str) -> list[tuple[str, str]]:
    """(rule, outputs) of every job a snakemake log shows starting (or planning, with -n)."""
    return JOB.findall(log)


def test_a_job_killed_in_every_kind_of_stage_resumes_to_the_same_bytes(smoke_run, tmp_path_factory):
    """For each kind of stage in DAG order, a build starts and its first job of that kind gets
    kill -9 while it runs; snakemake stops with the job failed, and the next build (the default
    execution profile sets rerun-incomplete) goes on from there. Over all builds every job starts
    once, except the eleven killed ones, which start twice; the final outputs are byte-identical to
    the uninterrupted build's (determinism on CPU)."""
    _, first = smoke_run
    tmp = tmp_path_factory.mktemp("killed")
    repo = workflow_copy(tmp_path_factory.mktemp("repo"))
    args = ["--workflow-profile", "workflow/profiles/default", "--config", "experiment=smoke", "--cores", "2"]
    logs = []
    for stage in KILLED:
        log_path = tmp / f"{stage}.log"
        with log_path.open("w") as log:
            build = subprocess.Popen([str(BIN / "snakemake"), *args, *ROUND_TARGET.get(stage, [])], cwd=repo,
                                     env=toolchain_env(repo),
                                     stdout=log, stderr=subprocess.STDOUT)
            deadline = time.time() + 600
            while True:
                assert time.time() < deadline, f"no {stage} job started"
                if (job := stage_process(repo, stage)) is None:
                    assert build.poll() is None, f"the build ended before a {stage} job started"
                    time.sleep(0.02)
                    continue
                try:
                    os.kill(job, signal.SIGKILL)
                    break
                except ProcessLookupError:  # it finished in between: take the next one
                    continue
            assert build.wait(timeout=600) != 0, f"snakemake did not report the killed {stage} job"
        logs.append(log_path.read_text())
    final = snakemake(repo, *args)
    assert final.returncode == 0, final.stderr[-3000:]
    logs.append(final.stdout + final.stderr)
    every_job = snakemake(repo, *args, "--forceall", "-n")
    expected = started_jobs(every_job.stdout + every_job.stderr)
    starts = Counter(job for log in logs for job in started_jobs(log))
    assert set(starts) == set(expected) and len(expected) == len(set(expected))
    twice = sorted(rule for (rule, _), n in starts.items() if n == 2)
    assert twice == sorted(KILLED) and max(starts.values()) == 2, starts
    second = repo / "results" / "smoke"
    files = ["data/sft.jsonl", "data/rl.jsonl", "data/val.jsonl", "sft/model/model.safetensors",
             *(f"{d}/seed{seed}/iter{it}/{f}" for seed, it in CHAINS for d, f in (
                 ("generate", "responses.parquet"), ("complete", "states.parquet"),
                 ("complete", "completions.parquet"), ("critic", "model/model.safetensors"),
                 ("advantages", "advantages.parquet"), ("actor", "model/model.safetensors"))),
             "rft/seed0/model/model.safetensors", "rft/seed1/model/model.safetensors",
             "dpo/seed0/model/model.safetensors", "dpo/seed1/model/model.safetensors",
             "evaluate/base/countdown.jsonl", "evaluate/dapo-iter2-seed1/countdown_four.jsonl",
             "evaluate/rft-seed1/countdown.jsonl", "evaluate/dpo-seed0/countdown.jsonl", "tables/main.csv"]
    differ = [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()]
    assert not differ, f"not byte-identical to the uninterrupted build: {differ}"


def test_editing_a_module_a_stage_imports_reruns_its_rules(smoke_run):
    """Runs last: it edits the build's copy of training.py (the optimiser of sft, critic, actor and
    rft). A bare touch changes nothing for Snakemake; an edit reruns sft and everything after it."""
    repo, _ = smoke_run
    path = repo / "src" / "dapo" / "training.py"
    path.touch()
    touched = snakemake(repo, "--config", "experiment=smoke", "--cores", "2", "-n")
    assert "Nothing to be done" in touched.stdout + touched.stderr
    path.write_text(path.read_text() + "\n# an edit\n")
    edited = snakemake(repo, "--config", "experiment=smoke", "--cores", "2", "-n")
    out = edited.stdout + edited.stderr
    assert "reason: Updated input files: src/dapo/training.py" in out
    planned = {rule for rule, _ in started_jobs(out)} - {"all"}
    assert planned == {"sft", "generate", "complete", "critic", "advantages", "actor", "rft", "dpo", "evaluate",
                       "tables"}, planned  # every rule but data, which does not import training.py

"""The smoke experiment through snakemake, end to end, in a temporary copy of the repository."""

import contextlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
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


def test_the_critic_starts_from_its_own_model(smoke_run):
    """critic.init: critic_base (params/smoke.yaml: sft again at seed 1): the critic_base rule trains
    a second model like pi_0 but not equal to it, and iteration 1's critics start from it."""
    _, out = smoke_run
    base = (out / "sft" / "model" / "model.safetensors").read_bytes()
    start = (out / "critic_base" / "model" / "model.safetensors").read_bytes()
    assert start != base and len(start) == len(base)
    assert "sft (critic_base): " in (out / "logs" / "critic_base.log").read_text()
    for seed in (0, 1):
        log = (out / "logs" / "critic" / f"seed{seed}" / "iter1.log").read_text()
        assert f"init {out.relative_to(out.parents[1]) / 'critic_base' / 'model'}" in log


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
        # N = 4 with early_stop 2: a state keeps its first 2 completions when they agree, else gets 4
        sizes = completions.groupby("state_id").size()
        assert set(sizes) <= {2, 4} and (sizes.loc[states["state_id"]].to_numpy() == states["n_completions"]).all()
        first_two = completions[completions["k"] < 2].groupby("state_id")["correct"].nunique()
        assert ((first_two == 1) == (sizes == 2)).all()
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
    assert table["model"].tolist() == ["base", "dapo-iter1", "dapo-iter2", "rft", "dpo", "grpo", "ppo"]
    assert table["seeds"].tolist() == [1, 2, 2, 2, 2, 2, 2]
    cols = ["", "_std", "_n", "_sampled", "_delta", "_lo", "_hi", "_sampled_delta", "_sampled_lo", "_sampled_hi"]
    assert list(table.columns) == ["model", "seeds", *(b + c for b in ("countdown", "countdown_four") for c in cols)]
    assert table.loc[0, "countdown"] == pytest.approx(100 * summary["accuracy"], abs=0.01)
    assert table.loc[0, "countdown_sampled"] == pytest.approx(100 * summary["sampled_accuracy"], abs=0.01)
    assert table.loc[1:, "countdown_delta"].notna().all() and table.loc[0, "countdown_delta"] != table.loc[0, "countdown_delta"]
    assert (table.loc[1:, "countdown_lo"] <= table.loc[1:, "countdown_delta"]).all()
    assert (out / "figures" / "main.png").read_bytes()[:4] == b"\x89PNG"
    # what each row cost: generate samples 4 responses to each of the 8 rl prompts, GRPO 2 steps of
    # 4 prompts x 4, PPO 2 steps of 4 prompts x 2; a DAPO iteration adds MC completions, and iteration 2's row counts iteration 1's jobs too
    compute = pd.read_csv(out / "tables" / "compute.csv").set_index("model")
    assert compute.index.tolist() == table["model"].tolist() and (compute["job_seconds"] > 0).all()
    assert compute.loc["rft", "responses_sampled"] == compute.loc["dpo", "responses_sampled"] == 32
    assert compute.loc["grpo", "responses_sampled"] == 32 and compute.loc["grpo", "tokens_trained"] > 0
    assert compute.loc["ppo", "responses_sampled"] == 16 and compute.loc["ppo", "tokens_trained"] > 0
    assert 32 < compute.loc["dapo-iter1", "responses_sampled"] < compute.loc["dapo-iter2", "responses_sampled"]
    assert compute.loc["base", "tokens_generated"] == 0 and compute.loc["base", "tokens_trained"] > 0
    # the critic's start trains as long as pi_0, and its cost is DAPO's
    assert compute.loc["dapo-iter1", "tokens_trained"] > compute.loc["base", "tokens_trained"]
    for rule in ("data", "sft", "critic_base", "evaluate/base", "evaluate/dapo-iter2-seed1", "evaluate/rft-seed1", "rft/seed0",
                 "evaluate/dpo-seed0", "dpo/seed1", "grpo/seed0", "evaluate/grpo-seed1", "ppo/seed1",
                 "evaluate/ppo-seed0", "tables",
                 *(f"{stage}/seed{seed}/iter{it}" for stage in ("generate", "complete", "critic", "advantages", "actor")
                   for seed, it in CHAINS)):
        assert (out / "benchmarks" / f"{rule}.tsv").is_file()


def test_every_stage_is_in_mlflow(smoke_run):
    import mlflow

    repo, _ = smoke_run
    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["dapo-smoke"])
    assert runs["tags.stage"].value_counts().to_dict() == {
        "evaluate": 13, "generate": 4, "complete": 4, "critic": 4, "advantages": 4, "actor": 4,
        "rft": 2, "dpo": 2, "grpo": 2, "ppo": 2, "data": 1, "sft": 2, "tables": 1, "pipeline": 1}
    assert sorted(runs.loc[runs["tags.stage"] == "sft", "tags.model"]) == ["base", "critic_base"]
    assert runs.loc[runs["tags.model"] == "critic_base", "params.sft.seed"].tolist() == ["1"]
    chain = runs[runs["tags.stage"] == "actor"]
    assert sorted(zip(chain["tags.seed"], chain["tags.iteration"])) == [("0", "1"), ("0", "2"), ("1", "1"), ("1", "2")]
    assert set(runs["status"]) == {"FINISHED"}
    # the invocation's parent run: every stage run nests under it
    parent = runs[runs["tags.stage"] == "pipeline"].iloc[0]
    stages = runs[runs["tags.stage"] != "pipeline"]
    assert (stages["tags.mlflow.parentRunId"] == parent["run_id"]).all()
    assert parent["params.actor.beta"] == str(stages.iloc[0]["params.actor.beta"])


@contextlib.contextmanager
def mlflow_server(repo):
    """An MLflow tracking server on the build's store; yields call(path, body) -> the REST API's JSON
    answer, and the experiment dapo-smoke as the API returns it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([str(BIN / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{repo / 'mlflow.db'}",
                               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              cwd=repo, env=toolchain_env(repo), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}/api/2.0/mlflow"

    def call(path, body=None):
        request = urllib.request.Request(f"{api}/{path}", data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    try:
        for _ in range(120):
            try:
                experiment = call("experiments/get-by-name?experiment_name=dapo-smoke")["experiment"]
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("the MLflow server did not answer within 120 s")
        yield call, experiment
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_the_pipeline_run_answers_over_the_rest_api(smoke_run):
    """What the MLflow UI shows, read through a tracking server's REST API: the parent run holds
    the experiment's params and the table's metrics, and its children are the stage runs."""
    repo, out = smoke_run
    with mlflow_server(repo) as (call, experiment):
        search = {"experiment_ids": [experiment["experiment_id"]], "max_results": 1000}
        parents = call("runs/search", {**search, "filter": "tags.stage = 'pipeline'"})["runs"]
        assert len(parents) == 1
        parent = parents[0]
        params = {p["key"]: p["value"] for p in parent["data"]["params"]}
        metrics = {m["key"]: m["value"] for m in parent["data"]["metrics"]}
        assert params["seeds"] == "2" and params["actor.beta"] == "0.01"
        table = json.loads((out / "tables" / "metrics.json").read_text())
        assert metrics["dapo-iter2/countdown"] == pytest.approx(table["dapo-iter2"]["countdown"])
        assert len(metrics) == sum(v is not None for row in table.values() for v in row.values())
        children = call("runs/search", {**search, "filter": f"tags.mlflow.parentRunId = '{parent['info']['run_id']}'"})
        assert len(children["runs"]) == 45


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



def stage_process(repo, rule: str) -> int | None:
    """The pid of a running job of `rule` in the build in `repo`: `python -m dapo.stages.<rule>`,
    except critic_base, the sft stage with `--role critic_base`."""
    module = "sft" if rule == "critic_base" else rule
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if (f"dapo.stages.{module}".encode() in cmd and (b"critic_base" in cmd) == (rule == "critic_base")
                    and Path(os.readlink(proc / "cwd")) == repo):
                return int(proc.name)
        except (OSError, ValueError):
            continue
    return None


# Every kind of stage, in DAG order (the smoke experiment has no oracle row). The baselines' jobs wait
# only on generate, so their rounds build just one baseline model each: a whole build could finish
# them before a kill, leaving none for their round; critic_base's round, likewise, builds only it.
KILLED = ["data", "critic_base", "sft", "grpo", "ppo", "generate", "rft", "dpo", "complete", "critic", "advantages", "actor", "evaluate",
          "tables"]
ROUND_TARGET = {"critic_base": ["results/smoke/critic_base/model"], "rft": ["results/smoke/rft/seed0/model"], "dpo": ["results/smoke/dpo/seed0/model"],
                "grpo": ["results/smoke/grpo/seed0/model"], "ppo": ["results/smoke/ppo/seed0/model"]}
JOB = re.compile(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    output: (.*)$", re.MULTILINE)


def started_jobs(log: str) -> list[tuple[str, str]]:
    """(rule, outputs) of every job a snakemake log shows starting (or planning, with -n)."""
    return JOB.findall(log)


def test_a_job_killed_in_every_kind_of_stage_resumes_to_the_same_bytes(smoke_run, tmp_path_factory):
    """For each kind of stage in DAG order, a build starts and its first job of that kind gets
    kill -9 while it runs; snakemake stops with the job failed, and the next build (the default
    execution profile sets rerun-incomplete) goes on from there. Over all builds every job starts
    once, except the fourteen killed ones, which start twice; the final outputs are byte-identical to
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
             "critic_base/model/model.safetensors",
             *(f"{d}/seed{seed}/iter{it}/{f}" for seed, it in CHAINS for d, f in (
                 ("generate", "responses.parquet"), ("complete", "states.parquet"),
                 ("complete", "completions.parquet"), ("critic", "model/model.safetensors"),
                 ("advantages", "advantages.parquet"), ("actor", "model/model.safetensors"))),
             "rft/seed0/model/model.safetensors", "rft/seed1/model/model.safetensors",
             "dpo/seed0/model/model.safetensors", "dpo/seed1/model/model.safetensors",
             "grpo/seed0/model/model.safetensors", "grpo/seed1/model/model.safetensors",
             "ppo/seed0/model/model.safetensors", "ppo/seed1/model/model.safetensors",
             "evaluate/base/countdown.jsonl", "evaluate/dapo-iter2-seed1/countdown_four.jsonl",
             "evaluate/rft-seed1/countdown.jsonl", "evaluate/dpo-seed0/countdown.jsonl", "tables/main.csv"]
    differ = [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()]
    assert not differ, f"not byte-identical to the uninterrupted build: {differ}"


def test_the_paper_target_builds_only_the_ablations(smoke_run):
    """Adds a `paper` section to the build's params (a third iteration, beta 0.1 beside smoke's
    0.01, N = 2 beside smoke's 4, half the states beside all) and builds paper.md: only the ablation
    branches run, reusing the main build; the tables hold their rows, paper.md a verdict per
    comparison, and each ablated job's MLflow run its varied key. The params are restored afterwards."""
    import mlflow

    repo, out = smoke_run
    path = repo / "params" / "smoke.yaml"
    original = path.read_text()
    path.write_text(original + "paper: {iterations: 3, beta: [0.01, 0.1], completions: [2, 4], state_fractions: [0.5, 1]}\n")
    try:
        result = snakemake(repo, "--config", "experiment=smoke", "--cores", "2", "--", "results/smoke/tables/paper.md")
        assert result.returncode == 0, result.stderr[-3000:]
        ran = Counter(rule for rule, _ in started_jobs(result.stdout + result.stderr))
        assert ran == {"generate": 2, "complete": 2, "critic": 2, "advantages": 2, "actor": 2,  # iteration 3
                       "actor_beta": 2, "complete_n": 2, "critic_n": 2, "advantages_n": 2, "actor_n": 2,
                       "actor_frac": 2, "evaluate": 8, "paper": 1}, ran
    finally:
        path.write_text(original)
    tables = {name: pd.read_csv(out / "tables" / f"{name}.csv", dtype={"beta": str, "N": str, "state_fraction": str})
              for name in ("iterations", "beta", "completions", "pairs")}
    assert tables["iterations"]["model"].tolist() == ["base", "dapo-iter1", "dapo-iter2", "dapo-iter3"]
    assert tables["beta"][["beta", "model"]].fillna("").values.tolist() == [
        ["", "base"], ["0.01", "dapo-iter1"], ["0.1", "dapo-beta0.1"]]
    assert tables["completions"][["N", "model"]].fillna("").values.tolist() == [
        ["", "base"], ["2", "dapo-n2"], ["4", "dapo-iter1"]]
    assert tables["pairs"][["state_fraction", "model"]].fillna("").values.tolist() == [
        ["", "base"], ["0.5", "dapo-frac0.5"], ["1", "dapo-iter1"]]
    # half of each seed's states, and so of its pairs; the actors recorded what they trained on
    pairs = tables["pairs"]["pairs"].tolist()
    advantages = [pd.read_parquet(out / "advantages" / f"seed{s}" / "iter1" / "advantages.parquet") for s in (0, 1)]
    assert pairs[2] == sum(len(a) for a in advantages) / 2 and 0 < pairs[1] < pairs[2] and pd.isna(pairs[0])
    half = [json.loads((out / "actor_frac" / "frac0.5" / f"seed{s}" / "iter1" / "metrics.json").read_text()) for s in (0, 1)]
    assert [m["actor/states"] for m in half] == [math.ceil(a["state_id"].nunique() / 2) for a in advantages]
    assert sum(m["actor/pairs"] for m in half) / 2 == pairs[1]
    main = pd.read_csv(out / "tables" / "main.csv").set_index("model")
    for table in tables.values():
        row = table.set_index("model").loc["dapo-iter1"]
        assert (row["countdown"], row["countdown_delta"]) == (main.loc["dapo-iter1", "countdown"],
                                                              main.loc["dapo-iter1", "countdown_delta"])
    paper = (out / "tables" / "paper.md").read_text()
    verdicts = re.findall(r"^- (.+): \*\*(holds|reversed|not resolved)\*\*$", paper, flags=re.MULTILINE)
    assert [line.split(" on ")[0] for line, _ in verdicts] == [
        "dapo-iter2 − dapo-iter1", "dapo-iter3 − dapo-iter2", "dapo-beta0.1 − dapo-iter1", "dapo-iter1 − dapo-n2",
        "dapo-iter1 − dapo-frac0.5"]
    assert "## The critic along whole solutions (paper Figure 2)" in paper
    for figure in ("reliability.png", "advantages.png", "value_trace.png", "pairs.png"):
        assert (out / "figures" / figure).read_bytes()[:4] == b"\x89PNG"
    completions = pd.read_parquet(out / "complete_n" / "n2" / "seed0" / "iter1" / "completions.parquet")
    assert (completions.groupby("state_id").size() == 2).all()
    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["dapo-smoke"], filter_string="tags.stage = 'actor'")
    betas = sorted(runs["params.actor.beta"])
    # the ablation's 2; 3 iterations x 2 seeds, the N and the pairs ablations' 2 actors each at smoke's beta
    assert betas.count("0.1") == 2 and betas.count("0.01") == 10
    assert sorted(runs["params.actor.state_fraction"]).count("0.5") == 2
    runs = mlflow.search_runs(experiment_names=["dapo-smoke"], filter_string="tags.stage = 'complete'")
    assert sorted(runs["params.complete.N"]).count("2") == 2
    # the README's UI view of the beta ablation: the evaluate runs of its points, beta as a params
    # column; per beta, the mean accuracy over seeds is the beta table's
    with mlflow_server(repo) as (call, experiment):
        view = call("runs/search", {"experiment_ids": [experiment["experiment_id"]], "max_results": 1000,
                                    "filter": "tags.stage = 'evaluate' AND tags.ablations LIKE '%beta%'"})["runs"]
    points = {}
    for r in view:
        tags = {t["key"]: t["value"] for t in r["data"]["tags"]}
        params = {p["key"]: p["value"] for p in r["data"]["params"]}
        metrics = {m["key"]: m["value"] for m in r["data"]["metrics"]}
        points.setdefault(params["actor.beta"], {})[tags["seed"]] = (tags["model"], metrics["eval/countdown/accuracy"])
    assert {b: sorted(m for m, _ in seeds.values()) for b, seeds in points.items()} == {
        "0.01": ["dapo-iter1-seed0", "dapo-iter1-seed1"], "0.1": ["dapo-beta0.1-seed0", "dapo-beta0.1-seed1"]}
    beta = tables["beta"].set_index("beta")
    for b, seeds in points.items():
        assert 100 * np.mean([acc for _, acc in seeds.values()]) == pytest.approx(beta.loc[b, "countdown"], abs=0.006)


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
    assert planned == {"sft", "critic_base", "generate", "complete", "critic", "advantages", "actor", "rft", "dpo", "grpo",
                       "ppo", "evaluate", "tables"}, planned  # every rule but data, which does not import training.py

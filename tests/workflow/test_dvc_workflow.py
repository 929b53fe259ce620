"""The smoke experiment through DVC in a throw-away git repository: repro, cached reruns, an ablation
with `dvc exp run`, metrics and plots, push/pull through a local remote, and the hand-off between
Snakemake and DVC. One scenario runs once; each test checks one of its steps.

The copy's params/smoke.yaml keeps one seed instead of two: DVC runs stages one at a time, and one
seed keeps the whole scenario within its time budget (the Snakemake smoke test covers two seeds).
"""

import json
import re

import mlflow
import pandas as pd
import pytest
import yaml

from helpers import BIN, dvc, dvc_workflow_copy, git_commit, run, snakemake

pytestmark = pytest.mark.slow

SMOKE = "params/smoke.yaml"
ALL_STAGES = {"dag", "data", "sft", "critic_base", "evaluate-base", "tables",
              *(f"{s}-seed0-iter{i}" for s in ("generate", "complete", "critic", "advantages", "actor") for i in (1, 2)),
              *(f"evaluate-dapo-iter{i}-seed0" for i in (1, 2)), "rft-seed0", "evaluate-rft-seed0",
              "dpo-seed0", "evaluate-dpo-seed0", "grpo-seed0", "evaluate-grpo-seed0",
              "ppo-seed0", "evaluate-ppo-seed0"}
# actor.beta changes both actors, so every stage that reads an actor checkpoint reruns: pi_1 samples,
# labels and is the reference of iteration 2, and both are evaluated. The critic and the table rerun
# only if their inputs change: DVC compares contents, and on the smoke policy they may come out equal.
MUST_RERUN = {"actor-seed0-iter1", "actor-seed0-iter2", "generate-seed0-iter2", "complete-seed0-iter2",
              "advantages-seed0-iter2", "evaluate-dapo-iter1-seed0", "evaluate-dapo-iter2-seed0"}
MAY_RERUN = {"critic-seed0-iter2", "tables"}
EVALUATE_STAGES = {"evaluate-base", "evaluate-dapo-iter1-seed0", "evaluate-dapo-iter2-seed0", "evaluate-rft-seed0",
                   "evaluate-dpo-seed0", "evaluate-grpo-seed0", "evaluate-ppo-seed0"}


def ran(result) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", result.stdout + result.stderr))


def set_param(repo, section: str, key: str, value) -> None:
    params = yaml.safe_load((repo / SMOKE).read_text())
    params[section][key] = value
    (repo / SMOKE).write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("dvc")
    repo = dvc_workflow_copy(base / "repo", "smoke", edit_params=lambda t: t.replace("seeds: 2", "seeds: 1"))
    smk = ("--config", "experiment=smoke", "--cores", "2")
    steps = {"repro": dvc(repo, "repro")}
    steps["repro_again"] = dvc(repo, "repro")
    steps["snakemake_after_dvc"] = snakemake(repo, *smk, "-n")
    git_commit(repo, "baseline results")

    # data versioning: push to a directory remote, clone, pull
    dvc(repo, "remote", "add", "--default", "shared", str(base / "remote"))
    git_commit(repo, "remote")
    steps["push"] = dvc(repo, "push")
    run(base, "git", "clone", "-q", str(repo), "clone")
    clone = base / "clone"
    steps["pull"] = dvc(clone, "pull")
    steps["clone_status"] = dvc(clone, "status")
    steps["clone_repro"] = dvc(clone, "repro")
    run(clone, "snakemake", *smk, "--touch")  # also marks directory outputs with .snakemake_timestamp
    steps["clone_snakemake"] = snakemake(clone, *smk, "-n")
    steps["clone_status_after_touch"] = dvc(clone, "status")

    # Snakemake builds, DVC records: rerun the evaluations with another batch size, then dvc commit
    set_param(repo, "evaluate", "batch_size", 16)
    steps["snakemake_build"] = snakemake(repo, *smk, "--forcerun", "evaluate")
    steps["status_before_commit"] = dvc(repo, "status", "--json")
    steps["commit"] = dvc(repo, "commit", "--force")
    # dvc commit rewrites the files it caches, in no particular order; the hand-off (make
    # dvc-commit) then sets their timestamps back in DAG order
    steps["snakemake_after_commit"] = snakemake(repo, *smk, "-n")
    run(repo, "snakemake", *smk, "--touch")
    steps["snakemake_after_touch"] = snakemake(repo, *smk, "-n")
    steps["status_after_commit"] = dvc(repo, "status", "--json")
    steps["repro_after_commit"] = dvc(repo, "repro")
    git_commit(repo, "evaluate.batch_size 16, built by snakemake")

    # an ablation: actor.beta 0.01 -> 0.02
    steps["exp_run"] = dvc(repo, "exp", "run", "--name", "beta-002", "--set-param", f"{SMOKE}:actor.beta=0.02")
    steps["exp_show"] = dvc(repo, "exp", "show", "--json")
    steps["metrics_show"] = dvc(repo, "metrics", "show", "--json")
    steps["plots_show"] = dvc(repo, "plots", "show", "--json")

    # a change of DAG shape with the old dvc.yaml: fails loudly before any stage runs
    steps["exp_seeds"] = run(repo, str(BIN / "dvc"), "exp", "run", "--name", "seeds-2", "--set-param",
                             f"{SMOKE}:seeds=2", check=False)
    return repo, steps


def test_repro_from_a_clean_checkout_runs_every_stage_and_builds_the_table(scenario):
    repo, steps = scenario
    assert ran(steps["repro"]) == ALL_STAGES
    table = pd.read_csv(repo / "results" / "smoke" / "tables" / "main.csv")
    assert table["model"].tolist() == ["base", "dapo-iter1", "dapo-iter2", "rft", "dpo", "grpo", "ppo"]


def test_second_repro_and_snakemake_have_nothing_to_do(scenario):
    _, steps = scenario
    assert ran(steps["repro_again"]) == set()
    assert "Data and pipelines are up to date." in steps["repro_again"].stdout
    assert steps["snakemake_after_dvc"].returncode == 0
    assert "Nothing to be done" in steps["snakemake_after_dvc"].stdout + steps["snakemake_after_dvc"].stderr


def test_pushed_results_pull_into_a_clone_with_nothing_to_recompute(scenario):
    _, steps = scenario
    assert "files pushed" in steps["push"].stdout
    assert "files fetched" in steps["pull"].stdout or "files added" in steps["pull"].stdout
    assert "Data and pipelines are up to date." in steps["clone_status"].stdout
    assert ran(steps["clone_repro"]) == set()
    assert "Nothing to be done" in steps["clone_snakemake"].stdout + steps["clone_snakemake"].stderr
    assert "Data and pipelines are up to date." in steps["clone_status_after_touch"].stdout


def test_dvc_commit_records_what_snakemake_built(scenario):
    _, steps = scenario
    assert steps["snakemake_build"].returncode == 0, steps["snakemake_build"].stderr[-2000:]
    changed = set(json.loads(steps["status_before_commit"].stdout))
    assert EVALUATE_STAGES <= changed <= EVALUATE_STAGES | {"tables"}
    assert "Nothing to be done" not in steps["snakemake_after_commit"].stdout + steps["snakemake_after_commit"].stderr
    assert "Nothing to be done" in steps["snakemake_after_touch"].stdout + steps["snakemake_after_touch"].stderr
    assert json.loads(steps["status_after_commit"].stdout) == {}
    assert ran(steps["repro_after_commit"]) == set()


def test_changing_actor_beta_reruns_only_the_actors_and_what_depends_on_them(scenario):
    _, steps = scenario
    assert MUST_RERUN <= ran(steps["exp_run"]) <= MUST_RERUN | MAY_RERUN
    skipped = set(re.findall(r"Stage '([^']+)' didn't change, skipping", steps["exp_run"].stdout))
    assert skipped == ALL_STAGES - ran(steps["exp_run"])


def test_exp_show_lists_the_ablation_beside_its_baseline(scenario):
    _, steps = scenario
    rows = json.loads(steps["exp_show"].stdout)
    baseline = rows[1] if rows[0]["rev"] == "workspace" else rows[0]
    exps = {e["name"]: e for e in (baseline.get("experiments") or [])}
    assert "beta-002" in exps
    exp = exps["beta-002"]["revs"][0]["data"]

    def beta(data):
        return data["params"][SMOKE]["data"]["actor"]["beta"]

    def table(data):
        return data["metrics"]["results/smoke/tables/metrics.json"]["data"]

    assert beta(exp) == 0.02 and beta(baseline["data"]) == 0.01
    assert set(table(exp)) == set(table(baseline["data"])) == {"base", "dapo-iter1", "dapo-iter2", "rft", "dpo", "grpo", "ppo"}
    assert table(exp)["base"] == table(baseline["data"])["base"]  # the base policy did not rerun


def test_the_ablation_is_in_mlflow_tagged_with_its_experiment(scenario):
    repo, steps = scenario
    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["dapo-smoke"])
    tagged = runs[runs["tags.dvc_exp"] == "beta-002"]
    assert sorted(tagged["tags.stage"]) == sorted(s.split("-")[0] for s in ran(steps["exp_run"]))
    assert set(tagged["params.actor.beta"]) == {"0.02"}
    assert set(runs.loc[runs["tags.dvc_exp"].isna(), "params.actor.beta"]) == {"0.01"}


def test_metrics_and_plots_show_accuracies_and_training_curves(scenario):
    _, steps = scenario
    metrics = json.loads(steps["metrics_show"].stdout)
    files = next(iter(metrics.values()))["data"]
    accuracy = files["results/smoke/tables/metrics.json"]["data"]
    assert set(accuracy["dapo-iter2"]) == {f"{b}{k}" for b in ("countdown", "countdown_four")
                                           for k in ("", "_std", "_sampled", "_delta", "_lo", "_hi")}
    assert 0 <= accuracy["base"]["countdown"] <= 100
    plots = json.loads(steps["plots_show"].stdout)["data"]
    assert {"accuracy-countdown", "accuracy-countdown_four", "results/smoke/sft/curve.csv",
            "results/smoke/critic/seed0/iter2/curve.csv", "results/smoke/actor/seed0/iter1/curve.csv",
            "results/smoke/figures/main.png"} <= set(plots)
    curve = plots["results/smoke/actor/seed0/iter1/curve.csv"][0]["content"]["data"]["values"]
    assert curve and {"step", "loss"} <= set(curve[0])


def test_a_params_change_that_adds_stages_fails_until_dvc_yaml_is_regenerated(scenario):
    _, steps = scenario
    result = steps["exp_seeds"]
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "dvc.yaml has drifted from the Snakemake DAG of params/smoke.yaml (20 stages to add" in out, out[-2000:]
    assert ran(result) == {"dag"}

"""dvc.yaml is generated from the Snakemake rules, and the committed one must match them."""

import sys

import yaml

from dapo.dvc_yaml import DAG_SHAPE, dvc_yaml
from dapo.sources import stage_sources
from helpers import REPO, run, workflow_copy


def test_committed_dvc_yaml_matches_the_workflow():
    assert (REPO / "dvc.yaml").read_text() == dvc_yaml("default", REPO), \
        "dvc.yaml has drifted from the Snakemake rules: run `make dvc-yaml` and commit it"


def test_stages_carry_the_rules_commands_deps_params_and_outputs():
    stages = yaml.safe_load(dvc_yaml("smoke", REPO))["stages"]
    # params/smoke.yaml: dag, data, sft, critic_base, 2 seeds x (2 iterations x 5 chain stages + rft + dpo
    # + grpo + ppo), 13 evaluate, tables
    assert len(stages) == 46
    actor = stages["actor-seed1-iter2"]
    assert actor["cmd"].startswith("mkdir -p results/smoke/logs/actor/seed1 && python -m dapo.stages.actor "
                                   "--params params/smoke.yaml --seed 1 --iteration 2 ")
    assert actor["cmd"].endswith("> results/smoke/logs/actor/seed1/iter2.log 2>&1")
    assert actor["deps"][:2] == ["results/smoke/actor/seed1/iter1/model",
                                 "results/smoke/advantages/seed1/iter2/advantages.parquet"]
    assert {"src/dapo/stages/actor.py", "src/dapo/actor.py", "src/dapo/losses.py"} <= set(actor["deps"])
    assert stages["dag"] == {"cmd": "python -m dapo.dvc_yaml --experiment smoke --check --quiet",
                             "params": [{"params/smoke.yaml": [k for k in DAG_SHAPE if k != "paper"]}]}  # keys smoke.yaml writes
    for name, stage in stages.items():  # every module the stage imports: DVC reruns it on an edit
        if name == "dag":
            continue
        module = stage["cmd"].split("python -m dapo.stages.")[1].split()[0]
        assert set(stage_sources(REPO / "src", module)) <= set(stage["deps"]), name
    assert actor["params"] == [{"params/smoke.yaml": ["actor"]}]
    assert actor["outs"] == ["results/smoke/actor/seed1/iter2/model"]
    assert actor["metrics"] == ["results/smoke/actor/seed1/iter2/metrics.json"]
    assert actor["plots"] == [{"results/smoke/actor/seed1/iter2/curve.csv":
                               {"x": "step", "y": "loss", "title": "actor-seed1-iter2: loss by step"}}]
    assert stages["actor-seed0-iter1"]["deps"][0] == "results/smoke/sft/model"  # pi_0 in iteration 1
    assert stages["critic-seed0-iter1"]["params"] == [{"params/smoke.yaml": ["critic", "data.task"]}]
    assert stages["critic-seed0-iter1"]["deps"][0] == "results/smoke/critic_base/model"  # critic.init: critic_base
    assert stages["critic_base"]["cmd"].startswith("mkdir -p results/smoke/logs && python -m dapo.stages.sft --params "
                                                   "params/smoke.yaml --set sft.seed=1 --role critic_base ")
    assert stages["critic_base"]["params"] == [{"params/smoke.yaml": ["model", "sft", "critic_base"]}]
    assert stages["evaluate-base"]["metrics"] == ["results/smoke/evaluate/base/countdown.json",
                                                  "results/smoke/evaluate/base/countdown_four.json"]
    assert stages["data"]["outs"][0] == "results/smoke/data/sft.jsonl" and "metrics" not in stages["data"]
    assert stages["tables"]["metrics"] == ["results/smoke/tables/metrics.json"]
    assert stages["tables"]["plots"] == ["results/smoke/figures/main.png"]
    produced = {o if isinstance(o, str) else next(iter(o)) for st in stages.values()
                for kind in ("outs", "metrics", "plots") for o in st.get(kind, [])}
    internal = {d for st in stages.values() for d in st.get("deps", []) if d.startswith("results/")}
    assert internal <= produced  # every data dependency is some stage's output: one connected DAG


def test_check_fails_when_a_rule_changes(tmp_path):
    repo = workflow_copy(tmp_path)
    run(repo, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", "smoke")
    assert run(repo, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", "smoke", "--check").returncode == 0
    rule = repo / "workflow" / "rules" / "actor.smk"
    rule.write_text(rule.read_text().replace('code=code("actor"),', 'code=code("actor") + ["Snakefile"],'))
    result = run(repo, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", "smoke", "--check", check=False)
    assert result.returncode == 1
    assert "dvc.yaml has drifted from the Snakemake DAG of params/smoke.yaml (0 stages to add, 0 to remove, 4 changed)" in result.stderr
    assert "+    - Snakefile" in result.stdout


def test_check_names_the_stages_a_new_seed_adds(tmp_path):
    repo = workflow_copy(tmp_path)
    run(repo, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", "smoke")
    params = repo / "params" / "smoke.yaml"
    params.write_text(params.read_text().replace("seeds: 2", "seeds: 3"))
    result = run(repo, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", "smoke", "--check", "--quiet", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith("error: dvc.yaml has drifted from the Snakemake DAG of params/smoke.yaml "
                                    "(20 stages to add, 0 to remove, 1 changed)")


def test_unknown_experiment_is_a_one_line_error(tmp_path):
    repo = workflow_copy(tmp_path)
    result = run(repo, sys.executable, "-m", "dapo.dvc_yaml", "--experiment", "nope", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: missing params file: params/nope.yaml"
    assert not (repo / "dvc.yaml").exists()

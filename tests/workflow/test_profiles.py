"""Execution profiles (workflow/profiles/<name>): how the DAG runs, apart from what it computes."""

import re

import pytest

from dapo.dvc_yaml import snakemake_jobs
from helpers import REPO, snakemake, workflow_copy

PROFILES = sorted(p.name for p in (REPO / "workflow" / "profiles").iterdir() if (p / "config.yaml").is_file())
CPU_ONLY = {"data", "tables"}


def test_every_rule_states_threads_and_resources():
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)+)", path.read_text(), re.MULTILINE):
            assert re.search(r"^    threads:", body, re.MULTILINE), f"rule {name} has no threads"
    rules = {job.rule.name: job.rule for job in snakemake_jobs("smoke", REPO)}
    for name, rule in rules.items():
        declared = set(rule.resources)
        assert {"mem_mb", "runtime"} <= declared, f"rule {name}: {sorted(declared)}"
        assert ("gpu" in declared) == (name not in CPU_ONLY), f"rule {name}: {sorted(declared)}"


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_plans_the_whole_dag(profile, tmp_path):
    assert {"default", "gpu", "slurm"} <= set(PROFILES)
    repo = workflow_copy(tmp_path)
    result = snakemake(repo, "-n", "--workflow-profile", f"workflow/profiles/{profile}",
                       "--config", "experiment=smoke")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert f"workflow specific profile workflow/profiles/{profile}" in out
    assert re.search(r"^total +46$", out, re.MULTILINE), out[-3000:]  # 45 stages of params/smoke.yaml and `all`


PAPER = sorted(p.relative_to(REPO / "params").with_suffix("").as_posix()
               for p in (REPO / "params" / "paper").glob("*.yaml"))


@pytest.mark.parametrize("experiment", PAPER)
def test_each_paper_experiment_plans_on_slurm(experiment, tmp_path):
    assert len(PAPER) >= 2
    repo = workflow_copy(tmp_path)
    result = snakemake(repo, "-n", "--workflow-profile", "workflow/profiles/slurm", "--config",
                       f"experiment={experiment}")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    jobs = dict(re.findall(r"^(\w+) +(\d+)$", out, re.MULTILINE))
    # pretrained actor and critic, no sft; 2 iterations of the chain; base and 2 actors evaluated
    assert jobs.get("pretrained") == "1" and "sft" not in jobs, out[-3000:]
    assert {k: jobs[k] for k in ("generate", "complete", "critic", "advantages", "actor", "evaluate")} == {
        "generate": "2", "complete": "2", "critic": "2", "advantages": "2", "actor": "2", "evaluate": "3"}
    assert f"results/{experiment}/pretrained/critic" in out  # the iteration-1 critic starts from it
    assert re.search(r"slurm_partition=gpu", out)


def test_the_smollm2_experiment_starts_from_the_converted_model(tmp_path):
    repo = workflow_copy(tmp_path)
    result = snakemake(repo, "-n", "-p", "results/smollm2/tables/main.csv", "--config", "experiment=smollm2")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    jobs = dict(re.findall(r"^(\w+) +(\d+)$", out, re.MULTILINE))
    assert jobs.get("pretrained") == "1" and "sft" not in jobs
    assert "--init results/smollm2/pretrained/model" in out  # critic.init: sft means the base policy

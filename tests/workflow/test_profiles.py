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
    assert re.search(r"^total +45$", out, re.MULTILINE), out[-3000:]  # 44 stages of params/smoke.yaml and `all`

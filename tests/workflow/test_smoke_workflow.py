"""The smoke profile through snakemake, end to end, in a temporary copy of the repository."""

import json

import pandas as pd
import pytest

from dapo.io import read_jsonl
from dapo.models import load_policy
from helpers import snakemake, workflow_copy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    repo = workflow_copy(tmp_path_factory.mktemp("repo"))
    result = snakemake(repo, "--config", "profile=smoke", "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    return repo, repo / "results" / "smoke"


def test_data_splits_are_written(smoke_run):
    _, out = smoke_run
    sizes = {s: len(read_jsonl(out / "data" / f"{s}.jsonl")) for s in ("sft", "rl", "val", "chain_sum", "chain_sum_long")}
    assert sizes == {"sft": 64, "rl": 8, "val": 8, "chain_sum": 12, "chain_sum_long": 12}


def test_base_policy_reloads_and_logs(smoke_run):
    _, out = smoke_run
    model, _tok = load_policy(out / "sft" / "model")
    assert model.config.model_type == "llama" and model.config.hidden_size == 32
    metrics = json.loads((out / "sft" / "metrics.json").read_text())
    assert metrics["sft/parameters"] == sum(p.numel() for p in model.parameters())
    assert "sft: 100%" in (out / "logs" / "sft.log").read_text()


def test_evaluation_records_and_table(smoke_run):
    _, out = smoke_run
    records = read_jsonl(out / "evaluate" / "base" / "chain_sum.jsonl", required=("response", "correct"))
    assert len(records) == 12
    summary = json.loads((out / "evaluate" / "base" / "chain_sum.json").read_text())
    assert summary["accuracy"] == sum(r["correct"] for r in records) / 12
    table = pd.read_csv(out / "tables" / "main.csv")
    assert table["model"].tolist() == ["base"]
    assert list(table.columns) == ["model", "seeds", "chain_sum", "chain_sum_std", "chain_sum_n",
                                   "chain_sum_long", "chain_sum_long_std", "chain_sum_long_n"]
    assert table.loc[0, "chain_sum"] == pytest.approx(100 * summary["accuracy"], abs=0.01)
    assert (out / "figures" / "main.png").read_bytes()[:4] == b"\x89PNG"
    for rule in ("data", "sft", "evaluate/base", "tables"):
        assert (out / "benchmarks" / f"{rule}.tsv").is_file()


def test_every_stage_is_in_mlflow(smoke_run):
    import mlflow

    repo, _ = smoke_run
    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["dapo-smoke"])
    assert sorted(runs["tags.stage"]) == ["data", "evaluate", "sft", "tables"]
    assert set(runs["status"]) == {"FINISHED"}


def test_second_invocation_has_nothing_to_do(smoke_run):
    repo, _ = smoke_run
    result = snakemake(repo, "--config", "profile=smoke", "--cores", "2", "-n")
    assert "Nothing to be done" in result.stdout + result.stderr

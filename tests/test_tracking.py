import json
import time

import mlflow
import pytest

from dapo.tracking import PIPELINE_RUN, StageRun, end_pipeline_run, start_pipeline_run


def test_stage_run_records_params_tags_and_step_metrics(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    run = StageRun("sft", {"experiment": "unit", "sft": {"lr": 0.5}}, model="base")
    run.log_metrics({"sft/loss": 2.0}, step=1)
    run.log_metrics({"sft/loss": 1.0}, step=2)
    rid = run.flush()
    client = mlflow.MlflowClient(uri)
    got = client.get_run(rid)
    assert got.data.params == {"sft.lr": "0.5"}
    assert got.data.tags["stage"] == "sft" and got.data.tags["experiment"] == "unit"
    assert got.data.tags["model"] == "base" and got.data.tags["git_commit"]
    assert "dvc_exp" not in got.data.tags
    assert [(m.step, m.value) for m in client.get_metric_history(rid, "sft/loss")] == [(1, 2.0), (2, 1.0)]
    assert client.get_experiment(got.info.experiment_id).name == "dapo-unit"


def test_stage_run_under_dvc_exp_run_is_tagged_with_the_experiment(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("DVC_EXP_NAME", "beta-002")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "abc123")
    tags = mlflow.MlflowClient(uri).get_run(StageRun("actor", {"experiment": "unit"}).flush()).data.tags
    assert tags["dvc_exp"] == "beta-002" and tags["dvc_baseline"] == "abc123"


def test_tracking_failure_warns_and_returns_none(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("a file where the store's directory should be")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/file/mlflow.db")
    with pytest.warns(UserWarning, match="MLflow tracking failed for stage 'data'.*outputs are written"):
        assert StageRun("data", {"experiment": "unit"}).flush() is None


def test_a_locked_store_warns_and_returns_none(tmp_path, monkeypatch):
    import sqlite3

    db = tmp_path / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    assert StageRun("data", {"experiment": "unit"}).flush() is not None  # the store exists
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another process holds the store: nobody else can write
    try:
        with pytest.warns(UserWarning, match="MLflow tracking failed for stage 'sft'.*locked"):
            assert StageRun("sft", {"experiment": "unit"}).flush() is None
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_stage_runs_nest_under_the_pipeline_run(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv(PIPELINE_RUN, raising=False)
    params = {"experiment": "unit", "actor": {"beta": 0.1}}
    started = time.time()
    parent = start_pipeline_run(params)
    client = mlflow.MlflowClient(uri)
    assert client.get_run(parent).info.status == "RUNNING"
    monkeypatch.setenv(PIPELINE_RUN, parent)
    child = StageRun("actor", params).flush()
    (tmp_path / "metrics.json").write_text(json.dumps({"base": {"countdown": 11.2, "countdown_delta": None},
                                                       "dapo-iter1": {"countdown": 17.9}}))
    end_pipeline_run(parent, tmp_path / "metrics.json", started, "FINISHED")
    got = client.get_run(parent)
    assert got.info.status == "FINISHED" and got.data.params == {"actor.beta": "0.1"}
    assert got.data.tags["stage"] == "pipeline" and "mlflow.parentRunId" not in got.data.tags
    assert got.data.metrics == {"base/countdown": 11.2, "dapo-iter1/countdown": 17.9}
    assert client.get_run(child).data.tags["mlflow.parentRunId"] == parent


def test_a_failed_pipeline_run_logs_no_stale_table(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    (tmp_path / "metrics.json").write_text(json.dumps({"base": {"countdown": 11.2}}))  # from an earlier build
    started = time.time() + 1
    for status in ("FINISHED", "FAILED"):
        parent = start_pipeline_run({"experiment": "unit"})
        end_pipeline_run(parent, tmp_path / "metrics.json", started, status)
        got = mlflow.MlflowClient(uri).get_run(parent)
        assert got.info.status == status and got.data.metrics == {}


def test_a_run_over_mlflow_s_batch_limits_arrives_whole(tmp_path, monkeypatch):
    """250 params and 1,500 metric values: more than one log_batch call may carry (100 params,
    1,000 entries), so they go in several; every one arrives."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    run = StageRun("sft", {"experiment": "unit", "sft": {f"k{i}": i for i in range(250)}})
    for step in range(300):
        run.log_metrics({f"m{j}": step + j for j in range(5)}, step=step)
    rid = run.flush()
    client = mlflow.MlflowClient(uri)
    got = client.get_run(rid)
    assert got.data.params == {f"sft.k{i}": str(i) for i in range(250)}
    assert got.data.tags["stage"] == "sft"
    assert [m.value for m in client.get_metric_history(rid, "m4")] == [step + 4.0 for step in range(300)]

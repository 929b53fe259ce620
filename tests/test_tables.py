import json

import pytest

from dapo.tables import load_summaries, main_table, plot_main, table_metrics, to_markdown


def write(tmp_path, model, bench, accuracy, n=200):
    path = tmp_path / model / f"{bench}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": model, "benchmark": bench, "accuracy": accuracy, "n": n}))
    return path


def test_main_table_means_and_spreads_over_seeds(tmp_path):
    paths = [write(tmp_path, "base", "a", 0.30), write(tmp_path, "base", "b", 0.10, n=50),
             write(tmp_path, "dapo-iter1-seed0", "a", 0.40), write(tmp_path, "dapo-iter1-seed0", "b", 0.20, n=50),
             write(tmp_path, "dapo-iter1-seed1", "a", 0.50), write(tmp_path, "dapo-iter1-seed1", "b", 0.10, n=50)]
    table = main_table(load_summaries(paths), ["a", "b"], ["base", "dapo-iter1"])
    assert list(table.columns) == ["model", "seeds", "a", "a_std", "a_n", "b", "b_std", "b_n"]
    assert table["model"].tolist() == ["base", "dapo-iter1"]
    assert table["seeds"].tolist() == [1, 2]
    # dapo-iter1 on a: mean(40, 50) = 45, population std = 5; on b: mean(20, 10) = 15, std 5
    assert table["a"].tolist() == [30.0, 45.0] and table["a_std"].tolist() == [0.0, 5.0]
    assert table["b"].tolist() == [10.0, 15.0] and table["b_std"].tolist() == [0.0, 5.0]
    assert table["b_n"].tolist() == [50, 50]
    assert table_metrics(table, ["a", "b"]) == {
        "base": {"a": 30.0, "a_std": 0.0, "b": 10.0, "b_std": 0.0},
        "dapo-iter1": {"a": 45.0, "a_std": 5.0, "b": 15.0, "b_std": 5.0}}
    md = to_markdown(table, ["a", "b"])
    assert "| dapo-iter1 | 2 | 45.0 ± 5.0 | 15.0 ± 5.0 |" in md and "b (n=50)" in md
    plot_main(table, ["a", "b"], tmp_path / "fig.png")
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_model_in_summaries_fails_loudly(tmp_path):
    df = load_summaries([write(tmp_path, "base", "a", 0.3)])
    with pytest.raises(KeyError):
        main_table(df, ["a"], ["base", "dapo-iter1"])

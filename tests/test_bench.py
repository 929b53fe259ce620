import json

import pytest

from dapo.bench import main


def test_decode_bench_reports_throughput_against_the_forward_bound(tmp_path, capsys):
    out = tmp_path / "decode.json"
    main(["decode", "--params", "params/smoke.yaml", "--batch-sizes", "2", "4", "--prompt", "3", "--new", "4",
          "--out", str(out)])
    r = json.loads(out.read_text())
    assert [row["batch"] for row in r["rows"]] == [2, 4]
    for row in r["rows"]:
        assert min(row["decode_tokens_per_s"], row["hf_generate_tokens_per_s"], row["forward_tokens_per_s"]) > 0
        assert row["decode_vs_forward"] == pytest.approx(row["decode_tokens_per_s"] / row["forward_tokens_per_s"])
    assert r["env"]["device"] == "cpu"
    assert "| 4 |" in capsys.readouterr().out  # the markdown table


def test_train_bench_reports_model_flops_against_a_timed_matmul(tmp_path):
    out = tmp_path / "train.json"
    main(["train", "--params", "params/smoke.yaml", "--batch", "2", "--seq-len", "8", "--steps", "1",
          "--out", str(out)])
    r = json.loads(out.read_text())
    assert [row["model"] for row in r["rows"]] == ["policy", "critic"]
    for row in r["rows"]:
        assert row["model_flops_per_s"] == pytest.approx(6 * r["parameters"] * row["tokens_per_s"])
        assert row["vs_bound"] == pytest.approx(row["model_flops_per_s"] / r["bound"]["flops_per_s"])

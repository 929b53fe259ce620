import json

import pandas as pd
import pytest

from dapo.paper import value_trace_note
from dapo.tables import (
    ablation_table,
    comparison_line,
    compute_markdown,
    compute_table,
    job_cost,
    load_records,
    load_summaries,
    main_table,
    plot_advantages,
    plot_main,
    plot_reliability,
    table_metrics,
    to_markdown,
    verdict,
    versus_markdown,
    versus_table,
)


def write(tmp_path, model, bench, correct, sampled, samples=2):
    """Summary and per-problem records of one model on one benchmark (problem ids p0, p1, ...)."""
    path = tmp_path / model / f"{bench}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(correct)
    path.write_text(json.dumps({"model": model, "benchmark": bench, "accuracy": sum(correct) / n,
                                "sampled_accuracy": sum(sampled) / (n * samples), "samples": samples, "n": n}))
    path.with_suffix(".jsonl").write_text("".join(
        json.dumps({"id": f"p{i}", "correct": bool(c), "sampled_correct": s}) + "\n"
        for i, (c, s) in enumerate(zip(correct, sampled))))
    return path


def test_main_table_means_spreads_and_paired_differences(tmp_path):
    """Benchmark a has 4 problems. base: 1 0 0 0 (25 %), samples right 1,0,0,1 of 2 (25 %).
    seed0: 1 1 0 0 (50 %), seed1: 1 1 1 0 (75 %): mean 62.5, population std 12.5.
    Paired differences: seed0 0 1 0 0, seed1 0 1 1 0 -> mean 0.375 = +37.5 points.
    Sampled: both seeds 2,2,0,1 of 2 -> 62.5 %, differences 0.5 1 0 0 -> +37.5."""
    paths = [write(tmp_path, "base", "a", [1, 0, 0, 0], [1, 0, 0, 1]),
             write(tmp_path, "dapo-iter1-seed0", "a", [1, 1, 0, 0], [2, 2, 0, 1]),
             write(tmp_path, "dapo-iter1-seed1", "a", [1, 1, 1, 0], [2, 2, 0, 1])]
    table = main_table(load_summaries(paths), ["a"], ["base", "dapo-iter1"],
                       load_records([p.with_suffix(".jsonl") for p in paths]))
    assert table["seeds"].tolist() == [1, 2]
    assert table["a"].tolist() == [25.0, 62.5] and table["a_std"].tolist() == [0.0, 12.5]
    assert table["a_n"].tolist() == [4, 4]
    assert table["a_sampled"].tolist() == [25.0, 62.5]
    row = table.iloc[1]
    assert row["a_delta"] == 37.5 and row["a_sampled_delta"] == 37.5
    assert row["a_lo"] <= 37.5 <= row["a_hi"] and row["a_hi"] <= 100 and row["a_lo"] >= 0
    assert table.iloc[0][["a_delta", "a_lo", "a_hi"]].isna().all()  # the base is the reference
    metrics = table_metrics(table, ["a"])
    assert metrics["base"] == {"a": 25.0, "a_std": 0.0, "a_sampled": 25.0}
    assert metrics["dapo-iter1"]["a_delta"] == 37.5
    md = to_markdown(table, ["a"])
    assert "| dapo-iter1 | 2 | 62.5 ± 12.5 | +37.5 [" in md and "a greedy (n=4)" in md
    plot_main(table, ["a"], tmp_path / "fig.png")
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


def test_unpaired_problems_fail_loudly(tmp_path):
    base = write(tmp_path, "base", "a", [1, 0], [0, 0])
    other = write(tmp_path, "dapo-iter1-seed0", "a", [1, 0, 1], [0, 0, 0])
    with pytest.raises(ValueError, match="cannot pair"):
        main_table(load_summaries([base, other]), ["a"], ["base", "dapo-iter1"],
                   load_records([base.with_suffix(".jsonl"), other.with_suffix(".jsonl")]))


def test_missing_model_in_summaries_fails_loudly(tmp_path):
    df = load_summaries([write(tmp_path, "base", "a", [1, 0], [0, 0])])
    with pytest.raises(KeyError):
        main_table(df, ["a"], ["base", "dapo-iter1"])


def test_versus_pairs_two_methods_seed_by_seed(tmp_path):
    """dapo seed0 1 1 0 0, seed1 1 1 1 0; rft seed0 1 0 0 0, seed1 0 1 1 1. Matched by seed:
    seed0 0 1 0 0, seed1 1 0 0 -1 -> mean 1/8 = +12.5 points. Paired with rft's seed 0 for both
    (what pairing with a one-checkpoint base would do) it would be 0 1 0 0, 0 1 1 0 -> +37.5.
    Sampled: dapo 2,2,0,1 and 2,2,0,1; rft 1,1,1,1 and 2,2,2,2 of 2 -> (0.5 0.5 -0.5 0) and
    (0 0 -1 -0.5) -> mean -1/8 = -12.5 points."""
    paths = [write(tmp_path, "dapo-iter1-seed0", "a", [1, 1, 0, 0], [2, 2, 0, 1]),
             write(tmp_path, "dapo-iter1-seed1", "a", [1, 1, 1, 0], [2, 2, 0, 1]),
             write(tmp_path, "rft-seed0", "a", [1, 0, 0, 0], [1, 1, 1, 1]),
             write(tmp_path, "rft-seed1", "a", [0, 1, 1, 1], [2, 2, 2, 2])]
    table = versus_table(load_summaries(paths), load_records([p.with_suffix(".jsonl") for p in paths]), ["a"],
                         [("dapo-iter1", "rft")])
    row = table.iloc[0]
    assert (row["model"], row["versus"], row["benchmark"]) == ("dapo-iter1", "rft", "a")
    assert row["greedy_delta"] == pytest.approx(12.5) and row["sampled_delta"] == pytest.approx(-12.5)
    assert row["greedy_lo"] <= row["greedy_delta"] <= row["greedy_hi"]
    assert "| dapo-iter1 | rft | a | +12.5 [" in versus_markdown(table)


def test_ablation_table_and_verdicts(tmp_path):
    """base 1 0 0 0; beta 0.1 (the main row dapo-iter1) 1 1 1 1 on both seeds; beta 0.01 1 0 0 0
    on both seeds. dapo-iter1 − dapo-beta0.01: 0 1 1 1 per seed -> +75 points, every bootstrap
    resample >= +50 (the CI lies above 0): holds; the other way round it is reversed; a row
    against itself is 0 [0, 0]: not resolved."""
    paths = [write(tmp_path, "base", "a", [1, 0, 0, 0], [1, 0, 0, 0])]
    for seed in (0, 1):
        paths += [write(tmp_path, f"dapo-iter1-seed{seed}", "a", [1, 1, 1, 1], [2, 2, 2, 2]),
                  write(tmp_path, f"dapo-beta0.01-seed{seed}", "a", [1, 0, 0, 0], [1, 0, 0, 0])]
    df, records = load_summaries(paths), load_records([p.with_suffix(".jsonl") for p in paths])
    table = ablation_table(df, records, ["a"], "beta", [("0.01", "dapo-beta0.01"), ("0.1", "dapo-iter1")])
    assert table[["model", "beta"]].values.tolist() == [["base", ""], ["dapo-beta0.01", "0.01"], ["dapo-iter1", "0.1"]]
    assert table["a"].tolist() == [25.0, 25.0, 100.0] and table["a_delta"].tolist()[1:] == [0.0, 75.0]
    line, v = comparison_line(records, df, "dapo-iter1", "dapo-beta0.01", "a")
    assert v == "holds" and line.startswith("dapo-iter1 − dapo-beta0.01 on a: +75.0 points [")
    assert comparison_line(records, df, "dapo-beta0.01", "dapo-iter1", "a")[1] == "reversed"
    assert comparison_line(records, df, "dapo-iter1", "dapo-iter1", "a")[1] == "not resolved"
    assert verdict({"greedy_lo": -0.1, "greedy_hi": 3.0}) == "not resolved"


def test_reliability_and_advantage_figures(tmp_path):
    calibration = [{"bin": "0.0-0.5", "count": 3, "mean_mc": 0.2, "mean_pred": 0.25},
                   {"bin": "0.5-1.0", "count": 0, "mean_mc": None, "mean_pred": None}]
    plot_reliability({"seed 0": calibration}, tmp_path / "reliability.png")
    frame = pd.DataFrame({"advantage": [-0.5, 0.1, 0.4], "count": [1, 3, 2]})
    plot_advantages({"critic": frame, "exact values": frame.assign(advantage=[-1.0, 0.0, 1.0])}, tmp_path / "adv.png")
    for name in ("reliability.png", "adv.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_a_job_s_cost_adds_its_samples_tokens_and_seconds():
    assert job_cost({"complete/completions": 80, "complete/tokens_generated": 900, "complete/job_seconds": 12.5,
                     "complete/states": 10}) == {"responses_sampled": 80, "tokens_generated": 900,
                                                 "tokens_trained": 0, "job_seconds": 12.5}
    assert job_cost({"grpo/responses_sampled": 64, "grpo/tokens_generated": 700, "grpo/tokens_trained": 1500,
                     "grpo/job_seconds": 30.0}) == {"responses_sampled": 64, "tokens_generated": 700,
                                                    "tokens_trained": 1500, "job_seconds": 30.0}


def test_the_compute_table_sums_a_row_s_jobs_per_seed_then_averages_the_seeds():
    gen = {"generate/responses_sampled": 10, "generate/tokens_generated": 100, "generate/job_seconds": 5.0}
    costs = [
        ("base", "-", {"sft/tokens_trained": 1000, "sft/job_seconds": 60.0}),
        # seed 0: generate + actor; seed 1: generate + a slower actor on more tokens
        ("dapo-iter1", "0", gen), ("dapo-iter1", "0", {"actor/tokens_trained": 200, "actor/job_seconds": 10.0}),
        ("dapo-iter1", "1", gen), ("dapo-iter1", "1", {"actor/tokens_trained": 400, "actor/job_seconds": 20.0}),
        ("other", "0", gen),
    ]
    table = compute_table(costs, ["base", "dapo-iter1", "rft"])
    assert list(table["model"]) == ["base", "dapo-iter1"]  # rows without jobs are left out; "other" is not asked for
    base, dapo = table.iloc[0], table.iloc[1]
    assert (base["seeds"], base["tokens_trained"], base["job_seconds"], base["job_seconds_std"]) == (1, 1000, 60, 0)
    # per seed (10 + 0) responses, (100) generated, 200 / 400 trained, 15 / 25 s
    assert (dapo["seeds"], dapo["responses_sampled"], dapo["tokens_generated"]) == (2, 10, 100)
    assert (dapo["tokens_trained"], dapo["job_seconds"], dapo["job_seconds_std"]) == (300, 20, 5)
    md = compute_markdown(table)
    assert "| dapo-iter1 | 10 | 100 | 300 | 20 ± 5 |" in md and "| base | 0 | 0 | 1,000 | 60 ± 0 |" in md


def test_value_trace_note_reports_the_critic_before_the_last_step_of_correct_and_wrong_solutions():
    """Two correct solutions (3 and 2 steps) and one wrong (2 steps): at the prompt V is
    (0.2 + 0.3 + 0.1) / 3 = 0.20; before the last step, correct (0.9 + 0.7) / 2 = 0.80 with V* 1,
    wrong 0.05 with V* 0."""
    traces = pd.DataFrame({"id": ["a", "a", "a", "b", "b", "c", "c"], "correct": [True] * 5 + [False] * 2,
                           "steps": [3, 3, 3, 2, 2, 2, 2], "depth": [0, 1, 2, 0, 1, 0, 1],
                           "critic": [0.2, 0.5, 0.9, 0.3, 0.7, 0.1, 0.05], "exact": [1, 1, 1, 1, 1, 1, 0.0]})
    note = value_trace_note(traces, "countdown", "value_trace.png")
    assert "base policy's 3 greedy solutions of `countdown` (`value_trace.png`, 7 states)" in note
    assert "mean V 0.20 at the prompt; before the last step, mean V 0.80 on the correct solutions and 0.05" in note
    assert "is 1.00 and 0.00." in note

import pytest

from dapo.data import assert_disjoint, make_splits
from dapo.io import InputError

DATA = {
    "task": "chain_sum", "seed": 3,
    "train": {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
    "splits": {"sft": 300, "rl": 40, "val": 30},
    "benchmarks": {
        "chain_sum": {"size": 50, "min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
        "chain_sum_long": {"size": 20, "min_terms": 5, "max_terms": 5, "min_digits": 1, "max_digits": 1},
    },
}


def test_splits_have_the_requested_sizes_and_are_pairwise_disjoint(task):
    splits = make_splits(task, DATA)
    assert {k: len(v) for k, v in splits.items()} == {
        "chain_sum": 50, "chain_sum_long": 20, "sft": 300, "rl": 40, "val": 30}
    prompts = [p["prompt"] for v in splits.values() for p in v]
    assert len(prompts) == len(set(prompts)) == 440
    assert all(p["id"].startswith(p["split"] + "-") for v in splits.values() for p in v)


def test_splits_are_deterministic_and_benchmarks_ignore_training_sizes(task):
    a = make_splits(task, DATA)
    assert a == make_splits(task, DATA)
    bigger = {**DATA, "splits": {"sft": 500, "rl": 40, "val": 30}}
    b = make_splits(task, bigger)
    assert b["chain_sum"] == a["chain_sum"]
    assert b["sft"][:300] == a["sft"]


def test_overlap_is_detected():
    with pytest.raises(AssertionError, match="in both 'a' and 'b'"):
        assert_disjoint({"a": [{"prompt": "Q: 1 + 1\n"}], "b": [{"prompt": "Q: 1 + 1\n"}]})


def test_too_small_a_problem_space_is_a_clear_error(task):
    tiny = {**DATA, "train": {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1}}
    with pytest.raises(InputError, match="yields only .* unique problems"):
        make_splits(task, tiny)  # 2 one-digit terms: 200 prompts, 370 requested

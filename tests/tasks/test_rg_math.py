"""Task `rg_math`: reasoning-gym problems in the math task's format, graded by math-verify."""

import pytest

from dapo.data import make_splits
from dapo.io import InputError
from dapo.tasks import get_task

CONFIG = {"dataset": "basic_arithmetic", "min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1,
          "operators": ["+", "-", "*"], "allow_negation": False}


def test_problems_are_deterministic_and_carry_the_generator_s_answer():
    task = get_task("rg_math")
    problems = task.make_problems(CONFIG, size=20, seed=3)
    assert problems == task.make_problems(CONFIG, size=20, seed=3)
    assert problems != task.make_problems(CONFIG, size=20, seed=4)
    for p in problems:
        assert p["prompt"].startswith("Question: Calculate ") and "\\boxed{}" in p["prompt"]
        expression = p["prompt"].split("\n")[0][len("Question: Calculate "):].rstrip(".").strip("() ")
        a, op, b = expression.split()
        assert int(p["answer"]) == {"+": int.__add__, "-": int.__sub__, "*": int.__mul__}[op](int(a), int(b))


def test_grading_reads_the_box_or_a_final_answer_line():
    task = get_task("rg_math")
    problem = {"answer": "-12"}
    assert task.verify(problem, "3 * -4 = -12\nThe answer is \\boxed{-12}.")
    assert task.verify(problem, "3 times -4\nSo, the answer is -12.")
    assert not task.verify(problem, "The answer is \\boxed{12}.")
    assert not task.verify(problem, "It is -12, I think\nmaybe")  # no final answer: no reward


def test_splits_draw_from_one_pool_without_sft_solutions():
    splits = make_splits(get_task("rg_math"), {"seed": 1, "train": CONFIG, "splits": {"sft": 0, "rl": 8, "val": 16},
                                               "benchmarks": {"basic_arithmetic": {"size": 16}}})
    assert {k: len(v) for k, v in splits.items()} == {"sft": 0, "rl": 8, "val": 16, "basic_arithmetic": 16}
    with pytest.raises(NotImplementedError, match="no worked solutions"):
        get_task("rg_math").write_solution(splits["rl"][0])


def test_bad_configs_are_one_line_errors():
    task = get_task("rg_math")
    with pytest.raises(InputError, match="dataset: one of"):
        task.make_problems({"dataset": "countdown"}, 4, 0)
    with pytest.raises(InputError, match=r"\['min_animals'\] are not settings of reasoning-gym's 'chain_sum'"):
        task.make_problems({"dataset": "chain_sum", "min_animals": 2}, 4, 0)

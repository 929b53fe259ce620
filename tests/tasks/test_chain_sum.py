import reasoning_gym

from conftest import problem
from dapo.tasks.base import Task


def test_split_steps_keeps_newlines_and_rejoins_exactly():
    r = "12 + 7 = 19\n19 - 3 = 16\nA: 16"
    assert Task.split_steps(r) == ["12 + 7 = 19\n", "19 - 3 = 16\n", "A: 16"]
    assert "".join(Task.split_steps(r)) == r


def test_split_steps_edge_cases():
    assert Task.split_steps("") == []
    assert Task.split_steps("A: 3") == ["A: 3"]
    # a trailing newline ends the last step; it does not create an empty one
    assert Task.split_steps("1 + 2 = 3\n") == ["1 + 2 = 3\n"]
    # a blank line is a step of its own (split at single newlines, as the paper does)
    assert Task.split_steps("a\n\nb") == ["a\n", "\n", "b"]


def test_writer_produces_one_step_per_operation_and_a_final_answer(task):
    p = problem("55 + 98 - 93 + 77", "137")
    assert task.write_solution(p) == "55 + 98 = 153\n153 - 93 = 60\n60 + 77 = 137\nA: 137"
    assert task.verify(p, task.write_solution(p))


def test_writer_solutions_verify_on_generated_problems(task):
    problems = task.make_problems({"min_terms": 2, "max_terms": 6, "min_digits": 1, "max_digits": 3},
                                  size=200, seed=3)
    for p in problems:
        steps = Task.split_steps(task.write_solution(p))
        assert len(steps) == len(p["entry"]["metadata"]["expression"].split(" ")) // 2 + 1
        for step in steps[:-1]:
            lhs, rhs = step.rstrip("\n").split(" = ")
            a, op, b = lhs.split(" ")
            assert int(a) + (int(b) if op == "+" else -int(b)) == int(rhs)
        assert task.verify(p, "".join(steps))


def test_extract_answer_takes_exactly_one_final_answer(task):
    assert task.extract_answer("1 + 2 = 3\nA: 3") == "3"
    assert task.extract_answer("A: -14") == "-14"
    assert task.extract_answer("1 + 2 = 3") is None  # no answer
    assert task.extract_answer("A: 3\nA: 3") is None  # two answers
    assert task.extract_answer("A: 3\nA: 4") is None
    assert task.extract_answer("A: 3\n1 + 1 = 2") is None  # answer not last
    assert task.extract_answer("A: 3 ") is None  # trailing junk
    assert task.extract_answer("A: 3x") is None
    assert task.extract_answer("A: 3\n") is None  # trailing newline after the answer
    assert task.extract_answer("A:3") is None
    assert task.extract_answer("") is None


def test_near_miss_scores_zero_though_reasoning_gym_gives_partial_credit(task):
    p = problem("1 + 2", "3")
    ds = reasoning_gym.create_dataset("chain_sum", size=1, seed=0)
    assert ds.score_answer("-3", p["entry"]) == 0.5  # partial credit upstream
    assert ds.score_answer("30", p["entry"]) == 0.5
    assert not task.verify(p, "A: -3")
    assert not task.verify(p, "A: 30")
    assert task.verify(p, "A: 3")


def test_verifier_agrees_with_reasoning_gym_on_exact_answers(task):
    problems = task.make_problems({"min_terms": 2, "max_terms": 5, "min_digits": 1, "max_digits": 3,
                                   "allow_negation": True}, size=100, seed=11)
    ds = reasoning_gym.create_dataset("chain_sum", size=1, seed=0)
    for p in problems:
        gold = int(p["answer"])
        for candidate in (gold, gold + 1, -gold, gold * 10):
            upstream_exact = ds.score_answer(str(candidate), p["entry"]) == 1.0
            assert task.verify(p, f"A: {candidate}") == upstream_exact
        assert task.verify(p, f"A: {gold}")


def test_problems_are_deterministic_by_seed(task):
    cfg = {"min_terms": 2, "max_terms": 4, "min_digits": 1, "max_digits": 2}
    a = task.make_problems(cfg, size=20, seed=5)
    assert a == task.make_problems(cfg, size=20, seed=5)
    assert [p["prompt"] for p in a] != [p["prompt"] for p in task.make_problems(cfg, size=20, seed=6)]
    assert a[0]["prompt"] == task.render_prompt(a[0])
    assert a[0]["prompt"].startswith("Q: ") and a[0]["prompt"].endswith("\n")

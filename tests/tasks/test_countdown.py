import pytest
import reasoning_gym

from dapo.tasks import get_task
from dapo.tasks.base import Task
from dapo.tasks.countdown import reachable

CONFIG = {"min_numbers": 3, "max_numbers": 4, "min_value": 1, "max_value": 9, "min_target": 10,
          "max_target": 99, "operators": ["+", "-", "*"]}


@pytest.fixture
def task():
    return get_task("countdown")


def problem(numbers, target):
    """A countdown problem record as the data stage writes it."""
    return {"id": "t-0", "prompt": f"Q: {' '.join(map(str, sorted(numbers)))} -> {target}\n",
            "answer": str(target),
            "entry": {"question": "", "answer": "", "metadata": {"source_dataset": "countdown",
                                                                 "numbers": numbers, "target": target}}}


def test_prompt_lists_the_numbers_in_order_so_reshuffled_copies_share_a_prompt(task):
    assert task.render_prompt(problem([6, 3, 5], 21)) == "Q: 3 5 6 -> 21\n"
    assert task.render_prompt(problem([5, 6, 3], 21)) == task.render_prompt(problem([6, 3, 5], 21))


def test_verifier_accepts_a_legal_chain_and_rejects_each_kind_of_error(task):
    p = problem([3, 5, 6], 21)
    assert task.verify(p, "5 * 3 = 15\n15 + 6 = 21\nA: 21")
    assert task.verify(p, "6 - 5 = 1\n3 * 1 = 3\n3 + 0 = 3\nA: 21") is False  # 0 was never available
    assert not task.verify(p, "5 * 3 = 16\n16 + 5 = 21\nA: 21")  # wrong arithmetic
    assert not task.verify(p, "5 * 3 = 15\n15 + 5 = 20\nA: 21")  # 5 used twice, 6 unused
    assert not task.verify(p, "5 * 3 = 15\nA: 21")                # 6 never used
    assert not task.verify(p, "5 * 3 = 15\n15 + 6 = 21\nA: 22")   # answer is not the target
    assert not task.verify(p, "5 * 3 = 15\n15 + 6 = 21\nA: 21\n")  # something trails the answer
    assert not task.verify(p, "5 * 3 = 15\n15 + 6 = 21")          # no final-answer line


def test_verifier_agrees_with_reasoning_gym_on_the_expression_the_chain_builds(task):
    """The chain 6 - 5 = 1, 1 * 3 = 3 builds (6 - 5) * 3; reasoning-gym's scorer gives 1.0 to it
    for target 3 and partial credit (< 1) otherwise, which counts as wrong."""
    p = problem([3, 5, 6], 3)
    scorer = reasoning_gym.create_dataset("countdown", size=1, seed=0)
    assert scorer.score_answer("((6 - 5) * 3)", p["entry"]) == 1.0
    assert task.verify(p, "6 - 5 = 1\n1 * 3 = 3\nA: 3")
    assert scorer.score_answer("((6 - 5) * 3)", problem([3, 5, 6], 4)["entry"]) < 1.0
    assert not task.verify(problem([3, 5, 6], 4), "6 - 5 = 1\n1 * 3 = 3\nA: 4")


def test_oracle_value_is_reachability_of_the_target_from_the_numbers_left(task):
    """3 5 6 -> 21: after 5 * 3 = 15 the pool is {6, 15}, and 15 + 6 = 21 (value 1). After
    6 - 5 = 1 the pool is {1, 3}: 1 + 3, 3 - 1, 1 - 3, 1 * 3 give 4, 2, -2, 3 (value 0)."""
    p = problem([3, 5, 6], 21)
    assert task.oracle_value(p, "") == 1.0
    assert task.oracle_value(p, "5 * 3 = 15\n") == 1.0
    assert task.oracle_value(p, "6 - 5 = 1\n") == 0.0
    assert task.oracle_value(p, "5 * 3 = 16\n") == 0.0   # an illegal step ends every hope
    assert task.oracle_value(p, "5 * 3 = 15\n15 + 6 = 21\n") == 1.0
    assert task.oracle_value(p, "5 * 3 = 15\n15 + 6 = 21\nA: 21") == 1.0  # a whole response: the verifier
    assert task.oracle_value(p, "5 * 3 = 15\n15 + 6 = 21\nA: 20") == 0.0


def test_reachable_searches_every_order_and_operator():
    assert reachable((2, 3, 7), 1)       # 7 - 3 * 2 = 1
    assert reachable((2, 3, 7), -1)      # 2 * 3 - 7
    assert not reachable((2, 3, 7), 100)
    assert reachable((4,), 4) and not reachable((4,), 5)


def test_writer_solutions_verify_and_use_non_negative_steps(task):
    problems = task.make_problems(CONFIG, size=150, seed=3)
    for p in problems:
        solution = task.write_solution(p)
        assert task.verify(p, solution), solution
        steps = Task.split_steps(solution)
        assert len(steps) == len(p["entry"]["metadata"]["numbers"])  # n - 1 steps and the answer
        assert all(int(s.split(" = ")[1]) >= 0 for s in steps[:-1])
        prefix = ""
        for step in steps:  # every state along a correct solution has oracle value 1
            prefix += step
            assert task.oracle_value(p, prefix) == 1.0


def test_difficulty_counts_numbers_and_solvable_first_steps(task):
    """3 5 6 -> 21: the solvable first steps are 5 * 3 (then + 6), 6 * 3 (then + 5)... checked
    against a brute-force count over every step and every continuation."""
    n, solvable = task.difficulty(problem([3, 5, 6], 21))
    assert n == 3
    pairs = [(3, 5, 6), (3, 6, 5), (5, 6, 3)]
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
    count = set()
    for a, b, rest in pairs:
        for x, y in ((a, b), (b, a)):
            for op, f in ops.items():
                if op in "+*" and x < y:
                    continue
                c = f(x, y)
                if any(g(c, rest) == 21 or g(rest, c) == 21 for g in ops.values()):
                    count.add((x, op, y))
    assert solvable == len(count)


def test_first_error_names_the_first_wrong_line():
    from dapo.tasks.countdown import first_error

    p = problem([3, 5, 6], 21)
    assert first_error(p, "5 * 3 = 15\n15 + 6 = 21\nA: 21") == "correct"
    assert first_error(p, "6 - 5 = 1\n3 * 1 = 3\nA: 21") == "dead_end"      # {1, 3} cannot make 21
    assert first_error(p, "5 * 3 = 15\n15 + 6 = 22\nA: 21") == "arithmetic"
    assert first_error(p, "5 * 3 = 15\n15 + 5 = 20\nA: 21") == "unavailable"  # 5 already used
    assert first_error(p, "5 times 3\nA: 21") == "malformed"
    assert first_error(p, "5 * 3 = 15\n15 + 6 = 21\nA: 20") == "answer"
    assert first_error(p, "5 * 3 = 15\nA: 21") == "answer"                   # 6 never used


def test_habit_adds_every_number_largest_first_and_answers_the_sum(task):
    p = problem([3, 5, 6], 21)
    assert task.write_habit(p) == "6 + 5 = 11\n11 + 3 = 14\nA: 14"
    assert task.error_kind(p, task.write_habit(p)) == "dead_end"  # legal steps, a wrong choice
    q = problem([3, 5, 6], 14)  # the sum is the target: the habit is right
    assert task.verify(q, task.write_habit(q))

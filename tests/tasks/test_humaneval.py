"""HumanEval through the sandbox: every canonical solution passes, broken ones fail."""

import pytest

from dapo.tasks import get_task


@pytest.fixture(scope="module")
def problems():
    return get_task("humaneval").make_problems({}, size=164, seed=0)


def test_all_164_canonical_solutions_pass(problems):
    task = get_task("humaneval")
    failing = [p["id"] for p in problems if not task.verify(p, task.write_solution(p))]
    assert len(problems) == 164 and len({p["id"] for p in problems}) == 164
    assert failing == []


def test_broken_solutions_fail(problems):
    task = get_task("humaneval")
    for p in problems[:20]:
        assert not task.verify(p, "    return None\n"), p["id"]
        assert task.error_kind(p, "    return None\n") == "failed"
        assert task.error_kind(p, "") == "no_body"
    hang = "    while True:\n        pass\n"
    assert task.error_kind(problems[0], hang) in ("timeout", "failed")


def test_a_response_ends_at_the_first_stop_sequence():
    task = get_task("humaneval")
    body = "    return x + 1\n"
    assert task.extract_answer(body + "\ndef helper():\n    pass\n") == body
    assert task.extract_answer(body + "\nprint(f(2))\n") == body
    assert task.extract_answer(body + "\nif __name__ == '__main__':\n    f(1)\n") == body
    assert task.extract_answer("\n\n") is None


def test_the_order_is_fixed_by_the_seed(problems):
    task = get_task("humaneval")
    assert [p["id"] for p in task.make_problems({}, 164, seed=0)] == [p["id"] for p in problems]
    assert [p["id"] for p in task.make_problems({}, 164, seed=1)] != [p["id"] for p in problems]
    assert len(task.make_problems({}, 10, seed=0)) == 10

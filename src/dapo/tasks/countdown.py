"""reasoning-gym's `countdown`: reach a target by combining all the given numbers with + - *.

Example instance (prompt, then the response the SFT writer produces, one step per line)::

    Q: 3 5 6 -> 21
    5 * 3 = 15
    15 + 6 = 21
    A: 21

Each step combines two of the numbers still available (given, or results of earlier steps) into
a new one; after every number is used once, the final-answer line states the target. Steps are
distinct choices (which pair, which operator), so the base policy's errors are mostly choices among
actions it already produces: the setting where step-level credit assignment can help.

Grading: the steps must be a legal chain (operands available, arithmetic exact, every number used
once, last result = target = the answer line), and the expression the chain builds must score
exactly 1.0 with reasoning-gym's own scorer. The exact step value (`oracle_value`) is whether the
target is still reachable from the numbers left, by exhaustive search.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any

from .base import Task, final_integer_answer, reasoning_gym

_STEP = re.compile(r"(-?\d+) ([+*-]) (-?\d+) = (-?\d+)")
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


class Countdown(Task):
    name = "countdown"
    template_id = "countdown/v1"
    config_keys = frozenset({"min_numbers", "max_numbers", "min_value", "max_value", "min_target",
                             "max_target", "operators"})

    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        config = {**config, "operators": tuple(config["operators"])}
        ds = reasoning_gym().create_dataset(self.name, **config, seed=seed, size=size)
        problems = []
        for i, entry in enumerate(ds):
            meta = entry["metadata"]
            problems.append({
                "id": f"{self.name}-{seed}-{i}",
                "prompt": self.render_from(meta["numbers"], meta["target"]),
                "answer": str(meta["target"]),
                "entry": {"question": entry["question"], "answer": entry["answer"],
                          "metadata": {"source_dataset": meta["source_dataset"],
                                       "numbers": list(meta["numbers"]), "target": meta["target"],
                                       "expression": meta["expression"]}},
            })
        return problems

    @staticmethod
    def render_from(numbers: list[int], target: int) -> str:
        """Numbers in ascending order: one prompt per problem, so deduplicating by prompt also
        catches reasoning-gym's reshuffled copies of the same problem."""
        return f"Q: {' '.join(map(str, sorted(numbers)))} -> {target}\n"

    def render_prompt(self, problem: dict) -> str:
        meta = problem["entry"]["metadata"]
        return self.render_from(meta["numbers"], meta["target"])

    def difficulty(self, problem: dict) -> tuple:
        """(count of numbers, number of solvable first steps): the histogram key of a split."""
        meta = problem["entry"]["metadata"]
        nums = tuple(sorted(meta["numbers"]))
        return len(nums), sum(1 for _, rest in _moves(nums) if reachable(rest, meta["target"]))

    def write_solution(self, problem: dict) -> str:
        """One solution found by the solver, chosen at random (seeded by the prompt) among all the
        solutions whose intermediate results are non-negative, so SFT shows varied plans."""
        meta = problem["entry"]["metadata"]
        paths = solutions(tuple(sorted(meta["numbers"])), meta["target"])
        if not paths:
            raise ValueError(f"{problem['id']}: no solution of {meta['numbers']} -> {meta['target']}")
        path = random.Random(problem["prompt"]).choice(paths)
        return "".join(f"{a} {op} {b} = {c}\n" for a, op, b, c in path) + f"A: {meta['target']}"

    def write_habit(self, problem: dict) -> str:
        """The add-up habit: add every number, largest first, whatever the target; the answer line
        states the sum. Legal steps, right only when the sum is the target (7.8 % of val)."""
        nums = sorted(problem["entry"]["metadata"]["numbers"], reverse=True)
        total, lines = nums[0], []
        for n in nums[1:]:
            lines.append(f"{max(total, n)} + {min(total, n)} = {total + n}\n")
            total += n
        return "".join(lines) + f"A: {total}"

    def extract_answer(self, response: str) -> str | None:
        return final_integer_answer(response)

    def verify(self, problem: dict, response: str) -> bool:
        meta = problem["entry"]["metadata"]
        answer = self.extract_answer(response)
        if answer is None or int(answer) != meta["target"]:
            return False
        chain = _replay(meta["numbers"], response.split("\n")[:-1])
        if chain is None or len(chain) != 1:
            return False
        (value, expression), = chain
        if value != meta["target"]:
            return False
        return _scorer().score_answer(expression, problem["entry"]) == 1.0

    def error_kind(self, problem: dict, response: str) -> str:
        return first_error(problem, response)

    def oracle_value(self, problem: dict, prefix: str) -> float:
        """1.0 iff `prefix` (complete lines, each ending in a newline, or a whole response) can
        still end correct: every step so far is legal and the target is reachable from the
        numbers left; for a response with its final-answer line, the verifier's reward."""
        if prefix and not prefix.endswith("\n"):
            return float(self.verify(problem, prefix))
        meta = problem["entry"]["metadata"]
        chain = _replay(meta["numbers"], prefix.split("\n")[:-1])
        if chain is None:
            return 0.0
        return float(reachable(tuple(sorted(v for v, _ in chain)), meta["target"]))


def first_error(problem: dict, response: str) -> str:
    """Why a response fails, by its first wrong line: `dead_end` (a legal step after which the
    target is unreachable: a wrong choice), `arithmetic` (a wrong result), `unavailable` (an
    operand not among the numbers left), `malformed`, `answer` (a bad final line); or `correct`.
    The split between choices and skills is what step-level RL can and cannot fix."""
    meta = problem["entry"]["metadata"]
    lines = response.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("A:"):
            break
        m = _STEP.fullmatch(line)
        if not m:
            return "malformed"
        if OPS[m[2]](int(m[1]), int(m[3])) != int(m[4]):
            return "arithmetic"
        chain = _replay(meta["numbers"], lines[:i + 1])
        if chain is None:
            return "unavailable"
        if not reachable(tuple(sorted(v for v, _ in chain)), meta["target"]):
            return "dead_end"
    return "correct" if Countdown().verify(problem, response) else "answer"


def _replay(numbers: list[int], lines: list[str]) -> list[tuple[int, str]] | None:
    """The (value, expression) pool left after the step lines, or None if a line is not a legal
    step: malformed, an operand not available, or wrong arithmetic."""
    pool = [(n, str(n)) for n in numbers]
    for line in lines:
        m = _STEP.fullmatch(line)
        if not m:
            return None
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        if OPS[op](a, b) != c:
            return None
        ia = next((i for i, (v, _) in enumerate(pool) if v == a), None)
        if ia is None:
            return None
        ea = pool.pop(ia)[1]
        ib = next((i for i, (v, _) in enumerate(pool) if v == b), None)
        if ib is None:
            return None
        eb = pool.pop(ib)[1]
        pool.append((c, f"({ea} {op} {eb})"))
    return pool


def _moves(nums: tuple[int, ...], nonneg: bool = False):
    """Every step (a, op, b, c) from a sorted multiset, with the sorted multiset it leaves.
    + and * are written larger operand first; - in both orders unless `nonneg`."""
    seen = set()
    for i in range(len(nums)):
        for j in range(len(nums)):
            if i == j:
                continue
            a, b = nums[i], nums[j]
            rest = [n for k, n in enumerate(nums) if k not in (i, j)]
            for op, apply in OPS.items():
                if op in "+*" and a < b:
                    continue
                c = apply(a, b)
                if nonneg and c < 0:
                    continue
                step = (a, op, b, c)
                if step in seen:
                    continue
                seen.add(step)
                yield step, tuple(sorted(rest + [c]))


@lru_cache(maxsize=200_000)
def reachable(nums: tuple[int, ...], target: int) -> bool:
    """Can the sorted multiset `nums`, every number used once, make `target`? (exhaustive)"""
    if len(nums) == 1:
        return nums[0] == target
    return any(reachable(rest, target) for _, rest in _moves(nums))


@lru_cache(maxsize=50_000)
def solutions(nums: tuple[int, ...], target: int) -> list[tuple[tuple[int, str, int, int], ...]]:
    """Every step sequence from `nums` to `target` with non-negative intermediate results."""
    if len(nums) == 1:
        return [()] if nums[0] == target else []
    return [(step, *tail) for step, rest in _moves(nums, nonneg=True)
            for tail in solutions(rest, target)]


_SCORER = None


def _scorer():
    """reasoning-gym scores through a dataset object; one serves every problem."""
    global _SCORER
    if _SCORER is None:
        _SCORER = reasoning_gym().create_dataset("countdown", size=1, seed=0)
    return _SCORER

"""reasoning-gym's `chain_sum`: integer addition and subtraction chains.

Example instance (prompt, then the response the SFT writer produces, one step per line)::

    Q: 55 + 98 - 93 + 77
    55 + 98 = 153
    153 - 93 = 60
    60 + 77 = 137
    A: 137

Problems and gold answers come from reasoning-gym's generator; grading goes through its scorer, but
only a score of exactly 1.0 counts: the scorer gives near misses partial credit (e.g. 0.5 for a
wrong sign), and the paper's reward is binary.
"""

from __future__ import annotations

from typing import Any

from .base import Task, final_integer_answer, reasoning_gym


class ChainSum(Task):
    name = "chain_sum"
    template_id = "chain_sum/v1"
    config_keys = frozenset({"min_terms", "max_terms", "min_digits", "max_digits", "allow_negation"})

    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        ds = reasoning_gym().create_dataset(self.name, **config, seed=seed, size=size)
        return [
            {
                "id": f"{self.name}-{seed}-{i}",
                "prompt": self.render_prompt_from_expression(entry["metadata"]["expression"]),
                "answer": entry["answer"],
                "entry": {"question": entry["question"], "answer": entry["answer"],
                          "metadata": _jsonable(entry["metadata"])},
            }
            for i, entry in enumerate(ds)
        ]

    @staticmethod
    def render_prompt_from_expression(expression: str) -> str:
        return f"Q: {expression}\n"

    def render_prompt(self, problem: dict) -> str:
        return self.render_prompt_from_expression(problem["entry"]["metadata"]["expression"])

    def write_solution(self, problem: dict) -> str:
        tokens = problem["entry"]["metadata"]["expression"].split(" ")
        total = int(tokens[0])
        lines = []
        for op, operand in zip(tokens[1::2], tokens[2::2]):
            new = total + int(operand) if op == "+" else total - int(operand)
            lines.append(f"{total} {op} {operand} = {new}")
            total = new
        if str(total) != problem["answer"]:
            raise ValueError(f"{problem['id']}: written solution {total} != gold {problem['answer']}")
        lines.append(f"A: {total}")
        return "\n".join(lines)

    def difficulty(self, problem: dict) -> tuple:
        """(number of operands, digits of the longest operand)."""
        operands = problem["entry"]["metadata"]["expression"].split(" ")[::2]
        return len(operands), max(len(o.lstrip("-")) for o in operands)

    def oracle_value(self, problem: dict, prefix: str) -> float:
        """The solution is unique line by line: a prefix can end correct iff its lines are the
        written solution's first lines (a whole response: the verifier's reward)."""
        if prefix and not prefix.endswith("\n"):
            return float(self.verify(problem, prefix))
        lines = prefix.split("\n")[:-1]
        return float(lines == self.write_solution(problem).split("\n")[:len(lines)])

    def extract_answer(self, response: str) -> str | None:
        return final_integer_answer(response)

    def verify(self, problem: dict, response: str) -> bool:
        answer = self.extract_answer(response)
        if answer is None:
            return False
        return _scorer(problem).score_answer(answer, problem["entry"]) == 1.0


_SCORERS: dict[tuple, Any] = {}


def _scorer(problem: dict):
    """reasoning-gym scores through a dataset object; build one per generator config and reuse it."""
    meta = problem["entry"]["metadata"]
    key = (meta["source_dataset"],)
    if key not in _SCORERS:
        _SCORERS[key] = reasoning_gym().create_dataset(meta["source_dataset"], size=1, seed=0)
    return _SCORERS[key]


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj

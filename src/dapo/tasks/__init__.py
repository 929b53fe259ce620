"""Task registry: a params file names its task; the stages look it up here."""

from __future__ import annotations

from .base import Task, verifier_reward
from .chain_sum import ChainSum
from .code import Code
from .countdown import Countdown
from .humaneval import HumanEval
from .math_answer import MathAnswer
from .rg_math import RgMath

TASKS: dict[str, type[Task]] = {task.name: task for task in (ChainSum, Code, Countdown, HumanEval, MathAnswer, RgMath)}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; known: {sorted(TASKS)}")
    return TASKS[name]()


__all__ = ["TASKS", "Task", "get_task", "verifier_reward"]

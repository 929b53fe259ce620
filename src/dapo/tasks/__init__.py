"""Task registry: a params file names its task; the stages look it up here."""

from __future__ import annotations

from .base import Task, verifier_reward
from .chain_sum import ChainSum
from .countdown import Countdown
from .humaneval import HumanEval

TASKS: dict[str, type[Task]] = {ChainSum.name: ChainSum, Countdown.name: Countdown, HumanEval.name: HumanEval}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; known: {sorted(TASKS)}")
    return TASKS[name]()


__all__ = ["TASKS", "Task", "get_task", "verifier_reward"]

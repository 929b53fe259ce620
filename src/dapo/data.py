"""Deterministic, pairwise-disjoint splits of a task's problems.

The training distribution is one pool: drawn from the `train` generator settings, deduplicated by
prompt, shuffled, then cut into sft, rl, val and every in-domain benchmark (a benchmark given only
a `size`). So all of them share one difficulty mix; a generator's small subspaces (few distinct
prompts) run out evenly across splits instead of in whichever split is drawn first. Out-of-domain
benchmarks (their own generator settings) are drawn after the pool from their own streams,
skipping every prompt already taken. Disjointness is by prompt text and is asserted.
"""

from __future__ import annotations

import random
from typing import Any

from .io import InputError
from .tasks import Task

# Seeds of different streams sit this far apart: reasoning-gym seeds item i with seed + i, so
# nearby seeds would replay each other's items.
SEED_STRIDE = 10_000_019


def unique_problems(task: Task, config: dict[str, Any], size: int, seed: int, taken: set[str],
                    split: str) -> list[dict]:
    """The first `size` problems of the (config, seed) stream whose prompts are not in `taken`."""
    out: list[dict] = []
    drawn, chunk = 0, size + size // 4 + 64
    while drawn < 4 * size + 64:  # a stream that keeps repeating itself is too small a space
        # reasoning-gym seeds item i with seed + i, so chunks continue one stream
        for problem in task.make_problems(config, size=chunk, seed=seed + drawn):
            if problem["prompt"] in taken:
                continue
            taken.add(problem["prompt"])
            out.append({**problem, "id": f"{split}-{len(out)}", "split": split})
            if len(out) == size:
                return out
        drawn += chunk
        chunk = max(64, 2 * (size - len(out)))
    raise InputError(f"split {split!r}: the generator config yields only {len(out)} new unique "
                     f"problems, {size} requested; widen the config or shrink the split")


def benchmark_task(task: Task, bench: dict[str, Any]) -> Task:
    """The task a benchmark is drawn and graded by: its own `task` (HumanEval beside a code-trained
    experiment, say), else the experiment's."""
    from .tasks import get_task

    return get_task(bench["task"]) if "task" in bench else task


def in_domain(data_params: dict[str, Any]) -> list[str]:
    """Benchmarks cut from the training pool: those given only a size."""
    return [name for name, bench in data_params["benchmarks"].items() if set(bench) == {"size"}]


def make_splits(task: Task, data_params: dict[str, Any]) -> dict[str, list[dict]]:
    """All splits of a `data` params section: sft, rl, val and in-domain benchmarks from one
    shuffled pool, then the out-of-domain benchmarks."""
    seed = data_params["seed"]
    sizes = dict(data_params["splits"])
    sizes.update({name: data_params["benchmarks"][name]["size"] for name in in_domain(data_params)})
    taken: set[str] = set()
    pool = unique_problems(task, data_params["train"], sum(sizes.values()), seed, taken, "pool")
    random.Random(seed).shuffle(pool)
    splits: dict[str, list[dict]] = {}
    start = 0
    for name, size in sizes.items():
        splits[name] = [{**p, "id": f"{name}-{i}", "split": name} for i, p in enumerate(pool[start:start + size])]
        start += size
    for k, (name, bench) in enumerate(data_params["benchmarks"].items(), start=1):
        if name not in splits:
            config = {key: v for key, v in bench.items() if key not in ("size", "task")}
            splits[name] = unique_problems(benchmark_task(task, bench), config, bench["size"],
                                           seed + k * SEED_STRIDE, taken, name)
    assert_disjoint(splits)
    return splits


def assert_disjoint(splits: dict[str, list[dict]]) -> None:
    seen: dict[str, str] = {}
    for name, problems in splits.items():
        for p in problems:
            other = seen.setdefault(p["prompt"], name)
            if other != name:
                raise AssertionError(f"prompt {p['prompt']!r} is in both {other!r} and {name!r}")

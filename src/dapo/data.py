"""Deterministic, pairwise-disjoint splits of a task's problems.

Benchmarks are drawn first, each from its own seed, so they do not change when a training split's
size does; the training splits (sft, rl, val) then come from one stream of the training
distribution that skips every prompt already taken. Disjointness is by prompt text and is asserted.
"""

from __future__ import annotations

from typing import Any

from .io import InputError
from .tasks import Task

# Seeds of different splits sit this far apart: reasoning-gym seeds item i with seed + i, so
# nearby seeds would replay each other's items.
SEED_STRIDE = 10_000_019


def unique_problems(task: Task, config: dict[str, Any], size: int, seed: int, taken: set[str],
                    split: str) -> list[dict]:
    """The first `size` problems of the (config, seed) stream whose prompts are not in `taken`."""
    pool = task.make_problems(config, size=4 * size + 64, seed=seed)
    out = []
    for problem in pool:
        if problem["prompt"] in taken:
            continue
        taken.add(problem["prompt"])
        out.append({**problem, "id": f"{split}-{len(out)}", "split": split})
        if len(out) == size:
            return out
    raise InputError(f"split {split!r}: the generator config yields only {len(out)} new unique "
                     f"problems, {size} requested; widen the config or shrink the split")


def make_splits(task: Task, data_params: dict[str, Any]) -> dict[str, list[dict]]:
    """All splits of a `data` params section: benchmarks first, then sft, rl and val."""
    seed = data_params["seed"]
    taken: set[str] = set()
    splits: dict[str, list[dict]] = {}
    for k, (name, bench) in enumerate(data_params["benchmarks"].items(), start=1):
        config = {key: v for key, v in bench.items() if key != "size"}
        splits[name] = unique_problems(task, config, bench["size"], seed + k * SEED_STRIDE, taken, name)
    train_config = data_params["train"]
    stream = unique_problems(task, train_config, sum(data_params["splits"].values()), seed, taken, "train")
    start = 0
    for name, size in data_params["splits"].items():
        splits[name] = [{**p, "id": f"{name}-{i}", "split": name}
                        for i, p in enumerate(stream[start:start + size])]
        start += size
    assert_disjoint(splits)
    return splits


def assert_disjoint(splits: dict[str, list[dict]]) -> None:
    seen: dict[str, str] = {}
    for name, problems in splits.items():
        for p in problems:
            other = seen.setdefault(p["prompt"], name)
            if other != name:
                raise AssertionError(f"prompt {p['prompt']!r} is in both {other!r} and {name!r}")

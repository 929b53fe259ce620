"""Task `rg_math`: a reasoning-gym math word-problem or arithmetic dataset, answered in free text by a
pretrained model and graded by math-verify (the smollm2 experiment, params/smollm2.yaml).

The generator settings name the dataset and its reasoning-gym config::

    data: {task: rg_math, train: {dataset: basic_arithmetic, min_terms: 2, max_terms: 3}}

The prompt is the dataset's question in the math task's format (`math_answer`), so the model
reasons in its own words, one step per line, and boxes its answer::

    Question: Calculate 56 + 33 - 14.
    Please reason step by step, and put your final answer within \\boxed{}.

Grading is the math task's: the last `\\boxed{}` (or a final-answer line) against the dataset's
gold answer under math-verify. reasoning-gym's own scorers want the bare answer as the whole
response, which a model that reasons in prose never gives.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..io import InputError
from .base import reasoning_gym
from .math_answer import MathAnswer

# datasets whose answer is one number or expression math-verify can compare; each one's config
# fields, so a params file's keys are checked before any problem is drawn
DATASETS = ("basic_arithmetic", "chain_sum", "gsm_symbolic", "leg_counting", "simple_equations")


def _config_fields(dataset: str) -> set[str]:
    from reasoning_gym.factory import DATASETS as REGISTRY

    return {f.name for f in dataclasses.fields(REGISTRY[dataset][1])} - {"seed", "size"}


class RgMath(MathAnswer):
    name = "rg_math"
    template_id = "rg_math/boxed-v1"
    writes_solutions = False
    config_keys = frozenset({"dataset", "min_terms", "max_terms", "min_digits", "max_digits", "operators",
                             "allow_parentheses", "allow_negation", "format_style", "whitespace",
                             "min_animals", "max_animals", "min_instances", "max_instances", "difficulty",
                             "min_value", "max_value", "operators_weights"})

    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        dataset = config.get("dataset")
        if dataset not in DATASETS:
            raise InputError(f"rg_math: data config needs dataset: one of {list(DATASETS)}, got {dataset!r}")
        settings = {k: v for k, v in config.items() if k != "dataset"}
        unknown = set(settings) - _config_fields(dataset)
        if unknown:
            raise InputError(f"rg_math: {sorted(unknown)} are not settings of reasoning-gym's {dataset!r}")
        ds = reasoning_gym().create_dataset(dataset, **settings, seed=seed, size=size)
        return [
            {"id": f"{dataset}-{seed}-{i}", "prompt": self.render_question(entry["question"]),
             "answer": str(entry["answer"]), "entry": {"dataset": dataset, "solution": None}}
            for i, entry in enumerate(ds)
        ]

    def write_solution(self, problem: dict) -> str:
        raise NotImplementedError("rg_math has no worked solutions: start from a pretrained policy "
                                  "(model.pretrained), not from sft")

    def difficulty(self, problem: dict) -> tuple:
        return (problem["entry"]["dataset"],)

"""Benchmark evaluation: zero-shot, greedy, one sample per problem (pass@1), paper section 5.

Beside greedy pass@1, each problem also gets k samples at temperature 1 (`sampled_accuracy` is
their mean correctness): a smoother measure of the whole policy distribution, which is what
step-level RL re-weights, and less sensitive to which single answer is the argmax.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .generation import Generator, Sampling
from .tasks import Task


def evaluate(generator: Generator, task: Task, problems: list[dict], max_new_tokens: int,
             samples: int = 0, seed: int = 0) -> tuple[list[dict], dict[str, Any]]:
    """Greedy responses and their grades, plus `samples` temperature-1 samples per problem.

    Returns (per-problem records, summary). Records carry `correct` (greedy) and `sampled_correct`
    (how many of the samples are right). The summary carries accuracy, sampled accuracy, the rate
    of greedy responses without one parseable final answer, the rate that ran out of tokens, and
    the prompt template id, so scores stay comparable; for a task that can say why a response
    fails (`Task.error_kind`), the rate of each outcome of the greedy responses.
    """
    prompts = [task.policy_prompt(p, getattr(generator, "tokenizer", None)) for p in problems]
    outs = generator.generate(prompts, Sampling(n=1, temperature=0.0,
                                                max_new_tokens=max_new_tokens, seed=seed))
    sampled = (generator.generate(prompts, Sampling(n=samples, temperature=1.0,
                                                    max_new_tokens=max_new_tokens, seed=seed))
               if samples else [[] for _ in prompts])
    records = []
    for problem, prompt, (c,), draws in zip(problems, prompts, outs, sampled):
        extracted = task.extract_answer(c.text)
        records.append({"id": problem["id"], "prompt": prompt, "response": c.text,
                        "answer": problem["answer"], "extracted": extracted,
                        "finished": c.finished, "correct": task.verify(problem, c.text),
                        "error": task.error_kind(problem, c.text),
                        "sampled_correct": sum(task.verify(problem, d.text) for d in draws)})
    n = len(records)
    summary = {
        "n": n,
        "accuracy": sum(r["correct"] for r in records) / n,
        "samples": samples,
        "sampled_accuracy": sum(r["sampled_correct"] for r in records) / (n * samples) if samples else None,
        "unparseable_rate": sum(r["extracted"] is None for r in records) / n,
        "truncated_rate": sum(not r["finished"] for r in records) / n,
        "template_id": task.template_id,
    }
    kinds = Counter(r["error"] for r in records if r["error"] is not None)
    if kinds:
        summary["greedy_outcomes"] = {k: v / n for k, v in sorted(kinds.items())}
    return records, summary

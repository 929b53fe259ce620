"""Benchmark evaluation: zero-shot, greedy, one sample per problem (pass@1), paper section 5."""

from __future__ import annotations

from typing import Any

from .generation import Generator, Sampling
from .tasks import Task


def evaluate(generator: Generator, task: Task, problems: list[dict], max_new_tokens: int,
             seed: int = 0) -> tuple[list[dict], dict[str, Any]]:
    """Greedy responses and their grades; returns (per-problem records, summary).

    The summary carries accuracy, the rate of responses without one parseable final answer, the
    rate that ran out of tokens, and the prompt template id, so scores stay comparable.
    """
    prompts = [task.render_prompt(p) for p in problems]
    outs = generator.generate(prompts, Sampling(n=1, temperature=0.0,
                                                max_new_tokens=max_new_tokens, seed=seed))
    records = []
    for problem, prompt, (c,) in zip(problems, prompts, outs):
        extracted = task.extract_answer(c.text)
        records.append({"id": problem["id"], "prompt": prompt, "response": c.text,
                        "answer": problem["answer"], "extracted": extracted,
                        "finished": c.finished, "correct": task.verify(problem, c.text)})
    n = len(records)
    summary = {
        "n": n,
        "accuracy": sum(r["correct"] for r in records) / n,
        "unparseable_rate": sum(r["extracted"] is None for r in records) / n,
        "truncated_rate": sum(not r["finished"] for r in records) / n,
        "template_id": task.template_id,
    }
    return records, summary

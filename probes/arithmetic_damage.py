"""Probe: what an actor update does to pi_0's choices and to its arithmetic, on the val split.

Trains one actor setting (oracle values, seed 0's first-iteration states, as probes/actor_regime.py)
and compares pi_0 with it on the first 500 val problems: greedy failure kinds, the operator of the
first step, and how often the first step's arithmetic is wrong per operator.

    snakemake --cores 2 results/complete/seed0/iter1/states.parquet
    python probes/arithmetic_damage.py '{"beta": 0.1, "lr": 3e-5, "epochs": 8, "states_per_batch": 8,
                                         "warmup_steps": 20, "action_weight": "count"}'

Measured on the default's seed-0 states (generate/complete at T = 0.6) with that setting (no
target floor): greedy 10.4 % -> 5.4 %; dead_end 339 -> 267, arithmetic 103 -> 181 of 500;
first-step operators x 250 -> 228, + 172 -> 197, - 78 -> 75; first-step arithmetic errors
x 3 -> 20, + 1 -> 31, - 6 -> 22.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import numpy as np

from dapo.actor import train_actor
from dapo.advantages import candidate_actions, compute_advantages
from dapo.evaluation import evaluate
from dapo.generation import HFGenerator
from dapo.io import read_jsonl, read_parquet
from dapo.logprobs import batched_action_logps
from dapo.models import load_policy
from dapo.tasks import get_task
from dapo.tasks.countdown import _STEP, OPS

START = {"beta": 0.01, "lr": 1e-5, "epochs": 1, "states_per_batch": 32, "warmup_steps": 0,
         "weight_decay": 0.0, "max_grad_norm": 1.0, "log_every": 1000, "seed": 0}


def first_steps(records):
    ops, wrong = Counter(), Counter()
    for r in records:
        m = _STEP.fullmatch(r["response"].split("\n")[0])
        if m:
            ops[m[2]] += 1
            wrong[m[2]] += OPS[m[2]](int(m[1]), int(m[3])) != int(m[4])
    return dict(ops), dict(wrong)


def main():
    hp = {**START, **json.loads(sys.argv[1])}
    task = get_task("countdown")
    problems = {p["id"]: p for p in read_jsonl("results/data/rl.jsonl")}
    val = read_jsonl("results/data/val.jsonl")[:500]
    states = read_parquet("results/complete/seed0/iter1/states.parquet")
    completions = read_parquet("results/complete/seed0/iter1/completions.parquet")
    text = {s: task.render_prompt(problems[p]) + x for s, p, x in zip(states["state_id"], states["prompt_id"], states["prefix"])}
    where = {s: (problems[p], x) for s, p, x in zip(states["state_id"], states["prompt_id"], states["prefix"])}
    oracle = lambda sids, acts: np.array([task.oracle_value(where[s][0], where[s][1] + a) for s, a in zip(sids, acts)])
    data, _ = compute_advantages(candidate_actions(completions, states, task, problems), oracle, 0.1)
    data.insert(1, "state", data["state_id"].map(text))
    base, tok = load_policy("results/sft/model")
    data["ref_logp"] = batched_action_logps(base, tok, data["state"].tolist(), data["action"].tolist(),
                                            data["eos"].tolist(), 256).numpy()
    model, _ = load_policy("results/sft/model")
    train_actor(model, tok, data, hp, progress=False)
    for name, m in (("pi_0", base), ("trained", model)):
        records, summary = evaluate(HFGenerator(m, tok, 500, progress=False), task, val, 80)
        kinds = Counter(r["error"] for r in records)
        ops, wrong = first_steps(records)
        print(f"{name}: greedy {summary['accuracy']:.3f} outcomes {dict(kinds)} first-step operators {ops} "
              f"first-step arithmetic errors {wrong}")


if __name__ == "__main__":
    main()

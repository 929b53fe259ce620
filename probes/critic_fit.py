"""Probe: which critic settings give values that beat a constant on held-out states and agree with
the exact step values (the val-side check of the critic; no benchmark is touched).

Trains the iteration-1 critic of one chain from pi_0 on its MC-labelled states under one setting at
a time (the params file's critic section, overridden by --hp), and reports held-out BCE against the
constant predictor's and the sign agreement and correlation of its advantages with the exact ones
over every sampled candidate. One json line per run goes to probes/results/critic_fit.jsonl.

    python probes/critic_fit.py --hp '{"epochs": 1}'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _records import append_record

from dapo.advantages import (
    advantage_agreement,
    candidate_actions,
    candidate_advantages,
    oracle_values,
    unique_actions,
)
from dapo.critic import critic_quality, predict_values, split_by_prompt, train_critic
from dapo.io import read_jsonl, read_parquet
from dapo.models import load_critic
from dapo.params import load_params
from dapo.tasks import get_task


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--chain", default="seed0/iter1")
    ap.add_argument("--hp", default="{}", help="JSON of critic settings over the params file's critic section")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", help="directory to save the trained critic in (for probes/actor_regime.py --critic)")
    args = ap.parse_args()
    params = load_params(args.params)
    hp = {**params["critic"], "seed": args.seed, "log_every": 10**6, **json.loads(args.hp)}
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    problems = {p["id"]: p for p in read_jsonl(root / "data/rl.jsonl")}
    states = read_parquet(root / f"complete/{args.chain}/states.parquet")
    completions = read_parquet(root / f"complete/{args.chain}/completions.parquet")
    texts = [task.render_prompt(problems[p]) + s for p, s in zip(states["prompt_id"], states["prefix"])]
    labels = states["mc_value"].to_numpy(dtype="float32")
    held = np.array(split_by_prompt(states["prompt_id"].tolist(), hp["val_fraction"], args.seed))
    start = time.time()
    model, tok = load_critic(root / "sft/model", seed=args.seed)
    train_critic(model, tok, [t for t, h in zip(texts, held) if not h], labels[~held], hp, progress=False)
    quality = critic_quality(predict_values(model, tok, [t for t, h in zip(texts, held) if h], 256), labels[held])
    constant = critic_quality(labels[held] * 0 + labels[~held].mean(), labels[held])
    text = dict(zip(states["state_id"], texts))
    candidates = candidate_actions(completions, states, task, problems)
    by_critic = unique_actions(candidate_advantages(
        candidates, lambda sids, acts: predict_values(model, tok, [text[s] + a for s, a in zip(sids, acts)], 256)))
    by_oracle = unique_actions(candidate_advantages(candidates, oracle_values(task, problems, states)))
    agree = advantage_agreement(by_critic, by_oracle)
    row = {"chain": args.chain, "hp": hp, "held_bce": quality["bce"], "held_bce_constant": constant["bce"],
           "held_brier": quality["brier"], "held_brier_constant": constant["brier"], **agree,
           "seconds": time.time() - start}
    print(f"{json.loads(args.hp)}: held-out BCE {quality['bce']:.3f} (constant {constant['bce']:.3f}), Brier "
          f"{quality['brier']:.3f} ({constant['brier']:.3f}) | advantages vs exact: sign {agree['sign_agreement']:.3f}, "
          f"corr {agree['correlation']:.3f} | {row['seconds']:.0f}s", flush=True)
    if args.save:
        from dapo.models import save_checkpoint

        save_checkpoint(model, tok, args.save)
    append_record("critic_fit", row)


if __name__ == "__main__":
    main()

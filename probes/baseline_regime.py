"""Probe: the settings of the baselines (RFT: steps, lr; DPO: beta, lr; GRPO: lr; PPO: actor lr),
chosen on the val split (never a benchmark).

Trains pi_0 of the default build on the responses of one chain's generate stage (seed 0, iteration
1), as the rft or dpo stage does, or online on the rl prompts, as the grpo and ppo stages do, under each
setting, and reports val greedy and sampled accuracy against pi_0 with the paired 95 % bootstrap CI.

    snakemake --cores 2 results/generate/seed0/iter1/responses.parquet
    python probes/baseline_regime.py --method rft                       # the grid
    python probes/baseline_regime.py --method dpo --hp '{"beta": 0.3}'  # one setting over the params'
    python probes/baseline_regime.py --method grpo                      # online, on the rl prompts
    python probes/baseline_regime.py --method ppo

Prints one line per setting and appends it to probes/results/baseline_regime.jsonl.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from _records import append_record, paired_deltas

from dapo.dpo import preference_pairs, train_dpo
from dapo.evaluation import evaluate
from dapo.generation import HFGenerator
from dapo.grpo import train_grpo
from dapo.io import read_jsonl, read_parquet
from dapo.models import load_policy, load_value_model
from dapo.params import load_params
from dapo.ppo import train_ppo
from dapo.rft import rft_demonstrations
from dapo.sft import sft_example, train_sft
from dapo.tasks import get_task, verifier_reward

GRID = {"rft": [{"lr": lr, "steps": steps} for lr, steps in itertools.product([3e-5, 1e-4, 3e-4], [100, 300])],
        # 200 steps at 3e-5 (36 passes over seed 0's 178 pairs) collapsed pi_0, so the rest take fewer
        "dpo": [{"lr": 3e-5, "beta": 0.1, "steps": 200},
                *({"lr": lr, "beta": beta, "steps": steps} for lr, beta, steps in
                  [(1e-5, 0.1, 50), (3e-5, 0.1, 25), (1e-5, 0.5, 50), (3e-6, 0.1, 100)])],
        # 48 steps of 16 prompts x 16 responses sample 12,288 responses, about what DAPO's generate
        # and complete stages sample for one chain (1,280 + about 11,000)
        "grpo": [{"lr": lr, "steps": 48} for lr in [1e-5, 3e-5, 1e-4]],
        # the same budget: 48 rollouts of 64 prompts x 4 responses
        "ppo": [{"actor_lr": lr, "critic_lr": 1e-4, "steps": 48} for lr in [1e-5, 3e-5, 1e-4]]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--chain", default="seed0/iter1")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--method", choices=["rft", "dpo", "grpo", "ppo"], required=True)
    ap.add_argument("--hp", help="JSON of settings over the params file's section: run this one setting")
    ap.add_argument("--skip", type=int, default=0, help="leave out the grid's first settings (already run)")
    args = ap.parse_args()
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    problems = {p["id"]: p for p in read_jsonl(root / "data/rl.jsonl")}
    val = read_jsonl(root / "data/val.jsonl")
    responses = read_parquet(root / f"generate/{args.chain}/responses.parquet")
    demos, pairs = rft_demonstrations(responses), preference_pairs(responses)
    base, tok = load_policy(root / "sft/model")
    examples = [sft_example(task.render_prompt(problems[p]), r, tok) for p, r in zip(demos["prompt_id"], demos["response"])]
    pair_prompts = [task.render_prompt(problems[p]) for p in pairs["prompt_id"]]
    base_records, base_summary = evaluate(HFGenerator(base, tok, 500, progress=False), task, val, 128, args.samples)
    print(f"base: val greedy {base_summary['accuracy']:.3f} sampled {base_summary['sampled_accuracy']:.3f}; "
          f"{len(examples)} distinct correct responses over {demos['prompt_id'].nunique()} prompts, "
          f"{len(pairs)} (correct, wrong) pairs")
    for over in [json.loads(args.hp)] if args.hp else GRID[args.method][args.skip:]:
        start = time.time()
        hp = {**params[args.method], "seed": 0, **over}
        model, _ = load_policy(root / "sft/model")
        if args.method == "rft":
            train_sft(model, examples, tok.pad_token_id, hp, progress=False, name="rft")
        elif args.method == "grpo":
            train_grpo(model, tok, [task.render_prompt(p) for p in problems.values()], list(problems),
                       verifier_reward(task, problems), hp, progress=False)
        elif args.method == "ppo":
            critic, _ = load_value_model(root / "sft/model")
            train_ppo(model, critic, load_policy(root / "sft/model")[0].eval(), tok,
                      [task.render_prompt(p) for p in problems.values()], list(problems), verifier_reward(task, problems),
                      hp, progress=False)
        else:
            train_dpo(model, tok, pair_prompts, pairs, hp, progress=False)
        records, s = evaluate(HFGenerator(model, tok, 500, progress=False), task, val, 128, args.samples)
        gd, sd = paired_deltas(records, base_records, args.samples)
        row = {"method": args.method, **hp, "examples": {"rft": len(examples), "dpo": len(pairs), "grpo": len(problems),
                                                  "ppo": len(problems)}[args.method], "val_greedy": s["accuracy"], "val_sampled": s["sampled_accuracy"],
               "greedy_delta_ci": gd, "sampled_delta_ci": sd, "base_greedy": base_summary["accuracy"],
               "base_sampled": base_summary["sampled_accuracy"], "outcomes": s.get("greedy_outcomes"),
               "chain": args.chain, "root": str(root), "seconds": time.time() - start}
        print(f"{over}: greedy {s['accuracy']:.3f} ({100*gd[0]:+.1f} [{100*gd[1]:+.1f}, {100*gd[2]:+.1f}]) | "
              f"sampled {s['sampled_accuracy']:.3f} ({100*sd[0]:+.1f} [{100*sd[1]:+.1f}, {100*sd[2]:+.1f}]) | "
              f"{s.get('greedy_outcomes')} | {time.time() - start:.0f}s", flush=True)
        append_record("baseline_regime", row)


if __name__ == "__main__":
    main()

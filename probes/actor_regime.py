"""Probe: which actor regime improves the base policy, on the val split (never a benchmark).

Retrains the DAPO actor from pi_0 on the labelled states of one chain (seed 0, iteration 1 of the
default build) under several settings, with the critic's or the exact (oracle) step values, and
reports val greedy and sampled accuracy against pi_0, with the paired 95 % bootstrap CI.

    snakemake --cores 2 results/advantages/seed0/iter1/advantages.parquet   # labels + critic
    python probes/actor_regime.py                                          # every variant
    python probes/actor_regime.py --only paper-oracle paper-critic         # some of them
    python probes/actor_regime.py --hp '{"beta": 0.3}' --source oracle     # an ad-hoc variant

The committed results/actor_regime.jsonl was measured on pi_0 of the default (12.7 % greedy on
val) with generate/complete at temperature 1 (its first 13 lines; set both temperatures to 1.0 to
rerun them) and at 0.6 (`root` results/t06 then); then on the 1500-step pi_0 (30.0 %); the last
lines on the habit pi_0 of the default now (`root` ../results/habit: the default with the critic
section of the commit before, 4 epochs at lr 3e-4; `critic` /tmp/critic_e12 is
`python probes/critic_fit.py --hp '{"epochs": 12, "lr": 1e-4}' --save /tmp/critic_e12`, the
default critic now). The habit-base lines ran with --floor -1 and --hp giving the default actor.

Prints one line per variant (val accuracy, its paired difference from pi_0 with a 95 % CI, and
the greedy outcomes: correct, dead_end = a wrong choice, arithmetic = a wrong result, ...) and
appends it to probes/results/actor_regime.jsonl.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _records import append_record, paired_deltas

from dapo.actor import train_actor
from dapo.advantages import candidate_actions, compute_advantages, oracle_values
from dapo.critic import predict_values
from dapo.evaluation import evaluate
from dapo.generation import HFGenerator
from dapo.io import read_jsonl, read_parquet
from dapo.logprobs import batched_action_logps
from dapo.models import load_critic, load_policy
from dapo.params import load_params
from dapo.tasks import get_task

# The starting point every variant overrides: the paper's beta and unique actions, with the lr and
# batch the chain_sum default had chosen on its own val split.
PAPER = {"beta": 0.01, "lr": 1e-5, "epochs": 1, "states_per_batch": 32, "warmup_steps": 0,
         "weight_decay": 0.0, "max_grad_norm": 1.0, "log_every": 1000, "seed": 0}
VARIANTS = {
    "paper-oracle": ("oracle", 0.1, {}),
    "paper-critic": ("critic", 0.1, {}),
    "lr3e-5-oracle": ("oracle", 0.1, {"lr": 3e-5}),
    "lr1e-4-oracle": ("oracle", 0.1, {"lr": 1e-4}),
    "count-oracle": ("oracle", 0.1, {"action_weight": "count"}),
    "count-lr1e-4-oracle": ("oracle", 0.1, {"action_weight": "count", "lr": 1e-4}),
    "beta1-lr1e-4-ep4-oracle": ("oracle", 0.1, {"beta": 1.0, "lr": 1e-4, "epochs": 4}),
    "beta0.1-lr1e-4-ep4-oracle": ("oracle", 0.1, {"beta": 0.1, "lr": 1e-4, "epochs": 4}),
    "count-beta1-lr1e-4-ep4-oracle": ("oracle", 0.1, {"beta": 1.0, "lr": 1e-4, "epochs": 4, "action_weight": "count"}),
    "count-beta0.1-lr1e-4-ep4-oracle": ("oracle", 0.1, {"beta": 0.1, "lr": 1e-4, "epochs": 4, "action_weight": "count"}),
}


def choice_only(data, which):
    """Cut each selected action to its choice ("12 + 3" of "12 + 3 = 15\n"): the log-ratio then
    moves only the choice, not the result tokens that follow from it. Answer lines stay whole."""
    data = data.copy()
    sel = data["action"].str.contains(" = ") & ((data["advantage"] < 0) if which == "neg" else True)
    data.loc[sel, "action"] = data.loc[sel, "action"].str.split(" = ").str[0]
    data.loc[sel, "eos"] = False
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--chain", default="seed0/iter1")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--base", help="pi_0 checkpoint (default: <root>/sft/model)")
    ap.add_argument("--critic", help="critic checkpoint (default: <root>/critic/<chain>/model)")
    ap.add_argument("--hp", help="JSON of actor settings over the paper's: run this one variant")
    ap.add_argument("--source", default="oracle", choices=["oracle", "critic"], help="values for --hp")
    ap.add_argument("--gap", type=float, default=0.1, help="min_gap for --hp")
    ap.add_argument("--floor", type=float, help="actor.target_floor: clamp the target A/beta from below")
    ap.add_argument("--positives", action="store_true", help="train on positive-advantage pairs only")
    ap.add_argument("--choice-only", choices=["neg", "all"],
                    help="score only the step's choice (the text before ' = ') of negative / all actions")
    args = ap.parse_args()
    variants = ({f"{args.source}-{args.hp}": (args.source, args.gap, json.loads(args.hp))} if args.hp
                else VARIANTS)
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    problems = {p["id"]: p for p in read_jsonl(root / "data/rl.jsonl")}
    val = read_jsonl(root / "data/val.jsonl")
    states = read_parquet(root / f"complete/{args.chain}/states.parquet")
    completions = read_parquet(root / f"complete/{args.chain}/completions.parquet")
    text = {s: task.render_prompt(problems[p]) + x for s, p, x in zip(states["state_id"], states["prompt_id"], states["prefix"])}
    candidates = candidate_actions(completions, states, task, problems)
    def critic_values(sids, acts):
        critic, ctok = load_critic(args.critic or root / f"critic/{args.chain}/model")
        return predict_values(critic, ctok, [text[s] + a for s, a in zip(sids, acts)], 256)

    value_fns = {
        "critic": critic_values,
        "oracle": oracle_values(task, problems, states),
    }
    base_path = args.base or root / "sft/model"
    base, tok = load_policy(base_path)
    base_records, base_summary = evaluate(HFGenerator(base, tok, 500, progress=False), task, val, 128, args.samples)
    train = list(problems.values())  # the rl prompts the actor trains on: does it fit them, or not even those?
    base_train = evaluate(HFGenerator(base, tok, 500, progress=False), task, train, 128, 1)[1]["accuracy"]
    print(f"base {base_path}: val greedy {base_summary['accuracy']:.3f} sampled "
          f"{base_summary['sampled_accuracy']:.3f} {base_summary.get('greedy_outcomes')}")
    for name, (source, gap, over) in variants.items():
        if args.only and name not in args.only:
            continue
        start = time.time()
        data, stats = compute_advantages(candidates, value_fns[source], gap)
        data.insert(1, "state", data["state_id"].map(text))
        if args.choice_only:
            data = choice_only(data, args.choice_only)
        data["ref_logp"] = batched_action_logps(base, tok, data["state"].tolist(), data["action"].tolist(),
                                                data["eos"].tolist(), 256).numpy()
        if args.positives:
            data = data[data["advantage"] > 0].reset_index(drop=True)
        if args.floor is not None:
            over = {**over, "target_floor": args.floor}
        model, _ = load_policy(base_path)
        summary = train_actor(model, tok, data, {**PAPER, **over}, progress=False)
        records, s = evaluate(HFGenerator(model, tok, 500, progress=False), task, val, 128, args.samples)
        train_greedy = evaluate(HFGenerator(model, tok, 500, progress=False), task, train, 128, 1)[1]["accuracy"]
        gd, sd = paired_deltas(records, base_records, args.samples)
        row = {"variant": name, "critic": args.critic, "positives": args.positives, "choice_only": args.choice_only, "floor": args.floor, "source": source, "gap": gap, **over, "states": stats["states_kept"],
               "pairs": len(data), "steps": summary["actor/steps"], "val_greedy": s["accuracy"],
               "val_sampled": s["sampled_accuracy"], "greedy_delta_ci": gd, "sampled_delta_ci": sd,
               "rl_greedy": train_greedy, "base_rl_greedy": base_train,
               "base_greedy": base_summary["accuracy"], "base_sampled": base_summary["sampled_accuracy"],
               "outcomes": s.get("greedy_outcomes"), "base_outcomes": base_summary.get("greedy_outcomes"),
               "base": str(base_path), "root": str(root), "sampling_temperature": params["complete"]["temperature"],
               "seconds": time.time() - start}
        print(f"{name}: {stats['states_kept']} states {len(data)} pairs {summary['actor/steps']} steps | "
              f"greedy {s['accuracy']:.3f} ({100*gd[0]:+.1f} [{100*gd[1]:+.1f}, {100*gd[2]:+.1f}]) | "
              f"sampled {s['sampled_accuracy']:.3f} ({100*sd[0]:+.1f} [{100*sd[1]:+.1f}, {100*sd[2]:+.1f}]) "
              f"| rl prompts greedy {base_train:.3f} -> {train_greedy:.3f} "
              f"| {s.get('greedy_outcomes')} | {time.time() - start:.0f}s", flush=True)
        append_record("actor_regime", row)


if __name__ == "__main__":
    main()

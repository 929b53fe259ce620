"""Probe: does the critic generalise to unseen states once it trains on the states of more prompts?

probes/critic_errors.py finds the iteration-1 critic ranks first-step candidates it never trained
on about at chance. This probe labels the states of K training prompts (the first K of the sft
split, as probes/oracle_scale.py: prompts pi_0 was trained on, never val or rl) with the workflow's
own generate and complete settings, trains a critic from pi_0 on all of them with the params
file's critic settings (or `--epochs`, `--lr`), and scores it on a finished build's iteration-1 rl
chain, whose prompts it never saw:

- AUC of V(s + a) over the non-terminal first-step candidates (exactly reachable against dead),
  and over 2,000 of its own training states (high there and low on the candidates: it memorises);
- the advantages of every candidate state after the gap filter, set beside the exact values with
  `critic_errors.report` (kept decisions, sign agreement, favourite action exactly best against
  pi_0's most sampled one).

With `--labels exact` the critic trains on the task's exact step values of the same states
(reachable or not; no completions are sampled) instead of their MC values: a ceiling that separates
what the labels carry from what this critic can learn from them. `--states first_steps` (with
exact labels) replaces the sampled states by every legal first step of the K prompts (the moves a
written solution may take), so the critic trains on the very kind of state it is scored on, about
a quarter of them reachable: whether this critic can learn reachability at all from that many examples.

No actor is trained and no benchmark is touched. One json line per run goes to
probes/results/critic_scale.jsonl.

    python probes/critic_scale.py --prompts 640
    python probes/critic_scale.py --prompts 640 --labels exact
    python probes/critic_scale.py --prompts 640 --labels exact --states first_steps
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _records import append_record, show
from critic_errors import auc, chain_candidates, exact_advantages, report

from dapo.advantages import compute_advantages
from dapo.critic import predict_values, train_critic
from dapo.generation import HFGenerator, Sampling
from dapo.io import read_jsonl
from dapo.labelling import enumerate_states, generate_responses, label_states
from dapo.models import load_critic, load_policy
from dapo.params import load_params
from dapo.tasks import get_task
from dapo.tasks.countdown import _moves


def first_step_states(problems: list[dict]) -> pd.DataFrame:
    """Every legal first step of each countdown problem as a state (one step line after the
    prompt), written as the solutions write them (non-negative results, + and * larger first)."""
    rows = []
    for problem in problems:
        meta = problem["entry"]["metadata"]
        for a, op, b, c in (step for step, _ in _moves(tuple(sorted(meta["numbers"])), nonneg=True)):
            rows.append({"state_id": len(rows), "prompt_id": problem["id"], "prefix": f"{a} {op} {b} = {c}\n",
                         "depth": 1})
    return pd.DataFrame(rows, columns=["state_id", "prompt_id", "prefix", "depth"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--prompts", type=int, required=True, help="K: sft-split prompts to label")
    ap.add_argument("--N", type=int, help="completions per state (default: the params file's complete.N)")
    ap.add_argument("--labels", choices=["mc", "exact"], default="mc",
                    help="train on MC values (the workflow's labels) or on the task's exact step values")
    ap.add_argument("--states", choices=["sampled", "first_steps"], default="sampled",
                    help="pi_0's sampled states (the workflow's) or every legal first step (needs --labels exact)")
    ap.add_argument("--epochs", type=int, help="critic epochs (default: the params file's critic.epochs)")
    ap.add_argument("--lr", type=float, help="critic learning rate (default: the params file's critic.lr)")
    ap.add_argument("--chain", default="seed0/iter1", help="the build's chain to score the critic on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (a workflow job uses 1)")
    args = ap.parse_args()
    if args.states == "first_steps" and args.labels != "exact":
        ap.error("--states first_steps has exact labels only (--labels exact)")
    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    g, c, hp = params["generate"], params["complete"], params["critic"]
    problems = read_jsonl(root / "data/sft.jsonl")[:args.prompts]
    by_id = {p["id"]: p for p in problems}
    start = time.time()
    base, tok = load_policy(root / "sft/model")
    if args.states == "first_steps":
        states = first_step_states(problems)
    else:
        responses, _ = generate_responses(HFGenerator(base, tok, g["batch_size"], progress=False), task, problems,
                                          Sampling(g["n1"], g["temperature"], g["top_p"], g["max_new_tokens"],
                                                   args.seed), g["n"], g["keep_unanimous"], args.seed)
        states = enumerate_states(responses, task)
    if args.labels == "exact":
        labelled = states.assign(mc_value=[task.oracle_value(by_id[p], x)
                                           for p, x in zip(states["prompt_id"], states["prefix"])])
        label_stats = {"completions": 0}
    else:
        sampling = Sampling(args.N or c["N"], c["temperature"], c["top_p"], c["max_new_tokens"], args.seed + 1)
        _, labelled, label_stats = label_states(HFGenerator(base, tok, c["batch_size"], progress=False), task,
                                                by_id, states, sampling)
    label_seconds = time.time() - start
    critic, ctok = load_critic(root / "sft/model", seed=args.seed)
    texts = [task.policy_prompt(by_id[p], ctok) + x for p, x in zip(labelled["prompt_id"], labelled["prefix"])]
    hp = {**hp, "seed": args.seed, "log_every": 10**6, "epochs": args.epochs or hp["epochs"], "lr": args.lr or hp["lr"]}
    summary = train_critic(critic, ctok, texts, labelled["mc_value"].to_numpy(dtype="float32"), hp, progress=False)
    train_seconds = time.time() - start - label_seconds
    # how well it fits its own training states (at most 2,000 of them), against their exact values:
    # low here means it cannot fit, high here and low on the unseen candidates means it memorises
    fit = labelled.reset_index(drop=True).sample(min(len(labelled), 2000), random_state=0)
    fit_reach = np.array([task.oracle_value(by_id[p], x) == 1 for p, x in zip(fit["prompt_id"], fit["prefix"])])
    fit_values = predict_values(critic, ctok, [texts[i] for i in fit.index], 256)

    rl = {p["id"]: p for p in read_jsonl(root / "data/rl.jsonl")}
    chain_states, candidates = chain_candidates(root, args.chain, task, rl)
    text = {s: task.policy_prompt(rl[p], ctok) + x
            for s, p, x in zip(chain_states["state_id"], chain_states["prompt_id"], chain_states["prefix"])}
    exact = exact_advantages(chain_states, candidates, task, rl)
    first = exact[(exact["depth"] == 0) & ~exact["terminal"]]
    values = predict_values(critic, ctok, [text[s] + a for s, a in zip(first["state_id"], first["action"])], 256)
    reach = first["value"].to_numpy() == 1
    kept, _ = compute_advantages(candidates, lambda sids, acts: predict_values(
        critic, ctok, [text[s] + a for s, a in zip(sids, acts)], 256), params["advantages"]["min_gap"])
    depth = exact.drop_duplicates("state_id").set_index("state_id")["depth"]
    first_ids = set(depth[depth == 0].index)
    figures, _ = report(kept[kept["state_id"].isin(first_ids)], exact[exact["state_id"].isin(first_ids)],
                        params["advantages"]["min_gap"])
    row = {"prompts": args.prompts, "states_from": args.states, "labels": args.labels,
           "N": args.N or c["N"] if args.labels == "mc" else 0, "seed": args.seed, "chain": args.chain,
           "states": len(labelled), "label_mean": float(labelled["mc_value"].mean()),
           "completions": label_stats["completions"],
           "critic_steps": summary.get("critic/steps"), "first_candidates": len(first),
           "critic_epochs": hp["epochs"], "critic_lr": hp["lr"],
           "critic_auc_train": auc(fit_values[fit_reach], fit_values[~fit_reach]),
           "critic_auc_first_unseen": auc(values[reach], values[~reach]),
           **{f"first_step_{k}": v for k, v in figures.items()},
           "label_seconds": label_seconds, "train_seconds": train_seconds, "seconds": time.time() - start}
    show(row)
    append_record("critic_scale", row)


if __name__ == "__main__":
    main()

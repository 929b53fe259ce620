"""Probe: does the critic generalise to unseen states once it trains on the states of more prompts?

probes/critic_errors.py finds the iteration-1 critic ranks first-step candidates it never trained
on about at chance. This probe labels the states of K training prompts (the first K of the sft
split, as probes/oracle_scale.py: prompts pi_0 was trained on, never val or rl) with the workflow's
own generate and complete settings, trains a critic from pi_0 on all of them with the params
file's critic settings, and scores it on a finished build's iteration-1 rl chain, whose prompts it
never saw:

- AUC of V(s + a) over the non-terminal first-step candidates (exactly reachable against dead);
- the advantages of every candidate state after the gap filter, set beside the exact values with
  `critic_errors.report` (kept decisions, sign agreement, favourite action exactly best against
  pi_0's most sampled one).

No actor is trained and no benchmark is touched. One json line per run goes to
probes/results/critic_scale.jsonl.

    python probes/critic_scale.py --prompts 640
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--prompts", type=int, required=True, help="K: sft-split prompts to label")
    ap.add_argument("--N", type=int, help="completions per state (default: the params file's complete.N)")
    ap.add_argument("--chain", default="seed0/iter1", help="the build's chain to score the critic on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (a workflow job uses 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    g, c, hp = params["generate"], params["complete"], params["critic"]
    problems = read_jsonl(root / "data/sft.jsonl")[:args.prompts]
    by_id = {p["id"]: p for p in problems}
    start = time.time()
    base, tok = load_policy(root / "sft/model")
    responses, _ = generate_responses(HFGenerator(base, tok, g["batch_size"], progress=False), task, problems,
                                      Sampling(g["n1"], g["temperature"], g["top_p"], g["max_new_tokens"], args.seed),
                                      g["n"], g["keep_unanimous"], args.seed)
    states = enumerate_states(responses, task)
    sampling = Sampling(args.N or c["N"], c["temperature"], c["top_p"], c["max_new_tokens"], args.seed + 1)
    _, labelled, label_stats = label_states(HFGenerator(base, tok, c["batch_size"], progress=False), task, by_id,
                                            states, sampling)
    label_seconds = time.time() - start
    critic, ctok = load_critic(root / "sft/model", seed=args.seed)
    texts = [task.policy_prompt(by_id[p], ctok) + x for p, x in zip(labelled["prompt_id"], labelled["prefix"])]
    summary = train_critic(critic, ctok, texts, labelled["mc_value"].to_numpy(dtype="float32"),
                           {**hp, "seed": args.seed, "log_every": 10**6}, progress=False)
    train_seconds = time.time() - start - label_seconds

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
    row = {"prompts": args.prompts, "N": sampling.n, "seed": args.seed, "chain": args.chain,
           "states": len(labelled), "completions": label_stats["completions"],
           "critic_steps": summary.get("critic/steps"), "first_candidates": len(first),
           "critic_auc_first_unseen": auc(values[reach], values[~reach]),
           **{f"first_step_{k}": v for k, v in figures.items()},
           "label_seconds": label_seconds, "train_seconds": train_seconds, "seconds": time.time() - start}
    show(row)
    append_record("critic_scale", row)


if __name__ == "__main__":
    main()

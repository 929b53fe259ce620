"""Probe: does the actor improve pi_0 with exact step values once it sees many more states?

The pipeline labels the states of 160 rl prompts per iteration; this probe draws the states of K
training prompts (the first K of the sft split: prompts pi_0 was trained on, never val), samples N
one-line candidate actions per state (cheap: the oracle needs no Monte Carlo completions), values
them exactly, trains the actor from pi_0 and reports val accuracy against pi_0 with the paired
95 % CI. One json line per run goes to probes/results/oracle_scale.jsonl.

    python probes/oracle_scale.py --params params/default.yaml --root results --prompts 1000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from _records import append_record, paired_deltas

from dapo.actor import train_actor
from dapo.advantages import candidate_actions, compute_advantages, oracle_values
from dapo.evaluation import evaluate
from dapo.generation import HFGenerator, Sampling
from dapo.io import read_jsonl
from dapo.labelling import enumerate_states, generate_responses
from dapo.logprobs import batched_action_logps
from dapo.models import load_policy
from dapo.params import load_params
from dapo.tasks import get_task


def label(args, params, task, problems, by_id, gen, base, tok):
    """The K prompts' response states, N one-line candidates each, exact advantages after the gap
    filter, and pi_0's log-probs: the actor's training pairs, and the number of states."""
    g, c = params["generate"], params["complete"]
    responses, _ = generate_responses(gen, task, problems, Sampling(g["n1"], g["temperature"], g["top_p"],
                                      g["max_new_tokens"], args.seed), g["n"], g["keep_unanimous"], args.seed)
    states = enumerate_states(responses, task)
    texts = [task.render_prompt(by_id[p]) + x for p, x in zip(states["prompt_id"], states["prefix"])]
    # one line is at most 15 characters ("12 * 11 = 132\n"); the next line's start shows it is not the last
    outs = gen.generate(texts, Sampling(c["N"], c["temperature"], c["top_p"], 18, args.seed))
    completions = pd.DataFrame([{"state_id": sid, "k": k, "completion": o.text, "finished": o.finished}
                                for sid, os_ in zip(states["state_id"], outs) for k, o in enumerate(os_)])
    candidates = candidate_actions(completions, states, task, by_id)
    data, _ = compute_advantages(candidates, oracle_values(task, by_id, states), args.gap)
    data.insert(1, "state", data["state_id"].map(dict(zip(states["state_id"], texts))))
    data["ref_logp"] = batched_action_logps(base, tok, data["state"].tolist(), data["action"].tolist(),
                                            data["eos"].tolist(), 256).numpy()
    return data, len(states)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--base", help="pi_0 checkpoint (default: <root>/sft/model)")
    ap.add_argument("--prompts", type=int, default=1000)
    ap.add_argument("--gap", type=float, default=0.1)
    ap.add_argument("--hp", default="{}", help="JSON of actor settings over the params file's actor section")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", help="parquet of the labelled pairs: read if it exists, else written")
    args = ap.parse_args()
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    base_path = args.base or root / "sft/model"
    problems = read_jsonl(root / "data/sft.jsonl")[:args.prompts]
    by_id = {p["id"]: p for p in problems}
    val = read_jsonl(root / "data/val.jsonl")
    base, tok = load_policy(base_path)
    gen = HFGenerator(base, tok, 512, progress=False)
    start = time.time()
    cache = Path(args.cache) if args.cache else None
    if cache and cache.is_file():
        data, n_states = pd.read_parquet(cache), json.loads(cache.with_suffix(".json").read_text())["states"]
    else:
        data, n_states = label(args, params, task, problems, by_id, gen, base, tok)
        if cache:
            data.to_parquet(cache)
            cache.with_suffix(".json").write_text(json.dumps({"states": n_states}))
    stats = {"states_kept": data["state_id"].nunique()}
    label_seconds = time.time() - start
    hp = {**params["actor"], "seed": args.seed, "log_every": 10**6, **json.loads(args.hp)}
    base_records, base_s = evaluate(HFGenerator(base, tok, 500, progress=False), task, val, 128, args.samples)
    model, _ = load_policy(base_path)
    summary = train_actor(model, tok, data, hp, progress=False)
    records, s = evaluate(HFGenerator(model, tok, 500, progress=False), task, val, 128, args.samples)
    gd, sd = paired_deltas(records, base_records, args.samples)
    row = {"base": str(base_path), "prompts": args.prompts, "states": n_states, "states_kept": stats["states_kept"],
           "pairs": len(data), "gap": args.gap, "hp": hp, "steps": summary["actor/steps"],
           "base_greedy": base_s["accuracy"], "base_sampled": base_s["sampled_accuracy"],
           "val_greedy": s["accuracy"], "val_sampled": s["sampled_accuracy"],
           "greedy_delta_ci": gd, "sampled_delta_ci": sd, "outcomes": s.get("greedy_outcomes"),
           "base_outcomes": base_s.get("greedy_outcomes"), "label_seconds": label_seconds,
           "seconds": time.time() - start}
    print(f"{args.prompts} prompts, {n_states} states, {stats['states_kept']} kept, {len(data)} pairs, "
          f"{summary['actor/steps']} steps | greedy {base_s['accuracy']:.3f} -> {s['accuracy']:.3f} "
          f"({100*gd[0]:+.1f} [{100*gd[1]:+.1f}, {100*gd[2]:+.1f}]) | sampled {base_s['sampled_accuracy']:.3f} -> "
          f"{s['sampled_accuracy']:.3f} ({100*sd[0]:+.1f} [{100*sd[1]:+.1f}, {100*sd[2]:+.1f}]) | "
          f"{s.get('greedy_outcomes')} | label {label_seconds:.0f}s total {time.time() - start:.0f}s", flush=True)
    append_record("oracle_scale", row)


if __name__ == "__main__":
    main()

"""Probe: how good is a base policy pi_0 on the val split (never a benchmark)?

Greedy and sampled (T = 1) accuracy, the greedy outcomes (correct, dead_end = a wrong choice,
arithmetic = a wrong result, ...) and greedy accuracy by the task's difficulty key, for one or more
checkpoints; one json line per checkpoint is appended to probes/results/base_policy.jsonl.

    python probes/base_policy.py results/sft/model /tmp/sft1500/model --note "sft steps 600 vs 1500"
"""

from __future__ import annotations

import argparse
import collections
import json
import time

from _records import append_record

from dapo.evaluation import evaluate
from dapo.generation import HFGenerator
from dapo.io import read_jsonl
from dapo.models import load_policy
from dapo.params import load_params
from dapo.tasks import get_task


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--val", default="results/data/val.jsonl")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    task = get_task(load_params(args.params)["data"]["task"])
    val = read_jsonl(args.val)
    for path in args.models:
        start = time.time()
        model, tok = load_policy(path)
        records, s = evaluate(HFGenerator(model, tok, 500, progress=False), task, val, 128, args.samples)
        by = collections.defaultdict(list)
        for p, r in zip(val, records):
            by[str(task.difficulty(p)[0])].append(r["correct"])
        row = {"model": path, "note": args.note, "val_greedy": s["accuracy"], "val_sampled": s["sampled_accuracy"],
               "outcomes": s.get("greedy_outcomes"),
               "greedy_by_difficulty": {k: sum(v) / len(v) for k, v in sorted(by.items())},
               "seconds": time.time() - start}
        print(json.dumps(row), flush=True)
        append_record("base_policy", row)


if __name__ == "__main__":
    main()

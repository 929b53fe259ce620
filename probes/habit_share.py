"""Probe: how often does each model's greedy response follow the SFT habit (`sft.habit_fraction`)?

Reads the evaluation records of a finished build (no model is run) and reports, per model and
benchmark, the share of greedy responses whose first step is the habit's first step, and the
accuracy of the responses that do and that do not. DAPO on the habit pi_0 should lower the first
share without lowering the second accuracy. One json line per (model, benchmark) is appended to
probes/results/habit_share.jsonl.

    python probes/habit_share.py                      # the default build in results/
    python probes/habit_share.py --root results/smoke --params params/smoke.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _records import append_record

from dapo.io import read_jsonl
from dapo.params import load_params
from dapo.tasks import get_task


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    args = ap.parse_args()
    task = get_task(load_params(args.params)["data"]["task"])
    root = Path(args.root)
    for path in sorted(root.glob("evaluate/*/*.jsonl")):
        model, bench = path.parent.name, path.stem
        problems = {p["id"]: p for p in read_jsonl(root / f"data/{bench}.jsonl")}
        habit, other = [], []
        for r in read_jsonl(path):
            first = task.write_habit(problems[r["id"]]).split("\n")[0]
            (habit if r["response"].split("\n")[0] == first else other).append(r["correct"])
        n = len(habit) + len(other)
        row = {"root": str(root), "model": model, "benchmark": bench, "n": n,
               "habit_share": len(habit) / n,
               "habit_accuracy": sum(habit) / len(habit) if habit else None,
               "other_accuracy": sum(other) / len(other) if other else None}
        print(json.dumps(row), flush=True)
        append_record("habit_share", row)


if __name__ == "__main__":
    main()

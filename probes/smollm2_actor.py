"""Probe: the smollm2 experiment's actor learning rate, on its val split (never the benchmark).

The first build of params/smollm2.yaml trained the actor at lr 1e-5, the embedded default's lr
scaled down and not tuned. Its DAPO loss on its own (state, action) pairs rose from 4.6e-5 at the
first step to 2.95 after the epoch: the log-ratios moved by far more than their targets A / beta.
Adam's step does not shrink with the gradient, so targets this small (mean |A| / beta about 0.03)
may want a smaller lr. This probe retrains iteration 1's actor from the same advantages through
the workflow's actor stage (`--set actor.lr=<lr>`, one thread) and reports for each lr:
- the DAPO loss at the first step and over all pairs after training, and the final mean log-ratio
  of the positive- and negative-advantage actions beside the mean target |A| / beta;
- val greedy accuracy against pi_0, paired over the val problems, with its 95 % bootstrap CI.

    make run EXPERIMENT=smollm2                       # or any target that builds the advantages
    python probes/smollm2_actor.py --lr 1e-5 1e-6 1e-7

Stage outputs go to probes/out/smollm2_actor/<pi_0>/lr<lr>/ (<pi_0>: the weights' hash). One json
line per lr is appended to probes/results/smollm2_actor.jsonl.

Recorded (one seed, 96 val problems): at lr 1e-6 the loss after training is 0.038 against 2.95 at
1e-5, and the log-ratios agree in sign with the advantages on 70 % of the pairs against 54 %; but
val greedy is 17.7 % against 20.8 % (1e-5 minus 1e-6: +3.1 points [-6.3, +11.5]; pi_0 15.6 %), so
val does not choose between them and the experiment keeps 1e-5. (lr 1e-5's actor is the build's
own, copied into this probe's cache: the same stage, params and seed.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _records import append_record, show
from adaptive_mc import cached_val, checkpoint_id, stage

from dapo.io import read_jsonl, read_parquet
from dapo.params import load_params
from dapo.stats import paired_bootstrap_ci
from dapo.tasks import get_task


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/smollm2.yaml")
    ap.add_argument("--root", default="results/smollm2", help="the experiment's results folder")
    ap.add_argument("--lr", type=float, nargs="+", required=True)
    args = ap.parse_args()
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root = Path(args.root)
    policy, advantages = root / "pretrained/model", root / "advantages/seed0/iter1/advantages.parquet"
    if not advantages.is_file():
        raise SystemExit(f"error: {advantages} is missing; build it first (make run EXPERIMENT=smollm2)")
    val = read_jsonl(root / "data/val.jsonl")
    out = Path(__file__).parent / "out" / "smollm2_actor" / checkpoint_id(policy)
    out.mkdir(parents=True, exist_ok=True)
    base = cached_val(out / "base_val.jsonl", policy, task, val, samples=0)
    data = read_parquet(advantages)
    target = float((data["advantage"].abs() / params["actor"]["beta"]).mean())
    for lr in args.lr:
        run = out / f"lr{lr:g}"
        stage("actor", run, "--params", args.params, "--set", f"actor.lr={lr}", "--seed", "0", "--iteration", "1",
              "--policy", str(policy), "--advantages", str(advantages))
        records = cached_val(run / "val.jsonl", run / "actor/model", task, val, samples=0)
        metrics = json.loads((run / "actor/metrics.json").read_text())
        delta = np.array([[r["correct"] - b["correct"] for r, b in zip(records, base)]], dtype=float)
        row = {"pi_0": out.name, "lr": lr, "pairs": metrics["actor/pairs"], "steps": metrics["actor/steps"],
               "first_loss": metrics["actor/first_loss"], "final_loss": metrics["actor/final_loss"],
               "final_log_ratio_pos": metrics["actor/final_log_ratio_pos"],
               "final_log_ratio_neg": metrics["actor/final_log_ratio_neg"],
               "final_sign_agreement": metrics["actor/final_sign_agreement"], "mean_abs_target": target,
               "val_n": len(records), "val_greedy": float(np.mean([r["correct"] for r in records])),
               "base_val_greedy": float(np.mean([b["correct"] for b in base])),
               "greedy_vs_pi_0": list(paired_bootstrap_ci(delta)),
               "train_seconds": metrics["actor/train_seconds"]}
        show(row)
        append_record("smollm2_actor", row)


if __name__ == "__main__":
    main()

"""Probe: does a critic started from another model than pi_0 rank actions better, and does the actor gain?

The paper trains the critic of every actor from one separate, strong math model (Qwen2.5-Math-7B).
A critic started from pi_0 (`critic.init: sft`) ranks first-step candidates it never trained on
at about chance (probes/critic_errors.py, probes/critic_scale.py). This probe starts the critic
from another checkpoint (`--init`, any policy checkpoint with pi_0's tokenizer; `critic.init`
takes such a path in the workflow too) and
trains it on the very MC labels of the paper's fixed N = 8 (the `seed<k>-N8-stop0` run of
probes/adaptive_mc.py, which this probe reads and never reruns), then runs advantages and actor
through the workflow's own stages, each on one thread. It reports, for one chain:

- the critic's MAE against the 32-completion reference labels of its held-out states
  (probes/adaptive_mc.py's reference), beside the pi_0-initialised critic's;
- over the non-terminal first-step candidates, the AUC (exactly reachable against dead) of V(s + a)
  where s + a is one of the critic's training states and where it is not, for both critics
  (`critic_errors.seen_unseen`, which also gives the MC labels' AUC on the former);
- on the kept decisions, first step and later steps apart, how often the critic's favourite
  action is exactly best, beside pi_0's most sampled action (`critic_errors.report`);
- the actor's val greedy and sampled accuracy against pi_0 and against the actor of the
  pi_0-initialised critic, paired over problems with 95 % CIs; `--summary` pools the seeds run.

Stage outputs go to probes/out/critic_init/<pi_0>/<init>/seed<k>/ (<pi_0>, <init>: weights
hashes). One json line per run is appended to probes/results/critic_init.jsonl.

    python probes/adaptive_mc.py --N 8 --early-stop 0 --seed 0     # the labels (once per seed)
    # a start: the sft stage with other settings (here no habit, twice the steps), or --random-start
    D=probes/out/critic_init/sft-nohabit-3000; python -m dapo.stages.sft --params params/default.yaml \
        --set sft.habit_fraction=0 --set sft.steps=3000 --data results/data/sft.jsonl \
        --out $D/model --metrics $D/metrics.json --curve $D/curve.csv
    python probes/critic_init.py --random-start probes/out/critic_init/random/model --seed 1  # untrained
    python probes/critic_init.py --init $D/model --seed 0       # and --seed 1, --seed 2
    python probes/critic_init.py --init $D/model --summary

The starts recorded: `results/sft/model` (pi_0 itself: the check that the probe reproduces the
fixed-N run), the sft stage with `--set sft.seed=1`, `--set sft.steps=3000`, `--set
sft.habit_fraction=0`, both of the last two, and an untrained model (`--random-start`, seed 1).
They decided the default's `critic.init: critic_base` (the sft stage with `habit_fraction: 0`, the
start whose actor did best on val); `--init results/critic_base/model` is that start as the
workflow builds it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from _records import append_record, paired_deltas, show
from adaptive_mc import cached_val, checkpoint_id, critic_reference_mae, stage
from critic_errors import critic_held_out, exact_advantages, report, seen_unseen

from dapo.advantages import candidate_actions
from dapo.io import read_jsonl, read_parquet
from dapo.models import build_policy, load_tokenizer, save_checkpoint
from dapo.params import load_params
from dapo.stats import paired_bootstrap_ci
from dapo.tasks import get_task


def summary(out: Path, labels: Path) -> None:
    """Val greedy differences pooled over the seeds run (paired over problems and seeds), printed
    and recorded: against pi_0 and against the actor of the pi_0-initialised critic (`labels`:
    probes/adaptive_mc.py's outputs for this pi_0)."""
    runs = sorted(d for d in out.glob("seed*") if (d / "val.jsonl").is_file())
    if not runs:
        raise SystemExit(f"error: no finished run under {out}")

    def correct(path: Path) -> np.ndarray:
        return np.array([json.loads(line)["correct"] for line in path.read_text().splitlines()], dtype=float)

    ours = np.stack([correct(d / "val.jsonl") for d in runs])
    row = {"summary": str(out), "seeds": [d.name for d in runs], "val_greedy": float(ours.mean())}
    for name, other in (("pi_0", [labels / "base_val.jsonl"] * len(runs)),
                        ("pi_0_critic", [labels / f"{d.name}-N8-stop0/val.jsonl" for d in runs])):
        row[f"greedy_vs_{name}"] = list(paired_bootstrap_ci(ours - np.stack([correct(p) for p in other])))
    show(row)
    append_record("critic_init", row)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--init", help="checkpoint the critic starts from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--summary", action="store_true", help="pool the seeds run instead of running one")
    ap.add_argument("--random-start", metavar="DIR", help="write an untrained policy of the params' model "
                    "section (pi_0's tokenizer, seed --seed) to DIR and stop")
    args = ap.parse_args()
    root = Path(args.root)
    policy = root / "sft/model"
    if args.random_start:
        tok = load_tokenizer(policy)
        save_checkpoint(build_policy(tok, load_params(args.params)["model"], args.seed), tok, args.random_start)
        return
    if not args.init:
        ap.error("--init is required to run a start")
    init = Path(args.init)
    pi_0, init_id = checkpoint_id(policy), checkpoint_id(init)
    probes_out = Path(__file__).parent / "out"
    out = probes_out / "critic_init" / pi_0 / init_id
    if args.summary:
        summary(out, probes_out / "adaptive_mc" / pi_0)
        return
    labels = probes_out / "adaptive_mc" / pi_0 / f"seed{args.seed}-N8-stop0"
    reference_path = probes_out / "adaptive_mc" / pi_0 / f"seed{args.seed}-reference.parquet"
    if not (labels / "val.jsonl").is_file() or not reference_path.is_file():
        raise SystemExit(f"error: {labels} is not finished: run probes/adaptive_mc.py --N 8 --early-stop 0 "
                         f"--seed {args.seed} first")
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    rl = root / "data/rl.jsonl"
    run = out / f"seed{args.seed}"
    run.mkdir(parents=True, exist_ok=True)
    common = ["--params", args.params, "--seed", str(args.seed), "--iteration", "1"]
    states_path, completions_path = labels / "complete/states.parquet", labels / "complete/completions.parquet"
    stage("critic", run, *common, "--init", str(init), "--data", str(rl), "--states", str(states_path))
    stage("advantages", run, *common, "--critic", str(run / "critic/model"), "--reference", str(policy),
          "--data", str(rl), "--states", str(states_path), "--completions", str(completions_path),
          "--value-source", "critic")
    stage("actor", run, *common, "--policy", str(policy), "--advantages", str(run / "advantages/advantages.parquet"))

    problems = {p["id"]: p for p in read_jsonl(rl)}
    states = read_parquet(states_path)
    candidates = candidate_actions(read_parquet(completions_path), states, task, problems)
    exact = exact_advantages(states, candidates, task, problems)
    held = critic_held_out(states, params["critic"]["val_fraction"], args.seed)
    reference = pd.read_parquet(reference_path).set_index("state_id")["mc_value"]
    depth = exact.drop_duplicates("state_id").set_index("state_id")["depth"]
    groups = {"first_step": set(depth[depth == 0].index), "later_steps": set(depth[depth > 0].index)}
    row = {"pi_0": pi_0, "init": str(init), "init_id": init_id, "seed": args.seed}
    for name, critic_dir, kept_path in (("init", run / "critic/model", run / "advantages/advantages.parquet"),
                                        ("pi_0", labels / "critic/model", labels / "advantages/advantages.parquet")):
        kept = read_parquet(kept_path)
        row.update({f"{name}_critic_mae_vs_ref": critic_reference_mae(critic_dir, reference, states, task, problems),
                    **{f"{name}_{k}": v for k, v in seen_unseen(critic_dir, states, exact, task, problems,
                                                                 held).items()}})
        for group, ids in groups.items():
            figures, _ = report(kept[kept["state_id"].isin(ids)], exact[exact["state_id"].isin(ids)],
                                params["advantages"]["min_gap"])
            row.update({f"{name}_{group}_{k}": figures[k] for k in ("kept_states", "kept_decisions",
                                                                   "favourite_is_best", "most_sampled_is_best")})
    val = read_jsonl(root / "data/val.jsonl")
    records = cached_val(run / "val.jsonl", run / "actor/model", task, val, args.samples)
    base = [json.loads(line) for line in (labels.parent / "base_val.jsonl").read_text().splitlines()]
    pi_0_critic = [json.loads(line) for line in (labels / "val.jsonl").read_text().splitlines()]
    (row["greedy_vs_pi_0"], row["sampled_vs_pi_0"]) = paired_deltas(records, base, args.samples)
    (row["greedy_vs_pi_0_critic"], row["sampled_vs_pi_0_critic"]) = paired_deltas(records, pi_0_critic, args.samples)
    row.update({"val_greedy": float(np.mean([r["correct"] for r in records])),
                "pi_0_critic_val_greedy": float(np.mean([r["correct"] for r in pi_0_critic])),
                **{f"{st}_seconds": json.loads((run / st / "metrics.json").read_text())[f"{st}/job_seconds"]
                   for st in ("critic", "advantages", "actor")}})
    show(row)
    append_record("critic_init", row)


if __name__ == "__main__":
    main()

"""Probe: adaptive MC labelling (complete.early_stop) against the paper's fixed N, on val.

For one labelling setting (complete.N, complete.early_stop) runs iteration 1 of one chain of the
default build through the workflow's own stages, each with `--set`: complete, critic, advantages,
actor. It then reports:
- completions spent;
- label MAE and critic MAE on the critic's held-out states, both against a reference labelling
  of those states with 32 completions each (the same reference for every setting);
- the actor's val greedy and sampled accuracy against pi_0, with the paired 95 % bootstrap CI;
- with --plot, each setting's val difference from fixed N = 8, paired over problems and seeds.

    snakemake --cores 2 results/generate/seed0/iter1/responses.parquet
    python probes/adaptive_mc.py --N 8 --early-stop 0     # the paper's fixed N (the default)
    python probes/adaptive_mc.py --N 8 --early-stop 2     # stop where the first 2 agree
    python probes/adaptive_mc.py --N 4 --early-stop 0     # fixed N at a budget like the adaptive one
    python probes/adaptive_mc.py --N 8 --early-stop 2 --seed 1   # another chain (its generate stage runs here)
    python probes/adaptive_mc.py --plot   # probes/results/adaptive_mc.png; each setting against N = 8, paired
                                          # (the records and outputs of the pi_0 in --root)

Stage outputs go to probes/out/adaptive_mc/<pi_0>/<setting>/, <pi_0> naming the base checkpoint by
its weights' hash, so each stage runs once per base policy and setting. One json line per setting is appended to
probes/results/adaptive_mc.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _records import append_record, paired_deltas
from critic_errors import critic_held_out

from dapo.critic import predict_values
from dapo.evaluation import evaluate
from dapo.generation import HFGenerator, Sampling
from dapo.io import read_jsonl, read_parquet
from dapo.labelling import enumerate_states, label_states
from dapo.models import load_critic, load_policy
from dapo.params import load_params
from dapo.stats import paired_bootstrap_ci
from dapo.tasks import get_task

REFERENCE_N = 32


def stage(name: str, out: Path, *args: str) -> None:
    """Run one workflow stage as the workflow does, on one thread, into out/<name> (kept from an
    earlier run of the probe when its metrics are there)."""
    if (out / name / "metrics.json").is_file():
        return
    args = (*args, "--out", str(out / name))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", f"dapo.stages.{name}", *args]
    result = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")


def checkpoint_id(model_dir: Path) -> str:
    """The first 12 hex digits of the checkpoint's weights file hash: which pi_0 a record is of."""
    return hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()[:12]


def cached_val(path: Path, model_dir: Path, task, val, samples: int) -> list[dict]:
    """Val records of a checkpoint (greedy and `samples` T = 1 samples), computed once."""
    if path.is_file():
        return [json.loads(line) for line in path.read_text().splitlines()]
    model, tok = load_policy(model_dir)
    records, _ = evaluate(HFGenerator(model, tok, 500, progress=False), task, val, 128, samples)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def critic_reference_mae(critic_dir: Path, reference: pd.Series, states: pd.DataFrame, task,
                         problems: dict[str, dict]) -> float:
    """The critic's mean absolute error against the reference labels (indexed by state_id) of its
    held-out states."""
    held = states.set_index("state_id").loc[reference.index]
    model, tok = load_critic(critic_dir)
    texts = [task.policy_prompt(problems[p], tok) + x for p, x in zip(held["prompt_id"], held["prefix"])]
    return float(np.mean(np.abs(predict_values(model, tok, texts, 256) - reference.to_numpy())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--N", type=int)
    ap.add_argument("--early-stop", type=int)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--plot", action="store_true", help="draw the recorded settings instead of running one")
    args = ap.parse_args()
    if args.plot:
        plot(Path(__file__).parent / "results")
        compare(Path(__file__).parent / "out" / "adaptive_mc" / checkpoint_id(Path(args.root) / "sft/model"))
        return
    if args.N is None or args.early_stop is None:
        ap.error("--N and --early-stop are required to run a setting")
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    root, chain = Path(args.root), ["--seed", str(args.seed), "--iteration", "1"]
    rl, policy = root / "data/rl.jsonl", root / "sft/model"
    # stage outputs are cached per pi_0, so a rebuilt base policy starts afresh
    pi_0 = checkpoint_id(policy)
    base_dir = Path(__file__).parent / "out" / "adaptive_mc" / pi_0
    out = base_dir / f"seed{args.seed}-N{args.N}-stop{args.early_stop}"
    out.mkdir(parents=True, exist_ok=True)
    responses = root / f"generate/seed{args.seed}/iter1/responses.parquet"
    if not responses.is_file():  # another seed's chain: its generate stage, run here as the workflow would
        stage("generate", base_dir / f"seed{args.seed}", "--params", args.params, *chain, "--policy",
              str(root / "sft/model"), "--data", str(root / "data/rl.jsonl"))
        responses = base_dir / f"seed{args.seed}" / "generate/responses.parquet"
    sets = ["--set", f"complete.N={args.N}", "--set", f"complete.early_stop={args.early_stop}"]
    common = ["--params", args.params, *sets, *chain]
    start = time.time()
    stage("complete", out, *common, "--policy", str(policy), "--data", str(rl), "--responses", str(responses))
    stage("critic", out, *common, "--init", str(policy), "--data", str(rl), "--states", str(out / "complete/states.parquet"))
    stage("advantages", out, *common, "--critic", str(out / "critic/model"), "--reference", str(policy), "--data", str(rl),
          "--states", str(out / "complete/states.parquet"), "--completions", str(out / "complete/completions.parquet"),
          "--value-source", "critic")
    stage("actor", out, *common, "--policy", str(policy), "--advantages", str(out / "advantages/advantages.parquet"))
    pipeline_seconds = time.time() - start  # of the stages this invocation ran

    # the reference: the held-out states of the critic's split, 32 completions each, labelled once
    problems = {p["id"]: p for p in read_jsonl(rl)}
    states = enumerate_states(read_parquet(responses), task)
    held = critic_held_out(states, params["critic"]["val_fraction"], args.seed)
    ref_path = base_dir / f"seed{args.seed}-reference.parquet"
    if not ref_path.is_file():
        model, tok = load_policy(policy)
        hp = params["complete"]
        _, ref, _ = label_states(HFGenerator(model, tok, hp["batch_size"], progress=False), task, problems,
                                 states[held].reset_index(drop=True),
                                 Sampling(n=REFERENCE_N, temperature=hp["temperature"], top_p=hp["top_p"],
                                          max_new_tokens=hp["max_new_tokens"], seed=424242))
        ref.to_parquet(ref_path)
    ref = pd.read_parquet(ref_path).set_index("state_id")["mc_value"]
    labelled = read_parquet(out / "complete/states.parquet")
    label_mae = float(np.mean(np.abs(labelled.set_index("state_id").loc[ref.index, "mc_value"].to_numpy()
                                     - ref.to_numpy())))
    critic_mae = critic_reference_mae(out / "critic/model", ref, labelled, task, problems)

    val = read_jsonl(root / "data/val.jsonl")
    base_records = cached_val(base_dir / "base_val.jsonl", policy, task, val, args.samples)
    records = cached_val(out / "val.jsonl", out / "actor/model", task, val, args.samples)
    gd, sd = paired_deltas(records, base_records, args.samples)
    complete = json.loads((out / "complete/metrics.json").read_text())
    critic_metrics = json.loads((out / "critic/metrics.json").read_text())
    row = {"pi_0": pi_0, "seed": args.seed, "N": args.N, "early_stop": args.early_stop,
           "completions": complete["complete/completions"], "states": complete["complete/states"],
           "stopped_early": complete["complete/stopped_early"],
           "complete_seconds": complete["complete/seconds"], "label_mae_vs_ref": label_mae,
           "critic_mae_vs_ref": critic_mae, "critic_val_bce_own_labels": critic_metrics["critic/val_bce"],
           "reference_n": REFERENCE_N, "held_out_states": len(ref),
           "val_greedy": float(np.mean([r["correct"] for r in records])), "greedy_delta_ci": gd,
           "sampled_delta_ci": sd, "pipeline_seconds": pipeline_seconds}
    print(json.dumps(row), flush=True)
    append_record("adaptive_mc", row)


def compare(base_dir: Path) -> None:
    """Each setting against fixed N = 8 on val greedy, paired over problems and over the seeds both
    were run with (`dapo.stats.paired_bootstrap_ci`)."""
    runs = {}
    for d in sorted(base_dir.glob("seed*-N*-stop*")):
        if (d / "val.jsonl").is_file():
            seed, n, stop = d.name.split("-")
            runs.setdefault((int(n[1:]), int(stop[4:])), {})[int(seed[4:])] = [
                json.loads(line)["correct"] for line in (d / "val.jsonl").read_text().splitlines()]
    fixed = runs.get((8, 0), {})
    for (n, stop), by_seed in sorted(runs.items()):
        seeds = sorted(set(by_seed) & set(fixed))
        if (n, stop) == (8, 0) or not seeds:
            continue
        diff = np.array([np.array(by_seed[s], dtype=float) - np.array(fixed[s], dtype=float) for s in seeds])
        mean, lo, hi = paired_bootstrap_ci(diff)
        print(f"N={n} early_stop={stop} - fixed N=8 on val greedy, seeds {seeds}: "
              f"{100 * mean:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]")


def plot(results: Path) -> None:
    """Label MAE and critic MAE against the reference, and val greedy accuracy, against the
    completions spent per state: one large point per setting (the mean over the seeds it was run
    with, the latest record of each), each seed a small one; the records of the latest pi_0 only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in (results / "adaptive_mc.jsonl").read_text().splitlines()]
    # the records of the pi_0 recorded last (records from before the pi_0 key are of an earlier one)
    latest = records[-1].get("pi_0")
    rows = {(r["N"], r["early_stop"], r["seed"]): r for r in records if r.get("pi_0") == latest}
    settings = sorted({(n, stop) for n, stop, _ in rows})
    panels = [("label_mae_vs_ref", f"MC label MAE vs the {REFERENCE_N}-sample reference", 1),
              ("critic_mae_vs_ref", f"critic MAE vs the {REFERENCE_N}-sample reference", 1),
              ("val_greedy", "DAPO actor, val greedy accuracy (%)", 100)]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for n, stop in settings:
        seeds = [r for (rn, rs, _), r in rows.items() if (rn, rs) == (n, stop)]
        adaptive = 0 < stop < n
        color, marker = ("tab:orange", "o") if adaptive else ("tab:blue", "s")
        label = (f"N={n}, stop at {stop}" if adaptive else f"N={n}") + f" ({len(seeds)} seed{'s' * (len(seeds) > 1)})"
        x = [r["completions"] / r["states"] for r in seeds]
        for ax, (key, _, scale) in zip(axes, panels):
            y = [scale * r[key] for r in seeds]
            ax.scatter(x, y, s=12, color=color, marker=marker, alpha=0.4)
            ax.scatter([np.mean(x)], [np.mean(y)], s=60, color=color, marker=marker)
            ax.annotate(label, (np.mean(x), np.mean(y)), fontsize=7, xytext=(4, 4), textcoords="offset points")
    for ax, (_, name, _) in zip(axes, panels):
        ax.set(xlabel="completions per state (log)", ylabel=name, xscale="log")
        ax.set_xticks([2, 3, 4, 6, 8], labels=["2", "3", "4", "6", "8"])
    fig.suptitle("Adaptive MC (orange) against fixed N (blue); iteration 1 of the default; "
                 "held-out states of the critic's split, val split")
    fig.tight_layout()
    fig.savefig(results / "adaptive_mc.png", dpi=120)
    print(f"wrote {results / 'adaptive_mc.png'}")


if __name__ == "__main__":
    main()

"""paper: the analogues of the paper's ablation tables, each beside the paper's claim with a verdict.

From the evaluation files of the ablated models (workflow/rules/paper.smk) writes, into --out-dir:
iterations.csv (Table 4: DAPO iterations 1..k), beta.csv (Table 5: actor.beta), completions.csv
(Table 6: MC completions per state N), pairs.csv (the actor trained on a share of its states, with
the (state, action) pairs that share holds) and paper.md; and four figures of iteration 1: the
critic's reliability diagram on its held-out states (--reliability), the histogram of the kept
actions' advantages, the critic's beside the exact values' when there is an oracle row
(--advantage-figure), seed 0's critic along the base policy's greedy solutions of the in-domain
benchmark, beside the exact step values (--value-figure, Figure 2), and accuracy against trained
pairs (--pairs-figure, Figure 3). Every row is a model's greedy and sampled
accuracy with its paired difference from the base (as in main.csv); the verdicts compare the rows
the claim is about with each other, on the first (in-domain) benchmark, paired over problems and
matched seeds: `holds` when the 95 % CI lies above 0, `reversed` below, else `not resolved`.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pandas as pd

from ..actor import state_subset
from ..critic import predict_values, value_traces
from ..io import atomic_path, read_json, read_jsonl, read_parquet
from ..models import load_critic
from ..tables import (
    ablation_table,
    comparison_line,
    load_records,
    load_summaries,
    plot_advantages,
    plot_pairs,
    plot_reliability,
    plot_value_traces,
    to_markdown,
)
from ..tasks import get_task
from ..tracking import StageRun
from . import _cli


def _rows(specs: list[str]) -> list[tuple[str, str]]:
    """'setting:model' arguments as (setting, model) pairs."""
    rows = [tuple(s.split(":", 1)) for s in specs]
    if not rows or any(len(r) != 2 or not all(r) for r in rows):
        raise _cli.InputError(f"paper: expected setting:model rows, got {specs}")
    return rows


def section(title: str, claim: str, table_md: str, comparisons: list[tuple[str, str]], note: str) -> str:
    lines = [f"## {title}", "", f"**Paper's claim.** {claim}", "", table_md, "**Here.**"]
    lines += [f"- {line}: **{v}**" for line, v in comparisons]
    return "\n".join(lines + ["", note, ""])


def main(args, params):
    benchmarks = list(params["data"]["benchmarks"])
    bench = benchmarks[0]
    records = load_records([s.rsplit(".", 1)[0] + ".jsonl" for s in args.summaries])
    df = load_summaries(args.summaries)
    out = Path(args.out_dir)
    specs = {"iterations": ("iteration", _rows(args.iterations)), "beta": ("beta", _rows(args.beta)),
             "completions": ("N", _rows(args.completions)), "pairs": ("state_fraction", _rows(args.fractions))}
    advantages = [read_parquet(p, required=("state_id", "advantage", "count")) for p in args.advantages]
    tables = {}
    for name, (key, rows) in specs.items():
        tables[name] = ablation_table(df, records, benchmarks, key, rows)
        if name == "pairs":  # the pairs each share of iteration 1's states holds, mean over seeds
            tables[name].insert(2, "pairs", [None] + [sum(state_subset(a["state_id"], float(f)).sum() for a in advantages)
                                                      / len(advantages) for f, _ in rows])
        with atomic_path(out / f"{name}.csv") as tmp:
            tables[name].to_csv(tmp, index=False)

    def md(name):
        key, t = specs[name][0], tables[name]
        pairs = t["pairs"] if "pairs" in t else [None] * len(t)
        return to_markdown(t.assign(model=[(f"{m} ({key} {s}" + (f", {p:,.0f} pairs" if p else "") + ")") if s else m
                                           for m, s, p in zip(t["model"], t[key], pairs)]), benchmarks)

    iters = specs["iterations"][1]
    betas, default_beta = specs["beta"][1], f"{params['actor']['beta']:g}"
    ns, default_n = specs["completions"][1], str(params["complete"]["N"])
    main_row = dict(betas)[default_beta]
    parts = [f"# The paper's ablations on experiment `{params['experiment']}`", "",
             ("Accuracies in percent; Δ is the paired difference from the base with its 95 % bootstrap CI "
              "over problems and seeds. Each verdict compares two rows on the in-domain benchmark "
              f"(`{bench}`, greedy): holds (CI above 0), reversed (CI below 0) or not resolved (CI includes 0)."),
             ""]
    parts.append(section(
        "Iterations (paper Table 4)",
        "iterating DAPO (pi_i samples, is labelled and is the reference of iteration i+1) improves the "
        "policy further.", md("iterations"),
        [comparison_line(records, df, b, a, bench) for (_, a), (_, b) in pairwise(iters)],
        "Each iteration reuses the same training prompts (the rl split)."))
    parts.append(section(
        "KL coefficient beta (paper Table 5)",
        "the paper trains with beta = 0.01 and ablates it from 0.002 to 0.1; the result depends on beta "
        f"(this experiment trains with beta = {default_beta}).", md("beta"),
        [comparison_line(records, df, m, main_row, bench) for b, m in betas if b != default_beta],
        "Every beta retrains iteration 1's actor on the same advantages (labels, critic and reference "
        "log-probs are shared), so the rows differ in beta alone."))
    largest, *_ = sorted(ns, key=lambda r: -float(r[0]))
    parts.append(section(
        "MC completions per state N (paper Table 6)",
        "more completions per state (N = 16 against 8) give better MC labels and a better policy "
        f"(this experiment labels with N = {default_n}).", md("completions"),
        [comparison_line(records, df, largest[1], m, bench) for n, m in ns if m != largest[1]],
        "Every N relabels iteration 1's states and rebuilds its critic, advantages and actor; the sampled "
        "responses (generate) are shared."))
    fractions = sorted(specs["pairs"][1], key=lambda r: float(r[0]))
    parts.append(section(
        "Trained state-action pairs (paper Figure 3)",
        "accuracy grows with the number of state-action pairs the actor trains on.", md("pairs"),
        [comparison_line(records, df, b, a, bench) for (_, a), (_, b) in pairwise(fractions)],
        "Every share retrains iteration 1's actor on a nested subset of its states (all actions of each), "
        "from the same advantages; `pairs` is the mean over seeds. Figure: "
        f"`{Path(args.pairs_figure).name}`."))
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.trace_data, required=("id", "prompt", "answer", "entry"))}
    critic, tok = load_critic(args.critic_model)
    traces = value_traces(task, problems, read_jsonl(args.trace_records, required=("id", "response", "correct")),
                          lambda texts: predict_values(critic, tok, texts, 256))
    first = traces[traces["depth"] == 0]
    last = traces[traces["depth"] == traces["steps"] - 1].groupby("correct")[["critic", "exact"]].mean()
    parts += ["## The critic along whole solutions (paper Figure 2)", "",
              (f"Seed 0's iteration-1 critic on the states of the base policy's {traces['id'].nunique()} greedy "
               f"solutions of `{Path(args.trace_data).stem}` (`{Path(args.value_figure).name}`, {len(traces)} states): "
               f"mean V {first['critic'].mean():.2f} at the prompt; before the last step, mean V "
               f"{last['critic'].get(True, float('nan')):.2f} on the correct solutions and "
               f"{last['critic'].get(False, float('nan')):.2f} on the wrong ones, where the exact value V* (1 while "
               f"the answer can still be reached) is {last['exact'].get(True, float('nan')):.2f} and "
               f"{last['exact'].get(False, float('nan')):.2f}. V is the policy's chance of ending correct, so it can "
               "stay low where V* is 1."), ""]
    with atomic_path(out / "paper.md") as tmp:
        tmp.write_text("\n".join(parts))
    calibrations = {f"seed {k}": read_json(p)["critic/val_calibration"] for k, p in enumerate(args.critics)}
    with atomic_path(args.reliability) as tmp:
        plot_reliability(calibrations, tmp)
    sources = {"critic": args.advantages, "exact values": args.oracle_advantages}
    frames = {label: pd.concat([read_parquet(p, required=("advantage", "count")) for p in paths])
              for label, paths in sources.items() if paths}
    with atomic_path(args.advantage_figure) as tmp:
        plot_advantages(frames, tmp)
    with atomic_path(args.value_figure) as tmp:
        plot_value_traces(traces, tmp)
    with atomic_path(args.pairs_figure) as tmp:
        plot_pairs(tables["pairs"], bench, tmp)
    print((out / "paper.md").read_text())
    run = StageRun("paper", params)
    run.flush(artifacts=[out / f"{name}.csv" for name in specs] + [out / "paper.md", args.reliability,
                                                                    args.advantage_figure, args.value_figure,
                                                                    args.pairs_figure])


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--summaries", nargs="+", required=True,
                   help="<model>/<benchmark>.json of every model in the rows (the .jsonl beside each is read too)")
    p.add_argument("--iterations", nargs="+", required=True, help="iteration:model rows, e.g. 1:dapo-iter1")
    p.add_argument("--beta", nargs="+", required=True, help="beta:model rows, e.g. 0.01:dapo-beta0.01")
    p.add_argument("--completions", nargs="+", required=True, help="N:model rows, e.g. 16:dapo-n16")
    p.add_argument("--fractions", nargs="+", required=True, help="state_fraction:model rows, e.g. 0.5:dapo-frac0.5")
    p.add_argument("--critics", nargs="+", required=True, help="metrics.json of iteration 1's critic, per seed")
    p.add_argument("--advantages", nargs="+", required=True, help="advantages.parquet of iteration 1, per seed")
    p.add_argument("--oracle-advantages", nargs="*", default=[], help="the same with exact values (oracle row)")
    p.add_argument("--out-dir", required=True,
                   help="folder of iterations.csv, beta.csv, completions.csv, pairs.csv, paper.md")
    p.add_argument("--reliability", required=True, help="reliability diagram png to write")
    p.add_argument("--advantage-figure", required=True, help="advantage histogram png to write")
    p.add_argument("--critic-model", required=True, help="seed 0's iteration-1 critic checkpoint (Figure 2)")
    p.add_argument("--trace-data", required=True, help="the in-domain benchmark's problems (jsonl)")
    p.add_argument("--trace-records", required=True, help="the base policy's evaluation records on it (jsonl)")
    p.add_argument("--value-figure", required=True, help="png to write: the critic along whole solutions")
    p.add_argument("--pairs-figure", required=True, help="png to write: accuracy against trained pairs")
    _cli.run(main, p)

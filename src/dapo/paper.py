"""The paper target's report: its ablation tables, each beside the paper's claim with verdicts
(paper.md), and the numbers its figures show.

A verdict compares two rows on the in-domain benchmark, greedy, paired over problems and matched
seeds (`tables.comparison_line`): `holds` when the 95 % CI lies above 0, `reversed` below, else
`not resolved`.
"""

from __future__ import annotations

from itertools import pairwise

import pandas as pd

from .actor import state_subset
from .tables import ablation_table, comparison_line, to_markdown

# (table name, setting column) of every ablation, in paper.md's order
ABLATIONS = (("iterations", "iteration"), ("beta", "beta"), ("completions", "N"), ("pairs", "state_fraction"))


def ablation_tables(df: pd.DataFrame, records: dict, benchmarks: list[str], rows: dict[str, list[tuple[str, str]]],
                    advantages: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every ablation table (`tables.ablation_table`) from its (setting, model) rows; the pairs
    table also gets `pairs`, the (state, action) pairs each share of iteration 1's advantage
    dataset holds (`actor.state_subset`), mean over the seeds' `advantages`."""
    out = {}
    for name, key in ABLATIONS:
        out[name] = ablation_table(df, records, benchmarks, key, rows[name])
    out["pairs"].insert(2, "pairs", [None] + [sum(int(state_subset(a["state_id"], float(f)).sum()) for a in advantages)
                                              / len(advantages) for f, _ in rows["pairs"]])
    return out


def section(title: str, claim: str, table_md: str, comparisons: list[tuple[str, str]], note: str) -> str:
    lines = [f"## {title}", "", f"**Paper's claim.** {claim}", "", table_md, "**Here.**"]
    lines += [f"- {line}: **{v}**" for line, v in comparisons]
    return "\n".join(lines + ["", note, ""])


def value_trace_note(traces: pd.DataFrame, data_name: str, figure_name: str) -> str:
    """What the Figure 2 analogue shows (`critic.value_traces` of the base's greedy solutions), in numbers."""
    first = traces[traces["depth"] == 0]
    last = traces[traces["depth"] == traces["steps"] - 1].groupby("correct")[["critic", "exact"]].mean()
    nan = float("nan")
    return (f"Seed 0's iteration-1 critic on the states of the base policy's {traces['id'].nunique()} greedy "
            f"solutions of `{data_name}` (`{figure_name}`, {len(traces)} states): mean V {first['critic'].mean():.2f} "
            f"at the prompt; before the last step, mean V {last['critic'].get(True, nan):.2f} on the correct "
            f"solutions and {last['critic'].get(False, nan):.2f} on the wrong ones, where the exact value V* (1 while "
            f"the answer can still be reached) is {last['exact'].get(True, nan):.2f} and {last['exact'].get(False, nan):.2f}. "
            "V is the policy's chance of ending correct, so it can stay low where V* is 1.")


def paper_markdown(experiment: str, tables: dict[str, pd.DataFrame], rows: dict[str, list[tuple[str, str]]],
                   records: dict, df: pd.DataFrame, benchmarks: list[str], own: dict[str, str],
                   value_note: str, pairs_figure: str) -> str:
    """paper.md: each ablation table beside the paper's claim, with its verdicts, then the critic
    along whole solutions. `own`: the experiment's own beta and N (its main row's settings)."""
    bench = benchmarks[0]
    keys = dict(ABLATIONS)

    def md(name):
        t = tables[name]
        pairs = t["pairs"] if "pairs" in t else [None] * len(t)
        return to_markdown(t.assign(model=[(f"{m} ({keys[name]} {s}" + (f", {p:,.0f} pairs" if p else "") + ")")
                                           if s else m for m, s, p in zip(t["model"], t[keys[name]], pairs)]),
                           benchmarks)

    betas, ns = rows["beta"], rows["completions"]
    main_row = dict(betas)[own["beta"]]
    largest = max(ns, key=lambda r: float(r[0]))[1]
    fractions = sorted(rows["pairs"], key=lambda r: float(r[0]))
    parts = [f"# The paper's ablations on experiment `{experiment}`", "",
             ("Accuracies in percent; Δ is the paired difference from the base with its 95 % bootstrap CI "
              "over problems and seeds. Each verdict compares two rows on the in-domain benchmark "
              f"(`{bench}`, greedy): holds (CI above 0), reversed (CI below 0) or not resolved (CI includes 0)."),
             "",
             section("Iterations (paper Table 4)",
                     "iterating DAPO (pi_i samples, is labelled and is the reference of iteration i+1) improves the "
                     "policy further.", md("iterations"),
                     [comparison_line(records, df, b, a, bench) for (_, a), (_, b) in pairwise(rows["iterations"])],
                     "Each iteration reuses the same training prompts (the rl split)."),
             section("KL coefficient beta (paper Table 5)",
                     "the paper trains with beta = 0.01 and ablates it from 0.002 to 0.1; the result depends on beta "
                     f"(this experiment trains with beta = {own['beta']}).", md("beta"),
                     [comparison_line(records, df, m, main_row, bench) for b, m in betas if b != own["beta"]],
                     "Every beta retrains iteration 1's actor on the same advantages (labels, critic and reference "
                     "log-probs are shared), so the rows differ in beta alone."),
             section("MC completions per state N (paper Table 6)",
                     "more completions per state (N = 16 against 8) give better MC labels and a better policy "
                     f"(this experiment labels with N = {own['N']}).", md("completions"),
                     [comparison_line(records, df, largest, m, bench) for _, m in ns if m != largest],
                     "Every N relabels iteration 1's states and rebuilds its critic, advantages and actor; the sampled "
                     "responses (generate) are shared."),
             section("Trained state-action pairs (paper Figure 3)",
                     "accuracy grows with the number of state-action pairs the actor trains on.", md("pairs"),
                     [comparison_line(records, df, b, a, bench) for (_, a), (_, b) in pairwise(fractions)],
                     "Every share retrains iteration 1's actor on a nested subset of its states (all actions of each), "
                     f"from the same advantages; `pairs` is the mean over seeds. Figure: `{pairs_figure}`."),
             "## The critic along whole solutions (paper Figure 2)", "", value_note, ""]
    return "\n".join(parts)

"""Paper-style tables and figures, built with pandas from the evaluation files on disk (never from
MLflow, so rebuilding a table is a pure function of tracked files).

Every model row carries, per benchmark, the greedy accuracy (mean and std over seeds), the
temperature-1 sampled accuracy, and its paired difference from the first row (the base policy)
with a 95 % bootstrap CI over problems and seeds, for both greedy and sampled accuracy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .io import read_jsonl
from .stats import paired_bootstrap_ci

_SEED = re.compile(r"^(?P<model>.+)-seed(?P<seed>\d+)$")


def _model_seed(name: str) -> tuple[str, int]:
    """A model name ending in `-seed<k>` is one seed of model `<name>`; other names have seed 0."""
    m = _SEED.match(name)
    return (m["model"], int(m["seed"])) if m else (name, 0)


def load_summaries(paths: list[str | Path]) -> pd.DataFrame:
    """One row per (model, seed, benchmark) from `<model>/<benchmark>.json` summaries."""
    rows = []
    for path in paths:
        summary = json.loads(Path(path).read_text())
        model, seed = _model_seed(summary["model"])
        sampled = summary.get("sampled_accuracy")
        rows.append({"model": model, "seed": seed, "benchmark": summary["benchmark"],
                     "accuracy": 100.0 * summary["accuracy"],
                     "sampled_accuracy": 100.0 * sampled if sampled is not None else np.nan,
                     "n": summary["n"], "samples": summary.get("samples", 0)})
    return pd.DataFrame(rows)


def load_records(paths: list[str | Path]) -> dict[tuple[str, int, str], pd.DataFrame]:
    """Per-problem scores from `<model>/<benchmark>.jsonl`: {(model, seed, benchmark): frame
    indexed by problem id with columns greedy (0/1) and sampled (fraction of samples right)}."""
    out = {}
    for path in paths:
        path = Path(path)
        model, seed = _model_seed(path.parent.name)
        records = read_jsonl(path, required=("id", "correct", "sampled_correct"))
        frame = pd.DataFrame({"greedy": [float(r["correct"]) for r in records],
                              "sampled_correct": [r["sampled_correct"] for r in records]},
                             index=[r["id"] for r in records])
        out[(model, seed, path.stem)] = frame
    return out


def paired_deltas(records: dict[tuple[str, int, str], pd.DataFrame], model: str, base: str,
                  benchmark: str, samples: dict[str, int]) -> dict[str, float]:
    """Difference of `model` from `base` on one benchmark, in points, with 95 % CIs: paired over
    problems (matched by id) and resampled over the model's seeds. Seed k of the model is paired
    with seed k of `base` where `base` has it (two methods on the same chain's samples), else with
    its one checkpoint (the base policy)."""
    seeds = [s for (m, s, b) in sorted(records) if m == model and b == benchmark]
    pairs = [(records[(model, s, benchmark)], records.get((base, s, benchmark), records[(base, 0, benchmark)]))
             for s in seeds]
    out = {}
    for col in ("greedy", "sampled"):
        k = samples.get(model, 0)
        if col == "sampled" and not (k and samples.get(base, 0)):
            out.update({f"{col}_delta": np.nan, f"{col}_lo": np.nan, f"{col}_hi": np.nan})
            continue
        score = (lambda f, m: f["greedy"]) if col == "greedy" else (lambda f, m: f["sampled_correct"] / samples[m])
        if any(set(f.index) != set(g.index) for f, g in pairs):
            raise ValueError(f"{model} on {benchmark}: problems differ from {base}'s; cannot pair them")
        diff = np.stack([(score(f, model).reindex(g.index) - score(g, base)).to_numpy() for f, g in pairs])
        mean, lo, hi = paired_bootstrap_ci(diff)
        out.update({f"{col}_delta": 100 * mean, f"{col}_lo": 100 * lo, f"{col}_hi": 100 * hi})
    return out


def main_table(df: pd.DataFrame, benchmarks: list[str], models: list[str],
               records: dict[tuple[str, int, str], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Rows = models (in the given order; the first is the baseline), columns per benchmark: mean
    greedy accuracy in percent, its std over seeds (0 for a single seed), the number of problems,
    the mean sampled accuracy, and (given per-problem records) the paired difference from the
    baseline with its CI: `<b>_delta`, `<b>_lo`, `<b>_hi` (greedy), `<b>_sampled_delta`, ... ."""
    grouped = df.groupby(["model", "benchmark"])
    mean = grouped["accuracy"].mean().unstack()
    std = grouped["accuracy"].std(ddof=0).unstack()
    sampled = grouped["sampled_accuracy"].mean().unstack()
    n = grouped["n"].first().unstack()
    seeds = df.groupby("model")["seed"].nunique()
    samples = df.groupby("model")["samples"].min().to_dict()
    table = pd.DataFrame({"model": models, "seeds": [int(seeds[m]) for m in models]})
    for b in benchmarks:
        table[b] = [round(float(mean.loc[m, b]), 2) for m in models]
        table[f"{b}_std"] = [round(float(std.loc[m, b]), 2) for m in models]
        table[f"{b}_n"] = [int(n.loc[m, b]) for m in models]
        table[f"{b}_sampled"] = [round(float(sampled.loc[m, b]), 2) for m in models]
        if records is not None:
            deltas = [paired_deltas(records, m, models[0], b, samples) if i else {}
                      for i, m in enumerate(models)]
            for key, col in (("greedy_delta", "delta"), ("greedy_lo", "lo"), ("greedy_hi", "hi"),
                             ("sampled_delta", "sampled_delta"), ("sampled_lo", "sampled_lo"),
                             ("sampled_hi", "sampled_hi")):
                table[f"{b}_{col}"] = [round(d[key], 2) if key in d and not np.isnan(d[key]) else np.nan
                                       for d in deltas]
    return table


def versus_table(df: pd.DataFrame, records: dict[tuple[str, int, str], pd.DataFrame], benchmarks: list[str],
                 pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """One row per (model, other) pair and benchmark: the paired difference model − other in points
    with its 95 % CI, greedy and sampled (see `paired_deltas`; seeds matched by index)."""
    samples = df.groupby("model")["samples"].min().to_dict()
    rows = [{"model": a, "versus": b, "benchmark": bench,
             **{k: round(v, 2) for k, v in paired_deltas(records, a, b, bench, samples).items()}}
            for a, b in pairs for bench in benchmarks]
    columns = ["model", "versus", "benchmark", "greedy_delta", "greedy_lo", "greedy_hi", "sampled_delta",
               "sampled_lo", "sampled_hi"]
    return pd.DataFrame(rows, columns=columns)


def versus_markdown(table: pd.DataFrame) -> str:
    lines = ["| model | versus | benchmark | Δ greedy [95% CI] | Δ sampled [95% CI] |", "|---|---|---|---|---|"]
    for _, r in table.iterrows():
        cells = [f"{r[f'{k}_delta']:+.1f} [{r[f'{k}_lo']:+.1f}, {r[f'{k}_hi']:+.1f}]"
                 if not pd.isna(r[f"{k}_delta"]) else "—" for k in ("greedy", "sampled")]
        lines.append(f"| {r['model']} | {r['versus']} | {r['benchmark']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


# Compute accounting: which metric of which stage counts as a sampled response; every stage's
# `<stage>/tokens_generated`, `<stage>/tokens_trained` and `<stage>/job_seconds` add up as they are.
SAMPLED = ("generate/responses_sampled", "complete/completions", "grpo/responses_sampled", "ppo/responses_sampled")
COST_COLUMNS = ("responses_sampled", "tokens_generated", "tokens_trained", "job_seconds")


def job_cost(metrics: dict[str, Any]) -> dict[str, float]:
    """One job's compute from its metrics.json: responses sampled, tokens generated, tokens trained
    on (passed forward and backward, summed over optimiser steps) and wall seconds."""
    out = dict.fromkeys(COST_COLUMNS, 0.0)
    for key, value in metrics.items():
        if key in SAMPLED:
            out["responses_sampled"] += value
        for col in COST_COLUMNS[1:]:
            if key.endswith(f"/{col}"):
                out[col] += value
    return out


def compute_table(costs: list[tuple[str, str, dict[str, Any]]], models: list[str]) -> pd.DataFrame:
    """What each row of the main table cost: per seed, the sum over the jobs that made its model
    (a DAPO iteration counts its own and every earlier iteration's, MC labelling included), then
    the mean over seeds, and the std of the wall time.

    costs: (model, seed, metrics of one job), one per job and seed; models: the row order.
    """
    per_seed: dict[tuple[str, str], dict[str, float]] = {}
    for model, seed, metrics in costs:
        total = per_seed.setdefault((model, seed), dict.fromkeys(COST_COLUMNS, 0.0))
        for k, v in job_cost(metrics).items():
            total[k] += v
    rows = []
    for model in models:
        seeds = pd.DataFrame([v for (m, _), v in sorted(per_seed.items()) if m == model])
        if seeds.empty:
            continue
        rows.append({"model": model, "seeds": len(seeds), **seeds.mean().to_dict(),
                     "job_seconds_std": float(seeds["job_seconds"].std(ddof=0))})
    return pd.DataFrame(rows, columns=["model", "seeds", *COST_COLUMNS, "job_seconds_std"])


def compute_markdown(table: pd.DataFrame) -> str:
    lines = ["| model | responses sampled | tokens generated | tokens trained on | job time (s) |",
             "|---|---|---|---|---|"]
    for _, r in table.iterrows():
        lines.append(f"| {r['model']} | {r['responses_sampled']:,.0f} | {r['tokens_generated']:,.0f} | "
                     f"{r['tokens_trained']:,.0f} | {r['job_seconds']:.0f} ± {r['job_seconds_std']:.0f} |")
    return "\n".join(lines) + "\n"


def table_metrics(table: pd.DataFrame, benchmarks: list[str]) -> dict[str, dict[str, float]]:
    """The table as DVC metrics: {model: {benchmark: mean %, benchmark_std: std over seeds, and,
    where present, benchmark_delta / _lo / _hi (paired difference from the base, 95 % CI)}}."""
    keys = ("", "_std", "_sampled", "_delta", "_lo", "_hi")
    return {row["model"]: {f"{b}{k}": float(row[f"{b}{k}"]) for b in benchmarks for k in keys
                           if f"{b}{k}" in row and not pd.isna(row[f"{b}{k}"])}
            for _, row in table.iterrows()}


def _delta_cell(row, b: str, prefix: str = "") -> str:
    d = row.get(f"{b}_{prefix}delta")
    if d is None or pd.isna(d):
        return "—"
    return f"{d:+.1f} [{row[f'{b}_{prefix}lo']:+.1f}, {row[f'{b}_{prefix}hi']:+.1f}]"


def to_markdown(table: pd.DataFrame, benchmarks: list[str]) -> str:
    """Per benchmark: greedy `mean ± std` (percent), the paired difference from the base with its
    95 % CI, and the sampled (T = 1) accuracy with its difference; n in the header."""
    header = ["model", "seeds"]
    for b in benchmarks:
        n = int(table[f"{b}_n"].iloc[0])
        header += [f"{b} greedy (n={n})", f"{b} Δ greedy [95% CI]", f"{b} sampled", f"{b} Δ sampled [95% CI]"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [row["model"], str(row["seeds"])]
        for b in benchmarks:
            cells.append(f"{row[b]:.1f} ± {row[f'{b}_std']:.1f}" if row["seeds"] > 1 else f"{row[b]:.1f}")
            cells.append(_delta_cell(row, b))
            cells.append("—" if pd.isna(row[f"{b}_sampled"]) else f"{row[f'{b}_sampled']:.1f}")
            cells.append(_delta_cell(row, b, "sampled_"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_main(table: pd.DataFrame, benchmarks: list[str], path: str | Path) -> None:
    """Left: greedy accuracy per benchmark, one bar per model (error bars = std over seeds).
    Right: each model's paired difference from the base with its 95 % CI."""
    plt = _pyplot()
    fig, (ax, dx) = plt.subplots(1, 2, figsize=(3.6 + 3.2 * len(benchmarks), 3.8))
    width = 0.8 / len(table)
    for i, (_, row) in enumerate(table.iterrows()):
        xs = [j + i * width for j in range(len(benchmarks))]
        ax.bar(xs, [row[b] for b in benchmarks], width, yerr=[row[f"{b}_std"] for b in benchmarks],
               label=row["model"], capsize=3)
        if i and f"{benchmarks[0]}_delta" in row:
            d = np.array([row[f"{b}_delta"] for b in benchmarks], dtype=float)
            err = np.array([[d[j] - row[f"{b}_lo"], row[f"{b}_hi"] - d[j]] for j, b in enumerate(benchmarks)]).T
            dx.errorbar(xs, d, yerr=err, fmt="o", capsize=4, color=f"C{i}", label=row["model"])
    ticks = [j + 0.4 - width / 2 for j in range(len(benchmarks))]
    ax.set_xticks(ticks, benchmarks)
    ax.set_ylabel("greedy accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("pass@1 per benchmark (first = in-domain)")
    dx.axhline(0, color="k", lw=0.8)
    dx.set_xticks(ticks, benchmarks)
    dx.set_ylabel(f"greedy accuracy − {table['model'].iloc[0]} (points)")
    dx.set_title("paired difference, 95 % bootstrap CI")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ablation_table(df: pd.DataFrame, records: dict[tuple[str, int, str], pd.DataFrame], benchmarks: list[str],
                   key: str, rows: list[tuple[str, str]]) -> pd.DataFrame:
    """One of the paper's ablation tables: `main_table` over the base and the models of `rows`
    ((setting, model) pairs, e.g. ("0.01", "dapo-beta0.01")), with the setting in column `key`
    (empty for the base) and each difference taken from the base."""
    table = main_table(df, benchmarks, ["base"] + [m for _, m in rows], records)
    table.insert(1, key, [""] + [s for s, _ in rows])
    return table


def verdict(delta: dict[str, float], col: str = "greedy") -> str:
    """`holds` when the paired 95 % CI of a difference lies above 0, `reversed` below 0, else
    `not resolved` (the CI includes 0)."""
    lo, hi = delta[f"{col}_lo"], delta[f"{col}_hi"]
    return "holds" if lo > 0 else "reversed" if hi < 0 else "not resolved"


def comparison_line(records: dict[tuple[str, int, str], pd.DataFrame], df: pd.DataFrame, model: str, other: str,
                    benchmark: str) -> tuple[str, str]:
    """`model − other` on `benchmark`, greedy, paired over problems and matched seeds, as a markdown
    line, and its verdict (the claim being that `model` is better)."""
    samples = df.groupby("model")["samples"].min().to_dict()
    d = paired_deltas(records, model, other, benchmark, samples)
    line = (f"{model} − {other} on {benchmark}: {d['greedy_delta']:+.1f} points "
            f"[{d['greedy_lo']:+.1f}, {d['greedy_hi']:+.1f}]")
    return line, verdict(d)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_reliability(calibrations: dict[str, list[dict[str, Any]]], path: str | Path) -> None:
    """The critic's reliability diagram: per bin of predicted value, the mean prediction against
    the mean MC label of the held-out states in it, one line per critic (`critic/val_calibration`
    of the critic stage: bins with `mean_pred`, `mean_mc`, `count`); marker area ∝ count."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="calibrated")
    for i, (label, bins) in enumerate(calibrations.items()):
        bins = [b for b in bins if b["count"]]
        ax.plot([b["mean_pred"] for b in bins], [b["mean_mc"] for b in bins], color=f"C{i}", lw=1, label=label)
        ax.scatter([b["mean_pred"] for b in bins], [b["mean_mc"] for b in bins], s=[8 + 2 * b["count"] for b in bins],
                   color=f"C{i}", alpha=0.6)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="critic V(s), bin mean", ylabel="MC value, bin mean",
           title="critic reliability (held-out states)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_advantages(advantages: dict[str, pd.DataFrame], path: str | Path) -> None:
    """Histogram of the kept actions' advantages, each action counted as often as it was sampled
    (`count`), one histogram per source (e.g. the critic's and the exact values')."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    bins = np.linspace(-1, 1, 41)
    for label, frame in advantages.items():
        ax.hist(frame["advantage"], bins=bins, weights=frame["count"], histtype="step", lw=1.5,
                label=f"{label} ({int(frame['count'].sum())} sampled actions)")
    ax.set(xlabel="advantage A(s, a)", ylabel="sampled actions", title="advantages of the kept states")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_value_traces(traces: pd.DataFrame, path: str | Path, min_responses: int = 20) -> None:
    """The critic along whole solutions (`critic.value_traces`), in two panels: (a) the first correct
    and the first wrong response of the records, step by step, the critic's V beside the exact value;
    (b) the mean V by step over every correct and every wrong response (steps with at least
    `min_responses` responses)."""
    plt = _pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.4, 3.4), sharey=True)
    for i, correct in enumerate((True, False)):
        label = "correct" if correct else "wrong"
        first = traces[traces["correct"] == correct]
        if first.empty:
            continue
        one = first[first["id"] == first["id"].iloc[0]]
        a.plot(one["depth"], one["critic"], marker="o", color=f"C{i}", label=f"{label}: critic V")
        if one["exact"].notna().any():
            a.plot(one["depth"], one["exact"], ls=":", marker="x", color=f"C{i}", label=f"{label}: exact V*")
        by = first.groupby("depth").agg(n=("critic", "size"), critic=("critic", "mean"), exact=("exact", "mean"))
        by = by[by["n"] >= min_responses]
        b.plot(by.index, by["critic"], marker="o", color=f"C{i}", label=f"{label} ({first['id'].nunique()}): critic V")
        if by["exact"].notna().any():
            b.plot(by.index, by["exact"], ls=":", marker="x", color=f"C{i}", label=f"{label}: exact V*")
    a.set(xlabel="step t (state = prompt + first t steps)", ylabel="value", ylim=(-0.05, 1.05),
          title="one correct and one wrong solution")
    b.set(xlabel="step t", title="mean over the responses")
    for ax in (a, b):
        ax.legend(fontsize=7)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_pairs(table: pd.DataFrame, benchmark: str, path: str | Path) -> None:
    """Accuracy against trained state-action pairs (the paper's Figure 3): one point per row of the
    data-size table (columns pairs, <benchmark>, <benchmark>_std; the base row has no pairs and
    is drawn as a line), error bars the std over seeds."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    points = table[table["pairs"].notna()].sort_values("pairs")
    ax.errorbar(points["pairs"], points[benchmark], yerr=points[f"{benchmark}_std"], marker="o", capsize=3,
                label="DAPO iteration 1")
    base = table[table["pairs"].isna()]
    if not base.empty:
        ax.axhline(base[benchmark].iloc[0], color="k", ls="--", lw=0.8, label="base")
    ax.set(xlabel="trained (state, action) pairs per seed", ylabel=f"{benchmark} greedy accuracy (%)",
           title="accuracy against training data")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

"""Paper-style tables and figures, built with pandas from the evaluation summaries on disk
(never from MLflow, so rebuilding a table is a pure function of tracked files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

_SEED = re.compile(r"^(?P<model>.+)-seed(?P<seed>\d+)$")


def load_summaries(paths: list[str | Path]) -> pd.DataFrame:
    """One row per (model, seed, benchmark) from `<model>/<benchmark>.json` summaries.

    A model name ending in `-seed<k>` is one seed of model `<name>`; other names have seed 0.
    """
    rows = []
    for path in paths:
        summary = json.loads(Path(path).read_text())
        m = _SEED.match(summary["model"])
        rows.append({"model": m["model"] if m else summary["model"],
                     "seed": int(m["seed"]) if m else 0,
                     "benchmark": summary["benchmark"],
                     "accuracy": 100.0 * summary["accuracy"], "n": summary["n"]})
    return pd.DataFrame(rows)


def main_table(df: pd.DataFrame, benchmarks: list[str], models: list[str]) -> pd.DataFrame:
    """Rows = models (in the given order), columns = per benchmark mean accuracy in percent, its
    standard deviation over seeds (0 for a single seed), and the number of problems."""
    grouped = df.groupby(["model", "benchmark"])
    mean = grouped["accuracy"].mean().unstack()
    std = grouped["accuracy"].std(ddof=0).unstack()
    n = grouped["n"].first().unstack()
    seeds = df.groupby("model")["seed"].nunique()
    table = pd.DataFrame({"model": models, "seeds": [int(seeds[m]) for m in models]})
    for b in benchmarks:
        table[b] = [round(float(mean.loc[m, b]), 2) for m in models]
        table[f"{b}_std"] = [round(float(std.loc[m, b]), 2) for m in models]
        table[f"{b}_n"] = [int(n.loc[m, b]) for m in models]
    return table


def table_metrics(table: pd.DataFrame, benchmarks: list[str]) -> dict[str, dict[str, float]]:
    """The table as DVC metrics: {model: {benchmark: mean %, benchmark_std: std over seeds}}."""
    return {row["model"]: {k: float(row[k]) for b in benchmarks for k in (b, f"{b}_std")}
            for _, row in table.iterrows()}


def to_markdown(table: pd.DataFrame, benchmarks: list[str]) -> str:
    """Cells `mean ± std` (percent), with n per benchmark in the header."""
    header = ["model", "seeds"] + [f"{b} (n={int(table[f'{b}_n'].iloc[0])})" for b in benchmarks]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [row["model"], str(row["seeds"])] + [
            f"{row[b]:.1f} ± {row[f'{b}_std']:.1f}" if row["seeds"] > 1 else f"{row[b]:.1f}"
            for b in benchmarks]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_main(table: pd.DataFrame, benchmarks: list[str], path: str | Path) -> None:
    """Grouped bars: accuracy per benchmark, one bar per model, error bars = std over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(benchmarks), 3.6))
    width = 0.8 / len(table)
    for i, (_, row) in enumerate(table.iterrows()):
        xs = [j + i * width for j in range(len(benchmarks))]
        ax.bar(xs, [row[b] for b in benchmarks], width, yerr=[row[f"{b}_std"] for b in benchmarks],
               label=row["model"], capsize=3)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(benchmarks))], benchmarks)
    ax.set_ylabel("greedy accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title("pass@1 per benchmark (first = in-domain)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

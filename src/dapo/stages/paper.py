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

from pathlib import Path

import pandas as pd

from ..critic import predict_values, value_traces
from ..io import atomic_path, read_json, read_jsonl, read_parquet
from ..models import inference_dtype, load_critic
from ..paper import ablation_tables, paper_markdown, value_trace_note
from ..tables import (
    load_records,
    load_summaries,
    plot_advantages,
    plot_pairs,
    plot_reliability,
    plot_value_traces,
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


def main(args, params):
    benchmarks = list(params["data"]["benchmarks"])
    records = load_records([s.rsplit(".", 1)[0] + ".jsonl" for s in args.summaries])
    df = load_summaries(args.summaries)
    out = Path(args.out_dir)
    rows = {"iterations": _rows(args.iterations), "beta": _rows(args.beta), "completions": _rows(args.completions),
            "pairs": _rows(args.fractions)}
    advantages = [read_parquet(p, required=("state_id", "advantage", "count")) for p in args.advantages]
    tables = ablation_tables(df, records, benchmarks, rows, advantages)
    for name, table in tables.items():
        with atomic_path(out / f"{name}.csv") as tmp:
            table.to_csv(tmp, index=False)
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.trace_data, required=("id", "prompt", "answer", "entry"))}
    critic, tok = load_critic(args.critic_model, dtype=inference_dtype())
    traces = value_traces(task, problems, read_jsonl(args.trace_records, required=("id", "response", "correct")),
                          lambda texts: predict_values(critic, tok, texts, 256), tok)
    own = {"beta": f"{params['actor']['beta']:g}", "N": str(params["complete"]["N"])}
    markdown = paper_markdown(params["experiment"], tables, rows, records, df, benchmarks, own,
                              value_trace_note(traces, Path(args.trace_data).stem, Path(args.value_figure).name),
                              Path(args.pairs_figure).name)
    with atomic_path(out / "paper.md") as tmp:
        tmp.write_text(markdown)
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
        plot_pairs(tables["pairs"], benchmarks[0], tmp)
    print(markdown)
    run = StageRun("paper", params)
    run.flush(artifacts=[out / f"{name}.csv" for name in tables] + [out / "paper.md", args.reliability,
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

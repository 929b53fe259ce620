"""tables: the main results table (paper Tables 1-2 style) and its figure, from evaluation files.

Writes --out (csv: one row per model, per benchmark greedy accuracy in percent, std over seeds, n,
sampled accuracy, and the paired difference from the base with its 95 % bootstrap CI over problems
and seeds), a markdown rendering next to it (.md), the same numbers as DVC metrics (--metrics,
json), a figure of accuracies and differences (--figure), and --versus-out (csv and .md): the
paired difference of each DAPO row from each baseline (--versus model:other ...), and
--compute-out (csv and .md): what each row cost, from the metrics of the jobs that made it
(--costs model:seed:metrics.json ...).
"""

from __future__ import annotations

from .. import tracking
from ..io import InputError, atomic_path, read_json, write_json
from ..tables import (
    compute_markdown,
    compute_table,
    load_records,
    load_summaries,
    main_table,
    plot_main,
    table_metrics,
    to_markdown,
    versus_markdown,
    versus_table,
)
from ..tracking import StageRun
from . import _cli


def main(args, params):
    benchmarks = list(params["data"]["benchmarks"])
    records = load_records([s.rsplit(".", 1)[0] + ".jsonl" for s in args.summaries])
    summaries = load_summaries(args.summaries)
    table = main_table(summaries, benchmarks, args.models, records)
    versus = versus_table(summaries, records, benchmarks, [tuple(v.split(":", 1)) for v in args.versus])
    with atomic_path(args.versus_out) as tmp:
        versus.to_csv(tmp, index=False)
    with atomic_path(args.versus_out.rsplit(".", 1)[0] + ".md") as tmp:
        tmp.write_text(versus_markdown(versus))
    specs = [spec.split(":", 2) for spec in args.costs]
    # a job counts towards several rows (iteration 1's towards iteration 2, generate's towards rft and dpo)
    metrics_of = {path: read_json(path) for path in dict.fromkeys(path for _, _, path in specs)}
    compute = compute_table([(model, seed, metrics_of[path]) for model, seed, path in specs], args.models)
    if args.costs and compute.empty:
        raise InputError("tables: --costs names none of the --models rows")
    with atomic_path(args.compute_out) as tmp:
        compute.to_csv(tmp, index=False)
    with atomic_path(args.compute_out.rsplit(".", 1)[0] + ".md") as tmp:
        tmp.write_text(compute_markdown(compute))
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False)
    md = args.out.rsplit(".", 1)[0] + ".md"
    with atomic_path(md) as tmp:
        tmp.write_text(to_markdown(table, benchmarks))
    metrics = table_metrics(table, benchmarks)
    write_json(args.metrics, metrics)
    with atomic_path(args.figure) as tmp:
        plot_main(table, benchmarks, tmp)
    print(to_markdown(table, benchmarks))
    run = StageRun("tables", params)
    run.log_metrics(tracking.flat_metrics(metrics))
    run.flush(artifacts=[args.out, md, args.metrics, args.figure, args.versus_out, args.compute_out])


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--summaries", nargs="+", required=True,
                   help="<model>/<benchmark>.json files (the per-problem .jsonl beside each is read too)")
    p.add_argument("--models", nargs="+", required=True, help="row order (model names without -seed<k>)")
    p.add_argument("--out", required=True, help="main table csv")
    p.add_argument("--metrics", required=True, help="accuracies json (DVC metrics)")
    p.add_argument("--figure", required=True, help="bar chart png")
    p.add_argument("--versus", nargs="*", default=[], help="model:other pairs to compare (a DAPO row:a baseline)")
    p.add_argument("--versus-out", required=True, help="csv of the pairs' paired differences (.md beside it)")
    p.add_argument("--costs", nargs="*", default=[],
                   help="model:seed:metrics.json of each job that made a row's model, for each seed")
    p.add_argument("--compute-out", required=True, help="csv of each row's compute (.md beside it)")
    _cli.run(main, p)

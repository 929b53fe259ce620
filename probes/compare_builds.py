"""Probe: the same rows of two builds of one experiment, paired over problems and seeds.

When a change of the workflow (a default, a rule) changes some rows of the main table, this reads
the evaluation records of both builds (no model is run) and gives, per row and benchmark, the
new build's greedy and sampled accuracy minus the old one's, seed k paired with seed k, with the
table's 95 % bootstrap CI (`dapo.tables.paired_deltas`). One json line per (row, benchmark) is
appended to probes/results/compare_builds.jsonl.

    python probes/compare_builds.py --old /path/to/old/results --new results --label critic_base
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _records import append_record

from dapo.tables import load_records, load_summaries, paired_deltas


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="results root of the earlier build")
    ap.add_argument("--new", required=True, help="results root of the later build")
    ap.add_argument("--label", required=True, help="what changed between them (stored with each record)")
    ap.add_argument("--rows", nargs="+", default=["dapo-iter1", "dapo-iter2"], help="main-table rows to compare")
    args = ap.parse_args()
    for row in args.rows:
        builds = {}
        for name, root in (("old", args.old), ("new", args.new)):
            paths = sorted(Path(root).glob(f"evaluate/{row}-seed*/*.jsonl"))
            if not paths:
                raise SystemExit(f"error: no evaluation records of {row} under {root}/evaluate")
            summaries = load_summaries([p.with_suffix(".json") for p in paths])
            builds[name] = (load_records(paths), summaries)
        records = {(f"{row}-{name}", seed, bench): frame
                   for name, (recs, _) in builds.items() for (_, seed, bench), frame in recs.items()}
        samples = {f"{row}-{name}": int(s["samples"].max()) for name, (_, s) in builds.items()}
        for bench in sorted({b for (_, _, b) in records}):
            d = paired_deltas(records, f"{row}-new", f"{row}-old", bench, samples)
            acc = {name: float(s.loc[s["benchmark"] == bench, "accuracy"].mean()) for name, (_, s) in builds.items()}
            print(f"{row} {bench}: {acc['old']:.1f} -> {acc['new']:.1f} %, greedy {d['greedy_delta']:+.1f} "
                  f"[{d['greedy_lo']:+.1f}, {d['greedy_hi']:+.1f}], sampled {d['sampled_delta']:+.1f} "
                  f"[{d['sampled_lo']:+.1f}, {d['sampled_hi']:+.1f}]")
            append_record("compare_builds", {"label": args.label, "row": row, "benchmark": bench,
                                             "old_greedy": acc["old"], "new_greedy": acc["new"],
                                             **{k: round(v, 2) for k, v in d.items()}})


if __name__ == "__main__":
    main()

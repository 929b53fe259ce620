"""data: deterministic, pairwise-disjoint problem splits of the task (training splits and benchmarks).

Writes one jsonl per split into --out. Problems come from the task's generator (reasoning-gym for
the embedded default); disjointness by prompt is asserted before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from ..data import make_splits
from ..io import write_jsonl
from ..tasks import get_task
from ..tracking import StageRun
from . import _cli


def main(args, params):
    splits = make_splits(get_task(params["data"]["task"]), params["data"])
    for name, problems in splits.items():
        write_jsonl(Path(args.out) / f"{name}.jsonl", problems)
        print(f"{name}: {len(problems)} problems")
    run = StageRun("data", params)
    run.log_metrics({f"data/{name}/size": len(p) for name, p in splits.items()})
    run.flush()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--out", required=True, help="output directory of <split>.jsonl files")
    _cli.run(main, p)

"""evaluate: zero-shot greedy pass@1 of one model on every benchmark (paper section 5), and the
accuracy of `evaluate.samples` temperature-1 samples per problem beside it.

For each benchmark writes <out>/<benchmark>.jsonl (one record per problem: prompt, response,
extracted answer, correct) and <out>/<benchmark>.json (accuracy, unparseable and truncated rates,
prompt template id).
"""

from __future__ import annotations

from pathlib import Path

from ..data import benchmark_task
from ..evaluation import evaluate
from ..generation import make_generator
from ..io import read_jsonl, write_json, write_jsonl
from ..tasks import get_task
from ..tracking import StageRun
from . import _cli


def main(args, params):
    task = get_task(params["data"]["task"])
    hp = params["evaluate"]
    # one engine for every benchmark: loading the model dominates small benchmarks
    generator = make_generator(hp["backend"], args.model, hp["batch_size"], "evaluate")
    run = StageRun("evaluate", params, **{**run_tags(args.tag), "model": args.name})
    out = Path(args.out)
    for bench in params["data"]["benchmarks"]:
        problems = read_jsonl(Path(args.data_dir) / f"{bench}.jsonl", required=("id", "prompt", "answer", "entry"))
        generator.desc = f"evaluate {bench}"
        records, summary = evaluate(generator, benchmark_task(task, params["data"]["benchmarks"][bench]), problems, hp["max_new_tokens"], hp["samples"])
        summary.update(model=args.name, benchmark=bench)
        write_jsonl(out / f"{bench}.jsonl", records)
        write_json(out / f"{bench}.json", summary)
        print(f"{args.name} on {bench}: accuracy {summary['accuracy']:.3f} (n={summary['n']}, "
              f"sampled {summary['sampled_accuracy']}, unparseable {summary['unparseable_rate']:.3f})")
        run.log_metrics({f"eval/{bench}/{k}": summary[k]
                         for k in ("accuracy", "sampled_accuracy", "unparseable_rate", "truncated_rate", "n")
                         if summary[k] is not None})
    run.flush(artifacts=[out / f"{b}.json" for b in params["data"]["benchmarks"]])


def run_tags(assignments: list[str]) -> dict[str, str]:
    """{key: value} of `--tag key=value` arguments."""
    bad = [a for a in assignments if "=" not in a or not a.split("=", 1)[0]]
    if bad:
        raise _cli.InputError(f"--tag {bad[0]!r}: expected key=value")
    return dict(a.split("=", 1) for a in assignments)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--model", required=True, help="checkpoint directory")
    p.add_argument("--name", required=True, help="model name in tables (e.g. base)")
    p.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="an MLflow tag of the run: the model's seed, iteration, ablations (workflow/rules/evaluate.smk)")
    p.add_argument("--data-dir", required=True, help="directory of <benchmark>.jsonl")
    p.add_argument("--out", required=True, help="output directory")
    _cli.run(main, p)

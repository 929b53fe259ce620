"""generate: pi_{i-1} samples n1 responses per training prompt; n are kept, as balanced between
correct and wrong as possible, graded by the task verifier (paper section 4, step 1).

Writes <out>/responses.parquet and <out>/metrics.json. Deviation: sizes are scaled down for the CPU
default (see params); prompts whose samples are unanimous are kept or dropped per
`generate.keep_unanimous` (the paper does not say).
"""

from __future__ import annotations

from pathlib import Path

from ..generation import Sampling, make_generator
from ..io import read_jsonl, write_parquet
from ..labelling import generate_responses
from ..tasks import get_task
from . import _chain, _cli


def main(args, params):
    hp = params["generate"]
    task = get_task(params["data"]["task"])
    problems = read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))
    seed = _chain.chain_seed(args, 1)
    sampling = Sampling(n=hp["n1"], temperature=hp["temperature"], top_p=hp["top_p"],
                        max_new_tokens=hp["max_new_tokens"], seed=seed)
    df, stats = generate_responses(make_generator(hp["backend"], args.policy, hp["batch_size"], "generate"), task,
                                   problems, sampling, hp["n"], hp["keep_unanimous"], seed)
    if df.empty:
        raise _cli.InputError("generate: no responses kept (every prompt unanimous and keep_unanimous is false)")
    out = Path(args.out)
    write_parquet(out / "responses.parquet", df)
    metrics = {f"generate/{k}": v for k, v in stats.items()}
    _chain.finish(_chain.start_run("generate", params, args), out, metrics)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_{i-1}")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--out", required=True, help="output directory")
    _cli.run(main, p)

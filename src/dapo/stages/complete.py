"""complete: MC labelling. From every step prefix of every kept response, pi_{i-1} samples N
completions; MC(s) is the fraction that end correct (paper section 4, step 2). With
complete.early_stop k > 0 (beyond the paper) a state whose first k completions agree stops there.

Identical states (same prompt, same prefix) are labelled once, and all states go through one
batched generation call. Writes <out>/states.parquet (state_id, prompt_id, prefix, depth, mc_value),
<out>/completions.parquet and <out>/metrics.json (including completions per second).
"""

from __future__ import annotations

from pathlib import Path

from ..generation import Sampling, make_generator
from ..io import read_jsonl, read_parquet, write_parquet
from ..labelling import enumerate_states, label_states
from ..tasks import get_task
from . import _chain, _cli


def main(args, params):
    hp = params["complete"]
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))}
    responses = read_parquet(args.responses, required=("prompt_id", "response"))
    states = enumerate_states(responses, task)
    sampling = Sampling(n=hp["N"], temperature=hp["temperature"], top_p=hp["top_p"],
                        max_new_tokens=hp["max_new_tokens"], seed=_chain.chain_seed(args, 2))
    stop = f", stopping at {hp['early_stop']} where they agree" if 0 < hp["early_stop"] < hp["N"] else ""
    print(f"complete: {len(states)} unique states from {len(responses)} responses, {hp['N']} completions each{stop}")
    completions, labelled, stats = label_states(make_generator(hp["backend"], args.policy, hp["batch_size"], "complete"),
                                                task, problems, states, sampling, hp["early_stop"])
    out = Path(args.out)
    write_parquet(out / "states.parquet", labelled)
    write_parquet(out / "completions.parquet", completions)
    metrics = {f"complete/{k}": v for k, v in stats.items()}
    _chain.finish(_chain.start_run("complete", params, args), out, metrics)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_{i-1}")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--responses", required=True, help="responses.parquet of the generate stage")
    p.add_argument("--out", required=True, help="output directory")
    _cli.run(main, p)

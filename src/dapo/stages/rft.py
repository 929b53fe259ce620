"""rft: the rejection-sampling fine-tuning baseline (outcome-level, offline, beyond the paper).

pi_0 is fine-tuned with the sft loop on the distinct correct responses among those the generate
stage kept for chain --seed in iteration 1 (the samples DAPO labels), with the rft section's
settings. With no correct response there is nothing to train on and pi_0 is written unchanged.
Writes <out>/model, <out>/metrics.json and the loss curve <out>/curve.csv.
"""

from __future__ import annotations

from pathlib import Path

from ..io import read_jsonl, read_parquet
from ..models import load_policy, save_checkpoint
from ..rft import rft_demonstrations
from ..sft import sft_example, train_sft
from ..tasks import get_task
from ..training import is_main_process
from . import _chain, _cli


def main(args, params):
    hp = params["rft"]
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))}
    responses = read_parquet(args.responses, required=("prompt_id", "response", "correct"))
    unknown = set(responses["prompt_id"]) - set(problems)
    if unknown:
        raise _cli.InputError(f"rft: {args.responses} has prompt ids not in {args.data}, e.g. {min(unknown)!r}")
    demos = rft_demonstrations(responses)
    model, tok = load_policy(args.policy)
    examples = [sft_example(task.render_prompt(problems[p]), r, tok) for p, r in zip(demos["prompt_id"], demos["response"])]
    run = _chain.start_run("rft", params, args)
    curve = _cli.Curve(run)
    print(f"rft: {len(examples)} distinct correct responses over {demos['prompt_id'].nunique()} prompts, "
          f"{hp['steps']} steps")
    summary = {}
    if examples:
        summary = train_sft(model, examples, tok.pad_token_id, {**hp, "seed": _chain.chain_seed(args, 5)},
                            on_log=curve.log, name="rft")
    if not is_main_process():  # under accelerate launch, one process writes and logs
        return
    summary.update({"rft/examples": len(examples), "rft/prompts": int(demos["prompt_id"].nunique())})
    out = Path(args.out)
    save_checkpoint(model, tok, out / "model")
    _chain.finish(run, out, summary, curve)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_0")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--responses", required=True, help="responses.parquet of the generate stage")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")
    _cli.run(main, p)

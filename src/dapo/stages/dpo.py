"""dpo: the DPO baseline on outcome preferences (response-level, offline, beyond the paper).

pi_0 is trained with TRL's DPOTrainer, pi_0 as the frozen reference, on every (correct, wrong) pair
of finished responses to the same prompt among those the generate stage kept for chain --seed in
iteration 1 (the samples DAPO labels), with the dpo section's settings. With no pair there is
nothing to train on and pi_0 is written unchanged. Writes <out>/model, <out>/metrics.json and the
training curve <out>/curve.csv.
"""

from __future__ import annotations

from pathlib import Path

from ..dpo import preference_pairs, train_dpo
from ..io import read_jsonl, read_parquet
from ..models import load_policy, save_checkpoint
from ..tasks import get_task
from ..training import is_main_process
from . import _chain, _cli


def main(args, params):
    hp = params["dpo"]
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))}
    responses = read_parquet(args.responses, required=("prompt_id", "response", "finished", "correct"))
    unknown = set(responses["prompt_id"]) - set(problems)
    if unknown:
        raise _cli.InputError(f"dpo: {args.responses} has prompt ids not in {args.data}, e.g. {min(unknown)!r}")
    pairs = preference_pairs(responses)
    model, tok = load_policy(args.policy)
    run = _chain.start_run("dpo", params, args)
    curve = _cli.Curve(run)
    print(f"dpo: {len(pairs)} (correct, wrong) pairs over {pairs['prompt_id'].nunique()} prompts, "
          f"{hp['steps']} steps, beta {hp['beta']}")
    summary = {}
    if len(pairs):
        prompts = [task.render_prompt(problems[p]) for p in pairs["prompt_id"]]
        summary = train_dpo(model, tok, prompts, pairs, {**hp, "seed": _chain.chain_seed(args, 6)},
                            on_log=curve.log)
    if not is_main_process():  # under accelerate launch, one process writes and logs
        return
    summary.update({"dpo/pairs": len(pairs), "dpo/prompts": int(pairs["prompt_id"].nunique())})
    out = Path(args.out)
    save_checkpoint(model, tok, out / "model")
    _chain.finish(run, out, summary, curve)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_0 (start and reference)")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--responses", required=True, help="responses.parquet of the generate stage")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")
    _cli.run(main, p)

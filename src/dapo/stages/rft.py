"""rft: the rejection-sampling fine-tuning baseline (outcome-level, offline, beyond the paper).

pi_0 is fine-tuned with the sft loop on the distinct correct responses among those the generate
stage kept for chain --seed in iteration 1 (the samples DAPO labels), with the rft section's
settings. With no correct response there is nothing to train on and pi_0 is written unchanged.
Writes <out>/model, <out>/metrics.json and the loss curve <out>/curve.csv.
"""

from __future__ import annotations

from ..models import load_policy
from ..rft import rft_demonstrations
from ..sft import sft_example, train_sft
from ..training import job_checkpoints
from . import _baseline, _chain, _cli


def main(args, params):
    hp = params["rft"]
    task, problems, responses = _baseline.read_inputs("rft", args, params)
    demos = rft_demonstrations(responses)
    model, tok = load_policy(args.policy)
    examples = [sft_example(task.policy_prompt(problems[p], tok), r, tok)
                for p, r in zip(demos["prompt_id"], demos["response"])]
    run = _chain.start_run("rft", params, args)
    curve = _cli.Curve(run)
    print(f"rft: {len(examples)} distinct correct responses over {demos['prompt_id'].nunique()} prompts, "
          f"{hp['steps']} steps")
    summary = {}
    resume = job_checkpoints(params, args.out, [args.policy, args.data, args.responses])
    if examples:
        summary = train_sft(model, examples, tok.pad_token_id, {**hp, "seed": _chain.chain_seed(args, 5)},
                            on_log=curve.log, name="rft", checkpoints=resume)
    summary.update({"rft/examples": len(examples), "rft/prompts": int(demos["prompt_id"].nunique())})
    if _baseline.finish(run, curve, model, tok, args, summary):
        resume.clear()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _baseline.add_args(p)
    _cli.run(main, p)

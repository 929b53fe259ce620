"""dpo: the DPO baseline on outcome preferences (response-level, offline, beyond the paper).

pi_0 is trained with TRL's DPOTrainer, pi_0 as the frozen reference, on every (correct, wrong) pair
of finished responses to the same prompt among those the generate stage kept for chain --seed in
iteration 1 (the samples DAPO labels), with the dpo section's settings. With no pair there is
nothing to train on and pi_0 is written unchanged. Writes <out>/model, <out>/metrics.json and the
training curve <out>/curve.csv.
"""

from __future__ import annotations

from ..dpo import preference_pairs, train_dpo
from ..models import load_policy
from . import _baseline, _chain, _cli


def main(args, params):
    hp = params["dpo"]
    task, problems, responses = _baseline.read_inputs("dpo", args, params)
    pairs = preference_pairs(responses)
    model, tok = load_policy(args.policy)
    run = _chain.start_run("dpo", params, args)
    curve = _cli.Curve(run)
    print(f"dpo: {len(pairs)} (correct, wrong) pairs over {pairs['prompt_id'].nunique()} prompts, "
          f"{hp['steps']} steps, beta {hp['beta']}")
    summary = {}
    if len(pairs):
        prompts = [task.policy_prompt(problems[p], tok) for p in pairs["prompt_id"]]
        summary = train_dpo(model, tok, prompts, pairs, {**hp, "seed": _chain.chain_seed(args, 6)},
                            on_log=curve.log)
    summary.update({"dpo/pairs": len(pairs), "dpo/prompts": int(pairs["prompt_id"].nunique())})
    _baseline.finish(run, curve, model, tok, args, summary)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _baseline.add_args(p)
    _cli.run(main, p)

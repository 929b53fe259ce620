"""grpo: the GRPO baseline (response-level, online; the paper's Table 3).

pi_0 is trained with TRL's GRPOTrainer on the rl prompts, with the task's verifier as the reward:
each step samples grpo.group_size responses to each of grpo.prompts_per_step prompts from the
current policy, pi_0 is the KL reference. Writes <out>/model, <out>/metrics.json and the training
curve <out>/curve.csv.
"""

from __future__ import annotations

from ..grpo import train_grpo
from ..models import load_policy
from . import _baseline, _chain, _cli


def main(args, params):
    hp = params["grpo"]
    model, tok = load_policy(args.policy)
    prompts, ids, reward = _baseline.online_prompts(args, params, tok)
    run = _chain.start_run("grpo", params, args)
    curve = _cli.Curve(run)
    print(f"grpo: {len(prompts)} prompts, {hp['steps']} steps of {hp['prompts_per_step']} prompts x "
          f"{hp['group_size']} responses, beta {hp['beta']}")
    summary = train_grpo(model, tok, prompts, ids, reward, {**hp, "seed": _chain.chain_seed(args, 7)}, on_log=curve.log)
    _baseline.finish(run, curve, model, tok, args, {**summary, "grpo/prompts": len(prompts)})


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _baseline.add_online_args(p, "checkpoint of pi_0 (start and KL reference)")
    _cli.run(main, p)

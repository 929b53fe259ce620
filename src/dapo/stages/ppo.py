"""ppo: the PPO baseline (token-level actor-critic, online; the paper's Table 3).

pi_0 is trained on the rl prompts with the task's verifier as the reward and a per-token KL
penalty to pi_0; the critic is a token value head initialised from pi_0. Each step samples
ppo.samples_per_prompt responses to each of ppo.prompts_per_step prompts from the current policy.
Writes <out>/model (the policy), <out>/metrics.json and the training curve <out>/curve.csv.
"""

from __future__ import annotations

from ..models import load_policy, load_value_model
from ..ppo import train_ppo
from ..training import job_checkpoints
from . import _baseline, _chain, _cli


def main(args, params):
    hp = params["ppo"]
    model, tok = load_policy(args.policy)
    prompts, ids, reward = _baseline.online_prompts(args, params, tok)
    ref = load_policy(args.policy)[0].eval() if hp["kl_coef"] > 0 else None
    critic, _ = load_value_model(args.policy, seed=_chain.chain_seed(args, 8))
    run = _chain.start_run("ppo", params, args)
    curve = _cli.Curve(run)
    print(f"ppo: {len(prompts)} prompts, {hp['steps']} steps of {hp['prompts_per_step']} prompts x "
          f"{hp['samples_per_prompt']} responses, kl {hp['kl_coef']}")
    resume = job_checkpoints(params, args.out, [args.policy, args.data])
    summary = train_ppo(model, critic, ref, tok, prompts, ids, reward, {**hp, "seed": _chain.chain_seed(args, 9)},
                        on_log=curve.log, checkpoints=resume)
    if _baseline.finish(run, curve, model, tok, args, {**summary, "ppo/prompts": len(prompts)}):
        resume.clear()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _baseline.add_online_args(p, "checkpoint of pi_0 (start, KL reference and the critic's body)")
    _cli.run(main, p)

"""ppo: the PPO baseline (token-level actor-critic, online; the paper's Table 3).

pi_0 is trained on the rl prompts with the task's verifier as the reward and a per-token KL
penalty to pi_0; the critic is a token value head initialised from pi_0. Each step samples
ppo.samples_per_prompt responses to each of ppo.prompts_per_step prompts from the current policy.
Writes <out>/model (the policy), <out>/metrics.json and the training curve <out>/curve.csv.
"""

from __future__ import annotations

from ..grpo import verifier_reward
from ..io import read_jsonl
from ..models import load_policy, load_value_model
from ..ppo import train_ppo
from ..tasks import get_task
from . import _baseline, _chain, _cli


def main(args, params):
    hp = params["ppo"]
    task = get_task(params["data"]["task"])
    problems = read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))
    model, tok = load_policy(args.policy)
    ref = load_policy(args.policy)[0].eval() if hp["kl_coef"] > 0 else None
    critic, _ = load_value_model(args.policy, seed=_chain.chain_seed(args, 8))
    run = _chain.start_run("ppo", params, args)
    curve = _cli.Curve(run)
    print(f"ppo: {len(problems)} prompts, {hp['steps']} steps of {hp['prompts_per_step']} prompts x "
          f"{hp['samples_per_prompt']} responses, kl {hp['kl_coef']}")
    summary = train_ppo(model, critic, ref, tok, [task.render_prompt(p) for p in problems], [p["id"] for p in problems],
                        verifier_reward(task, {p["id"]: p for p in problems}),
                        {**hp, "seed": _chain.chain_seed(args, 9)}, on_log=curve.log)
    _baseline.finish(run, curve, model, tok, args, {**summary, "ppo/prompts": len(problems)})


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_0 (start, KL reference and the critic's body)")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")
    _cli.run(main, p)

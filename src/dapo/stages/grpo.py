"""grpo: the GRPO baseline (response-level, online; the paper's Table 3).

pi_0 is trained with TRL's GRPOTrainer on the rl prompts, with the task's verifier as the reward:
each step samples grpo.group_size responses to each of grpo.prompts_per_step prompts from the
current policy, pi_0 is the KL reference. Writes <out>/model, <out>/metrics.json and the training
curve <out>/curve.csv.
"""

from __future__ import annotations

from ..grpo import train_grpo, verifier_reward
from ..io import read_jsonl
from ..models import load_policy
from ..tasks import get_task
from . import _baseline, _chain, _cli


def main(args, params):
    hp = params["grpo"]
    task = get_task(params["data"]["task"])
    problems = read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))
    model, tok = load_policy(args.policy)
    run = _chain.start_run("grpo", params, args)
    curve = _cli.Curve(run)
    print(f"grpo: {len(problems)} prompts, {hp['steps']} steps of {hp['prompts_per_step']} prompts x "
          f"{hp['group_size']} responses, beta {hp['beta']}")
    summary = train_grpo(model, tok, [task.render_prompt(p) for p in problems], [p["id"] for p in problems],
                         verifier_reward(task, {p["id"]: p for p in problems}),
                         {**hp, "seed": _chain.chain_seed(args, 7)}, on_log=curve.log)
    _baseline.finish(run, curve, model, tok, args, {**summary, "grpo/prompts": len(problems)})


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_0 (start and KL reference)")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")
    _cli.run(main, p)

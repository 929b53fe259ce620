"""advantages: step advantages from the critic, with the paper's filters, and the reference
log-probs log pi_{i-1}(a|s) computed once and stored with them (paper section 4, steps 4-5).

Writes <out>/advantages.parquet (state_id, state, action, count, terminal, eos, value, advantage,
ref_logp) and <out>/metrics.json (states and actions kept and dropped). Terminal candidates take the
verifier's exact reward as their value (the paper leaves them unspecified); an action that ends the
solution includes the end-of-sequence token in its log-prob.

`advantages.value_source: oracle` (beyond the paper, a diagnostic) replaces the critic's V(s + a)
by the task's exact step value, where the task has one: what the actor does with perfect values.
With such a task the critic's advantages are also compared with the exact ones (sign agreement,
correlation), in either mode, so critic error and actor dynamics can be told apart.
"""

from __future__ import annotations

from pathlib import Path

from ..advantages import (
    advantage_agreement,
    candidate_actions,
    candidate_advantages,
    gap_filter,
    oracle_values,
    unique_actions,
)
from ..critic import predict_values
from ..io import read_jsonl, read_parquet, write_parquet
from ..logprobs import batched_action_logps, sampled_ids
from ..models import inference_dtype, load_critic, load_policy, load_tokenizer
from ..tasks import Task, get_task
from . import _chain, _cli


def main(args, params):
    hp = params["advantages"]
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))}
    states = read_parquet(args.states, required=("state_id", "prompt_id", "prefix"))
    completions = read_parquet(args.completions, required=("state_id", "k", "completion", "finished"))
    critic, ctok = load_critic(args.critic, dtype=inference_dtype())

    def texts_for(tok):
        """Each state as the model of `tok` reads it (the critic may be another model)."""
        return {s: task.policy_prompt(problems[p], tok) + x
                for s, p, x in zip(states["state_id"], states["prompt_id"], states["prefix"])}

    critic_text, state_text = texts_for(ctok), texts_for(load_tokenizer(args.reference))
    candidates = candidate_actions(completions, states, task, problems)

    def critic_values(sids, actions):
        return predict_values(critic, ctok, [critic_text[s] + a for s, a in zip(sids, actions)], hp["batch_size"],
                              desc="critic values")

    has_oracle = type(task).oracle_value is not Task.oracle_value
    if args.value_source == "oracle" and not has_oracle:
        raise _cli.InputError(f"advantages.value_source: oracle, but task {task.name!r} has no exact step values")
    valued = {"critic": candidate_advantages(candidates, critic_values)}
    if has_oracle:
        valued["oracle"] = candidate_advantages(candidates, oracle_values(task, problems, states))
    data, stats = gap_filter(valued[args.value_source], hp["min_gap"])
    metrics = {f"advantages/{k}": v for k, v in stats.items()}
    if has_oracle:
        by_critic, by_oracle = unique_actions(valued["critic"]), unique_actions(valued["oracle"])
        metrics.update({f"advantages/critic_vs_oracle_{k}": v
                        for k, v in advantage_agreement(by_critic, by_oracle).items()})
        metrics["advantages/oracle_value_mean"] = float(by_oracle["value"].mean())
    if data.empty:
        raise _cli.InputError(f"advantages: every state fell below the gap {hp['min_gap']}; nothing to train on")
    data.insert(1, "state", data["state_id"].map(state_text))
    policy, ptok = load_policy(args.reference)
    data["ref_logp"] = batched_action_logps(policy, ptok, data["state"].tolist(), data["action"].tolist(),
                                            data["eos"].tolist(), hp["batch_size"], sampled_ids(data),
                                            desc="reference log-probs").numpy()
    out = Path(args.out)
    write_parquet(out / "advantages.parquet", data)
    metrics.update({"advantages/abs_mean": float(data["advantage"].abs().mean()),
                    "advantages/positive_fraction": float((data["advantage"] > 0).mean()),
                    "advantages/ref_logp_mean": float(data["ref_logp"].mean())})
    _chain.finish(_chain.start_run("advantages", params, args), out, metrics)


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--critic", required=True, help="critic checkpoint of this iteration")
    p.add_argument("--reference", required=True, help="checkpoint of pi_{i-1} (reference policy)")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--states", required=True, help="states.parquet of the complete stage")
    p.add_argument("--completions", required=True, help="completions.parquet of the complete stage")
    p.add_argument("--value-source", choices=["critic", "oracle"], required=True,
                   help="V(s + a) from the critic, or the task's exact values (the rule passes "
                        "advantages.value_source, or oracle for the oracle row)")
    p.add_argument("--out", required=True, help="output directory")
    _cli.run(main, p)

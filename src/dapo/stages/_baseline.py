"""What the baseline stages share: for the outcome-level ones (rft, dpo) their arguments and inputs
(the rl prompts and one chain's generate responses); for the online ones (grpo, ppo) their
arguments and prompts with the verifier's reward; for all, their ending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io import read_jsonl, read_parquet
from ..models import save_checkpoint
from ..tasks import Task, get_task, verifier_reward
from ..training import trained_model
from . import _chain, _cli


def add_args(p) -> None:
    add_online_args(p, "checkpoint of pi_0 (start, and reference where there is one)")
    p.add_argument("--responses", required=True, help="responses.parquet of the generate stage")


def add_online_args(p, policy_help: str) -> None:
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help=policy_help)
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")


def online_prompts(args, params, tokenizer) -> tuple[list[str], list[str], Callable[..., list[float]]]:
    """The rl prompts as the policy of `tokenizer` reads them, their ids, and the task's verifier as
    the reward (reward(prompts, completions, prompt_id) -> 0/1 per completion, as TRL calls it)."""
    task = get_task(params["data"]["task"])
    problems = read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))
    return ([task.policy_prompt(p, tokenizer) for p in problems], [p["id"] for p in problems],
            verifier_reward(task, {p["id"]: p for p in problems}))


def read_inputs(stage: str, args, params) -> tuple[Task, dict[str, dict], Any]:
    """The task, the rl problems by id, and the responses table, whose prompts must all be among them."""
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))}
    responses = read_parquet(args.responses, required=("prompt_id", "response", "finished", "correct"))
    unknown = set(responses["prompt_id"]) - set(problems)
    if unknown:
        raise _cli.InputError(f"{stage}: {args.responses} has prompt ids not in {args.data}, e.g. {min(unknown)!r}")
    return task, problems, responses


def finish(run, curve: _cli.Curve, model, tokenizer, args, metrics: dict[str, Any]) -> bool:
    """Write the trained policy, metrics and curve from the main process (under accelerate launch
    the others return, after handing over their shards under FSDP); True in the process that wrote."""
    model = trained_model(model)
    if model is None:
        return False
    out = Path(args.out)
    save_checkpoint(model, tokenizer, out / "model")
    _chain.finish(run, out, metrics, curve)
    return True

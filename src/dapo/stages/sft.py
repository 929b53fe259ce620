"""sft: train the base policy pi_0 from scratch on written step-by-step solutions.

With --role critic_base (and the critic_base section as --set sft.<key>=<value>), the same training
makes the model the iteration-1 critic starts from instead of pi_0.

Deviation from the paper: the paper starts from a pretrained instruct model; with no model hub the
embedded default trains a small character-level transformer instead (see params/default.yaml).
Writes a plain Hugging Face checkpoint (--out), a metrics json (--metrics) and the loss curve (--curve).
"""

from __future__ import annotations

import time

from ..io import InputError, read_jsonl, write_json
from ..models import build_char_tokenizer, build_policy, save_checkpoint
from ..sft import demonstration, sft_example, train_sft
from ..tasks import get_task
from ..tracking import StageRun
from ..training import job_checkpoints, trained_model
from . import STARTED, _cli


def main(args, params):
    task = get_task(params["data"]["task"])
    problems = read_jsonl(args.data, required=("prompt", "answer", "entry"))
    tokenizer = build_char_tokenizer()
    model = build_policy(tokenizer, params["model"], seed=params["sft"]["seed"])
    habit = params["sft"]["habit_fraction"]
    examples = [sft_example(task.policy_prompt(p, tokenizer), demonstration(task, p, habit), tokenizer)
                for p in problems]
    longest = max(len(ids) for ids, _ in examples)
    if longest > params["model"]["max_position_embeddings"]:
        raise InputError(f"sft: an example has {longest} tokens, more than "
                              f"model.max_position_embeddings={params['model']['max_position_embeddings']}")
    run = StageRun("sft", params, model=args.role)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"sft ({args.role}): {n_params:,} parameters, {len(examples)} examples, {params['sft']['steps']} steps")
    curve = _cli.Curve(run)
    resume = job_checkpoints(params, args.out, [args.data])
    summary = train_sft(model, examples, tokenizer.pad_token_id, params["sft"], on_log=curve.log,
                        checkpoints=resume)
    model = trained_model(model)
    if model is None:  # under accelerate launch, one process writes and logs
        return
    summary["sft/parameters"] = n_params
    summary["sft/job_seconds"] = time.time() - STARTED
    save_checkpoint(model, tokenizer, args.out)
    write_json(args.metrics, summary)
    curve.write(args.curve)
    run.log_metrics(summary)
    run.flush(artifacts=[args.metrics])
    resume.clear()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--data", required=True, help="sft split (jsonl)")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--metrics", required=True, help="metrics json to write")
    p.add_argument("--curve", required=True, help="loss curve csv to write")
    p.add_argument("--role", choices=["base", "critic_base"], default="base",
                   help="the model trained: pi_0 (base) or the iteration-1 critic's start (critic_base)")
    _cli.run(main, p)

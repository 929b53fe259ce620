"""GRPO (Shao et al. 2024), the paper's response-level online baseline (Table 3): for each prompt the
policy samples a group of responses, each response's reward is the task's verifier (1 correct, 0
wrong), its advantage is the reward's z-score within the group, and a clipped policy-gradient loss
with a KL penalty to pi_0 moves every token of the response by that one advantage. Unlike DAPO it
needs no MC labelling and no critic, but it samples afresh from the current policy at every step.

Trained with TRL's GRPOTrainer, which runs offline on the project's models and tokenizers.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .io import InputError
from .training import TrainerCurve, process_state


class _Curve(TrainerCurve):
    """The trainer's logged loss, reward, KL, clip ratio and completion length as `grpo/<name>`
    metrics of the stage's curve, and the tokens sampled: each logged mean completion length
    covers `responses` responses per step since the previous log."""

    KEEP = ("loss", "grad_norm", "learning_rate", "reward", "kl", "clip_ratio", "completions/mean_length",
            "completions/clipped_ratio", "num_tokens")

    def __init__(self, on_log: Callable[[int, dict[str, float]], None] | None, responses: int):
        super().__init__("grpo", self.KEEP, on_log)
        self.responses, self.step, self.tokens_generated = responses, 0, 0.0

    def on_log(self, args, state, control, logs=None, **kwargs):
        length = (logs or {}).get("completions/mean_length")
        if isinstance(length, (int, float)):
            self.tokens_generated += length * self.responses * (state.global_step - self.step)
            self.step = state.global_step
        super().on_log(args, state, control, logs=logs, **kwargs)


def train_grpo(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: list[str],
               prompt_ids: list[str], reward: Callable[..., list[float]], hp: dict[str, Any],
               on_log: Callable[[int, dict[str, float]], None] | None = None,
               progress: bool = True) -> dict[str, float]:
    """Online GRPO of `model` (loaded from a local checkpoint, which TRL reloads as the frozen KL
    reference pi_0) on the training prompts
    `prompts` (texts; `prompt_ids` go to `reward` beside each completion); returns summary metrics.

    hp: group_size (responses per prompt), prompts_per_step (prompts per optimiser step; each step
    samples prompts_per_step * group_size responses from the current policy), steps, beta (KL to
    pi_0), clip, temperature, max_new_tokens, lr, warmup_steps, weight_decay, max_grad_norm,
    adam_betas, seed, log_every.
    """
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    processes = process_state().num_processes
    batch = hp["prompts_per_step"] * hp["group_size"]
    if batch % processes:
        raise InputError(f"grpo: prompts_per_step x group_size = {batch} responses per step is not a "
                         f"multiple of the {processes} processes")
    with tempfile.TemporaryDirectory(prefix="grpo-") as scratch:
        args = GRPOConfig(
            output_dir=scratch, save_strategy="no", report_to="none", disable_tqdm=not progress,
            # one optimiser step per generation, as the paper's query batch x group = global batch:
            # every update is on-policy, so the clip only matters through num_iterations (1 here)
            num_generations=hp["group_size"], per_device_train_batch_size=batch // processes,
            steps_per_generation=1, max_steps=hp["steps"], beta=hp["beta"], epsilon=hp["clip"],
            temperature=hp["temperature"], top_p=1.0, max_completion_length=hp["max_new_tokens"],
            # the paper's GRPO: per-response z-scored advantages, token losses averaged per response
            loss_type="grpo", scale_rewards="group",
            learning_rate=hp["lr"], lr_scheduler_type="constant_with_warmup", warmup_steps=hp["warmup_steps"],
            weight_decay=hp["weight_decay"], max_grad_norm=hp["max_grad_norm"],
            adam_beta1=hp["adam_betas"][0], adam_beta2=hp["adam_betas"][1], seed=hp["seed"],
            logging_steps=hp["log_every"], dataloader_num_workers=0,
            # TRL's defaults, bf16 and gradient checkpointing, cost time on a CPU and buy nothing here
            gradient_checkpointing=False, bf16=torch.cuda.is_available())
        data = Dataset.from_dict({"prompt": prompts, "prompt_id": prompt_ids})
        log = _Curve(on_log, batch)
        trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=data,
                              processing_class=tokenizer, callbacks=[log])
        start = time.time()
        result = trainer.train()
    model.eval()
    responses = result.global_step * batch
    return {"grpo/steps": result.global_step, "grpo/train_seconds": time.time() - start,
            "grpo/responses_sampled": responses, "grpo/processes": processes,
            "grpo/final_loss": log.last.get("grpo/loss", float("nan")),
            "grpo/tokens_generated": round(log.tokens_generated),
            # TRL's count of the prompt and completion tokens the policy scored, over every process
            "grpo/tokens_trained": int(log.last.get("grpo/num_tokens", 0)),
            **{f"grpo/final_{k[5:]}": v for k, v in log.last.items() if k.startswith(("grpo/reward", "grpo/kl"))}}

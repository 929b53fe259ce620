"""DPO (Rafailov et al. 2023) on outcome preferences, an outcome-level offline baseline beyond the
paper: for each prompt, every pair of a correct and a wrong response among those DAPO's generate
stage kept, trained with TRL's DPOTrainer. Beside DAPO it answers whether step-level advantages
add anything to response-level preferences from the same samples.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .io import InputError
from .training import TrainerCurve, process_state


def preference_pairs(responses: pd.DataFrame) -> pd.DataFrame:
    """(prompt_id, chosen, rejected): every distinct correct response against every distinct wrong
    one of the same prompt, sorted. Only finished responses take part: DPO scores a response
    followed by end-of-sequence, which a truncated one never had.

    responses: the generate stage's table (prompt_id, response, finished, correct).
    """
    done = responses[responses["finished"].astype(bool)].drop_duplicates(["prompt_id", "response"])
    rows = []
    for prompt_id, group in done.groupby("prompt_id", sort=True):
        correct = group["correct"].astype(bool)
        rows += [(prompt_id, c, r) for c in sorted(group.loc[correct, "response"])
                 for r in sorted(group.loc[~correct, "response"])]
    return pd.DataFrame(rows, columns=["prompt_id", "chosen", "rejected"])


def train_dpo(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: list[str],
              pairs: pd.DataFrame, hp: dict[str, Any],
              on_log: Callable[[int, dict[str, float]], None] | None = None,
              progress: bool = True) -> dict[str, float]:
    """DPO of `model` (also the frozen reference, copied by TRL) on `pairs` (chosen, rejected),
    whose prompt texts are `prompts`, row by row; returns summary metrics.

    hp: beta, steps, batch_size (the global batch: each of N processes takes batch_size / N),
    lr, warmup_steps, weight_decay, max_grad_norm, adam_betas, seed, log_every.
    """
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    processes = process_state().num_processes
    if hp["batch_size"] % processes:
        raise InputError(f"dpo.batch_size {hp['batch_size']} is not a multiple of the {processes} processes")
    with tempfile.TemporaryDirectory(prefix="dpo-") as scratch:
        args = DPOConfig(
            output_dir=scratch, save_strategy="no", report_to="none", disable_tqdm=not progress,
            beta=hp["beta"], max_steps=hp["steps"], per_device_train_batch_size=hp["batch_size"] // processes,
            learning_rate=hp["lr"], lr_scheduler_type="cosine", warmup_steps=hp["warmup_steps"],
            weight_decay=hp["weight_decay"], max_grad_norm=hp["max_grad_norm"],
            adam_beta1=hp["adam_betas"][0], adam_beta2=hp["adam_betas"][1], seed=hp["seed"],
            logging_steps=hp["log_every"], dataloader_num_workers=0, precompute_ref_log_probs=False,
            include_num_input_tokens_seen="non_padding",
            bf16=torch.cuda.is_available())  # TRL's default, bf16, has no CPU kernels to run on
        data = Dataset.from_dict({"prompt": prompts, "chosen": pairs["chosen"].tolist(),
                                  "rejected": pairs["rejected"].tolist()})
        # the trainer's loss, gradient norm, learning rate, rewards and log-probs: the stage's curve
        log = TrainerCurve("dpo", ("loss", "grad_norm", "learning_rate", "rewards/", "logps/"), on_log)
        # the reference is pi_0 itself (TRL would reload it from the model's path). Its log-probs run
        # with each batch: TRL's precompute_ref_log_probs failed under two CPU processes (the second
        # looked for the first's temporary datasets cache file)
        trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model).eval(), args=args, train_dataset=data,
                             processing_class=tokenizer, callbacks=[log])
        start = time.time()
        result = trainer.train()
    model.eval()
    return {"dpo/steps": result.global_step, "dpo/train_seconds": time.time() - start,
            "dpo/final_loss": log.last.get("dpo/loss", float("nan")), "dpo/processes": processes,
            # chosen and rejected sequences, prompt included, over every process
            "dpo/tokens_trained": int(trainer.state.num_input_tokens_seen),
            **{f"dpo/final_{k[4:]}": v for k, v in log.last.items() if k.startswith("dpo/rewards_")}}

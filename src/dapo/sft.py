"""Supervised fine-tuning of the base policy on written step-by-step solutions.

The embedded default has no pretrained model, so its starting policy pi_0 is trained here from
scratch; the paper starts from an instruction-tuned model instead (section 5).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .tasks import Task
from .training import Checkpoints, LogWindow, Optimiser

IGNORE = -100


@dataclass
class SFTBatch:
    input_ids: torch.Tensor  # (B, T) right-padded
    attention_mask: torch.Tensor  # (B, T)
    labels: torch.Tensor  # (B, T), IGNORE on prompt and padding


def demonstration(task: Task, problem: dict, habit_fraction: float) -> str:
    """The SFT response of one problem: the task's habit on a `habit_fraction` share of problems
    (chosen by a hash of the prompt, so a split's choice never depends on its order), else the
    task's correct solution. A habit gives pi_0 a bad choice among moves it can make, which
    step-level RL can unlearn; a pretrained model's errors are of that kind."""
    if habit_fraction > 0 and random.Random(f"habit:{problem['prompt']}").random() < habit_fraction:
        return task.write_habit(problem)
    return task.write_solution(problem)


def sft_example(prompt: str, response: str, tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """Token ids of prompt + response + EOS, and labels that train on the response and EOS only."""
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    r = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return p + r, [IGNORE] * len(p) + r


def collate(examples: list[tuple[list[int], list[int]]], pad_id: int) -> SFTBatch:
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (x, y) in enumerate(examples):
        ids[i, :len(x)] = torch.tensor(x)
        labels[i, :len(y)] = torch.tensor(y)
        mask[i, :len(x)] = 1
    return SFTBatch(ids, mask, labels)


def train_sft(model: PreTrainedModel, examples: list[tuple[list[int], list[int]]], pad_id: int,
              hp: dict[str, Any], on_log: Callable[[int, dict[str, float]], None] | None = None,
              progress: bool = True, name: str = "sft", checkpoints: Checkpoints | None = None) -> dict[str, float]:
    """Train for hp['steps'] optimiser steps on random batches; returns summary metrics, named
    `<name>/...` (the rft baseline trains with this loop too). With `checkpoints`, resumes from the
    last one and saves new ones as it goes.

    hp: steps, batch_size, lr, warmup_steps, weight_decay, max_grad_norm, adam_betas, seed, log_every.
    """
    g = torch.Generator().manual_seed(hp["seed"])
    optim = Optimiser(model, hp["lr"], hp["weight_decay"], hp["warmup_steps"], hp["max_grad_norm"], name=name,
                      total_steps=hp["steps"], betas=tuple(hp["adam_betas"]))
    model = optim.model
    model.train()
    checkpoints = checkpoints or Checkpoints(None)
    done, saved = checkpoints.resume(optim, on_log, hp["steps"])
    start, tokens, trained, mean = time.time(), saved.get("tokens", 0), 0, saved.get("mean")
    resumed_tokens = tokens  # the rate counts this process's tokens over its own time
    window = LogWindow(hp["log_every"], hp["steps"], None)
    window.rows = saved.get("window", [])
    bar = tqdm(range(1, hp["steps"] + 1), desc=name, unit="step", disable=not (progress and optim.is_main_process),
               mininterval=5)
    for step in bar:
        idx = torch.randint(len(examples), (hp["batch_size"],), generator=g).tolist()
        trained += sum(len(examples[i][0]) for i in idx)  # the whole batch's, over every process
        if step <= done:  # resumed: this batch was drawn only to move the generator past it
            continue
        # the loss is the mean over the batch's label tokens, so a process's share is its tokens'
        idx, share = optim.shard(idx, [sum(y != IGNORE for y in examples[i][1]) for i in idx])
        batch = collate([examples[i] for i in idx], pad_id)
        loss = model(input_ids=batch.input_ids.to(optim.device),
                     attention_mask=batch.attention_mask.to(optim.device),
                     labels=batch.labels.to(optim.device)).loss
        loss_value, _ = optim.step(loss, share)
        tokens += int(batch.attention_mask.sum())
        point = window.add(step, {f"{name}/loss": loss_value})
        if point:
            mean = point[f"{name}/loss"]
            bar.set_postfix(loss=f"{mean:.4f}")
            checkpoints.log(step, {**point, f"{name}/lr": optim.lr})
        checkpoints.save_if_due({"window": window.rows, "tokens": tokens, "mean": mean})
    elapsed = time.time() - start
    model.eval()
    return {f"{name}/train_seconds": elapsed, f"{name}/tokens_per_second": (tokens - resumed_tokens) / elapsed,
            f"{name}/final_loss": mean, f"{name}/processes": optim.processes, f"{name}/sharded": int(optim.sharded),
            f"{name}/final_perplexity": math.exp(mean), f"{name}/tokens_trained": trained}

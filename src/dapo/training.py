"""The optimiser step shared by the SFT, critic and actor loops, prepared by accelerate so that
`accelerate launch` scales every loop the same way."""

from __future__ import annotations

import torch
from accelerate import Accelerator
from transformers import (
    PreTrainedModel,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
)


class Optimiser:
    """AdamW with linear warm-up, then constant (or cosine decay to `total_steps` when given).

    `model` is the accelerate-prepared model to run forward passes with.
    """

    def __init__(self, model: PreTrainedModel, lr: float, weight_decay: float, warmup_steps: int,
                 max_grad_norm: float, name: str, total_steps: int | None = None,
                 betas: tuple[float, float] = (0.9, 0.999)):
        self.accelerator = Accelerator()
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=betas)
        sched = (get_cosine_schedule_with_warmup(opt, warmup_steps, total_steps) if total_steps
                 else get_constant_schedule_with_warmup(opt, warmup_steps))
        self.model, self.opt, self.sched = self.accelerator.prepare(model, opt, sched)
        self.max_grad_norm, self.name, self.steps = max_grad_norm, name, 0

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    @property
    def lr(self) -> float:
        return self.sched.get_last_lr()[0]

    def step(self, loss: torch.Tensor) -> float:
        """Backward, clip, update; a non-finite loss stops training with an error naming the step.

        Returns the gradient norm before clipping.
        """
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{self.name}: non-finite loss {loss.item()} at step {self.steps + 1}")
        self.accelerator.backward(loss)
        grad_norm = self.accelerator.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        self.steps += 1
        return float(grad_norm)

"""Sampling from a policy: the one interface every stage samples through.

`Generator.generate(prompts, sampling)` returns, for each prompt, `sampling.n` continuations
(text only, end-of-sequence token removed). The Hugging Face backend below runs anywhere; a vLLM
backend implements the same method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclass(frozen=True)
class Sampling:
    """n samples per prompt; temperature 0 means greedy (then n must be 1)."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 64
    seed: int = 0

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if self.temperature == 0 and self.n != 1:
            raise ValueError("greedy decoding (temperature 0) gives one sample per prompt; set n=1")


@dataclass(frozen=True)
class Completion:
    text: str
    num_tokens: int
    #: True when the policy emitted end-of-sequence, False when it ran out of max_new_tokens
    finished: bool


class Generator(Protocol):
    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[list[Completion]]: ...


class HFGenerator:
    """Batched `model.generate` with left padding and the KV cache.

    Requests (prompt, sample) are flattened, sorted by prompt length so batches carry little
    padding, generated `batch_size` rows at a time, and put back in order. Sampling is seeded once
    per call: the same call with the same batch size gives the same samples.
    """

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 batch_size: int = 256, progress: bool = True, desc: str = "generate"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.progress = progress
        self.desc = desc

    @torch.no_grad()
    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[list[Completion]]:
        tok = self.tokenizer
        requests = [i for i in range(len(prompts)) for _ in range(sampling.n)]
        lengths = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        order = sorted(range(len(requests)), key=lambda r: lengths[requests[r]])
        out: list[Completion | None] = [None] * len(requests)
        torch.manual_seed(sampling.seed)
        greedy = sampling.temperature == 0
        device = self.model.device
        bar = tqdm(total=len(requests), desc=self.desc, unit="seq", disable=not self.progress,
                   mininterval=5)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            batch = tok([prompts[requests[r]] for r in chunk], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(device)
            gen = self.model.generate(
                **batch, max_new_tokens=sampling.max_new_tokens, do_sample=not greedy,
                temperature=None if greedy else sampling.temperature,
                top_p=None if greedy else sampling.top_p, top_k=None,
                eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
            new = gen[:, batch["input_ids"].shape[1]:]
            for r, row in zip(chunk, new.tolist()):
                out[r] = _completion(row, tok.eos_token_id, tok.pad_token_id, tok)
            bar.update(len(chunk))
        bar.close()
        grouped: list[list[Completion]] = [[] for _ in prompts]
        for r, i in enumerate(requests):
            grouped[i].append(out[r])
        return grouped


def _completion(row: list[int], eos: int, pad: int, tok: PreTrainedTokenizerBase) -> Completion:
    finished = eos in row
    if finished:
        row = row[:row.index(eos)]
    elif pad != eos:
        row = [t for t in row if t != pad]
    return Completion(text=tok.decode(row, skip_special_tokens=False), num_tokens=len(row),
                      finished=finished)

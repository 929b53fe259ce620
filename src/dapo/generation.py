"""Sampling from a policy: the one interface every stage samples through.

`Generator.generate(prompts, sampling)` returns, for each prompt, `sampling.n` continuations
(their text and sampled ids, end-of-sequence token removed). The Hugging Face backend runs
anywhere; the vLLM backend (the `vllm` extra, CUDA) implements the same method. A stage picks one
with its params section's `backend` key (`make_generator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from tqdm.auto import tqdm
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase
from transformers.cache_utils import Cache, DynamicLayer, get_layer_types_and_kwargs


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
    #: the generated ids, end-of-sequence dropped (empty from a generator that does not report them)
    token_ids: tuple[int, ...] = ()


class Generator(Protocol):
    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[list[Completion]]: ...


def next_token(logits: torch.Tensor, temperature: float, top_p: float,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row from next-token logits (B, V) -> (B,).

    temperature 0 is argmax. Otherwise softmax(logits / temperature), restricted to the smallest
    set of most likely tokens whose probability reaches top_p (nucleus sampling; the most likely
    token always stays), renormalised, and sampled with `generator`.
    """
    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        # drop a token when the tokens strictly more likely than it already reach top_p
        drop = (sorted_p.cumsum(-1) - sorted_p) >= top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class PreallocatedLayer(DynamicLayer):
    """A KV cache layer allocated once at its final length: each token's keys and values are written
    in place, and attention reads a view of the filled part. Written here because transformers'
    DynamicLayer concatenates (copies) the whole cache at every token, and its StaticLayer attends
    over the whole capacity from the first token on."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity, self.length = capacity, 0

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.dtype, self.device = key_states.dtype, key_states.device
        b, h, _, d = key_states.shape
        self.key_buffer = key_states.new_empty((b, h, self.capacity, d))
        self.value_buffer = value_states.new_empty((b, h, self.capacity, value_states.shape[-1]))
        self.is_initialized = True

    def _views(self) -> None:
        self.keys = self.key_buffer[:, :, :self.length]
        self.values = self.value_buffer[:, :, :self.length]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if end > self.capacity:
            raise RuntimeError(f"KV cache full: {end} positions for a capacity of {self.capacity}")
        self.key_buffer[:, :, self.length:end] = key_states
        self.value_buffer[:, :, self.length:end] = value_states
        self.length = end
        self._views()
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.length:
            self.key_buffer = self.key_buffer.repeat_interleave(repeats, dim=0)
            self.value_buffer = self.value_buffer.repeat_interleave(repeats, dim=0)
            self._views()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.length:
            self.key_buffer, self.value_buffer = self.key_buffer[indices], self.value_buffer[indices]
            self._views()


def kv_cache(model: PreTrainedModel, capacity: int) -> Cache:
    """A cache of `PreallocatedLayer`s for a model whose layers all attend to every position; any
    other (sliding windows, linear attention) gets transformers' DynamicCache for its config."""
    types, _ = get_layer_types_and_kwargs(model.config.get_text_config(decoder=True))
    if any(t != "full_attention" for t in types):
        return DynamicCache(config=model.config)
    return Cache(layers=[PreallocatedLayer(capacity) for _ in types])


# Dropping finished rows copies the whole cache, about the cost of a decoding step, so they are
# dropped in bulk once this share of the batch has finished; until then they run along and their
# outputs are ignored. Chosen with probes/decode_compaction.py on the default's MC batches.
COMPACT_AT = 0.25


@torch.no_grad()
def decode(model: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor, n: int,
           sampling: Sampling, eos_token_id: int, generator: torch.Generator | None = None,
           logprobs: bool = False, fast: bool = True) -> tuple[list[list[int]], list[list[float]] | None]:
    """n continuations of each left-padded prompt (P, L), with a KV cache.

    Each prompt is prefilled once and its cache copied to its n rows, so the N completions of an
    MC state share the state's forward pass. Rows that emitted end-of-sequence stop sampling and
    leave the batch in bulk (`COMPACT_AT`); the cache and the attention mask are allocated once at
    their final length (`kv_cache`). Only running rows draw tokens, in batch order, so the samples
    are those of the plain algorithm (`fast=False`: transformers' DynamicCache, finished rows dropped
    at every step), which the tests and `make bench` compare with. Returns, for the P*n rows
    (prompt-major), the new token ids (ending with eos when the row finished) and, with
    `logprobs`, the model's log-probability of each (temperature 1, no top-p; the tests check them
    against a full forward pass), else None.
    """
    width = input_ids.shape[1]
    cache = kv_cache(model, width + sampling.max_new_tokens) if fast else DynamicCache()
    compact_at = COMPACT_AT if fast else 0.0
    mask = attention_mask.new_zeros((input_ids.shape[0], width + sampling.max_new_tokens))
    mask[:, :width] = attention_mask
    positions = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
                   past_key_values=cache, use_cache=True).logits[:, -1]
    if n > 1:
        cache.batch_repeat_interleave(n)
        mask, logits = mask.repeat_interleave(n, 0), logits.repeat_interleave(n, 0)
    rows = torch.arange(mask.shape[0], device=mask.device)  # original row of each batch row
    live = torch.ones_like(rows, dtype=torch.bool)  # batch rows still sampling
    lengths = mask.sum(-1, keepdim=True)  # tokens each row holds, pads excluded: its next position
    tokens: list[list[int]] = [[] for _ in range(mask.shape[0])]
    logps: list[list[float]] | None = [[] for _ in range(mask.shape[0])] if logprobs else None
    for _ in range(sampling.max_new_tokens):
        idx = live.nonzero().squeeze(-1)
        running_logits = logits if len(idx) == len(live) else logits[idx]
        nxt = next_token(running_logits, sampling.temperature, sampling.top_p, generator)
        running_rows = rows[idx].tolist()
        for r, t in zip(running_rows, nxt.tolist()):
            tokens[r].append(t)
        if logps is not None:
            lp = torch.log_softmax(running_logits.float(), -1).gather(-1, nxt[:, None]).squeeze(-1)
            for r, p in zip(running_rows, lp.tolist()):
                logps[r].append(p)
        live[idx[nxt == eos_token_id]] = False
        if not live.any():
            break
        step = torch.full_like(rows, eos_token_id)  # finished rows feed eos; their outputs are never read
        step[idx] = nxt
        if (~live).sum() > compact_at * len(live):
            keep = live.nonzero().squeeze(-1)
            cache.batch_select_indices(keep)
            rows, mask, step, lengths, live = rows[keep], mask[keep], step[keep], lengths[keep], live[keep]
        mask[:, width] = 1
        width += 1
        logits = model(input_ids=step[:, None], attention_mask=mask[:, :width], position_ids=lengths,
                       past_key_values=cache, use_cache=True).logits[:, -1]
        lengths = lengths + 1
    return tokens, logps


class HFGenerator:
    """Batched sampling with a Hugging Face model through `decode`: left padding, the KV cache,
    one prefill per prompt for its n samples, finished rows dropped.

    Written here rather than calling `model.generate`, which prefills every sample separately and
    steps finished rows to the end of the batch: on the default's MC labelling that costs several
    times the compute (`make bench` measures both). Prompts are sorted by length so batches carry
    little padding, run `batch_size // n` prompts at a time, and put back in order. Sampling is
    seeded once per call: the same call with the same batch size gives the same samples.
    """

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 batch_size: int = 256, progress: bool = True, desc: str = "generate"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.progress = progress
        self.desc = desc

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[list[Completion]]:
        tok = self.tokenizer
        lengths = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: lengths[i])
        per_batch = max(1, self.batch_size // sampling.n)
        out: list[list[Completion]] = [[] for _ in prompts]
        g = torch.Generator(device=self.model.device).manual_seed(sampling.seed)
        bar = tqdm(total=len(prompts) * sampling.n, desc=self.desc, unit="seq",
                   disable=not self.progress, mininterval=5)
        for start in range(0, len(order), per_batch):
            chunk = order[start:start + per_batch]
            batch = tok([prompts[i] for i in chunk], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(self.model.device)
            rows, _ = decode(self.model, batch["input_ids"], batch["attention_mask"], sampling.n,
                             sampling, tok.eos_token_id, g)
            for j, i in enumerate(chunk):
                out[i] = [completion(r, tok.eos_token_id, tok)
                          for r in rows[j * sampling.n:(j + 1) * sampling.n]]
            bar.update(len(chunk) * sampling.n)
        bar.close()
        return out


def completion(row: list[int], eos: int, tok: PreTrainedTokenizerBase) -> Completion:
    """One sampled row of `decode` as text: up to its end-of-sequence token, which it drops."""
    finished = eos in row
    if finished:
        row = row[:row.index(eos)]
    return Completion(text=tok.decode(row, skip_special_tokens=False), num_tokens=len(row),
                      finished=finished, token_ids=tuple(row))


class VLLMGenerator:
    """The same interface on vLLM's offline engine, with prefix caching on: the N completions of an
    MC state, and the states of one response, share their prompts' KV cache. Prompts go in as ids,
    tokenised without special tokens as the Hugging Face backend does, so both condition on the
    same tokens. Each call seeds its requests with `sampling.seed`; vLLM's samples are not the Hugging
    Face backend's, only their distribution is the same. Needs CUDA and `pip install -e ".[vllm]"`."""

    def __init__(self, path: str, seed: int = 0, desc: str = "generate", **engine: Any):
        import os

        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # reproducible sampling in-process
        from vllm import LLM

        from .models import load_tokenizer

        self.tokenizer = load_tokenizer(path)
        self.desc = desc  # vLLM draws its own progress bar; the label goes in a line before it
        self.llm = LLM(model=str(path), enable_prefix_caching=True, seed=seed, **{"dtype": "auto", **engine})

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[list[Completion]]:
        from vllm import SamplingParams

        params = SamplingParams(n=sampling.n, temperature=sampling.temperature, top_p=sampling.top_p,
                                max_tokens=sampling.max_new_tokens, seed=sampling.seed, skip_special_tokens=False)
        tok = self.tokenizer
        requests = [{"prompt_token_ids": tok(p, add_special_tokens=False)["input_ids"]} for p in prompts]
        print(f"{self.desc}: {len(prompts)} prompts x {sampling.n}", flush=True)
        outs = self.llm.generate(requests, params, use_tqdm=True)
        return [[vllm_completion(list(c.token_ids), c.finish_reason == "stop", tok.eos_token_id, tok)
                 for c in out.outputs] for out in outs]


def vllm_completion(ids: list[int], stopped: bool, eos: int, tok: PreTrainedTokenizerBase) -> Completion:
    """A vLLM output as a Completion: finished when it stopped at end-of-sequence (vLLM may or may
    not keep the eos id in its output), not when the token budget ran out."""
    ids = ids[:ids.index(eos)] if eos in ids else ids
    return Completion(text=tok.decode(ids, skip_special_tokens=False), num_tokens=len(ids), finished=stopped,
                      token_ids=tuple(ids))


def make_generator(backend: str, path: str, batch_size: int, desc: str, seed: int = 0):
    """The sampler a stage's `backend` names, on the checkpoint at `path`: `hf` loads it here.
    `desc` labels its progress and may be changed between calls (evaluate: one per benchmark)."""
    if backend == "vllm":
        return VLLMGenerator(path, seed=seed, desc=desc)
    from .models import inference_dtype, load_policy

    model, tok = load_policy(path, dtype=inference_dtype())
    return HFGenerator(model, tok, batch_size, desc=desc)

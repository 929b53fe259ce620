"""Probe: does the layout of `generation.PreallocatedLayer`'s buffer slow decode's attention?

Attention over the preallocated cache reads a view of the filled part: shape (B, H, t, D) with the
strides of the full (B, H, capacity, D) buffer. Profiling put about 40 % of decode time in the CPU
flash-attention kernel, which looked slower on that view than on a contiguous tensor of the same
values. This probe measures it two ways, one thread, on a random-init model of the experiment's
`model` shape (the figures of `make bench decode`: batch 256, 24-token prompts, 56 new tokens):

- attention alone: `scaled_dot_product_attention` of one query row against the view, against a
  contiguous tensor of the same shape (both warm, repeated), at several filled lengths t;
- decode end to end, `generation.decode` with the buffer laid out as
  `bhtd` (today's: batch, head, position, dim), `bhtd_pad` (the same with a capacity padded by 16
  positions, so that consecutive heads do not start at a 4 KiB multiple), and `bthd` (batch,
  position, head, dim: the filled part of every row is one block, heads interleaved),
  each against one forward pass over the full rows (the bench's bound), with the sampled tokens
  compared to today's layout;
- attention alone again, at t = 52, over the experiment's number of layers with the caches pushed
  out of the CPU's caches between calls, in float32 and in bfloat16 (a half-precision cache reads
  half the bytes);
- and, for scale, today's layout with transformers' eager attention (`eager`: matmul, softmax,
  matmul) in place of SDPA, which computes the same function with other float rounding, so its
  samples may differ; and `dynamic`, decode's plain algorithm (`fast=False`: transformers'
  DynamicCache, which copies the whole cache at every token).

    python probes/decode_cache_layout.py --repeats 3

What it found (probes/results/decode_cache_layout.jsonl: five runs of 3-5 repeats, the machine
otherwise idle; the third added `eager`, the fourth the cold attention, the fifth `dynamic`):
warm and alone, attention on the view took 1.31-1.55× as long as on a contiguous copy, but no
layout made decode faster. Decode took 1.52-1.70 s with today's layout, 1.62-1.74 s padded and
1.65-1.79 s position-major (0.54-0.58, 0.51-0.55 and 0.49-0.54 of the forward bound), all sampling
the same tokens. Eager attention took 1.64, 1.66 and 1.64 s against today's 1.63, 1.67 and 1.70 s
in the same runs, and DynamicCache 1.67 s against 1.70 s: at one row per prompt with no row
finishing, the preallocated cache is no faster than transformers' cache on this machine (both
sampled the same tokens). Today's layout and SDPA stay. Inside decode, the attention call takes
about 2.4 ms per layer and step (torch.profiler, 35 % of decode), about 1.0 ms for the same shape
in the warm loop and 2.96-3.04 ms with the caches pushed out between calls: the four layers'
cache (84 MB at capacity) does not stay in the CPU's caches, so what decode pays for is reading
it, whatever its strides or kernel. A bfloat16 cache would read half the bytes, but this CPU
(AVX2, no native bfloat16 arithmetic) took 4.71-4.87 ms per cold call in bfloat16.

One json line is appended to probes/results/decode_cache_layout.jsonl.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from _records import append_record

from dapo import generation
from dapo.bench import _timed as timed
from dapo.generation import PreallocatedLayer, Sampling, decode
from dapo.models import build_char_tokenizer, build_policy
from dapo.params import load_params

ROOT = Path(__file__).resolve().parent.parent


class PaddedLayer(PreallocatedLayer):
    """Today's layout, its capacity padded so heads do not start at a multiple of 4 KiB."""

    def __init__(self, capacity: int):
        super().__init__(capacity + 16)


class PositionMajorLayer(PreallocatedLayer):
    """Buffer (B, capacity, H, D); attention gets the transposed view (B, H, t, D)."""

    def lazy_initialization(self, key_states, value_states):
        self.dtype, self.device = key_states.dtype, key_states.device
        b, h, _, d = key_states.shape
        self.key_buffer = key_states.new_empty((b, self.capacity, h, d))
        self.value_buffer = value_states.new_empty((b, self.capacity, h, value_states.shape[-1]))
        self.is_initialized = True

    def _views(self):
        self.keys = self.key_buffer[:, :self.length].transpose(1, 2)
        self.values = self.value_buffer[:, :self.length].transpose(1, 2)

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        self.key_buffer[:, self.length:end] = key_states.transpose(1, 2)
        self.value_buffer[:, self.length:end] = value_states.transpose(1, 2)
        self.length = end
        self._views()
        return self.keys, self.values


LAYOUTS = {"bhtd": PreallocatedLayer, "bhtd_pad": PaddedLayer, "bthd": PositionMajorLayer}


def attention_alone(batch: int, heads: int, dim: int, capacity: int, lengths: list[int], repeat: int) -> dict:
    """Milliseconds per call against the view of a full buffer and against a contiguous tensor."""
    g = torch.Generator().manual_seed(0)
    q = torch.randn(batch, heads, 1, dim, generator=g)
    kbuf = torch.randn(batch, heads, capacity, dim, generator=g)
    vbuf = torch.randn(batch, heads, capacity, dim, generator=g)
    out = {"view_ms": {}, "contiguous_ms": {}, "same_values": True}
    sdpa = F.scaled_dot_product_attention
    for t in lengths:
        kv, vv = kbuf[:, :, :t], vbuf[:, :, :t]
        kc, vc = kv.contiguous(), vv.contiguous()
        out["view_ms"][t] = 1e3 * timed(lambda k=kv, v=vv: sdpa(q, k, v), repeat)
        out["contiguous_ms"][t] = 1e3 * timed(lambda k=kc, v=vc: sdpa(q, k, v), repeat)
        out["same_values"] &= torch.equal(sdpa(q, kv, vv), sdpa(q, kc, vc))
    out["view_over_contiguous"] = sum(out["view_ms"].values()) / sum(out["contiguous_ms"].values())
    return out


def attention_cold(batch: int, heads: int, dim: int, capacity: int, layers: int, t: int, dtype: torch.dtype,
                   repeat: int) -> float:
    """Milliseconds per SDPA call over `layers` caches of the given dtype, each call after a pass
    over 32 MB that pushes the caches out of the CPU's caches as a decoding step's other work
    does; that pass, timed alone, is subtracted."""
    g = torch.Generator().manual_seed(0)
    caches = [(torch.randn(batch, heads, capacity, dim, generator=g).to(dtype),
               torch.randn(batch, heads, capacity, dim, generator=g).to(dtype)) for _ in range(layers)]
    q = torch.randn(batch, heads, 1, dim, generator=g).to(dtype)
    other = torch.randn(8_000_000, generator=g)

    def step():
        for k, v in caches:
            F.scaled_dot_product_attention(q, k[:, :, :t], v[:, :, :t])
            other.mul_(1.0)

    evict = timed(lambda: [other.mul_(1.0) for _ in caches], repeat)
    return 1e3 * (timed(step, repeat) - evict) / layers


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--prompt", type=int, default=24)
    p.add_argument("--new", type=int, default=56)
    args = p.parse_args()
    torch.set_num_threads(1)
    arch = load_params(ROOT / "params" / "default.yaml")["model"]
    tok = build_char_tokenizer()
    model = build_policy(tok, arch, seed=0).eval()
    heads = arch["num_attention_heads"]
    head_dim, capacity = arch["hidden_size"] // heads, args.prompt + args.new
    row = {"batch": args.batch, "prompt": args.prompt, "new": args.new, "repeats": args.repeats,
           "attention": attention_alone(args.batch, heads, head_dim, capacity, [8, 24, 40, 56, 72, 80], repeat=50),
           "attention_cold_ms_at_52": {
               str(dtype).removeprefix("torch."): attention_cold(args.batch, heads, head_dim, capacity,
                                                                 arch["num_hidden_layers"], 52, dtype, 20)
               for dtype in (torch.float32, torch.bfloat16)}}

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, len(tok), (args.batch, args.prompt), generator=g)
    mask = torch.ones_like(ids)
    full = torch.randint(4, len(tok), (args.batch, capacity), generator=g)
    sampling = Sampling(n=1, temperature=1.0, max_new_tokens=args.new)

    def run(layout: str):
        generation.PreallocatedLayer = LAYOUTS.get(layout, PreallocatedLayer)
        model.set_attn_implementation("eager" if layout == "eager" else "sdpa")
        try:
            start = time.perf_counter()
            rows, _ = decode(model, ids, mask, 1, sampling, -1, torch.Generator().manual_seed(0),
                             fast=layout != "dynamic")
            return time.perf_counter() - start, rows
        finally:
            generation.PreallocatedLayer = PreallocatedLayer
            model.set_attn_implementation("sdpa")

    with torch.no_grad():
        forward = timed(lambda: model(input_ids=full), repeat=3)
    variants = [*LAYOUTS, "eager", "dynamic"]
    times: dict[str, list[float]] = {k: [] for k in variants}
    same: dict[str, bool] = {}
    _, reference = run("bhtd")  # also the warm-up
    for layout in ("eager", "dynamic"):  # their warm-ups
        run(layout)
    for _ in range(args.repeats):
        for layout in variants:
            seconds, rows = run(layout)
            times[layout].append(seconds)
            same[layout] = same.get(layout, True) and rows == reference
    median = {k: statistics.median(v) for k, v in times.items()}
    tokens = args.batch * args.new
    row.update({"forward_seconds": forward, "decode_median_seconds": median,
                "ratio_to_forward_bound": {k: (tokens / v) / (args.batch * capacity / forward)
                                           for k, v in median.items()},
                "same_tokens_as_bhtd": same})
    print(row)
    append_record("decode_cache_layout", row)


if __name__ == "__main__":
    main()

"""Probe: when should `generation.decode` drop finished rows from its batch (`COMPACT_AT`)?

Dropping rows copies the KV cache, about the cost of one decoding step; keeping finished rows
costs their share of every step. Times `decode` on the default pi_0 (results/sft/model) over MC
labelling's batch shape (64 rl prompts x N = 8 at the complete stage's temperature, one thread)
for several shares, against the plain algorithm (`decode(fast=False)`: transformers' DynamicCache,
rows dropped at every step), and checks that every variant samples the same tokens.

    python probes/decode_compaction.py --repeats 3

What it decided (probes/results/decode_compaction.jsonl, 3 repeats, the machine otherwise idle):
against the plain algorithm's 1.81 s, the preallocated cache dropping rows at every finish (share
0) is 1.08x faster, 1/8 1.30x, 1/4 1.29x, 1/2 1.24x; every variant sampled the same tokens. A
quarter stays (1/8 is within the noise of it).

Rerun twice later on a pi_0 rebuilt from scratch in a fresh clone (commit 88aba31's sft rule; its
samples had 19,976 tokens against 19,984 above), on a day the machine ran the forward pass 15-30 %
slower than before: against the plain algorithm's 1.96 and 1.84 s, share 0 was 0.93x and 0.90x,
1/8 1.01x and 0.95x, 1/4 1.02x and 0.95x, 1/2 1.04x and 1.01x, with the same tokens. The gain above
did not reproduce there. The quarter stays, as no share was faster beyond the noise.

One json line is appended to probes/results/decode_compaction.jsonl.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from _records import append_record

from dapo import generation
from dapo.generation import Sampling, decode
from dapo.io import read_jsonl
from dapo.models import load_policy
from dapo.params import load_params
from dapo.tasks import get_task

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--prompts", type=int, default=64)
    p.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.125, 0.25, 0.5])
    args = p.parse_args()
    torch.set_num_threads(1)
    params = load_params(ROOT / "params" / "default.yaml")
    hp = params["complete"]
    model, tok = load_policy(ROOT / "results" / "sft" / "model")
    task = get_task(params["data"]["task"])
    problems = read_jsonl(ROOT / "results" / "data" / "rl.jsonl")[:args.prompts]
    batch = tok([task.policy_prompt(q, tok) for q in problems], return_tensors="pt", padding=True,
                add_special_tokens=False)
    sampling = Sampling(n=hp["N"], temperature=hp["temperature"], top_p=hp["top_p"],
                        max_new_tokens=hp["max_new_tokens"], seed=0)

    def run(fast: bool) -> tuple[float, list[list[int]]]:
        start = time.perf_counter()
        rows, _ = decode(model, batch["input_ids"], batch["attention_mask"], hp["N"], sampling, tok.eos_token_id,
                         torch.Generator().manual_seed(0), fast=fast)
        return time.perf_counter() - start, rows

    run(True)  # warm-up
    times: dict[str, list[float]] = {}
    reference = None
    same = {}
    for _ in range(args.repeats):
        seconds, reference = run(False)
        times.setdefault("plain", []).append(seconds)
        for share in args.shares:
            generation.COMPACT_AT = share
            seconds, rows = run(True)
            times.setdefault(f"{share:g}", []).append(seconds)
            same[f"{share:g}"] = rows == reference
    median = {k: statistics.median(v) for k, v in times.items()}
    row = {"prompts": args.prompts, "N": hp["N"], "repeats": args.repeats, "median_seconds": median,
           "speedup_vs_plain": {k: median["plain"] / v for k, v in median.items() if k != "plain"},
           "same_tokens_as_plain": same, "tokens": sum(len(r) for r in reference)}
    print(row)
    append_record("decode_compaction", row)


if __name__ == "__main__":
    main()

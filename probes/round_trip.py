"""Probe: which step-splitting convention keeps SmolLM2's sampled ids equal to the ids the actor
scores (state text, then action text, each tokenised: `logprobs.round_trip_error`).

Samples responses of SmolLM2-135M-Instruct on rg_math problems (the smollm2 experiment's task) and
counts, per convention, the responses with a step whose re-tokenisation differs from the sample:
- newline_last: a step ends with its newline, blank lines are steps of their own (the paper's
  split at single newlines);
- run_last: a run of newlines ends one step;
- newline_first: a step starts with the run of newlines before its line, so every state ends in
  the middle of the text rather than after a newline.

    python probes/round_trip.py --problems 32 --samples 2

What it decided (probes/results/round_trip.jsonl, 64 samples): 59 of 64 responses fail the round
trip under the paper's split, 58 with blank lines joined to their step, 19 even when every state
ends inside a line (the model samples token sequences that are not the tokenizer's own encoding
of their text). No split makes text re-tokenisation safe, so actions keep the ids the policy
sampled (`labelling.first_step_ids`) and the split stays the paper's.

One json line is appended to probes/results/round_trip.jsonl.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from _records import append_record

from dapo.generation import HFGenerator, Sampling
from dapo.logprobs import round_trip_error
from dapo.models import convert_gguf, load_policy, smollm2_gguf
from dapo.tasks import get_task

MODEL = Path(__file__).parent / "out" / "smollm2_task" / "model"
CONFIG = {"dataset": "basic_arithmetic", "min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 1,
          "operators": ["+", "-", "*"], "allow_negation": False}
SPLITS = {
    "newline_last": lambda r: [s + "\n" for s in r.split("\n")[:-1]] + ([r.split("\n")[-1]] if r.split("\n")[-1] else []),
    "run_last": lambda r: [s for s in re.split(r"(?<=\n)(?=[^\n])", r) if s],
    "newline_first": lambda r: [s for s in re.split(r"(?<=[^\n])(?=\n+[^\n])", r) if s],
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--problems", type=int, default=32)
    p.add_argument("--samples", type=int, default=2)
    args = p.parse_args()
    if not MODEL.is_dir():
        convert_gguf(smollm2_gguf(), MODEL)
    model, tok = load_policy(MODEL)
    task = get_task("rg_math")
    problems = task.make_problems(CONFIG, args.problems, seed=999)
    prompts = [task.policy_prompt(q, tok) for q in problems]
    outs = HFGenerator(model, tok, batch_size=64).generate(
        prompts, Sampling(n=args.samples, temperature=0.7, max_new_tokens=128, seed=0))
    row = {"responses": sum(map(len, outs)), "with_blank_line": sum("\n\n" in c.text for cs in outs for c in cs)}
    for name, split in SPLITS.items():
        bad = [c.text for prompt, cs in zip(prompts, outs) for c in cs
               if round_trip_error(tok, prompt, list(c.token_ids), split(c.text)) is not None]
        assert all("".join(split(c.text)) == c.text for cs in outs for c in cs)
        row[name] = len(bad)
        print(name, len(bad), "of", row["responses"], repr(bad[0][:120]) if bad else "")
    append_record("round_trip", row)


if __name__ == "__main__":
    main()

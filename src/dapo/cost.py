"""GPU-hours per stage of one DAPO iteration at an experiment's sizes: an estimate, not a measurement.

    python -m dapo.cost params/paper/qwen2.5-math-7b-instruct.yaml --params-b 7.6

Counts come from the params (prompts, n1, n, N, epochs) and from the shape of a response, which
the params do not fix: steps per response and tokens per response (flags; the defaults are
typical of 7B math solutions, not measured here). Each stage is priced two ways:
- `measured`: this project's throughput on a GPU (README, `make bench-gpu`: a 0.5B policy on one
  H200 decoded 13,637 tok/s at batch 256, ran one forward pass over the same rows at 324,000
  tok/s, and trained 85,304 tok/s, the critic 115,631 tok/s), scaled by the parameter ratio. Decoding through transformers is launch-bound, so this is the
  price of the HF backend;
- `bound`: FLOPs (2 x parameters per decoded or scored token, 6 x per trained token) at a given
  model-FLOPs utilisation of the GPU's dense bf16 peak: what an efficient backend (vLLM, a
  well-tuned trainer) approaches.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# the measured figures of record (README, "On a GPU"), one H200, a 494M-parameter Qwen2 shape
MEASURED = {"params_b": 0.494, "decode": 13_637.0, "score": 324_000.0, "train_policy": 85_304.0,
            "train_critic": 115_631.0}
PEAK_TFLOPS = 989.0  # H100/H200 SXM dense bf16


@dataclass(frozen=True)
class Shape:
    prompts: int
    n1: int
    n: int
    N: int
    steps: float  # steps (lines) per response
    response_tokens: float
    prompt_tokens: float
    critic_epochs: float
    actor_epochs: float
    actions_per_state: float  # unique actions kept per state after the gap filter


def stage_tokens(s: Shape) -> dict[str, tuple[str, float]]:
    """{stage: (kind, tokens)}: decoded tokens of generate and complete, trained tokens of the critic
    and the actor, scored (forward-only) tokens of the reference log-probs and the critic's values.

    A completion from a state t steps in decodes the rest of a response: on average half of it. A
    state's context is the prompt and, on average, half a response.
    """
    states = s.prompts * s.n * s.steps
    context = s.prompt_tokens + s.response_tokens / 2
    action = s.response_tokens / s.steps
    pairs = states * s.actions_per_state
    return {
        "generate": ("decode", s.prompts * s.n1 * s.response_tokens),
        "complete": ("decode", states * s.N * s.response_tokens / 2),
        "critic": ("train_critic", s.critic_epochs * states * context),
        "advantages": ("score", states * s.N * (context + action) + pairs * (context + action)),
        "actor": ("train_policy", s.actor_epochs * pairs * (context + action)),
    }


def gpu_hours(tokens: float, kind: str, params_b: float, mfu: float) -> tuple[float, float]:
    """(measured, bound) GPU-hours of `tokens` of `kind` for a model of `params_b` billion parameters."""
    scale = params_b / MEASURED["params_b"]
    rate = MEASURED[kind] / scale
    flops = (6 if kind.startswith("train") else 2) * params_b * 1e9 * tokens
    return tokens / rate / 3600, flops / (mfu * PEAK_TFLOPS * 1e12) / 3600


def table(s: Shape, params_b: float, mfu: float) -> str:
    header = f"| stage | work | tokens | GPU-hours, measured HF throughput | GPU-hours, bound at {mfu:.0%} MFU |"
    rows = [header, "|---|---|---|---|---|"]
    total = [0.0, 0.0]
    for stage, (kind, tokens) in stage_tokens(s).items():
        measured, bound = gpu_hours(tokens, kind, params_b, mfu)
        total = [total[0] + measured, total[1] + bound]
        rows.append(f"| {stage} | {kind} | {tokens / 1e6:,.0f}M | {measured:,.0f} | {bound:,.1f} |")
    rows.append(f"| one iteration | | | {total[0]:,.0f} | {total[1]:,.1f} |")
    return "\n".join(rows)


def main():
    from .params import load_params

    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("params", help="experiment file, e.g. params/paper/qwen2.5-math-7b-instruct.yaml")
    p.add_argument("--params-b", type=float, required=True, help="parameters of actor and critic, billions")
    p.add_argument("--steps", type=float, default=12, help="steps (lines) per response")
    p.add_argument("--response-tokens", type=float, default=400)
    p.add_argument("--prompt-tokens", type=float, default=150)
    p.add_argument("--actions-per-state", type=float, default=4,
                   help="unique actions per state kept by the gap filter")
    p.add_argument("--mfu", type=float, default=0.4)
    args = p.parse_args()
    hp = load_params(args.params)
    shape = Shape(prompts=hp["data"]["splits"]["rl"], n1=hp["generate"]["n1"], n=hp["generate"]["n"],
                  N=hp["complete"]["N"], steps=args.steps, response_tokens=args.response_tokens,
                  prompt_tokens=args.prompt_tokens, critic_epochs=hp["critic"]["epochs"],
                  actor_epochs=hp["actor"]["epochs"], actions_per_state=args.actions_per_state)
    print(f"{hp['experiment']}: {shape.prompts:,} prompts, {shape.prompts * shape.n * shape.steps:,.0f} states, "
          f"{shape.n1 + shape.n * shape.steps * shape.N:,.0f} sequences sampled per prompt")
    print(table(shape, args.params_b, args.mfu))


if __name__ == "__main__":
    main()

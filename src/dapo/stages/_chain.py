"""Arguments shared by the stages of one DAPO chain (one seed, one iteration)."""

from __future__ import annotations


def add_chain_args(p) -> None:
    p.add_argument("--seed", type=int, required=True, help="chain seed (0..seeds-1)")
    p.add_argument("--iteration", type=int, required=True, help="DAPO iteration (1..iterations)")


def chain_seed(args, stage_offset: int) -> int:
    """A distinct, reproducible seed per (stage, chain seed, iteration)."""
    return 1_000_003 * args.seed + 1_009 * args.iteration + stage_offset

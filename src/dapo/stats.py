"""Uncertainty of accuracy differences: paired over problems, across seeds."""

from __future__ import annotations

import numpy as np


def paired_bootstrap_ci(diff: np.ndarray, n_boot: int = 2000, level: float = 0.95,
                        seed: int = 0) -> tuple[float, float, float]:
    """Mean paired difference and its percentile bootstrap CI, resampling problems and seeds.

    diff: (S, P) per-problem difference of a model's score and the baseline's on the same problem,
    one row per training seed of the model (e.g. correct_model - correct_base in {-1, 0, 1}).
    Each bootstrap draw resamples the P problems with replacement (the same problems for every
    seed, keeping the pairing) and the S seeds with replacement, then takes the mean.
    Returns (mean, low, high).
    """
    diff = np.asarray(diff, dtype=np.float64)
    if diff.ndim != 2 or diff.size == 0:
        raise ValueError(f"diff must be a non-empty (seeds, problems) array, got shape {diff.shape}")
    s, p = diff.shape
    rng = np.random.default_rng(seed)
    problems = rng.integers(0, p, size=(n_boot, p))
    seeds = rng.integers(0, s, size=(n_boot, s))
    per_seed = diff[:, problems].mean(-1)  # (S, n_boot): each seed's mean over the resampled problems
    draws = np.take_along_axis(per_seed.T, seeds, axis=1).mean(-1)  # (n_boot,)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(draws, [tail, 100 - tail])
    return float(diff.mean()), float(lo), float(hi)

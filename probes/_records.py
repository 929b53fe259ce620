"""What every probe shares: paired val differences from pi_0 and the record file it appends to."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dapo.stats import paired_bootstrap_ci


def paired_deltas(records: list[dict], base_records: list[dict], samples: int) -> tuple[list, list]:
    """Greedy and sampled differences from the base over the same problems, each with its 95 % CI."""
    greedy = np.array([[r["correct"] - b["correct"] for r, b in zip(records, base_records)]], dtype=float)
    sampled = np.array([[(r["sampled_correct"] - b["sampled_correct"]) / samples
                         for r, b in zip(records, base_records)]])
    return paired_bootstrap_ci(greedy), paired_bootstrap_ci(sampled)


def append_record(name: str, row: dict) -> None:
    """One json line into probes/results/<name>.jsonl, wherever the probe runs from."""
    out = Path(__file__).parent / "results" / f"{name}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(json.dumps(row) + "\n")


def show(row: dict) -> None:
    """A record on one line, floats to four significant digits (an lr of 1e-06 stays readable)."""
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)

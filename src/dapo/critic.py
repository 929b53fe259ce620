"""The critic V_phi(s) = sigmoid(logit), fit to MC labels with BCE (paper section 4, step 3).

The critic is a value function of the policy that produced the labels, trained independently of
the actor; iteration i+1 warm-starts from critic i.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .losses import critic_bce_loss
from .tasks import Task
from .training import Checkpoints, LogWindow, Optimiser, token_count


def split_by_prompt(prompt_ids: list[str], val_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of held-out rows: whole prompts go to validation, so no state leaks across."""
    unique = sorted(set(prompt_ids))
    random.Random(seed).shuffle(unique)
    held = set(unique[:math.ceil(val_fraction * len(unique))]) if val_fraction > 0 else set()
    return np.array([p in held for p in prompt_ids], dtype=bool)


def _logits(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str],
            pieces: int = 1) -> torch.Tensor:
    """Value logits (B,) of the texts, in their order.

    The texts run as `pieces` forward passes of similar lengths, each padded to its own longest:
    a batch of the default's states is a third padding when padded as one, and the logits do not
    depend on how a batch is split (one backward through the concatenation gives the same gradient).
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    size = math.ceil(len(texts) / pieces) if texts else 1
    parts = []
    for k in range(0, len(order), size):
        chunk = [texts[i] for i in order[k:k + size]]
        batch = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        parts.append(model(**batch).logits.squeeze(-1).float())
    logits = torch.cat(parts) if parts else torch.zeros(0, device=model.device)
    return logits[torch.argsort(torch.tensor(order, device=logits.device))]


@torch.no_grad()
def predict_values(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str],
                   batch_size: int, desc: str | None = None) -> np.ndarray:
    """V(s) for each state text, in [0, 1]; with `desc`, a progress bar of that name counts the texts."""
    model.eval()
    out = []
    with tqdm(total=len(texts), desc=desc, unit="text", disable=desc is None, mininterval=5) as bar:
        for i in range(0, len(texts), batch_size):
            out.append(torch.sigmoid(_logits(model, tokenizer, texts[i:i + batch_size])).cpu())
            bar.update(len(out[-1]))
    return torch.cat(out).numpy() if out else np.zeros(0)


def critic_quality(pred: np.ndarray, mc: np.ndarray, bins: int = 5) -> dict[str, Any]:
    """Held-out quality of V against MC labels: BCE, MAE, Brier, and calibration per value bin.

    Calibration bins split [0, 1] into `bins` equal intervals of the prediction; each reports the
    mean prediction, the mean MC label and the count.
    """
    p = np.clip(pred, 1e-6, 1 - 1e-6)
    out: dict[str, Any] = {
        "bce": float(np.mean(-(mc * np.log(p) + (1 - mc) * np.log(1 - p)))),
        "mae": float(np.mean(np.abs(pred - mc))),
        "brier": float(np.mean((pred - mc) ** 2)),
        "n": len(pred),
    }
    which = np.minimum((pred * bins).astype(int), bins - 1)
    out["calibration"] = [
        {"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "mean_pred": float(pred[which == b].mean()),
         "mean_mc": float(mc[which == b].mean()), "count": int((which == b).sum())}
        for b in range(bins) if (which == b).any()]
    return out


def value_traces(task: Task, problems: dict[str, dict], records: list[dict],
                 values: Callable[[list[str]], np.ndarray], tokenizer=None) -> pd.DataFrame:
    """The critic along whole solutions (the paper's Figure 2): for every response of `records`
    (evaluation records with id, response and correct), each of its states s_t = prompt + its first t
    steps, t = 0..T-1, valued by `values` (texts -> V) and, where the task can decide it, exactly
    (`Task.oracle_value`, else NaN). States are rendered for `tokenizer`, the critic's
    (`Task.policy_prompt`).

    Returns one row per state: id, correct, steps (T), depth (t), critic, exact.
    """
    rows, texts = [], []
    for r in records:
        problem = problems[r["id"]]
        steps = task.split_steps(r["response"])
        prefix = ""
        for t, step in enumerate(steps):
            try:
                exact = task.oracle_value(problem, prefix)
            except NotImplementedError:
                exact = float("nan")
            rows.append({"id": r["id"], "correct": bool(r["correct"]), "steps": len(steps), "depth": t,
                         "exact": exact})
            texts.append(task.policy_prompt(problem, tokenizer) + prefix)
            prefix += step
    out = pd.DataFrame(rows, columns=["id", "correct", "steps", "depth", "exact"])
    out.insert(4, "critic", values(texts) if texts else np.zeros(0))
    return out


def train_critic(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, texts: list[str],
                 labels: np.ndarray, hp: dict[str, Any],
                 on_log: Callable[[int, dict[str, float]], None] | None = None,
                 progress: bool = True, checkpoints: Checkpoints | None = None) -> dict[str, float]:
    """BCE on soft labels for hp['epochs'] epochs of shuffled batches; returns summary metrics.
    With `checkpoints`, resumes from the last one and saves new ones as it goes.

    hp: epochs, batch_size, lr, warmup_steps, weight_decay, seed, log_every.
    """
    optim = Optimiser(model, hp["lr"], hp["weight_decay"], hp["warmup_steps"], hp["max_grad_norm"], name="critic")
    model = optim.model
    model.train()
    rng = random.Random(hp["seed"])
    order, batches = list(range(len(texts))), []
    for _ in range(hp["epochs"]):
        rng.shuffle(order)
        batches += [order[b:b + hp["batch_size"]] for b in range(0, len(order), hp["batch_size"])]
    y = torch.tensor(labels, dtype=torch.float32)
    start, total = time.time(), len(batches)
    checkpoints = checkpoints or Checkpoints(None)
    done, saved = checkpoints.resume(optim, on_log, total)
    window = LogWindow(hp["log_every"], total, checkpoints.log)
    window.rows = saved.get("window", [])
    bar = tqdm(total=total, initial=done, desc="critic", unit="step",
               disable=not (progress and optim.is_main_process), mininterval=5)
    for batch in batches[done:]:
        idx, share = optim.shard(batch)
        logits = _logits(model, tokenizer, [texts[i] for i in idx], pieces=2)
        loss = critic_bce_loss(logits, y[idx].to(logits.device)).mean()
        loss_value, _ = optim.step(loss, share)
        bar.update(1)
        mean = window.add(optim.steps, {"critic/train_bce": loss_value})
        if mean:
            bar.set_postfix(bce=f"{mean['critic/train_bce']:.4f}")
        checkpoints.save_if_due({"window": window.rows})
    bar.close()
    model.eval()
    return {"critic/steps": optim.steps, "critic/train_seconds": time.time() - start, "critic/processes": optim.processes,
            "critic/sharded": int(optim.sharded), "critic/tokens_trained": hp["epochs"] * token_count(tokenizer, texts)}

"""The DAPO actor update (paper section 3 and section 4, step 6).

Offline regression of each action's log-ratio against its advantage divided by beta: no clipping,
no extra KL term, no SFT term. Batches are built from whole states, so all actions of a state share
a batch.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .logprobs import action_logps, sampled_ids
from .losses import dapo_loss
from .training import Checkpoints, LogWindow, Optimiser, token_count


def state_batches(state_ids: list[int], states_per_batch: int, rng: random.Random) -> list[list[int]]:
    """Row indices grouped by state, states shuffled, `states_per_batch` whole states per batch."""
    by_state: dict[int, list[int]] = {}
    for row, sid in enumerate(state_ids):
        by_state.setdefault(sid, []).append(row)
    order = list(by_state)
    rng.shuffle(order)
    return [[r for sid in order[i:i + states_per_batch] for r in by_state[sid]]
            for i in range(0, len(order), states_per_batch)]


def state_subset(state_ids: pd.Series, fraction: float) -> pd.Series:
    """Boolean mask of the rows whose state is among the first ceil(fraction * S) of the S states in
    one fixed shuffled order: the data-size ablation's training set. The subsets of one dataset are
    nested (a smaller fraction keeps a subset of a larger one's states), and fraction 1 keeps all.
    """
    states = sorted(state_ids.unique())
    random.Random(0).shuffle(states)
    kept = set(states[:math.ceil(fraction * len(states))])
    return state_ids.isin(kept)


def action_weights(data: pd.DataFrame, scheme: str) -> list[float]:
    """Per-pair weight in the batch mean. `unique`: each unique action once (the paper).
    `count`: each action by how many of the state's N samples it was, so the loss is the mean over
    the sampled actions and the advantages it weighs sum to zero per state (beyond the paper)."""
    if scheme == "unique":
        return [1.0] * len(data)
    if scheme == "count":
        return data["count"].astype(float).tolist()
    raise ValueError(f"unknown action_weight {scheme!r}; known: unique, count")


def train_actor(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, data: pd.DataFrame,
                hp: dict[str, Any], on_log: Callable[[int, dict[str, float]], None] | None = None,
                progress: bool = True, checkpoints: Checkpoints | None = None) -> dict[str, float]:
    """Minimise the mean DAPO loss over `data` (state, action, eos, advantage, ref_logp columns).
    With `checkpoints`, resumes from the last one and saves new ones as it goes.

    hp: beta, lr, epochs, states_per_batch, warmup_steps, weight_decay, max_grad_norm, seed, log_every, and
    action_weight (see `action_weights`), target_floor (see `dapo_loss`).
    """
    optim = Optimiser(model, hp["lr"], hp["weight_decay"], hp["warmup_steps"], hp["max_grad_norm"], name="actor")
    model = optim.model
    model.train()
    rng = random.Random(hp["seed"])
    states, actions, action_ids = data["state"].tolist(), data["action"].tolist(), sampled_ids(data)
    eos, sids = data["eos"].tolist(), data["state_id"].tolist()
    adv = torch.tensor(data["advantage"].to_numpy(), dtype=torch.float32)
    weight = torch.tensor(action_weights(data, hp.get("action_weight", "unique")), dtype=torch.float32)
    ref = torch.tensor(data["ref_logp"].to_numpy(), dtype=torch.float32)
    batches = [b for _ in range(hp["epochs"]) for b in state_batches(sids, hp["states_per_batch"], rng)]
    checkpoints = checkpoints or Checkpoints(None)
    done, saved = checkpoints.resume(optim, on_log, len(batches))
    bar = tqdm(total=len(batches), initial=done, desc="actor", unit="step",
               disable=not (progress and optim.is_main_process), mininterval=5)
    window, start, first = LogWindow(hp["log_every"], len(batches), checkpoints.log), time.time(), saved.get("first")
    window.rows = saved.get("window", [])
    for batch in batches[done:]:
        idx, share = optim.shard(batch, weight[batch].tolist())
        logps = action_logps(model, tokenizer, [states[i] for i in idx], [actions[i] for i in idx],
                             [eos[i] for i in idx], action_ids and [action_ids[i] for i in idx])
        losses, _ = dapo_loss(logps, ref[idx].to(logps.device), adv[idx].to(logps.device), hp["beta"],
                              hp.get("target_floor"))
        w = weight[idx].to(losses.device)
        loss_value, grad_norm = optim.step((w * losses).sum() / w.sum(), share)
        bar.update(1)
        # the log-ratio statistics of the whole batch, whichever process computed each pair
        rows = optim.gather(torch.tensor(idx))
        _, stats = dapo_loss(optim.gather(logps), ref[rows], adv[rows], hp["beta"], hp.get("target_floor"))
        row = {"actor/loss": loss_value, "actor/grad_norm": grad_norm,
               **{f"actor/{k}": float(v) for k, v in stats.items()}}
        first = first or row
        mean = window.add(optim.steps, row)
        if mean:
            bar.set_postfix(loss=f"{mean['actor/loss']:.3g}", sign=f"{mean['actor/sign_agreement']:.2f}")
        checkpoints.save_if_due({"window": window.rows, "first": first})
    bar.close()
    model.eval()
    return {"actor/steps": optim.steps, "actor/train_seconds": time.time() - start, "actor/processes": optim.processes,
            "actor/sharded": int(optim.sharded),
            # each epoch scores every (state, action) pair once; an end-of-sequence action adds EOS
            "actor/tokens_trained": hp["epochs"] * (token_count(tokenizer, [s + a for s, a in zip(states, actions)])
                                                    + sum(map(bool, eos))),
            "actor/first_loss": first["actor/loss"] if first else float("nan")}


@torch.no_grad()
def fit_stats(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, data: pd.DataFrame,
              beta: float, batch_size: int, target_floor: float | None = None) -> dict[str, float]:
    """DAPO loss and log-ratio statistics of `model` over the whole dataset (one pass, no update)."""
    from .logprobs import batched_action_logps

    logps = batched_action_logps(model, tokenizer, data["state"].tolist(), data["action"].tolist(),
                                 data["eos"].tolist(), batch_size, sampled_ids(data), desc="final fit")
    losses, stats = dapo_loss(logps, torch.tensor(data["ref_logp"].to_numpy(), dtype=torch.float32),
                              torch.tensor(data["advantage"].to_numpy(), dtype=torch.float32), beta, target_floor)
    return {"loss": float(losses.mean()), **{k: float(v) for k, v in stats.items()}}

"""Batched log pi(a | s) for (state, action) text pairs: the reference log-probs and the actor's."""

from __future__ import annotations

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .losses import sequence_logps


def encode_pairs(tokenizer: PreTrainedTokenizerBase, states: list[str], actions: list[str],
                 eos: list[bool]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids of state + action (+ EOS where the action ends the solution).

    The state and the action are tokenised separately and concatenated, so the action's tokens are
    exactly the tokens the policy generated after the state.
    Returns input_ids (B, T), attention_mask (B, T), action_mask (B, T).
    """
    rows = []
    for s, a, e in zip(states, actions, eos):
        s_ids = tokenizer(s, add_special_tokens=False)["input_ids"]
        a_ids = tokenizer(a, add_special_tokens=False)["input_ids"] + ([tokenizer.eos_token_id] if e else [])
        rows.append((s_ids, a_ids))
    width = max(len(s) + len(a) for s, a in rows)
    ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    attn = torch.zeros((len(rows), width), dtype=torch.long)
    act = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, (s, a) in enumerate(rows):
        ids[i, :len(s) + len(a)] = torch.tensor(s + a)
        attn[i, :len(s) + len(a)] = 1
        act[i, len(s):len(s) + len(a)] = True
    return ids, attn, act


def action_logps(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, states: list[str],
                 actions: list[str], eos: list[bool]) -> torch.Tensor:
    """log pi(a | s) summed over action tokens for one batch of pairs; differentiable. Returns (B,)."""
    ids, attn, act = encode_pairs(tokenizer, states, actions, eos)
    device = model.device
    logits = model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits
    return sequence_logps(logits, ids.to(device), act.to(device))


@torch.no_grad()
def batched_action_logps(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, states: list[str],
                         actions: list[str], eos: list[bool], batch_size: int) -> torch.Tensor:
    """`action_logps` over any number of pairs, `batch_size` at a time, without gradients."""
    model.eval()
    out = [action_logps(model, tokenizer, states[i:i + batch_size], actions[i:i + batch_size],
                        eos[i:i + batch_size]).cpu()
           for i in range(0, len(states), batch_size)]
    return torch.cat(out) if out else torch.zeros(0)

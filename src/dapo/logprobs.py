"""Batched log pi(a | s) for (state, action) text pairs: the reference log-probs and the actor's."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .losses import sequence_logps


def encode_pairs(tokenizer: PreTrainedTokenizerBase, states: list[str], actions: list[str],
                 eos: list[bool], action_ids: Sequence[Sequence[int]] | None = None,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids of state + action (+ EOS where the action ends the solution).

    The state is tokenised as the sampler tokenised it when it sampled the action (the complete
    stage's prompt is the state's text). The action is the ids it sampled (`action_ids`, from
    `labelling.first_step_ids`) where given and non-empty, else its text tokenised, which is the
    same only where the tokenizer round-trips (`round_trip_error`; the char tokenizer always does).
    Returns input_ids (B, T), attention_mask (B, T), action_mask (B, T).
    """
    rows = []
    for j, (s, a, e) in enumerate(zip(states, actions, eos)):
        s_ids = tokenizer(s, add_special_tokens=False)["input_ids"]
        sampled = list(action_ids[j]) if action_ids is not None and len(action_ids[j]) else None
        a_ids = (sampled or tokenizer(a, add_special_tokens=False)["input_ids"]) + ([tokenizer.eos_token_id] if e else [])
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


def round_trip_error(tokenizer: PreTrainedTokenizerBase, prompt: str, generated: list[int],
                     steps: list[str]) -> int | None:
    """The first step t whose state and action, tokenised as `encode_pairs` does (state text, then
    action text), differ from the ids the policy generated after `prompt`; None when every step
    agrees. A BPE tokenizer can merge across a step boundary (a token spanning a newline and the
    next line's indent) or decode to text that re-tokenises differently; then log pi(a|s) of the
    actor and of the reference would score tokens the policy never sampled."""
    sampled = tokenizer(prompt, add_special_tokens=False)["input_ids"] + list(generated)
    state = prompt
    for t, step in enumerate(steps):
        ids = (tokenizer(state, add_special_tokens=False)["input_ids"]
               + tokenizer(step, add_special_tokens=False)["input_ids"])
        if ids != sampled[:len(ids)]:
            return t
        state += step
    return None


def action_logps(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, states: list[str],
                 actions: list[str], eos: list[bool], action_ids: Sequence[Sequence[int]] | None = None,
                 ) -> torch.Tensor:
    """log pi(a | s) summed over action tokens for one batch of pairs; differentiable. Returns (B,)."""
    ids, attn, act = encode_pairs(tokenizer, states, actions, eos, action_ids)
    device = model.device
    logits = model(input_ids=ids.to(device), attention_mask=attn.to(device)).logits
    return sequence_logps(logits, ids.to(device), act.to(device))


@torch.no_grad()
def batched_action_logps(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, states: list[str],
                         actions: list[str], eos: list[bool], batch_size: int,
                         action_ids: Sequence[Sequence[int]] | None = None, desc: str | None = None) -> torch.Tensor:
    """`action_logps` over any number of pairs, `batch_size` at a time, without gradients; with
    `desc`, a progress bar of that name counts the pairs."""
    model.eval()
    out = []
    with tqdm(total=len(states), desc=desc, unit="pair", disable=desc is None, mininterval=5) as bar:
        for i in range(0, len(states), batch_size):
            out.append(action_logps(model, tokenizer, states[i:i + batch_size], actions[i:i + batch_size],
                                    eos[i:i + batch_size],
                                    None if action_ids is None else action_ids[i:i + batch_size]).cpu())
            bar.update(len(out[-1]))
    return torch.cat(out) if out else torch.zeros(0)


def sampled_ids(data) -> list | None:
    """The `action_ids` column of an advantages table as lists, or None for a table without it."""
    return [list(ids) for ids in data["action_ids"]] if "action_ids" in data else None

"""Step advantages from the critic (paper section 4, step 4).

The candidate actions of a state are the first steps of its N completions. A candidate that ends the
solution (its completion is one step and the policy emitted end-of-sequence) is terminal: the paper
leaves its value unspecified, and here it is the verifier's exact reward rather than a critic
estimate. Other candidates are valued by the critic at s + a. A completion cut by the token budget
inside its first line has no whole step to offer and is not a candidate. Advantages are sibling-mean
centred over the candidates (duplicates included, so the baseline estimates V(s)); then each unique
action is kept once, and states whose advantage gap is below the threshold are dropped. An action
is its text and whether end-of-sequence follows it: the same line ending the solution in one
completion and continuing it in another is two actions, with different tokens and values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from .losses import advantage_gap_keep, sibling_mean_advantage
from .tasks import Task


def candidate_actions(completions: pd.DataFrame, states: pd.DataFrame, task: Task,
                      problems: dict[str, dict]) -> pd.DataFrame:
    """One row per (state, k): the first step of completion k, and whether it ends the solution.

    Rows: state_id, k, action, terminal, eos (the policy emitted end-of-sequence right after it;
    the same as terminal), reward (verifier reward of prefix + action for terminal actions, NaN
    otherwise), action_ids (the ids the policy sampled for it, when the completions carry them).
    A completion truncated before its first newline gives no row.
    """
    prefix = dict(zip(states["state_id"], states["prefix"]))
    prompt_of = dict(zip(states["state_id"], states["prompt_id"]))
    ids = completions["action_ids"] if "action_ids" in completions else [[]] * len(completions)
    rows = []
    for sid, k, text, finished, action_ids in zip(completions["state_id"], completions["k"],
                                                  completions["completion"], completions["finished"], ids):
        steps = task.split_steps(text)
        action = steps[0] if steps else ""
        terminal = len(steps) <= 1 and bool(finished)
        if len(steps) <= 1 and not terminal and not action.endswith("\n"):
            continue  # cut inside its first line: a partial step, not an action of the policy
        reward = float(task.verify(problems[prompt_of[sid]], prefix[sid] + action)) if terminal else np.nan
        rows.append({"state_id": sid, "k": k, "action": action, "terminal": terminal,
                     "eos": terminal, "reward": reward, "action_ids": list(action_ids)})
    return pd.DataFrame(rows, columns=["state_id", "k", "action", "terminal", "eos", "reward", "action_ids"])


def oracle_values(task: Task, problems: dict[str, dict],
                  states: pd.DataFrame) -> Callable[[list[int], list[str]], np.ndarray]:
    """The task's exact value V*(s + a) as a value function of (state ids, actions), for
    `candidate_advantages`: the oracle row's values and the yardstick of the critic's."""
    prompt_of = dict(zip(states["state_id"], states["prompt_id"]))
    prefix_of = dict(zip(states["state_id"], states["prefix"]))
    return lambda sids, actions: np.array([task.oracle_value(problems[prompt_of[s]], prefix_of[s] + a)
                                           for s, a in zip(sids, actions)])


def pad_by_state(state_id: pd.Series, value: pd.Series) -> tuple[list[int], torch.Tensor, torch.Tensor,
                                                                 tuple[np.ndarray, np.ndarray]]:
    """Candidate values laid out as (S, K) for the batched equations, padded where a state has fewer.

    Returns the sorted state ids (row order), values (S, K) float64, mask (S, K) bool, and the
    (row, slot) index of every input row, so per-candidate results can be read back.
    """
    state_ids = sorted(state_id.unique())
    row_of = {s: i for i, s in enumerate(state_ids)}
    k_max = int(state_id.value_counts().max()) if len(state_id) else 0
    values = torch.zeros((len(state_ids), k_max), dtype=torch.float64)
    mask = torch.zeros((len(state_ids), k_max), dtype=torch.bool)
    slot = state_id.groupby(state_id).cumcount().to_numpy().copy()  # pandas hands out read-only views
    rows = state_id.map(row_of).to_numpy().copy()
    values[rows, slot] = torch.tensor(value.to_numpy(dtype=np.float64))
    mask[rows, slot] = True
    return state_ids, values, mask, (rows, slot)


def candidate_advantages(candidates: pd.DataFrame,
                         value_fn: Callable[[list[int], list[str]], np.ndarray]) -> pd.DataFrame:
    """`candidates` with `value` and sibling-mean `advantage` of every sampled candidate.

    value_fn maps (state ids, actions) to V(s + a); it is called once, on the non-terminal unique
    (state, action) pairs. Terminal candidates keep the verifier's reward as their value.
    """
    cand = candidates.copy()
    cand["value"] = cand["reward"]
    open_pairs = cand.loc[~cand["terminal"], ["state_id", "action"]].drop_duplicates()
    if len(open_pairs):
        values = value_fn(open_pairs["state_id"].tolist(), open_pairs["action"].tolist())
        lookup = dict(zip(zip(open_pairs["state_id"], open_pairs["action"]), values))
        mask = ~cand["terminal"]
        cand.loc[mask, "value"] = [lookup[(s, a)] for s, a in zip(cand.loc[mask, "state_id"], cand.loc[mask, "action"])]
    _, values, mask, (rows, slot) = pad_by_state(cand["state_id"], cand["value"])
    cand["advantage"] = sibling_mean_advantage(values, mask)[rows, slot].numpy()
    return cand


ACTION = ["state_id", "action", "eos"]


def unique_actions(cand: pd.DataFrame) -> pd.DataFrame:
    """One row per (state, action, eos) with its count among the N samples. Rows of one key share
    their value and advantage (terminal ones the verifier's reward, the others one critic call);
    the action's ids are those of its first sample (k order)."""
    columns = ["state_id", "action", "count", "terminal", "eos", "value", "advantage"]
    extra = {"action_ids": ("action_ids", "first")} if "action_ids" in cand else {}
    return (cand.sort_values(["state_id", "k"], kind="stable").groupby(ACTION, sort=True)
            .agg(count=("k", "size"), terminal=("terminal", "first"),
                 value=("value", "first"), advantage=("advantage", "first"), **extra)
            .reset_index()[columns + list(extra)])


def compute_advantages(candidates: pd.DataFrame, value_fn: Callable[[list[int], list[str]], np.ndarray],
                       min_gap: float) -> tuple[pd.DataFrame, dict[str, int]]:
    """Advantages of the unique candidate actions of every state, after the gap filter.

    Returns rows (state_id, action, count, terminal, eos, value, advantage) and counts of states
    and actions kept and dropped.
    """
    return gap_filter(candidate_advantages(candidates, value_fn), min_gap)


def gap_filter(cand: pd.DataFrame, min_gap: float) -> tuple[pd.DataFrame, dict[str, int]]:
    """The unique actions of the states of `cand` (from `candidate_advantages`) whose advantage gap
    is at least `min_gap`, and the counts of `compute_advantages`."""
    state_ids, adv, mask, _ = pad_by_state(cand["state_id"], cand["advantage"])
    keep_state = advantage_gap_keep(adv, mask, min_gap)
    unique = unique_actions(cand)
    kept_states = {s for s, keep in zip(state_ids, keep_state.tolist()) if keep}
    kept = unique[unique["state_id"].isin(kept_states)].reset_index(drop=True)
    stats = {"states": len(state_ids), "states_kept": len(kept_states),
             "states_dropped": len(state_ids) - len(kept_states),
             "unique_actions": len(unique), "actions_kept": len(kept),
             "terminal_actions_kept": int(kept["terminal"].sum())}
    return kept, stats


def advantage_agreement(estimate: pd.DataFrame, exact: pd.DataFrame) -> dict[str, float]:
    """How well estimated advantages match exact (oracle) ones over the same unique actions.

    Both frames: state_id, action, eos, advantage (e.g. from `unique_actions`). Returns the fraction of
    pairs with a nonzero exact advantage whose estimate has the same sign, the Pearson correlation,
    and the fraction of actions the oracle calls wrong (value 0) among those the estimate favours.
    """
    both = estimate.merge(exact, on=ACTION, suffixes=("", "_exact"))
    nonzero = both["advantage_exact"] != 0
    same = np.sign(both["advantage"]) == np.sign(both["advantage_exact"])
    corr = (float(np.corrcoef(both["advantage"], both["advantage_exact"])[0, 1])
            if len(both) > 1 and both["advantage"].std() > 0 and both["advantage_exact"].std() > 0 else float("nan"))
    favoured = both["advantage"] > 0
    return {"sign_agreement": float(same[nonzero].mean()) if nonzero.any() else float("nan"),
            "correlation": corr,
            "favoured_wrong_fraction": float((both.loc[favoured, "value_exact"] == 0).mean())
            if favoured.any() else float("nan"),
            "pairs": len(both)}

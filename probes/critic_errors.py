"""Probe: where the critic's training signal for the actor goes wrong (iteration 1 of a finished build).

Reads the advantages the actor trained on (the gap filter's kept states, `advantages/`) and sets
them beside the task's exact step values of the same sampled candidates (no model is run). A state
is a *decision* when its candidates' exact advantages span at least `advantages.min_gap`: some
first steps keep the target reachable and some do not. The report, per seed and by state depth
(0 = the first step of a solution, 1+ = later steps):

- how many states the critic keeps, and the share of them that are decisions (the rest train the
  actor on sibling differences that the exact values say do not exist);
- recall: the share of all decisions the critic keeps;
- sign agreement of the kept actions' advantages with the exact ones (where the exact one is
  nonzero), each action counted as often as it was sampled;
- on kept decisions, how often the critic's favourite action is an exactly best one, beside two
  yardsticks: a uniformly random unique action (chance) and the action pi_0 sampled most often
  (the policy's own preference; ties broken at random).

Then, separating labels from generalisation: over the non-terminal first-step candidates a, the
AUC (exactly reachable against dead) of the critic's V(s + a), split by whether s + a is one of
the critic's own training states (it held out a tenth of the prompts), and of the MC labels of
the seen ones. This part loads each seed's critic and scores the candidates once.

The critic's favourite against pi_0's is also compared paired over the kept decisions of all seeds
(95 % bootstrap CI over states). One json line per (seed, depth group) and one per depth group for
the paired comparison go to probes/results/critic_errors.jsonl.

    python probes/critic_errors.py                       # the default build in results/
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from _records import append_record, show

from dapo.advantages import (
    ACTION,
    candidate_actions,
    candidate_advantages,
    oracle_values,
    pad_by_state,
    unique_actions,
)
from dapo.critic import predict_values, split_by_prompt
from dapo.io import read_jsonl, read_parquet
from dapo.losses import advantage_gap_keep
from dapo.models import load_critic
from dapo.params import load_params
from dapo.stages._chain import chain_seed
from dapo.stats import paired_bootstrap_ci
from dapo.tasks import get_task


def chain_candidates(root: Path, chain: str, task, problems: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A build's labelled states of one chain and their sampled candidate actions."""
    states = read_parquet(root / f"complete/{chain}/states.parquet")
    completions = read_parquet(root / f"complete/{chain}/completions.parquet")
    return states, candidate_actions(completions, states, task, problems)


def exact_advantages(states: pd.DataFrame, candidates: pd.DataFrame, task, problems: dict[str, dict]) -> pd.DataFrame:
    """Every sampled candidate, once per unique action, with its exact value and advantage (the
    oracle row's numbers, before the gap filter) and its state's depth."""
    exact = unique_actions(candidate_advantages(candidates, oracle_values(task, problems, states)))
    return exact.merge(states[["state_id", "depth"]], on="state_id")


def report(kept: pd.DataFrame, exact: pd.DataFrame, min_gap: float) -> tuple[dict[str, float], np.ndarray]:
    """The figures above for one group of states (`kept`: the critic's kept actions; `exact`: every
    candidate's exact advantage over the same states' group), and per kept decision the critic's
    favourite being best minus pi_0's most sampled action being best."""
    state_ids, advantages, mask, _ = pad_by_state(exact["state_id"], exact["advantage"])
    decisions = {s for s, keep in zip(state_ids, advantage_gap_keep(advantages, mask, min_gap).tolist()) if keep}
    kept_states = set(kept["state_id"])
    both = kept.merge(exact[ACTION + ["value", "advantage"]], on=ACTION, suffixes=("", "_exact"))
    nonzero = both[both["advantage_exact"] != 0]
    agree = np.sign(nonzero["advantage"]) == np.sign(nonzero["advantage_exact"])
    on_decisions = both[both["state_id"].isin(decisions)]
    favourite = on_decisions.loc[on_decisions.groupby("state_id")["advantage"].idxmax()]
    best = on_decisions.groupby("state_id")["value_exact"].max()
    is_best = on_decisions["value_exact"] == best.loc[on_decisions["state_id"]].to_numpy()
    chance = is_best.groupby(on_decisions["state_id"]).mean()
    # the most sampled action, ties shared out: its chance of being best is the best share of the ties
    top = on_decisions["count"] == on_decisions.groupby("state_id")["count"].transform("max")
    policy = is_best[top].groupby(on_decisions.loc[top, "state_id"]).mean()
    critic_best = pd.Series(favourite["value_exact"].to_numpy() == best.loc[favourite["state_id"]].to_numpy(),
                            index=favourite["state_id"].to_numpy())
    paired = (critic_best.astype(float) - policy.loc[critic_best.index]).to_numpy()
    return {"states": int(exact["state_id"].nunique()), "decisions": len(decisions),
            "kept_states": len(kept_states), "kept_decisions": len(kept_states & decisions),
            "kept_decision_share": len(kept_states & decisions) / len(kept_states) if kept_states else float("nan"),
            "decision_recall": len(kept_states & decisions) / len(decisions) if decisions else float("nan"),
            "sign_agreement_weighted": float(np.average(agree, weights=nonzero["count"])) if len(nonzero) else float("nan"),
            "favourite_is_best": float(critic_best.mean()) if len(critic_best) else float("nan"),
            "favourite_is_best_chance": float(chance.mean()) if len(chance) else float("nan"),
            "most_sampled_is_best": float(policy.mean()) if len(policy) else float("nan")}, paired


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counted half."""
    if not len(positive) or not len(negative):
        return float("nan")
    gt = (positive[:, None] > negative[None, :]).mean()
    return float(gt + 0.5 * (positive[:, None] == negative[None, :]).mean())


CRITIC_SEED_OFFSET = 3  # the critic stage's chain_seed offset: its held-out split


def critic_held_out(states: pd.DataFrame, val_fraction: float, seed: int) -> np.ndarray:
    """Which states the critic stage of chain `seed`, iteration 1, held out (split by prompt)."""
    return split_by_prompt(states["prompt_id"].tolist(), val_fraction,
                           chain_seed(SimpleNamespace(seed=seed, iteration=1), CRITIC_SEED_OFFSET))


def seen_unseen(critic_dir: Path, states: pd.DataFrame, exact: pd.DataFrame, task, problems: dict[str, dict],
                held: np.ndarray) -> dict[str, float]:
    """The critic's AUC on first-step candidates whose next state it trained on (`held`: the states
    it held out) and on the rest, and the MC labels' AUC on the former."""
    label = {(p, x): v for p, x, v, h in zip(states["prompt_id"], states["prefix"], states["mc_value"], held) if not h}
    prompt_of, prefix_of = dict(zip(states["state_id"], states["prompt_id"])), dict(zip(states["state_id"], states["prefix"]))
    first = exact[(exact["depth"] == 0) & ~exact["terminal"]]
    keys = [(prompt_of[s], prefix_of[s] + a) for s, a in zip(first["state_id"], first["action"])]
    model, tok = load_critic(critic_dir)
    # states as the critic stage renders them (its tokenizer's chat template, if any)
    values = predict_values(model, tok, [task.policy_prompt(problems[p], tok) + x for p, x in keys], 256)
    seen = np.array([k in label for k in keys])
    reach = first["value"].to_numpy() == 1
    mc = np.array([label.get(k, np.nan) for k in keys])
    return {"first_candidates": len(keys), "seen_share": float(seen.mean()),
            "critic_auc_seen": auc(values[seen & reach], values[seen & ~reach]),
            "critic_auc_unseen": auc(values[~seen & reach], values[~seen & ~reach]),
            "mc_label_auc_seen": auc(mc[seen & reach], mc[seen & ~reach])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--root", default="results")
    args = ap.parse_args()
    params = load_params(args.params)
    task = get_task(params["data"]["task"])
    if not hasattr(task, "oracle_value"):
        raise SystemExit(f"error: task {task.name!r} has no exact step values")
    root = Path(args.root)
    problems = {p["id"]: p for p in read_jsonl(root / "data/rl.jsonl")}
    min_gap = params["advantages"]["min_gap"]
    groups = {"all": lambda d: d >= 0, "first_step": lambda d: d == 0, "later": lambda d: d > 0}
    paired: dict[str, list[np.ndarray]] = {g: [] for g in groups}
    for seed in range(params["seeds"]):
        chain = f"seed{seed}/iter1"
        states, candidates = chain_candidates(root, chain, task, problems)
        exact = exact_advantages(states, candidates, task, problems)
        kept = read_parquet(root / f"advantages/{chain}/advantages.parquet")
        depth = exact.drop_duplicates("state_id").set_index("state_id")["depth"]
        for group, pick in groups.items():
            ids = set(depth[pick(depth)].index)
            figures, diff = report(kept[kept["state_id"].isin(ids)], exact[exact["state_id"].isin(ids)], min_gap)
            paired[group].append(diff)
            row = {"root": args.root, "chain": chain, "depth": group, **figures}
            show(row)
            append_record("critic_errors", row)
        row = {"root": args.root, "chain": chain,
               **seen_unseen(root / f"critic/{chain}/model", states, exact, task, problems,
                             critic_held_out(states, params["critic"]["val_fraction"], seed))}
        show(row)
        append_record("critic_errors", row)
    for group, diffs in paired.items():
        mean, low, high = paired_bootstrap_ci(np.concatenate(diffs)[None, :])
        row = {"root": args.root, "depth": group, "kept_decisions": int(sum(len(d) for d in diffs)),
               "critic_minus_most_sampled_best": [mean, low, high]}
        print(f"{group}: critic's favourite best minus pi_0's most sampled best, over {row['kept_decisions']} "
              f"kept decisions: {mean:+.3f} [{low:+.3f}, {high:+.3f}]", flush=True)
        append_record("critic_errors", row)


if __name__ == "__main__":
    main()

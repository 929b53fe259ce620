"""Sampling responses and Monte Carlo step-value labels (paper section 4, steps 1-2).

generate: the policy samples n1 responses per prompt; n are kept, as balanced between correct
and wrong as possible. complete: from every step prefix of every kept response the policy samples
N completions, and the state's MC value is the fraction that end correct.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from .generation import Completion, Generator, Sampling
from .logprobs import round_trip_error
from .losses import mc_value
from .tasks import Task


def balanced_keep(correct: list[bool], n: int, rng: random.Random) -> list[int]:
    """Indices of n samples, as balanced between correct and wrong as possible.

    Takes min(#correct, max(n // 2, n - #wrong)) correct samples and fills the rest with wrong
    ones, each side chosen at random; fewer than n samples in total keeps them all.
    """
    right = [i for i, c in enumerate(correct) if c]
    wrong = [i for i, c in enumerate(correct) if not c]
    rng.shuffle(right)
    rng.shuffle(wrong)
    k_right = min(len(right), max(n // 2, n - len(wrong)))
    k_wrong = min(len(wrong), n - k_right)
    return sorted(right[:k_right] + wrong[:k_wrong])


def generate_responses(generator: Generator, task: Task, problems: list[dict], sampling: Sampling,
                       n_keep: int, keep_unanimous: bool, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sample, grade and keep responses. Returns one row per kept response and summary stats.

    Rows: prompt_id, sample (index among the n1), response, finished, correct, num_steps.
    A prompt whose n1 samples are all correct or all wrong is kept only if `keep_unanimous`.
    """
    prompts = [task.policy_prompt(p, getattr(generator, "tokenizer", None)) for p in problems]
    outs = generator.generate(prompts, sampling)
    tok = getattr(generator, "tokenizer", None)
    checked, mismatched = round_trip_mismatch(tok, task, [p for p, cs in zip(prompts, outs) for _ in cs],
                                              [c for cs in outs for c in cs]) if tok is not None else (0, 0)
    rng = random.Random(seed)
    rows, unanimous, sampled_correct = [], 0, 0
    for problem, completions in zip(problems, outs):
        correct = [task.verify(problem, c.text) for c in completions]
        sampled_correct += sum(correct)
        if len(set(correct)) == 1:
            unanimous += 1
            if not keep_unanimous:
                continue
        for i in balanced_keep(correct, n_keep, rng):
            c = completions[i]
            rows.append({"prompt_id": problem["id"], "sample": i, "response": c.text,
                         "finished": c.finished, "correct": correct[i],
                         "num_steps": len(task.split_steps(c.text))})
    df = pd.DataFrame(rows, columns=["prompt_id", "sample", "response", "finished", "correct", "num_steps"])
    total = len(problems) * sampling.n
    stats = {"sampled_accuracy": sampled_correct / total, "unanimous_prompts": unanimous,
             "responses_sampled": total, "tokens_generated": sum(c.num_tokens for cs in outs for c in cs),
             "kept_prompts": df["prompt_id"].nunique(), "kept_responses": len(df),
             "kept_accuracy": float(df["correct"].mean()) if len(df) else float("nan"),
             "round_trip_checked": checked, "round_trip_mismatched": mismatched}
    return df, stats


ROUND_TRIP_CHECKS = 64  # sequences per stage whose tokenisation is checked (round_trip_mismatch)


def round_trip_mismatch(tokenizer, task: Task, prompts: list[str], completions: list[Completion]) -> tuple[int, int]:
    """(checked, mismatched) over the first ROUND_TRIP_CHECKS completions that report their ids:
    how many re-tokenise, step by step as text, into other ids than the policy generated
    (`logprobs.round_trip_error`). The actor never relies on that round trip (an action keeps its
    sampled ids, `first_step_ids`); the rate says how much keeping them matters for this tokenizer."""
    checked = mismatched = 0
    for prompt, c in zip(prompts, completions):
        if checked == ROUND_TRIP_CHECKS:
            break
        if c.token_ids:
            checked += 1
            mismatched += round_trip_error(tokenizer, prompt, list(c.token_ids), task.split_steps(c.text)) is not None
    return checked, mismatched


def first_step_ids(ids: tuple[int, ...], token_chars: list[int], step: str) -> list[int]:
    """The generated ids of a completion's first step: the shortest prefix of `ids` whose text covers
    `step` (token_chars: each vocabulary id's decoded length). Where a token spans the step's end
    (a newline and the next line's indent in one token) it is included, so the ids are always ones
    the policy sampled, never a re-tokenisation of the step's text."""
    covered = 0
    for j, i in enumerate(ids):
        covered += token_chars[i]
        if covered >= len(step):
            return list(ids[:j + 1])
    return list(ids)


def token_lengths(tokenizer) -> list[int]:
    """Decoded length of every vocabulary id (for `first_step_ids`)."""
    return [len(tokenizer.decode([i])) for i in range(len(tokenizer))]


def enumerate_states(responses: pd.DataFrame, task: Task) -> pd.DataFrame:
    """Unique non-terminal states of the kept responses.

    State s_t of a response with steps a_0..a_{T-1} is prompt + a_0 + ... + a_{t-1}, t = 0..T-1 (the
    state after the last step is terminal: its value is the verifier's reward). States that are the
    same text under the same prompt are labelled once. Rows: state_id, prompt_id, prefix (the text
    after the prompt), depth t.
    """
    seen: dict[tuple[str, str], int] = {}
    rows = []
    for prompt_id, response in zip(responses["prompt_id"], responses["response"]):
        prefix = ""
        for t, step in enumerate(task.split_steps(response)):
            key = (prompt_id, prefix)
            if key not in seen:
                seen[key] = len(rows)
                rows.append({"state_id": len(rows), "prompt_id": prompt_id, "prefix": prefix, "depth": t})
            prefix += step
    return pd.DataFrame(rows, columns=["state_id", "prompt_id", "prefix", "depth"])


def label_states(generator: Generator, task: Task, problems: dict[str, dict], states: pd.DataFrame,
                 sampling: Sampling, early_stop: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """N = sampling.n completions from every state in one batched call; MC value per state.

    early_stop k (0 < k < N; beyond the paper): sample k completions from every state first; a state
    whose k completions all end correct, or all end wrong, keeps those k, and its MC value is 1 or
    0; the others get N - k more (`split_states`). 0 samples N from every state, as the paper.

    Returns (completions: state_id, k, completion, finished, correct, action_ids (the sampled ids of
             the completion's first step, empty from a generator that does not report ids);
             states with mc_value and n_completions added; stats incl. completions per second).
    """
    tok = getattr(generator, "tokenizer", None)
    texts = [task.policy_prompt(problems[p], tok) + prefix for p, prefix in zip(states["prompt_id"], states["prefix"])]
    graded: list[list[tuple]] = [[] for _ in texts]  # per state: (completion, correct)
    start = time.time()
    first = early_stop if 0 < early_stop < sampling.n else sampling.n
    _sample_into(graded, range(len(texts)), generator, task, problems, states, texts,
                 replace(sampling, n=first))
    undecided = split_states(graded, first) if first < sampling.n else []
    if undecided:  # seeded apart from the first round, whose samples it must not repeat
        _sample_into(graded, undecided, generator, task, problems, states, texts,
                     replace(sampling, n=sampling.n - first, seed=sampling.seed + 1))
    elapsed = time.time() - start
    checked, mismatched = round_trip_mismatch(tok, task, [t for t, done in zip(texts, graded) for _ in done],
                                              [c for done in graded for c, _ in done]) if tok is not None else (0, 0)
    chars = token_lengths(tok) if tok is not None else []
    rows = [{"state_id": sid, "k": k, "completion": c.text, "finished": c.finished, "correct": ok,
             "action_ids": first_step_ids(c.token_ids, chars, (task.split_steps(c.text) or [""])[0])}
            for sid, done in zip(states["state_id"], graded) for k, (c, ok) in enumerate(done)]
    labelled = states.assign(
        mc_value=np.array([mc_value(torch.tensor([ok for _, ok in done])).item() for done in graded], dtype=np.float32),
        n_completions=[len(done) for done in graded])
    n = len(rows)
    stats = {"completions": n, "states": len(states), "seconds": elapsed,
             "completions_per_second": n / elapsed if elapsed > 0 else float("nan"),
             "stopped_early": len(texts) - len(undecided) if first < sampling.n else 0,
             "tokens_generated": sum(c.num_tokens for done in graded for c, _ in done),
             "mc_value_mean": float(labelled["mc_value"].mean()) if n else float("nan"),
             "round_trip_checked": checked, "round_trip_mismatched": mismatched}
    return (pd.DataFrame(rows, columns=["state_id", "k", "completion", "finished", "correct", "action_ids"]),
            labelled, stats)


def split_states(graded: list[list[tuple]], k: int) -> list[int]:
    """Indices of the states whose first k graded completions disagree (some correct, some wrong)."""
    return [i for i, done in enumerate(graded) if len({ok for _, ok in done[:k]}) > 1]


def _sample_into(graded: list[list[tuple]], which, generator: Generator, task: Task, problems: dict[str, dict],
                 states: pd.DataFrame, texts: list[str], sampling: Sampling) -> None:
    """Sample sampling.n completions from each state in `which` in one batched call, grade each
    against its state's problem, and append them to that state's list."""
    which = list(which)
    if not which:
        return
    outs = generator.generate([texts[i] for i in which], sampling)
    pids, prefixes = states["prompt_id"].tolist(), states["prefix"].tolist()
    for i, completions in zip(which, outs):
        graded[i] += [(c, task.verify(problems[pids[i]], prefixes[i] + c.text)) for c in completions]

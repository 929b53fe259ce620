import random

import pandas as pd

from conftest import problem
from dapo.generation import Completion, Sampling
from dapo.labelling import balanced_keep, enumerate_states, generate_responses, label_states


def test_balanced_keep_prefers_an_even_split():
    rng = random.Random(0)
    # 3 right, 5 wrong, keep 4 -> 2 and 2
    correct = [True, False, True, False, False, True, False, False]
    kept = balanced_keep(correct, 4, rng)
    assert len(kept) == 4 and sum(correct[i] for i in kept) == 2
    # 1 right, 7 wrong, keep 4 -> the 1 right plus 3 wrong
    kept = balanced_keep([True] + [False] * 7, 4, rng)
    assert kept[0] == 0 and len(kept) == 4
    # 7 right, 1 wrong, keep 4 -> 3 right plus the 1 wrong
    kept = balanced_keep([True] * 7 + [False], 4, rng)
    assert 7 in kept and len(kept) == 4
    # fewer samples than n -> all of them
    assert balanced_keep([True, False], 6, rng) == [0, 1]


class ScriptedGenerator:
    """Answers each prompt with the listed texts, cycling; records the calls."""

    def __init__(self, script):
        self.script, self.calls = script, []

    def generate(self, prompts, sampling):
        self.calls.append((list(prompts), sampling))
        return [[Completion(self.script[p][k % len(self.script[p])], 1, True) for k in range(sampling.n)]
                for p in prompts]


def test_generate_keeps_balanced_responses_and_drops_unanimous_on_request(task):
    problems = [problem("1 + 2", "3"), problem("2 + 2", "4")]
    problems[1]["id"] = "t-1"
    gen = ScriptedGenerator({"Q: 1 + 2\n": ["1 + 2 = 3\nA: 3", "1 + 2 = 4\nA: 4"],
                             "Q: 2 + 2\n": ["A: 5"]})
    df, stats = generate_responses(gen, task, problems, Sampling(n=4, seed=0), n_keep=2,
                                   keep_unanimous=False, seed=0)
    assert df["prompt_id"].tolist() == ["t-0", "t-0"]
    assert sorted(df["correct"].tolist()) == [False, True]
    assert stats["unanimous_prompts"] == 1 and stats["sampled_accuracy"] == 2 / 8
    df, _ = generate_responses(gen, task, problems, Sampling(n=4, seed=0), 2, True, 0)
    assert df["prompt_id"].tolist() == ["t-0", "t-0", "t-1", "t-1"]


def test_enumerate_states_takes_every_step_prefix_once(task):
    responses = pd.DataFrame({"prompt_id": ["p", "p", "q"],
                              "response": ["1 + 2 = 3\nA: 3", "1 + 2 = 4\nA: 4", "A: 9"]})
    states = enumerate_states(responses, task)
    assert list(zip(states["prompt_id"], states["prefix"], states["depth"])) == [
        ("p", "", 0), ("p", "1 + 2 = 3\n", 1), ("p", "1 + 2 = 4\n", 1), ("q", "", 0)]
    assert states["state_id"].tolist() == [0, 1, 2, 3]


def test_label_states_batches_all_states_and_computes_mc(task):
    p = problem("1 + 2", "3")
    states = pd.DataFrame({"state_id": [0, 1], "prompt_id": ["t-0", "t-0"],
                           "prefix": ["", "1 + 2 = 4\n"], "depth": [0, 1]})
    gen = ScriptedGenerator({"Q: 1 + 2\n": ["1 + 2 = 3\nA: 3", "A: 4", "A: 3", "A: 3"],
                             "Q: 1 + 2\n1 + 2 = 4\n": ["A: 4", "A: 3"]})
    completions, labelled, stats = label_states(gen, task, {"t-0": p}, states, Sampling(n=4, seed=0))
    assert len(gen.calls) == 1 and len(gen.calls[0][0]) == 2  # one batched call for all states
    # state 0: 3 of 4 correct; state 1: "A: 3" after a wrong step is still the right answer -> 2 of 4
    assert labelled["mc_value"].tolist() == [0.75, 0.5]
    assert completions.groupby("state_id").size().tolist() == [4, 4]
    assert stats["completions"] == 8 and stats["completions_per_second"] > 0

import random
from dataclasses import replace

import pandas as pd

from conftest import problem
from dapo.generation import Completion, HFGenerator, Sampling
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


class StreamGenerator:
    """Answers each prompt with the next texts of its script, as a stream of samples would (a second
    call continues where the first stopped); records the calls."""

    def __init__(self, script):
        self.script, self.calls, self.drawn = script, [], {}

    def generate(self, prompts, sampling):
        self.calls.append((list(prompts), sampling))
        out = []
        for p in prompts:
            start = self.drawn.get(p, 0)
            self.drawn[p] = start + sampling.n
            out.append([Completion(self.script[p][k], 1, True) for k in range(start, start + sampling.n)])
        return out


def test_early_stop_keeps_the_first_k_of_unanimous_states_and_completes_the_rest(task):
    p = problem("1 + 2", "3")
    states = pd.DataFrame({"state_id": [0, 1, 2], "prompt_id": ["t-0"] * 3,
                           "prefix": ["", "1 + 2 = 4\n", "1 + 2 = 3\n"], "depth": [0, 1, 1]})
    gen = StreamGenerator({"Q: 1 + 2\n": ["A: 3", "A: 3", "A: 4", "A: 4"],               # 2 correct: stops
                           "Q: 1 + 2\n1 + 2 = 4\n": ["A: 4", "A: 5", "A: 3", "A: 3"],   # 2 wrong: stops
                           "Q: 1 + 2\n1 + 2 = 3\n": ["A: 3", "A: 4", "A: 3", "A: 3"]})  # split: 2 more
    completions, labelled, stats = label_states(gen, task, {"t-0": p}, states, Sampling(n=4, seed=7), early_stop=2)
    assert [(len(prompts), s.n, s.seed) for prompts, s in gen.calls] == [(3, 2, 7), (1, 2, 8)]
    assert gen.calls[1][0] == ["Q: 1 + 2\n1 + 2 = 3\n"]
    assert labelled["mc_value"].tolist() == [1.0, 0.0, 0.75]
    assert labelled["n_completions"].tolist() == [2, 2, 4]
    assert completions[completions["state_id"] == 2]["k"].tolist() == [0, 1, 2, 3]
    assert completions[completions["state_id"] == 2]["completion"].tolist() == ["A: 3", "A: 4", "A: 3", "A: 3"]
    assert stats["completions"] == 8 and stats["stopped_early"] == 2


def test_early_stop_off_or_at_n_is_one_call_of_n(task):
    p = problem("1 + 2", "3")
    states = pd.DataFrame({"state_id": [0], "prompt_id": ["t-0"], "prefix": [""], "depth": [0]})
    for early_stop in (0, 4, 9):
        gen = StreamGenerator({"Q: 1 + 2\n": ["A: 3"] * 4})
        _, labelled, stats = label_states(gen, task, {"t-0": p}, states, Sampling(n=4, seed=0), early_stop=early_stop)
        assert [(len(prompts), s.n) for prompts, s in gen.calls] == [(1, 4)]
        assert labelled["n_completions"].tolist() == [4] and stats["stopped_early"] == 0


def test_early_stop_s_first_round_is_the_fixed_k_labelling_under_the_same_seed(task, tiny_policy, char_tokenizer):
    """With the real generator: the first k completions of every state are the samples a fixed-N = k
    labelling draws under the same seed, and only the split states get more."""
    p = problem("1 + 2", "3")
    states = pd.DataFrame({"state_id": [0, 1, 2], "prompt_id": ["t-0"] * 3,
                           "prefix": ["", "1 + 2 = 4\n", "1 + 2 = 3\n"], "depth": [0, 1, 1]})
    gen = HFGenerator(tiny_policy, char_tokenizer, batch_size=64, progress=False)
    sampling = Sampling(n=2, temperature=1.0, max_new_tokens=6, seed=3)
    fixed, _, _ = label_states(gen, task, {"t-0": p}, states, sampling)
    adaptive, labelled, _ = label_states(gen, task, {"t-0": p}, states, replace(sampling, n=6), early_stop=2)
    first = adaptive[adaptive["k"] < 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, fixed)
    split = fixed.groupby("state_id")["correct"].nunique() > 1
    assert labelled["n_completions"].tolist() == [6 if s else 2 for s in split]

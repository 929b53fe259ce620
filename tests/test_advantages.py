import numpy as np
import pandas as pd
import pytest

from conftest import problem
from dapo.advantages import (
    advantage_agreement,
    candidate_actions,
    compute_advantages,
    oracle_values,
    pad_by_state,
)


def test_candidates_are_first_steps_and_terminal_ones_take_the_verifier_reward(task):
    states = pd.DataFrame({"state_id": [0], "prompt_id": ["t-0"], "prefix": ["1 + 2 = 3\n"]})
    completions = pd.DataFrame({"state_id": [0, 0, 0], "k": [0, 1, 2],
                                "completion": ["A: 3", "A: 4", "3 + 0 = 3\nA: 3"],
                                "finished": [True, True, True]})
    cand = candidate_actions(completions, states, task, {"t-0": problem("1 + 2", "3")})
    assert cand["action"].tolist() == ["A: 3", "A: 4", "3 + 0 = 3\n"]
    assert cand["terminal"].tolist() == [True, True, False]
    assert cand["eos"].tolist() == [True, True, False]
    assert cand["reward"].tolist()[:2] == [1.0, 0.0] and np.isnan(cand["reward"].iloc[2])


def test_a_line_that_ends_the_solution_and_one_that_continues_it_are_two_actions(task):
    """Completions "x\n" (then end-of-sequence: reward 0) twice and "x\ny" (critic 0.8) twice:
    values 0, 0, 0.8, 0.8, mean 0.4, so A(x + EOS) = -0.4 and A(x, continued) = +0.4."""
    states = pd.DataFrame({"state_id": [0], "prompt_id": ["t-0"], "prefix": [""]})
    completions = pd.DataFrame({"state_id": [0] * 4, "k": [0, 1, 2, 3],
                                "completion": ["x\n", "x\ny", "x\n", "x\ny"], "finished": True})
    cand = candidate_actions(completions, states, task, {"t-0": problem("1 + 2", "3")})
    assert cand["terminal"].tolist() == [True, False, True, False] and cand["eos"].equals(cand["terminal"])
    kept, _ = compute_advantages(cand, lambda sids, acts: np.full(len(sids), 0.8), min_gap=0.1)
    assert kept[["action", "eos", "count"]].values.tolist() == [["x\n", False, 2], ["x\n", True, 2]]
    assert kept["value"].tolist() == pytest.approx([0.8, 0.0])
    assert kept["advantage"].tolist() == pytest.approx([0.4, -0.4])


def test_a_completion_cut_inside_its_first_line_is_not_a_candidate(task):
    """Unfinished "12 * 3 = 3" (cut mid-line) gives no candidate; unfinished "12 * 3 = 36\n" (cut
    right after its first line) is a whole step the policy would have continued: non-terminal."""
    states = pd.DataFrame({"state_id": [0], "prompt_id": ["t-0"], "prefix": [""]})
    completions = pd.DataFrame({"state_id": [0, 0, 0], "k": [0, 1, 2], "finished": [False, False, True],
                                "completion": ["12 * 3 = 3", "12 * 3 = 36\n", "A: 3"]})
    cand = candidate_actions(completions, states, task, {"t-0": problem("1 + 2", "3")})
    assert cand["k"].tolist() == [1, 2]
    assert cand["terminal"].tolist() == [False, True] and cand["eos"].tolist() == [False, True]
    assert np.isnan(cand["reward"].iloc[0])
    none = candidate_actions(completions.iloc[:1], states, task, {"t-0": problem("1 + 2", "3")})
    assert none.empty and list(none.columns) == list(cand.columns)


def test_compute_advantages_by_hand():
    """State 0: candidates x, x, y (critic 0.5, 0.1) and a terminal one with reward 1.
    Values (0.5, 0.5, 0.1, 1.0), mean 0.525 -> A(x) = -0.025 (count 2), A(y) = -0.425,
    A(end) = 0.475; gap 0.9 -> kept. State 1: p, q with values 0.30, 0.35 -> A = -0.025, 0.025;
    gap 0.05 < 0.1 -> dropped."""
    cand = pd.DataFrame({
        "state_id": [0, 0, 0, 0, 1, 1], "k": [0, 1, 2, 3, 0, 1],
        "action": ["x\n", "x\n", "y\n", "A: 1", "p\n", "q\n"],
        "terminal": [False, False, False, True, False, False],
        "eos": [False, False, False, True, False, False],
        "reward": [np.nan, np.nan, np.nan, 1.0, np.nan, np.nan]})
    critic = {"S0x\n": 0.5, "S0y\n": 0.1, "S1p\n": 0.30, "S1q\n": 0.35}
    calls = []

    def value_fn(state_ids, actions):
        texts = [f"S{s}{a}" for s, a in zip(state_ids, actions)]
        calls.append(texts)
        return np.array([critic[t] for t in texts])

    kept, stats = compute_advantages(cand, value_fn, min_gap=0.1)
    assert len(calls) == 1 and sorted(calls[0]) == ["S0x\n", "S0y\n", "S1p\n", "S1q\n"]  # unique pairs once
    assert kept["action"].tolist() == ["A: 1", "x\n", "y\n"]
    assert kept["count"].tolist() == [1, 2, 1]
    assert kept["advantage"].tolist() == pytest.approx([0.475, -0.025, -0.425])
    assert kept["value"].tolist() == pytest.approx([1.0, 0.5, 0.1])
    assert (kept["count"] * kept["advantage"]).sum() == pytest.approx(0.0)  # centred over the N samples
    assert stats == {"states": 2, "states_kept": 1, "states_dropped": 1, "unique_actions": 5,
                     "actions_kept": 3, "terminal_actions_kept": 1}


def test_pad_by_state_lays_candidates_out_per_state_in_input_order():
    state_id = pd.Series([7, 3, 7, 7])
    value = pd.Series([0.1, 0.2, 0.3, 0.4])
    ids, values, mask, (rows, slot) = pad_by_state(state_id, value)
    assert ids == [3, 7]
    assert values.tolist() == [[0.2, 0.0, 0.0], [0.1, 0.3, 0.4]]
    assert mask.tolist() == [[True, False, False], [True, True, True]]
    assert values[rows, slot].tolist() == value.tolist()


def test_advantage_agreement_by_hand():
    """Four unique actions. Exact advantages +0.5, -0.5, +0.25, 0 (values 1, 0, 1, 0.5); estimates
    +0.1, +0.2, +0.3, -0.1. Nonzero exact: 3; same sign: 1st and 3rd -> 2/3. Favoured (estimate
    > 0): 1st, 2nd, 3rd; the oracle calls the 2nd wrong (value 0) -> 1/3. Pearson correlation of
    (0.1, 0.2, 0.3, -0.1) with (0.5, -0.5, 0.25, 0): means 0.125, 0.0625; covariance sum
    (-0.025)(0.4375) + (0.075)(-0.5625) + (0.175)(0.1875) + (-0.225)(-0.0625) = -0.00625;
    squared deviations 0.0875 and 0.1914 + 0.3164 + 0.0352 + 0.0039 = 0.546875, so the
    correlation is -0.00625 / sqrt(0.0875 * 0.546875) = -0.0286."""
    exact = pd.DataFrame({"state_id": [0, 0, 1, 1], "action": ["a", "b", "c", "d"], "eos": False,
                          "advantage": [0.5, -0.5, 0.25, 0.0], "value": [1.0, 0.0, 1.0, 0.5]})
    estimate = exact.assign(advantage=[0.1, 0.2, 0.3, -0.1], value=[0.6, 0.7, 0.8, 0.4])
    stats = advantage_agreement(estimate, exact)
    assert stats["sign_agreement"] == pytest.approx(2 / 3)
    assert stats["favoured_wrong_fraction"] == pytest.approx(1 / 3)
    assert stats["correlation"] == pytest.approx(-0.00625 / np.sqrt(0.0875 * 0.546875))
    assert stats["pairs"] == 4


def test_oracle_values_are_the_tasks_exact_value_of_state_plus_action():
    from dapo.tasks import get_task
    from tasks.test_countdown import problem as countdown_problem

    p = countdown_problem([3, 5, 6], 21)
    states = pd.DataFrame({"state_id": [0, 1], "prompt_id": ["t-0", "t-0"], "prefix": ["", "5 * 3 = 15\n"]})
    values = oracle_values(get_task("countdown"), {"t-0": p}, states)
    # 5*3 then 15+6 reaches 21; 6+5 leaves {3, 11}, which cannot; then the final step and a wrong one
    assert values([0, 0, 1, 1], ["5 * 3 = 15\n", "6 + 5 = 11\n", "15 + 6 = 21\n", "15 - 6 = 9\n"]).tolist() == [1, 0, 1, 0]

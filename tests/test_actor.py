import random

import pandas as pd
import pytest
import torch

from dapo.actor import action_weights, fit_stats, state_batches, state_subset, train_actor
from dapo.logprobs import batched_action_logps


def test_state_batches_keep_each_state_whole():
    sids = [5, 5, 7, 9, 9, 9, 7, 11]
    batches = state_batches(sids, 2, random.Random(0))
    assert sorted(r for b in batches for r in b) == list(range(8))
    assert len(batches) == 2
    for b in batches:
        assert len({sids[r] for r in b}) <= 2
    # every state's rows sit in exactly one batch
    for sid in set(sids):
        holders = [i for i, b in enumerate(batches) if any(sids[r] == sid for r in b)]
        assert len(holders) == 1
        assert sorted(r for r in batches[holders[0]] if sids[r] == sid) == [r for r, s in enumerate(sids) if s == sid]


def test_state_subsets_keep_whole_states_and_are_nested():
    sids = pd.Series([4, 4, 9, 1, 1, 1, 7, 2, 8, 8])  # 6 states
    quarter, half, whole = (state_subset(sids, f) for f in (0.25, 0.5, 1.0))
    assert whole.all()
    assert sids[quarter].nunique() == 2 and sids[half].nunique() == 3  # ceil(0.25 * 6), ceil(0.5 * 6)
    assert set(sids[quarter]) <= set(sids[half])
    for mask in (quarter, half):  # every row of a kept state, none of a dropped one
        assert all(mask[i] == (s in set(sids[mask])) for i, s in enumerate(sids))
    assert state_subset(sids.sample(frac=1, random_state=0), 0.5).groupby(sids).all().equals(half.groupby(sids).all())


def test_actor_moves_log_ratios_toward_advantage_over_beta(tiny_policy, char_tokenizer):
    states = ["Q: 1 + 2\n"] * 2 + ["Q: 4 - 1\n"] * 2
    actions = ["1 + 2 = 3\n", "1 + 2 = 4\n", "A: 3", "A: 5"]
    eos = [False, False, True, True]
    ref = batched_action_logps(tiny_policy, char_tokenizer, states, actions, eos, 4).numpy()
    data = pd.DataFrame({"state_id": [0, 0, 1, 1], "state": states, "action": actions, "eos": eos,
                         "advantage": [0.3, -0.3, 0.2, -0.2], "ref_logp": ref})
    before = fit_stats(tiny_policy, char_tokenizer, data, beta=0.1, batch_size=4)
    assert before["log_ratio"] == pytest.approx(0.0, abs=1e-5)  # the policy is its own reference
    hp = {"beta": 0.1, "lr": 3e-3, "epochs": 40, "states_per_batch": 2, "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": 10.0,
              "seed": 0, "log_every": 10}
    summary = train_actor(tiny_policy, char_tokenizer, data, hp, progress=False)
    after = fit_stats(tiny_policy, char_tokenizer, data, beta=0.1, batch_size=4)
    assert summary["actor/steps"] == 40
    assert after["loss"] < 0.1 * before["loss"]
    assert after["sign_agreement"] == 1.0
    assert after["log_ratio_pos"] > 1.0 and after["log_ratio_neg"] < -1.0  # targets are +-2 and +-3


def test_action_weights_unique_is_the_paper_and_count_weighs_by_samples():
    """State 0: action x sampled 3 times (A = +0.1), y once (A = -0.3): with count weights the
    state's weighted advantages sum to 3 * 0.1 - 0.3 = 0; with unique weights to -0.2."""
    data = pd.DataFrame({"state_id": [0, 0], "count": [3, 1], "advantage": [0.1, -0.3]})
    assert action_weights(data, "unique") == [1.0, 1.0]
    assert action_weights(data, "count") == [3.0, 1.0]
    weighted = sum(w * a for w, a in zip(action_weights(data, "count"), data["advantage"]))
    assert weighted == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown action_weight"):
        action_weights(data, "softmax")


def test_count_weighted_loss_is_the_mean_over_sampled_actions(tiny_policy, char_tokenizer):
    """One step with count weights equals one step on the data with each action repeated `count`
    times and unique weights: the same weighted mean, so the same gradient and update."""
    import copy

    states, actions, eos = ["Q: 1 + 2\n"] * 2, ["1 + 2 = 3\n", "A: 4"], [False, True]
    ref = batched_action_logps(tiny_policy, char_tokenizer, states, actions, eos, 4).numpy()
    data = pd.DataFrame({"state_id": [0, 0], "state": states, "action": actions, "eos": eos, "count": [3, 1],
                         "advantage": [0.05, -0.15], "ref_logp": ref})
    repeated = data.loc[[0, 0, 0, 1]].reset_index(drop=True).assign(count=1)
    hp = {"beta": 0.1, "lr": 1e-3, "epochs": 1, "states_per_batch": 1, "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": 100.0,
          "seed": 0, "log_every": 1}
    a, b = copy.deepcopy(tiny_policy), copy.deepcopy(tiny_policy)
    train_actor(a, char_tokenizer, data, {**hp, "action_weight": "count"}, progress=False)
    train_actor(b, char_tokenizer, repeated, {**hp, "action_weight": "unique"}, progress=False)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6)

"""The PPO baseline's equations against numbers computed by hand."""

import math

import pytest
import torch

from dapo.ppo import clipped_policy_loss, clipped_value_loss, gae, kl_shaped_rewards


def test_gae_by_hand():
    """Row 0 (3 tokens): rewards 0 0 1, values 0.5 0.6 0.8, gamma 1, lambda 0.95.
    delta_2 = 1 - 0.8 = 0.2, A_2 = 0.2; delta_1 = 0.8 - 0.6 = 0.2, A_1 = 0.2 + 0.95 * 0.2 = 0.39;
    delta_0 = 0.6 - 0.5 = 0.1, A_0 = 0.1 + 0.95 * 0.39 = 0.4705; returns A + V = 0.9705 0.99 1.0.
    Row 1 (2 tokens, then padding whose reward and value must not leak in): rewards 0 1, values
    0.2 0.4: A_1 = 1 - 0.4 = 0.6, A_0 = 0.4 - 0.2 + 0.95 * 0.6 = 0.77."""
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 5.0]])
    values = torch.tensor([[0.5, 0.6, 0.8], [0.2, 0.4, 9.0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    adv, ret = gae(rewards, values, mask, gamma=1.0, lam=0.95)
    torch.testing.assert_close(adv, torch.tensor([[0.4705, 0.39, 0.2], [0.77, 0.6, 0.0]]))
    torch.testing.assert_close(ret, torch.tensor([[0.9705, 0.99, 1.0], [0.97, 1.0, 0.0]]))


def test_gae_with_lambda_one_is_the_monte_carlo_return_minus_the_value():
    g = torch.Generator().manual_seed(0)
    rewards, values = torch.rand(4, 6, generator=g), torch.rand(4, 6, generator=g)
    mask = torch.arange(6) < torch.tensor([[6], [4], [1], [5]])
    adv, ret = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    future = (rewards * mask).flip(-1).cumsum(-1).flip(-1)  # sum of r_t' for t' >= t
    torch.testing.assert_close(ret, future * mask)
    torch.testing.assert_close(adv, (future - values) * mask)


def test_gae_matches_a_naive_loop():
    g = torch.Generator().manual_seed(1)
    rewards, values = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    lengths = [5, 3, 2]
    mask = torch.arange(5) < torch.tensor(lengths)[:, None]
    adv, _ = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    for b, n in enumerate(lengths):
        for t in range(n):
            expected = sum((0.9 * 0.8) ** (k - t) * (rewards[b, k] + 0.9 * (values[b, k + 1] if k + 1 < n else 0.0)
                                                       - values[b, k]) for k in range(t, n))
            assert adv[b, t].item() == pytest.approx(float(expected), abs=1e-5)


def test_clipped_policy_loss_by_hand():
    """Token 0: rho 1.5, A +1: min(1.5, 1.2) = 1.2, loss -1.2 (clipped). Token 1: rho 0.5, A -1:
    min(-0.5, -0.8) = -0.8, loss 0.8 (clipped). Token 2: rho 1.1, A +2: min(2.2, 2.2), loss -2.2.
    Padding (token 3) ignored. Mean (-1.2 + 0.8 - 2.2) / 3 = -0.8667; clip fraction 2/3."""
    logps = torch.tensor([[math.log(1.5), math.log(0.5), math.log(1.1), 3.0]])
    old = torch.zeros(1, 4)
    adv = torch.tensor([[1.0, -1.0, 2.0, 7.0]])
    mask = torch.tensor([[True, True, True, False]])
    loss, clip_fraction = clipped_policy_loss(logps, old, adv, mask, clip=0.2)
    assert loss.item() == pytest.approx(-2.6 / 3, abs=1e-6)
    assert clip_fraction.item() == pytest.approx(2 / 3)


def test_clipped_value_loss_by_hand():
    """Token 0: V 0.9, V_old 0.5, R 1.0: unclipped 0.01, clipped V 0.7 -> 0.09; max 0.09.
    Token 1: V 0.45, V_old 0.5, R 0: 0.2025, clipped (inside the bound) the same. Mean of
    0.5 * (0.09, 0.2025) = 0.073125."""
    loss = clipped_value_loss(torch.tensor([[0.9, 0.45]]), torch.tensor([[0.5, 0.5]]), torch.tensor([[1.0, 0.0]]),
                              torch.tensor([[True, True]]), clip=0.2)
    assert loss.item() == pytest.approx(0.073125)


def test_kl_shaped_rewards_by_hand():
    """kl_coef 0.01: token rewards -0.01 * (logp - ref); the score 1 lands on the last real token
    (index 1 of row 0, index 0 of row 1), never on padding."""
    logps = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0]])
    ref = torch.tensor([[-1.5, -1.5, 0.0], [-0.5, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    rewards = kl_shaped_rewards(logps, ref, torch.tensor([1.0, 0.0]), mask, kl_coef=0.01)
    torch.testing.assert_close(rewards, torch.tensor([[-0.005, 1.005, 0.0], [0.0, 0.0, 0.0]]))

"""Each equation against numbers computed by hand (the arithmetic is in the docstrings)."""

import math

import pytest
import torch

from dapo.losses import (
    advantage_gap_keep,
    critic_bce_loss,
    dapo_loss,
    mc_value,
    sequence_logps,
    sibling_mean_advantage,
)


def test_mc_value():
    """Row 1: 3 of 4 correct -> 0.75; row 2: 0 of 4 -> 0; row 3: 4 of 4 -> 1."""
    correct = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert mc_value(correct).tolist() == [0.75, 0.0, 1.0]


def test_critic_bce_loss_on_soft_labels():
    """logit 0 -> V = 0.5: loss = -[0.75 ln 0.5 + 0.25 ln 0.5] = ln 2 = 0.693147.
    logit ln 3 -> V = 0.75, label 0.75: loss = -[0.75 ln 0.75 + 0.25 ln 0.25] = 0.562335 (the
    label's entropy: the minimum over V for a soft label)."""
    losses = critic_bce_loss(torch.tensor([0.0, math.log(3.0)]), torch.tensor([0.75, 0.75]))
    expected = [math.log(2), -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))]
    torch.testing.assert_close(losses, torch.tensor(expected), rtol=0, atol=1e-6)
    assert expected[1] == pytest.approx(0.562335, abs=1e-6)


def test_sibling_mean_advantage_with_padding():
    """State 1: values (0.5, 0.5, 0.1, 1.0), mean 2.1 / 4 = 0.525 -> (-0.025, -0.025, -0.425, 0.475).
    State 2: values (0.30, 0.35) and two padding slots, mean 0.325 -> (-0.025, 0.025, 0, 0)."""
    values = torch.tensor([[0.5, 0.5, 0.1, 1.0], [0.30, 0.35, 9.0, 9.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    adv = sibling_mean_advantage(values, mask)
    expected = torch.tensor([[-0.025, -0.025, -0.425, 0.475], [-0.025, 0.025, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(adv, expected, rtol=0, atol=1e-12)
    assert (adv * mask).sum(-1).abs().max() < 1e-12  # centred per state


def test_advantage_gap_keep():
    """Gaps: 0.475 - (-0.425) = 0.9 >= 0.1 keep; 0.025 - (-0.025) = 0.05 < 0.1 drop; a lone
    action has gap 0: dropped at 0.1, kept at threshold 0."""
    adv = torch.tensor([[-0.025, -0.025, -0.425, 0.475], [-0.025, 0.025, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True] * 4, [True, True, False, False], [True, False, False, False]])
    assert advantage_gap_keep(adv, mask, 0.1).tolist() == [True, False, False]
    assert advantage_gap_keep(adv, mask, 0.0).tolist() == [True, True, True]


def test_dapo_loss_and_stats():
    """beta = 0.1. Pair 1: log-ratio -1.0 - (-1.5) = 0.5, A/beta = 0.2/0.1 = 2 -> 0.5 (0.5 - 2)^2 = 1.125.
    Pair 2: log-ratio -2.0 - (-1.0) = -1.0, A/beta = -1 -> 0. Pair 3: log-ratio 0.3, A/beta = -0.5
    -> 0.5 * 0.8^2 = 0.32. Signs agree for pairs 1 and 2 of 3 -> 2/3; mean log-ratio over positive
    A = 0.5, over negative A = (-1.0 + 0.3) / 2 = -0.35."""
    policy = torch.tensor([-1.0, -2.0, -0.7])
    ref = torch.tensor([-1.5, -1.0, -1.0])
    adv = torch.tensor([0.2, -0.1, -0.05])
    losses, stats = dapo_loss(policy, ref, adv, beta=0.1)
    torch.testing.assert_close(losses, torch.tensor([1.125, 0.0, 0.32]), rtol=0, atol=1e-6)
    assert stats["sign_agreement"].item() == pytest.approx(2 / 3)
    assert stats["log_ratio_pos"].item() == pytest.approx(0.5)
    assert stats["log_ratio_neg"].item() == pytest.approx(-0.35)
    assert stats["log_ratio"].item() == pytest.approx((0.5 - 1.0 + 0.3) / 3)


def test_dapo_loss_target_floor_bounds_only_the_push_down():
    """The pairs of test_dapo_loss_and_stats with target_floor -0.5: targets max(2, -0.5) = 2,
    max(-1, -0.5) = -0.5, max(-0.5, -0.5) = -0.5. Losses 0.5 (0.5 - 2)^2 = 1.125,
    0.5 (-1.0 + 0.5)^2 = 0.125, 0.5 (0.3 + 0.5)^2 = 0.32."""
    policy = torch.tensor([-1.0, -2.0, -0.7])
    ref = torch.tensor([-1.5, -1.0, -1.0])
    adv = torch.tensor([0.2, -0.1, -0.05])
    losses, _ = dapo_loss(policy, ref, adv, beta=0.1, target_floor=-0.5)
    torch.testing.assert_close(losses, torch.tensor([1.125, 0.125, 0.32]), rtol=0, atol=1e-6)


def test_dapo_loss_gradient_pulls_log_ratio_to_advantage_over_beta():
    """d/dx 0.5 (x - A/beta)^2 = x - A/beta: at x = 0, A = 0.2, beta = 0.1 the gradient is -2."""
    policy = torch.tensor([-1.0], requires_grad=True)
    losses, _ = dapo_loss(policy, torch.tensor([-1.0]), torch.tensor([0.2]), beta=0.1)
    losses.sum().backward()
    assert policy.grad.item() == pytest.approx(-2.0)


def test_sequence_logps_sums_action_tokens_only():
    """Vocabulary 3, logits all 0 except the positions noted: log-softmax of (0, 0, 0) is -ln 3.
    Tokens [0, 1, 2, 1], action = tokens 2 and 3. Token 2 is scored by position 1, whose logits
    are (0, 0, ln 2): p(2) = 2 / 4 = 0.5. Token 3 (id 1) by position 2, logits 0: p = 1/3.
    Sum = ln 0.5 + ln(1/3) = -1.791759."""
    logits = torch.zeros(1, 4, 3)
    logits[0, 1, 2] = math.log(2)
    ids = torch.tensor([[0, 1, 2, 1]])
    mask = torch.tensor([[False, False, True, True]])
    assert sequence_logps(logits, ids, mask).item() == pytest.approx(math.log(0.5) + math.log(1 / 3), abs=1e-6)

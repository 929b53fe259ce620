import numpy as np
import pytest

from dapo.stats import paired_bootstrap_ci


def test_constant_difference_has_a_zero_width_interval():
    """Every problem improves by exactly 1 in every seed: every resample's mean is 1."""
    assert paired_bootstrap_ci(np.ones((3, 50))) == (1.0, 1.0, 1.0)


def test_two_problems_one_seed_by_hand():
    """d = [1, 0]. A resample of 2 problems has mean 0 (p 1/4), 0.5 (p 1/2) or 1 (p 1/4), so the
    2.5th percentile is 0 and the 97.5th is 1; the point estimate is 0.5."""
    mean, lo, hi = paired_bootstrap_ci(np.array([[1.0, 0.0]]), n_boot=4000)
    assert (mean, lo, hi) == (0.5, 0.0, 1.0)


def test_pairing_removes_the_shared_problem_difficulty():
    """A model right exactly where the base is, plus 10 more problems of 1000: the paired
    difference is 0.01 with a CI that excludes 0, although both accuracies are near 50 %."""
    base = np.zeros(1000)
    base[:500] = 1
    model = base.copy()
    model[500:510] = 1
    mean, lo, hi = paired_bootstrap_ci((model - base)[None, :])
    assert mean == pytest.approx(0.01)
    assert 0 < lo < 0.01 < hi < 0.02


def test_seed_spread_widens_the_interval():
    """Seeds that disagree (+0.2 vs -0.2 on every problem) give an interval covering both."""
    diff = np.stack([np.full(200, 0.2), np.full(200, -0.2)])
    mean, lo, hi = paired_bootstrap_ci(diff)
    assert mean == pytest.approx(0.0) and lo == pytest.approx(-0.2) and hi == pytest.approx(0.2)


def test_bad_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="seeds, problems"):
        paired_bootstrap_ci(np.zeros(5))

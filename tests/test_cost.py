"""The GPU-hours estimate (dapo.cost) against counts and FLOPs worked out by hand."""

import pytest

from dapo.cost import MEASURED, PEAK_TFLOPS, Shape, gpu_hours, stage_tokens


def test_stage_tokens_by_hand():
    s = Shape(prompts=10, n1=32, n=6, N=16, steps=5, response_tokens=100, prompt_tokens=50, critic_epochs=1,
              actor_epochs=2, actions_per_state=4)
    # 10 prompts x 6 responses x 5 steps = 300 states; context 50 + 100/2 = 100; action 100/5 = 20
    assert stage_tokens(s) == {
        "generate": ("decode", 10 * 32 * 100),
        "complete": ("decode", 300 * 16 * 50),
        "critic": ("train_critic", 300 * 100),
        "advantages": ("score", 300 * 16 * 120 + 1200 * 120),
        "actor": ("train_policy", 2 * 1200 * 120),
    }


def test_gpu_hours_by_hand():
    measured, bound = gpu_hours(3.6e9, "train_policy", MEASURED["params_b"] * 2, 0.5)
    assert measured == pytest.approx(3.6e9 / (MEASURED["train_policy"] / 2) / 3600)
    assert bound == pytest.approx(6 * MEASURED["params_b"] * 2e9 * 3.6e9 / (0.5 * PEAK_TFLOPS * 1e12) / 3600)
    scored, scored_bound = gpu_hours(3.6e9, "score", MEASURED["params_b"], 0.5)
    assert scored == pytest.approx(3.6e9 / MEASURED["score"] / 3600)
    assert scored_bound == pytest.approx(2 * MEASURED["params_b"] * 1e9 * 3.6e9 / (0.5 * PEAK_TFLOPS * 1e12) / 3600)

import numpy as np
import pytest
import torch

from dapo.critic import _logits, critic_quality, predict_values, split_by_prompt, train_critic
from dapo.models import load_critic, save_checkpoint


def test_split_by_prompt_holds_out_whole_prompts():
    ids = ["a", "a", "b", "c", "c", "c", "d", "e"]
    held = split_by_prompt(ids, 0.4, seed=0)
    held_prompts = {p for p, h in zip(ids, held) if h}
    assert len(held_prompts) == 2  # ceil(0.4 * 5)
    assert all(h == (p in held_prompts) for p, h in zip(ids, held))
    assert not split_by_prompt(ids, 0.0, seed=0).any()


def test_critic_quality_by_hand():
    """pred (0.1, 0.5, 0.9), mc (0, 0.5, 1): MAE = (0.1 + 0 + 0.1) / 3 = 0.0667, Brier = 0.02/3.
    BCE = [-ln 0.9 + ln 2 + -ln 0.9] / 3 = (0.10536 * 2 + 0.69315) / 3 = 0.30129."""
    q = critic_quality(np.array([0.1, 0.5, 0.9]), np.array([0.0, 0.5, 1.0]), bins=2)
    assert q["mae"] == pytest.approx(0.2 / 3)
    assert q["brier"] == pytest.approx(0.02 / 3)
    assert q["bce"] == pytest.approx((2 * 0.1053605 + 0.6931472) / 3, abs=1e-6)
    assert q["calibration"] == [
        {"bin": "0.0-0.5", "mean_pred": pytest.approx(0.1), "mean_mc": 0.0, "count": 1},
        {"bin": "0.5-1.0", "mean_pred": pytest.approx(0.7), "mean_mc": 0.75, "count": 2}]


def test_critic_learns_soft_labels(tiny_policy, char_tokenizer, tmp_path):
    save_checkpoint(tiny_policy, char_tokenizer, tmp_path)
    critic, tok = load_critic(tmp_path)
    texts = ["Q: 1 + 1\n", "Q: 9 - 8\n", "Q: 5 + 5\n1 + 1 = 2\n", "Q: 3\n"]
    labels = np.array([0.9, 0.1, 0.75, 0.25], dtype=np.float32)
    before = critic_quality(predict_values(critic, tok, texts, 2), labels)["mae"]
    train_critic(critic, tok, texts, labels, {"epochs": 150, "batch_size": 4, "lr": 3e-3, "warmup_steps": 0,
                                                  "weight_decay": 0.0, "max_grad_norm": 1.0, "seed": 0, "log_every": 50}, progress=False)
    after = critic_quality(predict_values(critic, tok, texts, 2), labels)
    assert after["mae"] < 0.05 < before


def test_values_do_not_depend_on_how_a_batch_is_split(tiny_policy, char_tokenizer, tmp_path):
    """Length-sorted pieces and batches change only the padding: every text keeps its own value."""
    save_checkpoint(tiny_policy, char_tokenizer, tmp_path)
    critic, tok = load_critic(tmp_path)
    texts = ["Q: 12 + 34 - 5\n46 - 5 = 41\n", "Q: 1\n", "Q: 3 + 4\n", "Q: 5 + 5\n1 + 1 = 2\n", "Q: 7 * 8 + 9\n"]
    alone = np.array([predict_values(critic, tok, [t], 1)[0] for t in texts])
    np.testing.assert_allclose(predict_values(critic, tok, texts, 2), alone, atol=1e-6)
    with torch.no_grad():
        whole, split = _logits(critic, tok, texts), _logits(critic, tok, texts, pieces=3)
    torch.testing.assert_close(split, whole, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(torch.sigmoid(split).numpy(), alone, atol=1e-6)

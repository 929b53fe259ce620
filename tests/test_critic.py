import numpy as np
import pytest
import torch

from dapo.critic import (
    _logits,
    critic_quality,
    predict_values,
    split_by_prompt,
    train_critic,
    value_traces,
)
from dapo.models import load_critic, save_checkpoint
from dapo.tasks import get_task


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
    np.testing.assert_array_equal(predict_values(critic, tok, texts, 2, desc="critic values"),
                                  predict_values(critic, tok, texts, 2))
    with torch.no_grad():
        whole, split = _logits(critic, tok, texts), _logits(critic, tok, texts, pieces=3)
    torch.testing.assert_close(split, whole, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(torch.sigmoid(split).numpy(), alone, atol=1e-6)


def test_value_traces_value_each_state_along_each_response():
    """A correct countdown solution (2 steps and the answer line) and a wrong one whose first step
    already cannot reach the target: 3 states each (t = 0, 1, 2); the critic sees prompt + prefix,
    the exact value is 1 along the correct solution and 0 after the wrong first step."""
    task = get_task("countdown")
    problem = task.make_problems({"min_numbers": 3, "max_numbers": 3, "min_value": 1, "max_value": 9, "min_target": 10,
                                  "max_target": 60, "operators": ["+", "-", "*"]}, size=1, seed=0)[0]
    right = task.write_solution(problem)
    steps = task.split_steps(right)
    assert len(steps) == 3 and task.verify(problem, right)
    numbers = problem["entry"]["metadata"]["numbers"]
    wrong = f"{numbers[0]} - {numbers[0]} = 0\n0 * {numbers[1]} = 0\nA: 0"
    seen = []

    def values(texts):
        seen.extend(texts)
        return np.arange(len(texts), dtype=float) / 10

    traces = value_traces(task, {problem["id"]: problem},
                          [{"id": problem["id"], "response": right, "correct": True},
                           {"id": problem["id"], "response": wrong, "correct": False}], values)
    prompt = task.render_prompt(problem)
    assert seen == [prompt, prompt + steps[0], prompt + steps[0] + steps[1],
                    prompt, prompt + wrong.split("\n")[0] + "\n", prompt + "\n".join(wrong.split("\n")[:2]) + "\n"]
    assert traces["depth"].tolist() == [0, 1, 2, 0, 1, 2] and traces["steps"].tolist() == [3] * 6
    assert traces["correct"].tolist() == [True] * 3 + [False] * 3
    assert traces["critic"].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert traces["exact"].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]

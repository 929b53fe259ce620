import pytest
import torch

from conftest import problem
from dapo.sft import IGNORE, collate, sft_example, train_sft
from dapo.training import token_count


def test_sft_example_trains_on_response_and_eos_only(task, char_tokenizer):
    p = problem("1 + 2", "3")
    ids, labels = sft_example(task.render_prompt(p), task.write_solution(p), char_tokenizer)
    prompt, response = "Q: 1 + 2\n", "1 + 2 = 3\nA: 3"
    assert char_tokenizer.decode(ids[:-1]) == prompt + response
    assert ids[-1] == char_tokenizer.eos_token_id
    assert labels[:len(prompt)] == [IGNORE] * len(prompt)
    assert labels[len(prompt):] == ids[len(prompt):]
    assert len(labels) == len(ids) == len(prompt) + len(response) + 1


def test_collate_right_pads_and_masks(char_tokenizer):
    batch = collate([([5, 6, 7], [IGNORE, 6, 7]), ([8], [8])], pad_id=0)
    assert batch.input_ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch.labels.tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]


def test_training_fits_written_solutions(tiny_policy, task, char_tokenizer):
    problems = [problem("1 + 2", "3"), problem("4 - 6", "-2")]
    examples = [sft_example(task.render_prompt(p), task.write_solution(p), char_tokenizer) for p in problems]
    batch = collate(examples, char_tokenizer.pad_token_id)
    with torch.no_grad():
        before = tiny_policy(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                             labels=batch.labels).loss.item()
    logged = []
    hp = {"steps": 150, "batch_size": 4, "lr": 1e-2, "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": 1.0, "adam_betas": [0.9, 0.95], "seed": 0, "log_every": 50}
    summary = train_sft(tiny_policy, examples, char_tokenizer.pad_token_id, hp,
                        on_log=lambda step, m: logged.append(step), progress=False)
    assert logged == [50, 100, 150]
    assert before > 3.5  # ~ln(100): an untrained model is near uniform over the vocabulary
    assert summary["sft/final_loss"] < 0.5
    # 150 steps of 4 examples drawn from two: between 600 of the shorter and 600 of the longer
    lengths = sorted(len(ids) for ids, _ in examples)
    assert 600 * lengths[0] <= summary["sft/tokens_trained"] <= 600 * lengths[1]
    assert token_count(char_tokenizer, ["ab\n", "A: 3"]) == 7 and token_count(char_tokenizer, []) == 0


def test_demonstration_writes_the_habit_on_a_stable_share_of_problems():
    from dapo.sft import demonstration
    from dapo.tasks import get_task
    from tasks.test_countdown import problem as countdown_problem

    task = get_task("countdown")
    problems = [countdown_problem([a, b, 7], a * b + 7) for a in range(3, 13) for b in range(a, 13)]
    habit = [demonstration(task, p, 0.3) == task.write_habit(p) for p in problems]
    assert 0.2 < sum(habit) / len(habit) < 0.4
    assert habit == [demonstration(task, p, 0.3) == task.write_habit(p) for p in reversed(problems)][::-1]
    assert all(demonstration(task, p, 0.0) == task.write_solution(p) for p in problems)
    with pytest.raises(NotImplementedError, match="habit_fraction"):
        demonstration(get_task("chain_sum"), problem("1 + 2", "3"), 1.0)

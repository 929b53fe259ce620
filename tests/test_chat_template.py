"""Prompts for models with a chat template: the plain prompt becomes the user's turn and the
assistant's turn is opened, everywhere a model reads a prompt; the char tokenizer keeps plain text."""

import pandas as pd

from conftest import problem
from dapo.evaluation import evaluate
from dapo.generation import Completion, Sampling
from dapo.labelling import generate_responses, label_states
from dapo.models import build_char_tokenizer, load_tokenizer, save_checkpoint

TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def chat_tokenizer():
    tok = build_char_tokenizer()
    tok.chat_template = TEMPLATE
    return tok


class SpyGenerator:
    """Records the prompts it is given; every completion is the correct final answer."""

    def __init__(self, tokenizer):
        self.tokenizer, self.prompts = tokenizer, []

    def generate(self, prompts, sampling):
        self.prompts += list(prompts)
        return [[Completion("A: 3", 4, True)] * sampling.n for _ in prompts]


def test_policy_prompt_renders_the_template_only_where_there_is_one(task):
    p = problem("1 + 2", "3")
    assert task.policy_prompt(p, build_char_tokenizer()) == task.render_prompt(p) == "Q: 1 + 2\n"
    assert task.policy_prompt(p) == "Q: 1 + 2\n"
    assert task.policy_prompt(p, chat_tokenizer()) == "<|user|>Q: 1 + 2\n<|assistant|>"


def test_a_saved_checkpoint_keeps_its_template(tmp_path, tiny_policy):
    save_checkpoint(tiny_policy, chat_tokenizer(), tmp_path / "ckpt")
    assert load_tokenizer(tmp_path / "ckpt").chat_template == TEMPLATE


def test_sampling_labelling_and_evaluation_prompt_through_the_template(task):
    p = problem("1 + 2", "3")
    spy = SpyGenerator(chat_tokenizer())
    responses, _ = generate_responses(spy, task, [p], Sampling(n=2), n_keep=2, keep_unanimous=True, seed=0)
    assert spy.prompts == ["<|user|>Q: 1 + 2\n<|assistant|>"] and responses["correct"].all()
    states = pd.DataFrame({"state_id": [0, 1], "prompt_id": ["t-0", "t-0"], "prefix": ["", "1 + 2 = 3\n"],
                           "depth": [0, 1]})
    spy.prompts = []
    _, labelled, _ = label_states(spy, task, {"t-0": p}, states, Sampling(n=2))
    assert spy.prompts == ["<|user|>Q: 1 + 2\n<|assistant|>", "<|user|>Q: 1 + 2\n<|assistant|>1 + 2 = 3\n"]
    assert labelled["mc_value"].tolist() == [1.0, 1.0]
    records, summary = evaluate(SpyGenerator(chat_tokenizer()), task, [p], max_new_tokens=8, samples=0)
    assert records[0]["prompt"] == "<|user|>Q: 1 + 2\n<|assistant|>" and summary["accuracy"] == 1.0

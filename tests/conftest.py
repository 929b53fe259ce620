import pytest

from dapo.models import build_char_tokenizer, build_policy, save_checkpoint
from dapo.tasks import get_task

TINY_LLAMA = {"model_type": "llama", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                  "num_key_value_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128}


@pytest.fixture
def task():
    return get_task("chain_sum")


@pytest.fixture
def char_tokenizer():
    return build_char_tokenizer()


@pytest.fixture
def tiny_policy(char_tokenizer):
    return build_policy(char_tokenizer, TINY_LLAMA, seed=0).eval()


@pytest.fixture
def tiny_checkpoint(tmp_path, char_tokenizer):
    """A saved tiny random policy: pi_0 of the training-loop tests."""
    path = tmp_path / "pi0"
    save_checkpoint(build_policy(char_tokenizer, TINY_LLAMA, seed=0), char_tokenizer, path)
    return path


def problem(expression: str, answer: str) -> dict:
    """A chain_sum problem record as the data stage writes it."""
    return {"id": "t-0", "prompt": f"Q: {expression}\n", "answer": answer,
            "entry": {"question": f"State the final answer to the following arithmetic problem: {expression} =",
                      "answer": answer,
                      "metadata": {"source_dataset": "chain_sum", "expression": expression}}}

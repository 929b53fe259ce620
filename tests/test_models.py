import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    LlamaConfig,
    Qwen2Config,
)

from dapo.io import InputError
from dapo.models import CHARS, EOS, PAD, load_critic, load_policy, save_checkpoint


def test_char_tokenizer_round_trips_every_character(char_tokenizer):
    text = "Q: 55 + 98 - 93\n55 + 98 = 153\n\nA: -137  " + "".join(CHARS)
    ids = char_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(text)  # one token per character
    assert char_tokenizer.decode(ids) == text
    assert char_tokenizer.unk_token_id not in ids


def test_char_tokenizer_reloads_with_plain_autotokenizer(char_tokenizer, tmp_path):
    char_tokenizer.save_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    text = "7 - 9 = -2\nA: -2"
    assert tok(text, add_special_tokens=False)["input_ids"] == char_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert (tok.pad_token, tok.eos_token) == (PAD, EOS)
    assert tok.decode(tok(text)["input_ids"]) == text


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_checkpoint_reloads_with_plain_transformers(tiny_policy, char_tokenizer, tmp_path):
    save_checkpoint(tiny_policy, char_tokenizer, tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "model.safetensors").is_file()
    plain = AutoModelForCausalLM.from_pretrained(tmp_path / "ckpt")
    ids = torch.tensor([char_tokenizer("Q: 1 + 2\n")["input_ids"]])
    torch.testing.assert_close(_logits(plain, ids), _logits(tiny_policy, ids), rtol=0, atol=0)
    model, tok = load_policy(tmp_path / "ckpt")
    assert tok.padding_side == "left"
    torch.testing.assert_close(_logits(model, ids), _logits(tiny_policy, ids), rtol=0, atol=0)
    assert not list(tmp_path.glob(".ckpt.*"))  # the atomic temp dir is gone


@pytest.mark.parametrize("config", [
    LlamaConfig(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1, pad_token_id=0, eos_token_id=2),
    Qwen2Config(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1, pad_token_id=0, eos_token_id=2),
    GPT2Config(vocab_size=100, n_embd=16, n_layer=1, n_head=2, pad_token_id=0, eos_token_id=2),
], ids=["llama", "qwen2", "gpt2"])
def test_loader_serves_any_hf_architecture(config, char_tokenizer, tmp_path):
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    save_checkpoint(model, char_tokenizer, tmp_path)
    policy, _ = load_policy(tmp_path)
    assert AutoConfig.from_pretrained(tmp_path).model_type == config.model_type
    ids = torch.tensor([[5, 6, 7, 8]])
    torch.testing.assert_close(_logits(policy, ids), _logits(model.eval(), ids), rtol=0, atol=0)
    critic, _ = load_critic(tmp_path)
    value = torch.sigmoid(critic(input_ids=ids).logits)
    assert value.shape == (1, 1) and 0 < value.item() < 1
    # the critic shares the policy's body: its hidden states match
    body = critic.base_model(input_ids=ids).last_hidden_state
    torch.testing.assert_close(body, policy.base_model(input_ids=ids).last_hidden_state)


def test_a_new_value_head_is_drawn_from_the_seed(tiny_policy, char_tokenizer, tmp_path):
    save_checkpoint(tiny_policy, char_tokenizer, tmp_path)

    def head(seed, before):
        torch.manual_seed(before)  # whatever the global generator holds before the load must not matter
        return load_critic(tmp_path, seed=seed)[0].score.weight

    torch.testing.assert_close(head(3, before=1), head(3, before=2), rtol=0, atol=0)
    assert not torch.equal(head(3, before=1), head(4, before=1))


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="missing checkpoint: .* no config.json"):
        load_policy(tmp_path / "nope")


def test_sampling_and_values_load_bf16_on_a_gpu_and_fp32_on_the_cpu(monkeypatch):
    from dapo import models

    monkeypatch.setattr(models, "default_device", lambda: torch.device("cpu"))
    assert models.inference_dtype() == torch.float32
    monkeypatch.setattr(models, "default_device", lambda: torch.device("cuda", 0))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert models.inference_dtype() == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # e.g. a V100
    assert models.inference_dtype() == torch.float32

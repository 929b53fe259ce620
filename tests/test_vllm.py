"""The vLLM backend (`generation.VLLMGenerator`): the same interface as the Hugging Face backend.
The engine needs CUDA and the `vllm` extra; without them only the CPU parts run here."""

import importlib.util

import pytest
import torch

from dapo.generation import HFGenerator, Sampling, VLLMGenerator, make_generator, vllm_completion
from dapo.models import build_char_tokenizer, load_policy


def test_a_vllm_output_becomes_a_completion_with_or_without_its_eos():
    tok = build_char_tokenizer()
    ids = tok("12 + 3\nA: 15", add_special_tokens=False)["input_ids"]
    kept = vllm_completion(ids + [tok.eos_token_id], True, tok.eos_token_id, tok)
    dropped = vllm_completion(ids, True, tok.eos_token_id, tok)
    assert kept == dropped and kept.text == "12 + 3\nA: 15" and kept.finished and kept.token_ids == tuple(ids)
    assert not vllm_completion(ids, False, tok.eos_token_id, tok).finished  # the token budget ran out


def test_the_backend_key_picks_the_sampler(tiny_checkpoint, monkeypatch):
    generator = make_generator("hf", str(tiny_checkpoint), 8, "test")
    assert isinstance(generator, HFGenerator) and generator.batch_size == 8
    engines = []
    monkeypatch.setattr("dapo.generation.VLLMGenerator",
                        lambda path, seed, desc: engines.append((path, seed, desc)) or "engine")
    assert make_generator("vllm", "ckpt", 8, "test", seed=5) == "engine" and engines == [("ckpt", 5, "test")]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("vllm") is None,
                    reason="needs CUDA and the vllm extra")
def test_vllm_samples_through_the_same_interface_and_decodes_greedily_like_hf(tiny_checkpoint):
    prompts = ["Q: 3 + 4\n", "Q: 10 - 2 + 5\n"]
    engine = VLLMGenerator(str(tiny_checkpoint), dtype="float32")  # fp32 like the HF backend here
    sampled = engine.generate(prompts, Sampling(n=4, temperature=1.0, max_new_tokens=16, seed=3))
    assert [len(cs) for cs in sampled] == [4, 4]
    assert all(len(c.token_ids) == c.num_tokens <= 16 for cs in sampled for c in cs)
    assert sampled == engine.generate(prompts, Sampling(n=4, temperature=1.0, max_new_tokens=16, seed=3))
    greedy = Sampling(n=1, temperature=0, max_new_tokens=16)
    model, tok = load_policy(tiny_checkpoint)
    hf = HFGenerator(model, tok, batch_size=8, progress=False).generate(prompts, greedy)
    assert [c[0].text for c in engine.generate(prompts, greedy)] == [c[0].text for c in hf]

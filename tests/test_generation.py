import pytest
import torch

from dapo.generation import HFGenerator, Sampling, decode, next_token

PROMPTS = ["Q: 1 + 2\n", "Q: 12 + 34 - 5\n", "Q: 7\n"]


def naive_greedy(model, tok, prompt, max_new_tokens):
    """Reference: one prompt at a time, no padding, no cache, argmax each step."""
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    out = []
    for _ in range(max_new_tokens):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids + out]), use_cache=False).logits[0, -1]
        nxt = int(logits.argmax())
        if nxt == tok.eos_token_id:
            return tok.decode(out), True
        out.append(nxt)
    return tok.decode(out), False


def test_batched_greedy_matches_a_naive_loop(tiny_policy, char_tokenizer):
    gen = HFGenerator(tiny_policy, char_tokenizer, batch_size=2, progress=False)
    outs = gen.generate(PROMPTS, Sampling(n=1, temperature=0, max_new_tokens=12))
    for prompt, (c,) in zip(PROMPTS, outs):
        text, finished = naive_greedy(tiny_policy, char_tokenizer, prompt, 12)
        assert (c.text, c.finished) == (text, finished)
        assert c.num_tokens == len(c.text)


def test_sampling_returns_n_per_prompt_and_is_seeded(tiny_policy, char_tokenizer):
    gen = HFGenerator(tiny_policy, char_tokenizer, batch_size=4, progress=False)
    s = Sampling(n=3, temperature=1.0, max_new_tokens=10, seed=1)
    a = gen.generate(PROMPTS, s)
    assert [len(x) for x in a] == [3, 3, 3]
    assert [[c.text for c in x] for x in a] == [[c.text for c in x] for x in gen.generate(PROMPTS, s)]
    other = gen.generate(PROMPTS, Sampling(n=3, temperature=1.0, max_new_tokens=10, seed=2))
    assert [[c.text for c in x] for x in a] != [[c.text for c in x] for x in other]
    # an untrained model samples near-uniformly: samples of one prompt differ
    assert len({c.text for c in a[1]}) > 1


def _always(model, token_id):
    """Replace the output head by one whose logits always prefer `token_id`."""
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[token_id] = 10.0
    model.lm_head = head
    return model


def test_generation_stops_at_end_of_sequence(tiny_policy, char_tokenizer):
    gen = HFGenerator(_always(tiny_policy, char_tokenizer.eos_token_id), char_tokenizer, progress=False)
    (c,), = gen.generate(["Q: 1\n"], Sampling(n=1, temperature=0, max_new_tokens=5))
    assert (c.text, c.num_tokens, c.finished) == ("", 0, True)


def test_generation_without_end_of_sequence_is_marked_unfinished(tiny_policy, char_tokenizer):
    seven = char_tokenizer.convert_tokens_to_ids("7")
    gen = HFGenerator(_always(tiny_policy, seven), char_tokenizer, progress=False)
    (c,), = gen.generate(["Q: 1\n"], Sampling(n=1, temperature=0, max_new_tokens=5))
    assert (c.text, c.num_tokens, c.finished) == ("77777", 5, False)


def test_greedy_needs_one_sample():
    with pytest.raises(ValueError, match="greedy"):
        Sampling(n=2, temperature=0)


def test_decode_logprobs_match_a_full_forward_pass(tiny_policy, char_tokenizer):
    """Shared prefill, cache copies and dropped rows change nothing: each sampled token's
    log-probability from the cache equals the one a full forward pass over prompt + tokens gives."""
    tok = char_tokenizer
    batch = tok(PROMPTS, return_tensors="pt", padding=True, add_special_tokens=False)
    g = torch.Generator().manual_seed(0)
    rows, logps = decode(tiny_policy, batch["input_ids"], batch["attention_mask"], 3,
                         Sampling(n=3, temperature=1.0, max_new_tokens=12), tok.eos_token_id, g,
                         logprobs=True)
    assert len(rows) == 9 and len({len(r) for r in rows}) > 1  # some rows stopped early
    for r, (tokens, lps) in enumerate(zip(rows, logps)):
        prompt = tok(PROMPTS[r // 3], add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = tiny_policy(input_ids=torch.tensor([prompt + tokens])).logits[0]
        full = torch.log_softmax(logits[len(prompt) - 1:-1], -1).gather(-1, torch.tensor(tokens)[:, None])
        torch.testing.assert_close(torch.tensor(lps), full.squeeze(-1), atol=1e-5, rtol=1e-4)


def test_next_token_keeps_the_nucleus_and_samples_it_in_proportion():
    # probabilities 0.5, 0.3, 0.15, 0.05: top_p 0.7 keeps the first two (0.5 < 0.7 <= 0.8),
    # renormalised to 0.625 and 0.375
    logits = torch.tensor([0.5, 0.3, 0.15, 0.05]).log().expand(20000, 4)
    draws = next_token(logits, 1.0, 0.7, torch.Generator().manual_seed(0))
    counts = torch.bincount(draws, minlength=4).float() / len(draws)
    assert counts[2] == 0 and counts[3] == 0
    assert abs(counts[0] - 0.625) < 0.015
    # temperature 0.5 squares and renormalises: 0.25 / (0.25 + 0.09 + 0.0225 + 0.0025) = 0.685
    draws = next_token(logits, 0.5, 1.0, torch.Generator().manual_seed(1))
    assert abs((draws == 0).float().mean() - 0.685) < 0.015
    assert next_token(logits[:1], 0, 1.0).tolist() == [0]


def test_the_fast_path_samples_what_the_plain_algorithm_samples(tiny_policy, char_tokenizer):
    """The preallocated cache with bulk dropping of finished rows against transformers' DynamicCache
    with finished rows dropped at every step: same seed, same tokens and log-probs, with rows
    finishing at different steps."""
    from dapo import generation

    tok = char_tokenizer
    batch = tok(PROMPTS, return_tensors="pt", padding=True, add_special_tokens=False)
    sampling = Sampling(n=4, temperature=1.0, max_new_tokens=16)

    def run(fast):
        return decode(tiny_policy, batch["input_ids"], batch["attention_mask"], 4, sampling, tok.eos_token_id,
                      torch.Generator().manual_seed(5), logprobs=True, fast=fast)

    assert isinstance(generation.kv_cache(tiny_policy, 8).layers[0], generation.PreallocatedLayer)
    fast_rows, fast_logps = run(True)
    rows, logps = run(False)
    assert fast_rows == rows and len({len(r) for r in rows}) > 1
    for a, b in zip(fast_logps, logps):
        torch.testing.assert_close(torch.tensor(a), torch.tensor(b), atol=1e-6, rtol=1e-5)


def test_sliding_window_models_keep_transformers_cache():
    from transformers import LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM

    from dapo.generation import PreallocatedLayer, kv_cache

    sizes = {"vocab_size": 32, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
             "num_attention_heads": 2, "num_key_value_heads": 2}
    sliding = kv_cache(MistralForCausalLM(MistralConfig(**sizes, sliding_window=4)), 16)
    assert len(sliding.layers) == 2 and not any(isinstance(layer, PreallocatedLayer) for layer in sliding.layers)
    full = kv_cache(LlamaForCausalLM(LlamaConfig(**sizes)), 16)
    assert len(full.layers) == 2 and all(isinstance(layer, PreallocatedLayer) for layer in full.layers)

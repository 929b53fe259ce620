import torch

from dapo.logprobs import batched_action_logps, encode_pairs


def naive_action_logp(model, tok, state, action, eos):
    """Reference: one pair, token by token, full forward pass each time."""
    s = tok(state, add_special_tokens=False)["input_ids"]
    a = tok(action, add_special_tokens=False)["input_ids"] + ([tok.eos_token_id] if eos else [])
    total = 0.0
    for j, t in enumerate(a):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([s + a[:j]])).logits[0, -1]
        total += torch.log_softmax(logits, -1)[t].item()
    return total


def test_encode_pairs_marks_action_tokens(char_tokenizer):
    ids, attn, act = encode_pairs(char_tokenizer, ["Q: 1\n", "Q: 12\n"], ["A: 1", "x\n"], [True, False])
    assert ids.shape == (2, 10)  # 5 + 4 + EOS, 6 + 2 (+ 2 pad)
    assert act[0].tolist() == [False] * 5 + [True] * 5
    assert act[1].tolist() == [False] * 6 + [True] * 2 + [False] * 2
    assert attn[1].tolist() == [1] * 8 + [0] * 2
    assert ids[0, -1].item() == char_tokenizer.eos_token_id


def test_batched_logps_match_a_naive_loop(tiny_policy, char_tokenizer):
    states = ["Q: 1 + 2\n", "Q: 12 + 34 - 5\n12 + 34 = 46\n", "Q: 7\n"]
    actions = ["1 + 2 = 3\n", "A: 41", "A: 7"]
    eos = [False, True, True]
    fast = batched_action_logps(tiny_policy, char_tokenizer, states, actions, eos, batch_size=2)
    slow = [naive_action_logp(tiny_policy, char_tokenizer, s, a, e) for s, a, e in zip(states, actions, eos)]
    torch.testing.assert_close(fast, torch.tensor(slow), rtol=0, atol=1e-4)


def test_batched_logps_progress_bar_counts_pairs(tiny_policy, char_tokenizer, capsys):
    states, actions, eos = ["Q: 1 + 2\n"] * 3, ["1 + 2 = 3\n", "A: 3", "A: 4"], [False, True, True]
    quiet = batched_action_logps(tiny_policy, char_tokenizer, states, actions, eos, batch_size=2)
    assert capsys.readouterr().err == ""
    shown = batched_action_logps(tiny_policy, char_tokenizer, states, actions, eos, batch_size=2,
                                 desc="reference log-probs")
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert "reference log-probs" in last and "3/3" in last
    torch.testing.assert_close(shown, quiet, rtol=0, atol=0)

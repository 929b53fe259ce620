"""The PPO baseline: its equations against numbers computed by hand, the packed rollout batch
against one unpadded forward pass per response, the loop and the stage."""

import math

import pytest
import torch

from dapo.models import (
    build_char_tokenizer,
    load_policy,
    load_value_model,
)
from dapo.ppo import (
    clipped_policy_loss,
    clipped_value_loss,
    gae,
    kl_shaped_rewards,
    pack,
    response_logps,
    response_values,
    train_ppo,
    whiten,
)


def test_gae_by_hand():
    """Row 0 (3 tokens): rewards 0 0 1, values 0.5 0.6 0.8, gamma 1, lambda 0.95.
    delta_2 = 1 - 0.8 = 0.2, A_2 = 0.2; delta_1 = 0.8 - 0.6 = 0.2, A_1 = 0.2 + 0.95 * 0.2 = 0.39;
    delta_0 = 0.6 - 0.5 = 0.1, A_0 = 0.1 + 0.95 * 0.39 = 0.4705; returns A + V = 0.9705 0.99 1.0.
    Row 1 (2 tokens, then padding whose reward and value must not leak in): rewards 0 1, values
    0.2 0.4: A_1 = 1 - 0.4 = 0.6, A_0 = 0.4 - 0.2 + 0.95 * 0.6 = 0.77."""
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 5.0]])
    values = torch.tensor([[0.5, 0.6, 0.8], [0.2, 0.4, 9.0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    adv, ret = gae(rewards, values, mask, gamma=1.0, lam=0.95)
    torch.testing.assert_close(adv, torch.tensor([[0.4705, 0.39, 0.2], [0.77, 0.6, 0.0]]))
    torch.testing.assert_close(ret, torch.tensor([[0.9705, 0.99, 1.0], [0.97, 1.0, 0.0]]))


def test_gae_with_lambda_one_is_the_monte_carlo_return_minus_the_value():
    g = torch.Generator().manual_seed(0)
    rewards, values = torch.rand(4, 6, generator=g), torch.rand(4, 6, generator=g)
    mask = torch.arange(6) < torch.tensor([[6], [4], [1], [5]])
    adv, ret = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    future = (rewards * mask).flip(-1).cumsum(-1).flip(-1)  # sum of r_t' for t' >= t
    torch.testing.assert_close(ret, future * mask)
    torch.testing.assert_close(adv, (future - values) * mask)


def test_gae_matches_a_naive_loop():
    g = torch.Generator().manual_seed(1)
    rewards, values = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    lengths = [5, 3, 2]
    mask = torch.arange(5) < torch.tensor(lengths)[:, None]
    adv, _ = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    for b, n in enumerate(lengths):
        for t in range(n):
            expected = sum((0.9 * 0.8) ** (k - t) * (rewards[b, k] + 0.9 * (values[b, k + 1] if k + 1 < n else 0.0)
                                                       - values[b, k]) for k in range(t, n))
            assert adv[b, t].item() == pytest.approx(float(expected), abs=1e-5)


def test_clipped_policy_loss_by_hand():
    """Token 0: rho 1.5, A +1: min(1.5, 1.2) = 1.2, loss -1.2 (clipped). Token 1: rho 0.5, A -1:
    min(-0.5, -0.8) = -0.8, loss 0.8 (clipped). Token 2: rho 1.1, A +2: min(2.2, 2.2), loss -2.2.
    Padding (token 3) ignored. Mean (-1.2 + 0.8 - 2.2) / 3 = -0.8667; clip fraction 2/3."""
    logps = torch.tensor([[math.log(1.5), math.log(0.5), math.log(1.1), 3.0]])
    old = torch.zeros(1, 4)
    adv = torch.tensor([[1.0, -1.0, 2.0, 7.0]])
    mask = torch.tensor([[True, True, True, False]])
    loss, clip_fraction = clipped_policy_loss(logps, old, adv, mask, clip=0.2)
    assert loss.item() == pytest.approx(-2.6 / 3, abs=1e-6)
    assert clip_fraction.item() == pytest.approx(2 / 3)


def test_clipped_value_loss_by_hand():
    """Token 0: V 0.9, V_old 0.5, R 1.0: unclipped 0.01, clipped V 0.7 -> 0.09; max 0.09.
    Token 1: V 0.45, V_old 0.5, R 0: 0.2025, clipped (inside the bound) the same. Mean of
    0.5 * (0.09, 0.2025) = 0.073125."""
    loss = clipped_value_loss(torch.tensor([[0.9, 0.45]]), torch.tensor([[0.5, 0.5]]), torch.tensor([[1.0, 0.0]]),
                              torch.tensor([[True, True]]), clip=0.2)
    assert loss.item() == pytest.approx(0.073125)


def test_kl_shaped_rewards_by_hand():
    """kl_coef 0.01: token rewards -0.01 * (logp - ref); the score 1 lands on the last real token
    (index 1 of row 0, index 0 of row 1), never on padding."""
    logps = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0]])
    ref = torch.tensor([[-1.5, -1.5, 0.0], [-0.5, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    rewards = kl_shaped_rewards(logps, ref, torch.tensor([1.0, 0.0]), mask, kl_coef=0.01)
    torch.testing.assert_close(rewards, torch.tensor([[-0.005, 1.005, 0.0], [0.0, 0.0, 0.0]]))


def test_whiten_by_hand():
    """Real tokens 1, 2, 3 (the 9 is padding): mean 2, population std sqrt(2/3)."""
    out = whiten(torch.tensor([[1.0, 2.0], [3.0, 9.0]]), torch.tensor([[True, True], [True, False]]))
    s = math.sqrt(2 / 3)
    torch.testing.assert_close(out, torch.tensor([[-1 / s, 0.0], [1 / s, 0.0]]))


def test_pack_left_pads_prompts_and_right_pads_responses():
    ids, attn, mask = pack([[5, 6, 7], [8]], [[1], [2, 3]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7, 1, 0], [0, 0, 8, 2, 3]]
    assert attn.tolist() == [[1, 1, 1, 1, 0], [0, 0, 1, 1, 1]]
    assert mask.tolist() == [[True, False], [True, True]]


def test_packed_logps_and_values_equal_one_unpadded_forward_per_response(tiny_checkpoint):
    """The batched fast path against a naive loop: each response alone, no padding at all."""
    tok = build_char_tokenizer()
    prompts = [tok("12 + 3 =", add_special_tokens=False)["input_ids"], tok("4 =", add_special_tokens=False)["input_ids"]]
    responses = [tok(" 15", add_special_tokens=False)["input_ids"] + [tok.eos_token_id],
                 tok(" 4 + 0 = 4", add_special_tokens=False)["input_ids"]]
    policy, _ = load_policy(tiny_checkpoint)
    critic, _ = load_value_model(tiny_checkpoint, seed=3)
    ids, attn, mask = pack(prompts, responses, tok.pad_token_id)
    with torch.no_grad():
        logps = response_logps(policy.eval(), ids, attn, mask.shape[1])
        values = response_values(critic.eval(), ids, attn, mask.shape[1])
        for b, (p, r) in enumerate(zip(prompts, responses)):
            seq = torch.tensor([p + r])
            alone = torch.log_softmax(policy(input_ids=seq).logits[0].float(), -1)
            v = critic(input_ids=seq).logits[0, :, 0]
            for t, token in enumerate(r):
                assert logps[b, t].item() == pytest.approx(alone[len(p) + t - 1, token].item(), abs=1e-5)
                assert values[b, t].item() == pytest.approx(v[len(p) + t - 1].item(), abs=1e-5)
    assert mask.sum().item() == sum(map(len, responses))


PPO_HP = {"prompts_per_step": 3, "samples_per_prompt": 2, "steps": 2, "ppo_epochs": 2, "minibatches": 2,
          "kl_coef": 0.01, "gamma": 1.0, "lam": 0.95, "clip": 0.2, "value_clip": 0.2, "temperature": 1.0,
          "max_new_tokens": 8, "actor_lr": 1e-2, "critic_lr": 1e-2, "warmup_steps": 0, "weight_decay": 0.0,
          "max_grad_norm": 1.0, "adam_betas": [0.9, 0.999], "seed": 0, "log_every": 1}


def test_ppo_samples_from_the_current_policy_scores_each_response_against_its_own_prompt_and_trains_both_models(
        tiny_checkpoint):
    tok = build_char_tokenizer()
    texts = [f"{k} + {k} =" for k in range(6)]
    seen = []

    def reward(prompts, completions, prompt_id, **kwargs):
        seen.extend(zip(prompts, prompt_id, completions))
        return [float(len(c) % 3 == 0) for c in completions]

    policy, _ = load_policy(tiny_checkpoint)
    ref, critic = load_policy(tiny_checkpoint)[0].eval(), load_value_model(tiny_checkpoint)[0]
    before = [{k: v.clone() for k, v in m.state_dict().items()} for m in (policy, critic)]
    frozen = {k: v.clone() for k, v in ref.state_dict().items()}
    curve = []
    summary = train_ppo(policy, critic, ref, tok, texts, [f"p{k}" for k in range(6)], reward, PPO_HP,
                        on_log=lambda step, row: curve.append((step, row)), progress=False)
    # 2 rollouts x 3 prompts x 2 responses; the 6 prompts are each drawn once before any repeats
    assert summary["ppo/responses_sampled"] == len(seen) == 12
    assert sorted(p for p, _, _ in seen) == sorted(texts * 2) and all(p == texts[int(i[1:])] for p, i, _ in seen)
    assert all(seen[k][1] == seen[k + 1][1] for k in range(0, 12, 2))  # a prompt's responses side by side
    assert summary["ppo/actor_updates"] == 2 * PPO_HP["ppo_epochs"] * PPO_HP["minibatches"]
    # 1 to 8 tokens per response (end-of-sequence included); prompts are 7 characters
    assert 12 <= summary["ppo/tokens_generated"] <= 12 * 8
    assert summary["ppo/tokens_trained"] == 2 * PPO_HP["ppo_epochs"] * (summary["ppo/tokens_generated"] + 12 * 7)
    assert [step for step, _ in curve] == [1, 2] and all(0 <= row["ppo/reward"] <= 1 for _, row in curve)
    for model, old in zip((policy, critic), before):
        assert any(not torch.equal(old[k], v) for k, v in model.state_dict().items())
    assert all(torch.equal(frozen[k], v) for k, v in ref.state_dict().items())


def test_ppo_s_first_update_starts_at_ratio_one_so_a_zero_learning_rate_clips_nothing(tiny_checkpoint):
    """With lr 0 the policy never moves: every ratio is exactly 1, nothing is clipped, and the
    policy loss is minus the mean whitened advantage, 0."""
    tok = build_char_tokenizer()
    curve = []
    policy, _ = load_policy(tiny_checkpoint)
    train_ppo(policy, load_value_model(tiny_checkpoint)[0], None, tok, ["1 + 1 =", "2 + 2 ="], ["a", "b"],
              lambda prompts, completions, prompt_id: [float(len(c) > 4) for c in completions],
              {**PPO_HP, "actor_lr": 1e-30, "minibatches": 1, "kl_coef": 0.0}, on_log=lambda s, r: curve.append(r),
              progress=False)
    assert all(row["ppo/clip_fraction"] == 0 and row["ppo/kl"] == 0 for row in curve)
    assert all(abs(row["ppo/policy_loss"]) < 1e-5 for row in curve)

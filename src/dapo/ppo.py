"""PPO (Schulman et al. 2017), the paper's token-level actor-critic baseline (Table 3; appendix:
gamma 1, GAE lambda 0.95, clip 0.2, KL coefficient 0.01, separate actor and critic learning rates).

TRL 1.16 no longer ships PPO, so the project writes its own, in this one file: the per-token
equations as pure tensor functions, then the rollout layout and the training loop. The critic is a
value head on every token (`models.load_value_model`), initialised from pi_0; the reward is the
verifier's 0/1 on the last token, with a per-token KL penalty to pi_0.
Shapes: B responses, T response tokens, `mask` (B, T) True on real tokens (a response's tokens are
left-aligned, padding after them).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .generation import Sampling, completion, decode
from .training import Checkpoints, LogWindow, Optimiser


def kl_shaped_rewards(logps: torch.Tensor, ref_logps: torch.Tensor, scores: torch.Tensor,
                      mask: torch.Tensor, kl_coef: float) -> torch.Tensor:
    """Per-token rewards r_t = -kl_coef * (log pi(y_t) - log pi_ref(y_t)), plus the verifier's
    score on each response's last real token (the only task reward).

    logps, ref_logps: (B, T) log-probs of the sampled tokens; scores: (B,); mask: (B, T) bool.
    Returns (B, T) rewards, 0 on padding.
    """
    rewards = -kl_coef * (logps - ref_logps) * mask
    last = mask.long().sum(-1) - 1  # index of the last real token
    rewards[torch.arange(len(scores)), last] += scores
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0,
        lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation, backwards over the tokens of each response:
    delta_t = r_t + gamma * V_{t+1} - V_t (V after the last real token is 0: the episode ends),
    A_t = delta_t + gamma * lam * A_{t+1}; returns R_t = A_t + V_t (the value targets).

    rewards, values: (B, T); mask: (B, T) bool. Returns (advantages, returns), each (B, T), 0 on
    padding.
    """
    m = mask.to(values.dtype)
    advantages = torch.zeros_like(values)
    next_value = torch.zeros_like(values[:, 0])
    next_advantage = torch.zeros_like(values[:, 0])
    for t in reversed(range(values.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        advantages[:, t] = (delta + gamma * lam * next_advantage) * m[:, t]
        next_value = values[:, t] * m[:, t]
        next_advantage = advantages[:, t]
    return advantages, (advantages + values) * m


def clipped_policy_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                        mask: torch.Tensor, clip: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, per token: -min(rho * A, clip(rho, 1 - clip, 1 + clip) * A) with
    rho = exp(log pi - log pi_old).

    All (B, T). Returns (mean loss over real tokens, fraction of real tokens where the clip bound).
    """
    ratio = torch.exp(logps - old_logps)
    unclipped = ratio * advantages
    clipped = ratio.clamp(1 - clip, 1 + clip) * advantages
    m = mask.to(logps.dtype)
    loss = (-torch.minimum(unclipped, clipped) * m).sum() / m.sum()
    clip_fraction = ((clipped < unclipped).to(logps.dtype) * m).sum() / m.sum()
    return loss, clip_fraction


def clipped_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
                       mask: torch.Tensor, clip: float = 0.2) -> torch.Tensor:
    """0.5 * max((V - R)^2, (V_old + clip(V - V_old, -clip, clip) - R)^2), mean over real tokens.

    All (B, T). Returns a scalar.
    """
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    worst = torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
    m = mask.to(values.dtype)
    return 0.5 * (worst * m).sum() / m.sum()


def whiten(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(A - mean) / std over the real tokens of the batch, 0 on padding (the usual PPO
    normalisation, so one learning rate fits batches whose rewards differ in scale). (B, T)."""
    m = mask.to(advantages.dtype)
    mean = (advantages * m).sum() / m.sum()
    var = (((advantages - mean) * m) ** 2).sum() / m.sum()
    return (advantages - mean) * torch.rsqrt(var + 1e-8) * m


def pack(prompts: list[list[int]], responses: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor,
                                                                                          torch.Tensor]:
    """One batch of prompt + response token ids: prompts left-padded to width P, responses
    right-padded to width T after them, so response token t of every row sits in column P + t and
    its log-prob and value come from column P + t - 1.

    Returns input_ids (B, P + T), attention_mask (B, P + T) and the response mask (B, T).
    """
    width_p, width_t = max(map(len, prompts)), max(1, max(map(len, responses)))
    ids = torch.full((len(prompts), width_p + width_t), pad_id, dtype=torch.long)
    attn = torch.zeros_like(ids)
    mask = torch.zeros((len(prompts), width_t), dtype=torch.bool)
    for i, (p, r) in enumerate(zip(prompts, responses)):
        ids[i, width_p - len(p):width_p + len(r)] = torch.tensor(p + r, dtype=torch.long)
        attn[i, width_p - len(p):width_p + len(r)] = 1
        mask[i, :len(r)] = True
    return ids, attn, mask


def _response_outputs(model: PreTrainedModel, ids: torch.Tensor, attn: torch.Tensor, width_t: int) -> torch.Tensor:
    """The model's output at the columns that predict (policy) or value (critic) each response
    token: (B, T, ...)."""
    positions = (attn.cumsum(-1) - 1).clamp(min=0)  # left padding: positions count real tokens only
    out = model(input_ids=ids, attention_mask=attn, position_ids=positions).logits
    return out[:, -width_t - 1:-1]


def response_logps(model: PreTrainedModel, ids: torch.Tensor, attn: torch.Tensor, width_t: int) -> torch.Tensor:
    """log pi(y_t | prompt, y_<t) of each response token of a `pack`ed batch: (B, T)."""
    logits = _response_outputs(model, ids, attn, width_t).float()
    return torch.log_softmax(logits, -1).gather(-1, ids[:, -width_t:, None]).squeeze(-1)


def response_values(critic: PreTrainedModel, ids: torch.Tensor, attn: torch.Tensor, width_t: int) -> torch.Tensor:
    """V(prompt, y_<t), the value of the state each response token is sampled from: (B, T)."""
    return _response_outputs(critic, ids, attn, width_t)[..., 0].float()


def train_ppo(policy: PreTrainedModel, critic: PreTrainedModel, ref: PreTrainedModel | None,
              tokenizer: PreTrainedTokenizerBase, prompts: list[str], prompt_ids: list[str],
              reward: Callable[..., list[float]], hp: dict[str, Any],
              on_log: Callable[[int, dict[str, float]], None] | None = None,
              progress: bool = True, checkpoints: Checkpoints | None = None) -> dict[str, float]:
    """Online PPO of `policy`, with `critic` (a token value model) and the frozen reference `ref`
    (pi_0; None when kl_coef is 0), on `prompts` (texts; `prompt_ids` go to `reward` beside each
    response, as TRL passes them: reward(prompts, completions, prompt_id) -> list of floats).

    Each step samples samples_per_prompt responses to each of prompts_per_step prompts (drawn
    without replacement, reshuffled each pass) from the current policy, scores them, computes
    KL-shaped rewards, GAE advantages (whitened) and returns with the values at sampling time, then
    takes ppo_epochs passes of `minibatches` actor and critic updates over the batch.
    Every process samples the same batch (same seed) and trains on its shard of each minibatch.
    With `checkpoints`, resumes from the last one (both models, their optimisers, and the prompt
    queue and random streams the next rollout draws from) and saves new ones between rollouts.

    hp: prompts_per_step, samples_per_prompt, steps, ppo_epochs, minibatches, kl_coef, gamma, lam,
    clip, value_clip, temperature, max_new_tokens, actor_lr, critic_lr, warmup_steps, weight_decay,
    max_grad_norm, adam_betas, seed, log_every.
    """
    opt_args = {"weight_decay": hp["weight_decay"], "warmup_steps": hp["warmup_steps"],
                "max_grad_norm": hp["max_grad_norm"], "betas": tuple(hp["adam_betas"])}
    actor = Optimiser(policy, hp["actor_lr"], name="ppo actor", **opt_args)
    value = Optimiser(critic, hp["critic_lr"], name="ppo critic", **opt_args)
    sampler = actor.accelerator.unwrap_model(actor.model)
    tok, pad, eos = tokenizer, tokenizer.pad_token_id, tokenizer.eos_token_id
    encoded = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    sampling = Sampling(n=hp["samples_per_prompt"], temperature=hp["temperature"], max_new_tokens=hp["max_new_tokens"])
    rng, gen = random.Random(hp["seed"]), torch.Generator(device=actor.device).manual_seed(hp["seed"])
    queue: list[int] = []
    totals = {"ppo/tokens_generated": 0, "ppo/tokens_trained": 0}
    checkpoints = checkpoints or Checkpoints(None)
    done, saved = checkpoints.resume([actor, value], on_log if actor.is_main_process else None, hp["steps"])
    window = LogWindow(hp["log_every"], hp["steps"], checkpoints.log)
    start, row = time.time(), {}
    if saved:
        version, state, gauss = saved["rng"]
        rng.setstate((version, tuple(state), gauss))
        gen.set_state(torch.tensor(saved["gen"], dtype=torch.uint8))
        queue, totals, row, window.rows = saved["queue"], saved["totals"], saved["row"], saved["window"]
    for step in tqdm(range(done + 1, hp["steps"] + 1), initial=done, total=hp["steps"], desc="ppo", unit="step",
                     mininterval=5, disable=not (progress and actor.is_main_process)):
        if len(queue) < hp["prompts_per_step"]:
            queue += rng.sample(range(len(prompts)), len(prompts))
        chosen, queue = queue[:hp["prompts_per_step"]], queue[hp["prompts_per_step"]:]
        sampler.eval()
        left = tok.pad({"input_ids": [encoded[i] for i in chosen]}, padding=True, return_tensors="pt")
        left = {k: v.to(actor.device) for k, v in left.items()}
        rows, _ = decode(sampler, left["input_ids"], left["attention_mask"], sampling.n, sampling, eos, gen)
        owner = [i for i in chosen for _ in range(sampling.n)]
        texts = [completion(r, eos, tok).text for r in rows]
        scores = torch.tensor(reward([prompts[i] for i in owner], texts, prompt_id=[prompt_ids[i] for i in owner]),
                              dtype=torch.float32)
        ids, attn, mask = (t.to(actor.device) for t in pack([encoded[i] for i in owner], rows, pad))
        width_t = mask.shape[1]
        with torch.no_grad():
            critic.eval()
            old_logps = response_logps(sampler, ids, attn, width_t)
            old_values = response_values(value.model, ids, attn, width_t)
            ref_logps = response_logps(ref, ids, attn, width_t) if ref is not None else old_logps
            rewards = kl_shaped_rewards(old_logps, ref_logps, scores.to(actor.device), mask, hp["kl_coef"])
            advantages, returns = gae(rewards, old_values, mask, hp["gamma"], hp["lam"])
            advantages = whiten(advantages, mask)
        actor.model.train()
        value.model.train()
        stats = []
        for _ in range(hp["ppo_epochs"]):
            order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(rng.randrange(2**31))).tolist()
            for k in range(hp["minibatches"]):
                batch = order[k::hp["minibatches"]]
                part, share = actor.shard(batch, mask[batch].sum(-1).tolist())
                sub = torch.tensor(part, device=actor.device)
                w = int(mask[sub].sum(0).nonzero().max()) + 1  # this shard's response width
                sid, sattn = ids[sub][:, :ids.shape[1] - width_t + w], attn[sub][:, :ids.shape[1] - width_t + w]
                m = mask[sub][:, :w]
                policy_loss, clip_fraction = clipped_policy_loss(response_logps(actor.model, sid, sattn, w),
                                                                 old_logps[sub][:, :w], advantages[sub][:, :w], m,
                                                                 hp["clip"])
                actor_loss, actor_grad = actor.step(policy_loss, share)
                value_loss = clipped_value_loss(response_values(value.model, sid, sattn, w), old_values[sub][:, :w],
                                                returns[sub][:, :w], m, hp["value_clip"])
                critic_loss, critic_grad = value.step(value_loss, share)
                if actor.processes > 1:  # the minibatch's clipped share, over every process's tokens
                    clip_fraction = actor.accelerator.reduce(clip_fraction.detach() * share, "sum")
                stats.append((actor_loss, critic_loss, clip_fraction.item(), actor_grad, critic_grad))
        generated = int(mask.sum())
        totals["ppo/tokens_generated"] += generated
        # the actor and the critic each pass every prompt and response token forward and backward
        totals["ppo/tokens_trained"] += 2 * hp["ppo_epochs"] * (int(attn.sum()))
        real = mask.to(torch.float32)
        kl = float(((old_logps - ref_logps) * real).sum() / len(rows))
        row = {"ppo/reward": float(scores.mean()), "ppo/kl": kl, "ppo/mean_length": generated / len(rows),
               "ppo/policy_loss": sum(s[0] for s in stats) / len(stats),
               "ppo/value_loss": sum(s[1] for s in stats) / len(stats),
               "ppo/clip_fraction": sum(s[2] for s in stats) / len(stats),
               "ppo/grad_norm": sum(s[3] for s in stats) / len(stats),
               "ppo/critic_grad_norm": sum(s[4] for s in stats) / len(stats),
               "ppo/value_mean": float((old_values * real).sum() / real.sum())}
        window.add(step, row)
        checkpoints.save_if_due({"rng": rng.getstate(), "gen": gen.get_state().tolist(), "queue": queue,
                                 "totals": totals, "row": row, "window": window.rows}, step)
    policy.eval()
    return {"ppo/steps": hp["steps"], "ppo/train_seconds": time.time() - start, "ppo/processes": actor.processes,
            "ppo/responses_sampled": hp["steps"] * hp["prompts_per_step"] * hp["samples_per_prompt"],
            "ppo/actor_updates": actor.steps, "ppo/final_reward": row.get("ppo/reward", float("nan")),
            "ppo/final_kl": row.get("ppo/kl", float("nan")), **totals}

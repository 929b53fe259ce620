"""The PPO baseline's equations (paper appendix: token-level actor-critic, gamma 1, GAE lambda
0.95, clip 0.2, KL coefficient 0.01), as pure tensor functions.

TRL 1.16 no longer ships PPO, so the project writes its own. What is here is the per-token
arithmetic; the rollout loop, the value head and the `ppo` stage that use it are not written yet.
Shapes: B responses, T response tokens, `mask` (B, T) True on real tokens (a response's tokens are
left-aligned, padding after them).
"""

from __future__ import annotations

import torch


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

"""The paper's equations as pure tensor functions (arXiv 2412.18279, sections 3-4).

No I/O, tracking or distributed code here. Each function returns per-example values (the caller
reduces), and the DAPO loss also returns the statistics worth logging.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mc_value(correct: torch.Tensor) -> torch.Tensor:
    """Monte Carlo state value MC(s) = (1/N) * sum_j 1[completion j from s ends correct].

    correct: (S, N) bool or {0,1}, N completions sampled from each of S states by the policy.
    Returns (S,) float in [0, 1].
    """
    return correct.float().mean(dim=-1)


def critic_bce_loss(logits: torch.Tensor, mc_values: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of V_phi(s) = sigmoid(logit) against the soft label MC(s) (section 4).

    logits: (B,) critic outputs; mc_values: (B,) labels in [0, 1].
    Returns (B,) losses  -[MC log V + (1 - MC) log(1 - V)].
    """
    return F.binary_cross_entropy_with_logits(logits, mc_values, reduction="none")


def sibling_mean_advantage(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """A(s, a_j) = V(s + a_j) - mean_k V(s + a_k) over the state's sampled candidate actions.

    values: (S, K) value of the state reached by each candidate (padding entries ignored);
    mask: (S, K) bool, True for the K_s <= K real candidates of each state (duplicates included, so
    the mean estimates E_{a ~ pi}[V(s + a)]).
    Returns (S, K) advantages, 0 at padding.
    """
    m = mask.to(values.dtype)
    mean = (values * m).sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp_min(1)
    return (values - mean) * m


def advantage_gap_keep(advantages: torch.Tensor, mask: torch.Tensor, min_gap: float) -> torch.Tensor:
    """Keep a state only if max_a A(s, a) - min_a A(s, a) >= min_gap (paper: 0.1).

    advantages, mask: (S, K) as returned by / given to `sibling_mean_advantage`.
    Returns (S,) bool.
    """
    hi = advantages.masked_fill(~mask, float("-inf")).amax(-1)
    lo = advantages.masked_fill(~mask, float("inf")).amin(-1)
    return (hi - lo) >= min_gap


def dapo_loss(policy_logps: torch.Tensor, ref_logps: torch.Tensor, advantages: torch.Tensor,
              beta: float, target_floor: float | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """DAPO actor loss: 0.5 * (log pi_theta(a|s) - log pi_ref(a|s) - A(s, a) / beta)^2 (section 3).

    policy_logps, ref_logps: (B,) log-probabilities of each action given its state, summed over the
    action's tokens (no length normalisation); advantages: (B,) critic advantages; beta > 0.
    target_floor (beyond the paper; None = the paper): the log-ratio target is max(A / beta,
    target_floor), so a bad action is pushed at most that far below its reference probability.
    Returns (B,) per-pair losses (the caller takes the mean over the batch) and statistics:
    `log_ratio` mean, `sign_agreement` (fraction of pairs with nonzero advantage whose log-ratio has
    the advantage's sign), and mean log-ratio over positive / negative advantages.
    """
    log_ratio = policy_logps - ref_logps
    target = advantages / beta
    if target_floor is not None:
        target = target.clamp_min(target_floor)
    losses = 0.5 * (log_ratio - target) ** 2
    with torch.no_grad():
        nonzero = advantages != 0
        pos, neg = advantages > 0, advantages < 0
        stats = {
            "log_ratio": log_ratio.mean(),
            "sign_agreement": (torch.sign(log_ratio) == torch.sign(advantages))[nonzero].float().mean()
            if nonzero.any() else torch.tensor(float("nan")),
            "log_ratio_pos": log_ratio[pos].mean() if pos.any() else torch.tensor(float("nan")),
            "log_ratio_neg": log_ratio[neg].mean() if neg.any() else torch.tensor(float("nan")),
        }
    return losses, stats


def sequence_logps(logits: torch.Tensor, input_ids: torch.Tensor, action_mask: torch.Tensor) -> torch.Tensor:
    """log pi(a | s) summed over the action's tokens.

    logits: (B, T, V) model outputs for input_ids (B, T) = state tokens then action tokens;
    action_mask: (B, T) True at the action's tokens. Token t is scored by the logits at t - 1.
    Returns (B,).
    """
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token_logp = logp.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (token_logp * action_mask[:, 1:].to(token_logp.dtype)).sum(-1)

"""Property test of the paper's Theorem 3.2 on random tabular tree MDPs.

With exact advantages A^{pi_ref} and full-support sampling from pi_ref, the exact minimiser pi* of
the DAPO objective  sum_s d(s) sum_a pi_ref(a|s) 0.5 (log pi(a|s) - log pi_ref(a|s) - A(s,a)/beta)^2
never has a lower value than pi_ref, and is strictly better unless pi_ref is already optimal.
The objective separates over states, so pi* is found state by state with a generic optimiser
over softmax logits (no closed form is assumed).
"""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st


def random_tree(rng: torch.Generator, depth: int, branching: int):
    """Deterministic tree MDP: node -> children actions; leaves carry reward 0 or 1."""
    children, rewards = {}, {}
    frontier, next_id = [0], 1
    for _ in range(depth):
        new = []
        for node in frontier:
            k = int(torch.randint(2, branching + 1, (1,), generator=rng))
            children[node] = list(range(next_id, next_id + k))
            new += children[node]
            next_id += k
        frontier = new
    for leaf in frontier:
        rewards[leaf] = float(torch.rand(1, generator=rng) < 0.5)
    return children, rewards


def values(children, rewards, policy):
    """Exact V^pi for every node: leaves give their reward, inner nodes the policy's average."""
    v = dict(rewards)

    def visit(node):
        if node not in v:
            v[node] = sum(p * visit(c) for p, c in zip(policy[node].tolist(), children[node]))
        return v[node]

    visit(0)
    return v


def dapo_minimiser(ref: torch.Tensor, adv: torch.Tensor, beta: float) -> torch.Tensor:
    """argmin over the simplex of sum_a ref_a 0.5 (log pi_a - log ref_a - adv_a / beta)^2."""
    z = torch.log(ref).clone().requires_grad_(True)
    target = torch.log(ref) + adv / beta
    opt = torch.optim.LBFGS([z], lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (ref * 0.5 * (torch.log_softmax(z, 0) - target) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return torch.softmax(z.detach(), 0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 3), branching=st.integers(2, 3),
       beta=st.sampled_from([0.002, 0.01, 0.1, 1.0]))
def test_dapo_minimiser_improves_on_the_reference(seed, depth, branching, beta):
    torch.set_default_dtype(torch.float64)
    try:
        rng = torch.Generator().manual_seed(seed)
        children, rewards = random_tree(rng, depth, branching)
        ref = {s: torch.softmax(torch.randn(len(c), generator=rng), 0) for s, c in children.items()}
        v_ref = values(children, rewards, ref)
        new, max_abs_adv = {}, 0.0
        for s, c in children.items():
            adv = torch.tensor([v_ref[x] for x in c]) - v_ref[s]  # A = Q - V; deterministic moves
            max_abs_adv = max(max_abs_adv, adv.abs().max().item())
            new[s] = dapo_minimiser(ref[s], adv, beta)
        v_new = values(children, rewards, new)
        optimal = max_abs_adv < 1e-12  # full support: no advantage anywhere <=> pi_ref optimal
        assert v_new[0] >= v_ref[0] - 1e-9
        if not optimal:
            assert v_new[0] > v_ref[0] + 1e-9
    finally:
        torch.set_default_dtype(torch.float32)

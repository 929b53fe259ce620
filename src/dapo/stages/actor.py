"""actor: the DAPO update. Starting from pi_{i-1} (also the reference), minimise
0.5 * (log pi(a|s) - log pi_ref(a|s) - A(s,a)/beta)^2 over the advantage dataset, log-probs summed
over the action's tokens, mean over the batch, all actions of a state in one batch; no clipping,
KL or SFT term (paper section 3). Writes pi_i to <out>/model, <out>/metrics.json and the training
curve <out>/curve.csv.

Deviation: the paper's lr 5e-7 and global batch 2048 are for 7B models and large datasets; the CPU
default uses a learning rate sized for its 1M-parameter policy (see params).
"""

from __future__ import annotations

from pathlib import Path

from ..actor import fit_stats, state_subset, train_actor
from ..io import read_parquet
from ..models import load_policy, save_checkpoint
from ..training import job_checkpoints, trained_model
from . import _chain, _cli


def main(args, params):
    hp = params["actor"]
    data = read_parquet(args.advantages, required=("state_id", "state", "action", "eos", "advantage", "ref_logp"))
    if data.empty:
        raise _cli.InputError(f"actor: empty dataset {args.advantages}")
    data = data[state_subset(data["state_id"], hp["state_fraction"])].reset_index(drop=True)
    model, tok = load_policy(args.policy)
    run = _chain.start_run("actor", params, args)
    curve = _cli.Curve(run)
    print(f"actor: {len(data)} (state, action) pairs over {data['state_id'].nunique()} states, beta {hp['beta']}")
    resume = job_checkpoints(params, args.out, [args.policy, args.advantages])
    summary = train_actor(model, tok, data, {**hp, "seed": _chain.chain_seed(args, 4)},
                          on_log=curve.log, checkpoints=resume)
    model = trained_model(model)
    if model is None:  # under accelerate launch, one process evaluates, writes and logs
        return
    final = fit_stats(model, tok, data, hp["beta"], hp["batch_size"], hp["target_floor"])
    metrics = {**summary, **{f"actor/final_{k}": v for k, v in final.items()},
               "actor/pairs": len(data), "actor/states": data["state_id"].nunique()}
    out = Path(args.out)
    save_checkpoint(model, tok, out / "model")
    _chain.finish(run, out, metrics, curve)
    resume.clear()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--policy", required=True, help="checkpoint of pi_{i-1} (start and reference)")
    p.add_argument("--advantages", required=True, help="advantages.parquet (with ref_logp)")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")
    _cli.run(main, p)

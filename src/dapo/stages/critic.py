"""critic: fit V_phi(s) in (0, 1) with BCE on the soft MC labels (paper section 4, step 3).

Initialised from --init: the params-chosen checkpoint in iteration 1 (a causal LM gets a new value
head), critic i-1 afterwards (warm start). States are split by prompt into train and held-out; the
held-out BCE, MAE, Brier score and calibration bins are logged; the training BCE by step goes to
<out>/curve.csv. Deviation: the paper trains one epoch at lr 5e-6 and batch 512 on a far larger
dataset; the CPU default trains several epochs of a small one (see params).
"""

from __future__ import annotations

from pathlib import Path

from ..critic import critic_quality, predict_values, split_by_prompt, train_critic
from ..io import read_jsonl, read_parquet
from ..models import load_critic, save_checkpoint
from ..tasks import get_task
from ..training import job_checkpoints, trained_model
from . import _chain, _cli


def main(args, params):
    hp = params["critic"]
    task = get_task(params["data"]["task"])
    problems = {p["id"]: p for p in read_jsonl(args.data, required=("id", "prompt", "answer", "entry"))}
    states = read_parquet(args.states, required=("prompt_id", "prefix", "mc_value"))
    labels = states["mc_value"].to_numpy(dtype="float32")
    held = split_by_prompt(states["prompt_id"].tolist(), hp["val_fraction"], _chain.chain_seed(args, 3))
    train = [i for i in range(len(states)) if not held[i]]
    if not train:
        raise _cli.InputError(f"critic: no training states in {args.states}")
    model, tok = load_critic(args.init, seed=_chain.chain_seed(args, 3))
    # the critic reads states as its own model reads prompts (its tokenizer's chat template, if any)
    texts = [task.policy_prompt(problems[p], tok) + s for p, s in zip(states["prompt_id"], states["prefix"])]
    held_texts = [t for t, h in zip(texts, held) if h]
    run = _chain.start_run("critic", params, args)
    curve = _cli.Curve(run)
    print(f"critic: {len(train)} training states, {len(held_texts)} held out, init {args.init}")
    before = critic_quality(predict_values(model, tok, held_texts, hp["batch_size"]), labels[held]) if held_texts else None
    resume = job_checkpoints(params, args.out, [args.init, args.data, args.states])
    summary = train_critic(model, tok, [texts[i] for i in train], labels[train],
                           {**hp, "seed": _chain.chain_seed(args, 3)},
                           on_log=curve.log, checkpoints=resume)
    model = trained_model(model)
    if model is None:  # under accelerate launch, one process evaluates, writes and logs
        return
    metrics = dict(summary)
    if held_texts:
        after = critic_quality(predict_values(model, tok, held_texts, hp["batch_size"]), labels[held],
                               hp["calibration_bins"])
        metrics.update({f"critic/val_{k}": after[k] for k in ("bce", "mae", "brier", "n")})
        metrics.update({f"critic/val_{k}_at_init": before[k] for k in ("bce", "mae", "brier")})
        metrics["critic/val_calibration"] = after["calibration"]
        # the constant predictor (mean training label) is the bar a useful critic must clear
        const = critic_quality(labels[held] * 0 + labels[train].mean(), labels[held])
        metrics.update({f"critic/val_{k}_constant": const[k] for k in ("bce", "mae", "brier")})
    out = Path(args.out)
    save_checkpoint(model, tok, out / "model")
    _chain.finish(run, out, metrics, curve)
    resume.clear()


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    _chain.add_chain_args(p)
    p.add_argument("--init", required=True, help="checkpoint to start from (policy or previous critic)")
    p.add_argument("--data", required=True, help="training prompts (rl split jsonl)")
    p.add_argument("--states", required=True, help="states.parquet of the complete stage")
    p.add_argument("--out", required=True, help="output directory (model/, metrics.json, curve.csv)")
    _cli.run(main, p)

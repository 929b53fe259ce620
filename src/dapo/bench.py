"""`make bench`: how fast the workflow's parts run, each against a baseline measured in the same run.

    python -m dapo.bench decode   --out results/bench/decode.json     # decode vs one forward pass
    python -m dapo.bench complete --out results/bench/complete.json   # MC labelling vs a naive loop
    python -m dapo.bench train    --out results/bench/train.json      # training tokens/s vs matmul peak
    python -m dapo.bench jobs     --out results/bench/jobs.json       # fixed cost per job, time per rule
    python -m dapo.bench table results/bench/*.json                   # the README's markdown table

Ratios measured side by side in one process are the figures of record; absolute times depend on
the machine. `--device cuda --arch qwen2-0.5b` runs decode and train on a GPU for a random-init
Qwen2-0.5B-shaped policy (bf16). Each subcommand imports only what it needs, so decode and train
run where only torch and transformers are installed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

# Qwen2-0.5B's shape (its config.json), for the GPU measurements; weights are random.
QWEN2_05B = {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
             "num_attention_heads": 14, "num_key_value_heads": 2, "max_position_embeddings": 4096,
             "vocab_size": 151936, "rope_theta": 1000000.0, "tie_word_embeddings": True}
# Dense bf16 peak of the GPUs this project is measured on (NVIDIA datasheets, SXM parts), for MFU.
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}
STAGES = ("data", "sft", "generate", "complete", "critic", "advantages", "actor", "evaluate", "tables")


def _timed(fn, repeat: int = 1, sync=lambda: None) -> float:
    """Seconds per call of fn, after one untimed warm-up call."""
    fn()
    sync()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    sync()
    return (time.perf_counter() - start) / repeat


def _sync(device: str):
    """What waits for queued GPU work before a clock is read (nothing on CPU)."""
    import torch

    return torch.cuda.synchronize if device == "cuda" else (lambda: None)


def _model(arch_name: str, params_path: str, device: str):
    """A random-init causal LM: the experiment's `model` section (char vocabulary), or Qwen2-0.5B."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if arch_name == "qwen2-0.5b":
        arch = dict(QWEN2_05B)
        config = AutoConfig.for_model(arch.pop("model_type"), **arch)
        torch.manual_seed(0)
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        return AutoModelForCausalLM.from_config(config).to(device=device, dtype=dtype).eval(), config.vocab_size
    from .models import build_char_tokenizer, build_policy
    from .params import load_params

    tok = build_char_tokenizer()
    return build_policy(tok, load_params(params_path)["model"], seed=0).to(device).eval(), len(tok)


def _env(device: str) -> dict[str, Any]:
    import torch

    env = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": device,
           "cpu": platform.processor() or platform.machine()}
    if device == "cuda":
        env["gpu"] = torch.cuda.get_device_name()
    return env


def bench_decode(args) -> dict[str, Any]:
    """Decode tokens/s of `generation.decode` and of `model.generate`, against the pure-forward
    bound: one forward pass over the same rows at their full length (prompt + new tokens).
    End-of-sequence is disabled, so every row decodes exactly `new` tokens."""

    model, vocab = _model(args.arch, args.params, args.device)
    rows = [_decode_row(model, vocab, batch, args, _sync(args.device)) for batch in args.batch_sizes]
    return {"arch": args.arch, "rows": rows}


def _decode_row(model, vocab: int, batch: int, args, sync) -> dict[str, Any]:
    import torch

    from .generation import Sampling, decode

    g = torch.Generator(device=args.device).manual_seed(0)
    ids = torch.randint(4, vocab, (batch, args.prompt), generator=g, device=args.device)
    mask = torch.ones_like(ids)
    full = torch.randint(4, vocab, (batch, args.prompt + args.new), generator=g, device=args.device)
    sampling = Sampling(n=1, temperature=1.0, max_new_tokens=args.new)
    generate = {"input_ids": ids, "attention_mask": mask, "max_new_tokens": args.new,
                "min_new_tokens": args.new, "do_sample": True, "temperature": 1.0, "top_p": None,
                "top_k": None, "pad_token_id": 0}
    with torch.no_grad():
        t_decode = _timed(lambda: decode(model, ids, mask, 1, sampling, -1, g), sync=sync)
        t_dynamic = _timed(lambda: decode(model, ids, mask, 1, sampling, -1, g, fast=False), sync=sync)
        t_generate = _timed(lambda: model.generate(**generate), sync=sync)
        t_forward = _timed(lambda: model(input_ids=full), repeat=3, sync=sync)
        # a static cache lets transformers compile the decoding step (CUDA graphs on a GPU)
        t_static = _timed(lambda: model.generate(**generate, cache_implementation="static"),
                          sync=sync) if args.static else None
    new_tokens = batch * args.new
    row = {"batch": batch, "prompt_tokens": args.prompt, "new_tokens": args.new,
           "decode_tokens_per_s": new_tokens / t_decode,
           "decode_dynamic_cache_tokens_per_s": new_tokens / t_dynamic,
           "hf_generate_tokens_per_s": new_tokens / t_generate,
           "forward_tokens_per_s": batch * (args.prompt + args.new) / t_forward}
    if t_static:
        row["hf_generate_static_tokens_per_s"] = new_tokens / t_static
    row["decode_vs_forward"] = row["decode_tokens_per_s"] / row["forward_tokens_per_s"]
    row["decode_vs_hf_generate"] = row["decode_tokens_per_s"] / row["hf_generate_tokens_per_s"]
    row["decode_vs_dynamic_cache"] = row["decode_tokens_per_s"] / row["decode_dynamic_cache_tokens_per_s"]
    print(json.dumps(row), flush=True)
    return row


def bench_complete(args) -> dict[str, Any]:
    """MC labelling of the same states by the project's `label_states` (shared prefill, finished
    rows dropped) and by a naive loop of one `model.generate` call per state, same N and sampling.
    Reads the experiment's pi_0 and its first generate output; `make bench` builds them."""
    import torch

    from .generation import HFGenerator, Sampling
    from .io import read_jsonl, read_parquet
    from .labelling import enumerate_states, label_states
    from .losses import mc_value
    from .models import load_policy
    from .params import load_params, results_root
    from .tasks import get_task

    params = load_params(args.params)
    root = Path(results_root(Path(args.params).stem))
    task = get_task(params["data"]["task"])
    hp = params["complete"]
    problems = {p["id"]: p for p in read_jsonl(root / "data" / "rl.jsonl")}
    responses = read_parquet(root / "generate" / "seed0" / "iter1" / "responses.parquet")
    states = enumerate_states(responses, task).iloc[:args.states]
    model, tok = load_policy(root / "sft" / "model")
    sampling = Sampling(n=hp["N"], temperature=hp["temperature"], top_p=hp["top_p"],
                        max_new_tokens=hp["max_new_tokens"], seed=0)
    start = time.perf_counter()
    _, labelled, stats = label_states(HFGenerator(model, tok, hp["batch_size"], progress=False), task,
                                      problems, states, sampling)
    t_project = time.perf_counter() - start

    torch.manual_seed(0)
    start, correct, naive_tokens = time.perf_counter(), [], 0
    with torch.no_grad():
        for pid, prefix in zip(states["prompt_id"], states["prefix"]):
            ids = tok(task.policy_prompt(problems[pid], tok) + prefix, return_tensors="pt", add_special_tokens=False)
            out = model.generate(**ids, do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p,
                                 top_k=None, num_return_sequences=sampling.n, max_new_tokens=sampling.max_new_tokens,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
            new = out[:, ids["input_ids"].shape[1]:]
            texts = tok.batch_decode(new, skip_special_tokens=True)
            naive_tokens += int((new != tok.pad_token_id).sum())
            correct.append([task.verify(problems[pid], prefix + t) for t in texts])
    t_naive = time.perf_counter() - start
    completions = len(states) * sampling.n
    return {"states": len(states), "N": sampling.n, "batch_size": hp["batch_size"],
            "project_seconds": t_project, "naive_seconds": t_naive,
            "project_completions_per_s": completions / t_project, "naive_completions_per_s": completions / t_naive,
            "speedup": t_naive / t_project,
            "project_tokens": stats["tokens_generated"], "naive_tokens": naive_tokens,
            # the same distribution: both mean MC values estimate the same quantity
            "project_mc_value_mean": float(labelled["mc_value"].mean()),
            "naive_mc_value_mean": float(mc_value(torch.tensor(correct)).mean())}


def bench_train(args) -> dict[str, Any]:
    """Training tokens/s (forward, backward, AdamW step) of the policy (sft and actor) and the
    critic (a one-label sequence classifier on the same body) at the stages' batch shape, and the
    model FLOP/s (6 x parameters x tokens/s) against the hardware bound: a large matmul timed in
    the same process on CPU; the datasheet's dense bf16 peak on a GPU (then the ratio is MFU)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model, vocab = _model(args.arch, args.params, args.device)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    if args.device == "cuda":
        name = torch.cuda.get_device_name()
        peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
        bound = {"kind": "datasheet dense bf16 peak", "flops_per_s": peak}
    else:
        a = torch.randn(2048, 2048)
        bound = {"kind": "fp32 2048^3 matmul, timed", "flops_per_s": 2 * 2048 ** 3 / _timed(lambda: a @ a, 5)}
    config = copy.deepcopy(model.config)
    config.num_labels, config.pad_token_id = 1, 0
    critic = AutoModelForSequenceClassification.from_config(config).to(
        device=args.device, dtype=next(model.parameters()).dtype).train()
    out = {"arch": args.arch, "parameters": params, "batch": args.batch, "seq_len": args.seq_len,
           "compiled": args.compile,
           "bound": bound, "rows": []}
    g = torch.Generator(device=args.device).manual_seed(0)
    ids = torch.randint(4, vocab, (args.batch, args.seq_len), generator=g, device=args.device)
    for name, net in (("policy", model), ("critic", critic)):
        opt = torch.optim.AdamW(net.parameters(), lr=1e-5)
        forward = torch.compile(net) if args.compile else net

        def step(net=forward, opt=opt, name=name):
            out_ = net(input_ids=ids, labels=ids) if name == "policy" else net(input_ids=ids)
            loss = out_.loss if name == "policy" else out_.logits.float().pow(2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        seconds = _timed(step, repeat=args.steps, sync=_sync(args.device))
        tokens_per_s = args.batch * args.seq_len / seconds
        row = {"model": name, "tokens_per_s": tokens_per_s, "model_flops_per_s": 6 * params * tokens_per_s}
        if bound["flops_per_s"]:
            row["vs_bound"] = row["model_flops_per_s"] / bound["flops_per_s"]
        print(json.dumps(row), flush=True)
        out["rows"].append(row)
    return out


def bench_jobs(args) -> dict[str, Any]:
    """The fixed cost of a job (starting Python and importing its stage; opening and writing an
    MLflow run) and each rule's share of job time in the last build (Snakemake's benchmark files)."""
    import tempfile

    from .params import load_params, results_root
    from .tracking import StageRun

    imports = {}
    for stage in STAGES:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import dapo.stages.{stage}"], check=True)
        imports[stage] = time.perf_counter() - start
    params = load_params(args.params)
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(
            os.environ, {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/bench.db"}):
        start = time.perf_counter()
        run = StageRun("bench", params)
        run.log_metrics({"bench/x": 1.0})
        run.flush()
        mlflow_seconds = time.perf_counter() - start
    root = Path(results_root(Path(args.params).stem)) / "benchmarks"
    per_rule: dict[str, float] = {}
    tsvs = sorted(root.rglob("*.tsv"))
    for tsv in tsvs:
        rule = tsv.relative_to(root).parts[0].removesuffix(".tsv")
        seconds = float(tsv.read_text().splitlines()[1].split("\t")[0])
        per_rule[rule] = per_rule.get(rule, 0.0) + seconds
    total = sum(per_rule.values())
    return {"import_seconds": imports, "mlflow_run_seconds": mlflow_seconds,
            "jobs": len(tsvs), "job_seconds": total,
            "rules": [{"rule": r, "seconds": s, "share": s / total}
                      for r, s in sorted(per_rule.items(), key=lambda kv: -kv[1])]}


def table(paths: list[str]) -> str:
    """The README's tables from the json files of one bench run."""
    res = {Path(p).stem: json.loads(Path(p).read_text()) for p in paths}
    lines = []
    for name, r in res.items():
        env = r.get("env", {})
        lines.append(f"**{name}** ({env.get('gpu') or env.get('cpu')}, {env.get('threads')} threads, "
                     f"torch {env.get('torch')})\n")
        if name.startswith("decode"):
            lines += [("| batch | decode tok/s | with DynamicCache tok/s | model.generate tok/s | forward bound tok/s "
                       "| decode / bound | decode / DynamicCache | decode / generate |"),
                      "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {x['batch']} | {x['decode_tokens_per_s']:,.0f} | "
                      f"{x.get('decode_dynamic_cache_tokens_per_s', float('nan')):,.0f} | "
                      f"{x['hf_generate_tokens_per_s']:,.0f} | {x['forward_tokens_per_s']:,.0f} | "
                      f"{x['decode_vs_forward']:.3f} | {x.get('decode_vs_dynamic_cache', float('nan')):.2f} | "
                      f"{x['decode_vs_hf_generate']:.2f} |" for x in r["rows"]]
            static = [x for x in r["rows"] if "hf_generate_static_tokens_per_s" in x]
            lines += ["", "model.generate with a static cache: " + ", ".join(
                f"batch {x['batch']} {x['hf_generate_static_tokens_per_s']:,.0f} tok/s "
                f"({x['hf_generate_static_tokens_per_s'] / x['forward_tokens_per_s']:.3f} of the bound)"
                for x in static)] if static else []
        elif name.startswith("complete"):
            lines += ["| states x N | project s | naive loop s | speed-up | mean MC value (project / naive) |",
                      "|---|---|---|---|---|",
                      (f"| {r['states']} x {r['N']} | {r['project_seconds']:.1f} | {r['naive_seconds']:.1f} | "
                      f"{r['speedup']:.2f} | {r['project_mc_value_mean']:.3f} / {r['naive_mc_value_mean']:.3f} |")]
        elif name.startswith("train"):
            lines += [(f"batch {r['batch']} x {r['seq_len']} tokens, {r['parameters']:,} parameters, "
                       f"{'torch.compile' if r.get('compiled') else 'eager'}; bound: "
                      f"{r['bound']['kind']} = {r['bound']['flops_per_s'] or float('nan'):.3g} FLOP/s\n"),
                      "| model | tokens/s | model FLOP/s | / bound |", "|---|---|---|---|"]
            lines += [f"| {x['model']} | {x['tokens_per_s']:,.0f} | {x['model_flops_per_s']:.3g} | "
                      f"{x.get('vs_bound', float('nan')):.2f} |" for x in r["rows"]]
        elif name.startswith("jobs"):
            imp = r["import_seconds"]
            lines += [(f"Fixed cost per job: Python + stage imports {min(imp.values()):.1f}-{max(imp.values()):.1f} s "
                      f"(by stage: {', '.join(f'{k} {v:.1f}' for k, v in imp.items())}); one MLflow run "
                      f"{r['mlflow_run_seconds']:.1f} s. Last build: {r['jobs']} jobs, {r['job_seconds']:,.0f} s of "
                      "job time.\n"), "| rule | job seconds | share |", "|---|---|---|"]
            lines += [f"| {x['rule']} | {x['seconds']:,.0f} | {100 * x['share']:.1f} % |" for x in r["rules"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    for name in ("decode", "complete", "train", "jobs"):
        s = sub.add_parser(name)
        s.add_argument("--out", required=True)
        s.add_argument("--params", default="params/default.yaml")
        s.add_argument("--threads", type=int, default=1, help="CPU threads (a workflow job uses 1)")
        if name in ("decode", "train"):
            s.add_argument("--arch", default="params", choices=["params", "qwen2-0.5b"],
                           help="the experiment's model section, or Qwen2-0.5B's shape")
            s.add_argument("--device", default="cpu")
        if name == "decode":
            s.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 512])
            s.add_argument("--prompt", type=int, default=24, help="prompt tokens per row")
            s.add_argument("--new", type=int, default=56, help="new tokens per row")
            s.add_argument("--static", action="store_true",
                           help="also time model.generate with a static (compilable) cache")
        if name == "train":
            s.add_argument("--batch", type=int, default=64)
            s.add_argument("--seq-len", type=int, default=64)
            s.add_argument("--steps", type=int, default=5)
            s.add_argument("--compile", action="store_true", help="torch.compile the model first")
        if name == "complete":
            s.add_argument("--states", type=int, default=200)
    t = sub.add_parser("table")
    t.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    if args.what == "table":
        print(table(args.files))
        return
    import torch

    torch.set_num_threads(args.threads)
    result = {"decode": bench_decode, "complete": bench_complete, "train": bench_train,
              "jobs": bench_jobs}[args.what](args)
    result["env"] = _env(getattr(args, "device", "cpu"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(table([str(out)]))


if __name__ == "__main__":
    main()

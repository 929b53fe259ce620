# One job per model evaluates every benchmark (model loading dominates small benchmarks).
# model name: (checkpoint, run_args)
MODELS = {"base": (base().output.model, "")} | {
    dapo_model(s, i): (rules.actor.output.model.format(seed=s, iteration=i),
                       run_args(s, i, ("iterations", "beta", "completions", "pairs") if i == 1 else ("iterations",)))
    for s in SEEDS for i in ITERATIONS
} | {
    f"dapo-oracle-iter1-seed{s}": (rules.actor_oracle.output.model.format(seed=s, iteration=1), run_args(s, 1))
    for s in SEEDS if ORACLE_ROW
} | {
    f"{row}-seed{s}": (getattr(rules, row).output.model.format(seed=s), run_args(s))
    for row, built in (("rft", RFT_ROW), ("dpo", DPO_ROW), ("grpo", GRPO_ROW), ("ppo", PPO_ROW)) if built
    for s in SEEDS
}
# the main table's models; the paper target's ablated models (workflow/rules/paper.smk) are evaluated too
MAIN_MODELS = list(MODELS)
MODELS |= {
    dapo_model(s, i): (rules.actor.output.model.format(seed=s, iteration=i), run_args(s, i, ("iterations",)))
    for s in SEEDS for i in PAPER_ITERATIONS if i not in ITERATIONS
} | {
    f"dapo-beta{b}-seed{s}": (rules.actor_beta.output.model.format(beta=b, seed=s, iteration=1),
                              run_args(s, 1, ("beta",), f"actor.beta={b}"))
    for s in SEEDS for b in BETAS
} | {
    f"dapo-n{n}-seed{s}": (rules.actor_n.output.model.format(n=n, seed=s, iteration=1),
                           run_args(s, 1, ("completions",), f"complete.N={n}"))
    for s in SEEDS for n in NS
} | {
    f"dapo-frac{f}-seed{s}": (rules.actor_frac.output.model.format(fraction=f, seed=s, iteration=1),
                              run_args(s, 1, ("pairs",), f"actor.state_fraction={f}"))
    for s in SEEDS for f in FRACTIONS
}


rule evaluate:
    input:
        model=lambda wc: MODELS[wc.model][0],
        data=expand("{root}/data/{bench}.jsonl", root=ROOT, bench=BENCHMARKS),
        code=code("evaluate"),
    output:
        records=expand("{root}/evaluate/{{model}}/{bench}.jsonl", root=ROOT, bench=BENCHMARKS),
        summaries=expand("{root}/evaluate/{{model}}/{bench}.json", root=ROOT, bench=BENCHMARKS),
    params:
        file=PARAMS,
        section=sections("evaluate", "data.task"),
        data_dir=lambda wc, input: os.path.dirname(input.data[0]),
        out=lambda wc, output: os.path.dirname(output.summaries[0]),
        run=lambda wc: MODELS[wc.model][1],
    wildcard_constraints:
        model="|".join(map(re.escape, MODELS)),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    log:
        log("evaluate/{model}"),
    benchmark:
        bench("evaluate/{model}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.evaluate --params {params.file} --model {input.model}"
        " --name {wildcards.model} {params.run} --data-dir {params.data_dir} --out {params.out} > {log} 2>&1"

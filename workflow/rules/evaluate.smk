# One job per model evaluates every benchmark (model loading dominates small benchmarks).
MODELS = {"base": rules.sft.output.model} | {
    dapo_model(s, i): rules.actor.output.model.format(seed=s, iteration=i) for s in SEEDS for i in ITERATIONS
} | {
    f"dapo-oracle-iter1-seed{s}": rules.actor_oracle.output.model.format(seed=s, iteration=1)
    for s in SEEDS if ORACLE_ROW
} | {f"rft-seed{s}": rules.rft.output.model.format(seed=s) for s in SEEDS if RFT_ROW} | {
    f"dpo-seed{s}": rules.dpo.output.model.format(seed=s) for s in SEEDS if DPO_ROW
} | {f"grpo-seed{s}": rules.grpo.output.model.format(seed=s) for s in SEEDS if GRPO_ROW} | {
    f"ppo-seed{s}": rules.ppo.output.model.format(seed=s) for s in SEEDS if PPO_ROW
}
# the main table's models; the paper target's ablated models (workflow/rules/paper.smk) are evaluated too
MAIN_MODELS = list(MODELS)
MODELS |= {
    dapo_model(s, i): rules.actor.output.model.format(seed=s, iteration=i) for s in SEEDS for i in PAPER_ITERATIONS
} | {
    f"dapo-beta{b}-seed{s}": rules.actor_beta.output.model.format(beta=b, seed=s, iteration=1)
    for s in SEEDS for b in BETAS
} | {f"dapo-n{n}-seed{s}": rules.actor_n.output.model.format(n=n, seed=s, iteration=1) for s in SEEDS for n in NS} | {
    f"dapo-frac{f}-seed{s}": rules.actor_frac.output.model.format(fraction=f, seed=s, iteration=1)
    for s in SEEDS for f in FRACTIONS
}


rule evaluate:
    input:
        model=lambda wc: MODELS[wc.model],
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
        " --name {wildcards.model} --data-dir {params.data_dir} --out {params.out} > {log} 2>&1"

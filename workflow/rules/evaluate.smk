# One job per model evaluates every benchmark (model loading dominates small benchmarks).
MODELS = {"base": rules.sft.output.model} | {
    dapo_model(s, i): rules.actor.output.model.format(seed=s, iteration=i) for s in SEEDS for i in ITERATIONS
}


rule evaluate:
    input:
        params=PARAMS,
        model=lambda wc: MODELS[wc.model],
        data=expand("{root}/data/{bench}.jsonl", root=ROOT, bench=BENCHMARKS),
        code=code("stages/evaluate", "evaluation", "generation", "models", "tasks/chain_sum"),
    output:
        records=expand("{root}/evaluate/{{model}}/{bench}.jsonl", root=ROOT, bench=BENCHMARKS),
        summaries=expand("{root}/evaluate/{{model}}/{bench}.json", root=ROOT, bench=BENCHMARKS),
    params:
        section=config["evaluate"],
        data_dir=f"{ROOT}/data",
        out=lambda wc: f"{ROOT}/evaluate/{wc.model}",
    wildcard_constraints:
        model="|".join(MODELS),
    log:
        log("evaluate/{model}"),
    benchmark:
        bench("evaluate/{model}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.evaluate --params {input.params} --model {input.model}"
        " --name {wildcards.model} --data-dir {params.data_dir} --out {params.out} > {log} 2>&1"

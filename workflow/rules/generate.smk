def policy(wc):
    """pi_{i-1}: the base policy in iteration 1, the previous actor afterwards."""
    i = int(wc.iteration)
    if i == 1:
        return rules.sft.output.model
    return rules.actor.output.model.format(seed=wc.seed, iteration=i - 1)


rule generate:
    input:
        params=PARAMS,
        policy=policy,
        data=f"{ROOT}/data/rl.jsonl",
        code=code("stages/generate", "stages/_chain", "labelling", "generation", "models", "tasks/chain_sum"),
    output:
        responses=f"{ROOT}/generate/{CHAIN}/responses.parquet",
        metrics=f"{ROOT}/generate/{CHAIN}/metrics.json",
    params:
        section=config["generate"],
        out=lambda wc: f"{ROOT}/generate/seed{wc.seed}/iter{wc.iteration}",
    log:
        log(f"generate/{CHAIN}"),
    benchmark:
        bench(f"generate/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.generate --params {input.params} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --policy {input.policy} --data {input.data}"
        " --out {params.out} > {log} 2>&1"

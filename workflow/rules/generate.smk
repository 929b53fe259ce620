rule generate:
    input:
        policy=policy,
        data=f"{ROOT}/data/rl.jsonl",
        code=code("generate"),
    output:
        responses=f"{ROOT}/generate/{CHAIN}/responses.parquet",
        metrics=f"{ROOT}/generate/{CHAIN}/metrics.json",
    params:
        file=PARAMS,
        section=sections("generate", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    log:
        log(f"generate/{CHAIN}"),
    benchmark:
        bench(f"generate/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.generate --params {params.file} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --policy {input.policy} --data {input.data}"
        " --out {params.out} > {log} 2>&1"

rule complete:
    input:
        policy=policy,
        data=f"{ROOT}/data/rl.jsonl",
        responses=rules.generate.output.responses,
        code=code("complete"),
    output:
        states=f"{ROOT}/complete/{CHAIN}/states.parquet",
        completions=f"{ROOT}/complete/{CHAIN}/completions.parquet",
        metrics=f"{ROOT}/complete/{CHAIN}/metrics.json",
    params:
        file=PARAMS,
        section=sections("complete", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides="",  # --set <key>=<value> in the ablations of workflow/rules/paper.smk
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
    log:
        log(f"complete/{CHAIN}"),
    benchmark:
        bench(f"complete/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.complete --params {params.file} {params.overrides} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --policy {input.policy} --data {input.data}"
        " --responses {input.responses} --out {params.out} > {log} 2>&1"

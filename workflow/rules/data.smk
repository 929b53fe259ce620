rule data:
    input:
        params=PARAMS,
        code=code("stages/data", "data", "tasks/__init__", "tasks/base", "tasks/chain_sum"),
    output:
        expand("{root}/data/{split}.jsonl", root=ROOT, split=SPLITS + BENCHMARKS),
    params:
        section=config["data"],
        out=f"{ROOT}/data",
    log:
        log("data"),
    benchmark:
        bench("data")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.data --params {input.params} --out {params.out} > {log} 2>&1"

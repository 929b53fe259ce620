rule data:
    input:
        code=code("data"),
    output:
        expand("{root}/data/{split}.jsonl", root=ROOT, split=SPLITS + BENCHMARKS),
    params:
        file=PARAMS,
        section=sections("data"),
        out=lambda wc, output: os.path.dirname(output[0]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        log("data"),
    benchmark:
        bench("data")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.data --params {params.file} --out {params.out} > {log} 2>&1"

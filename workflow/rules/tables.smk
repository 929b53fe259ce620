# Rows of the main table: seeds of one model are averaged (model names end in -seed<k>).
TABLE_MODELS = ["base"] + [f"dapo-iter{i}" for i in ITERATIONS] + (["dapo-oracle-iter1"] if ORACLE_ROW else [])


rule tables:
    input:
        summaries=expand("{root}/evaluate/{model}/{bench}.json", root=ROOT, model=list(MODELS), bench=BENCHMARKS),
        records=expand("{root}/evaluate/{model}/{bench}.jsonl", root=ROOT, model=list(MODELS), bench=BENCHMARKS),
        code=code("tables"),
    output:
        table=f"{ROOT}/tables/main.csv",
        markdown=f"{ROOT}/tables/main.md",
        metrics=f"{ROOT}/tables/metrics.json",
        figure=f"{ROOT}/figures/main.png",
    params:
        file=PARAMS,
        section=sections("data.benchmarks"),
        models=" ".join(TABLE_MODELS),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        log("tables"),
    benchmark:
        bench("tables")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.tables --params {params.file} --summaries {input.summaries}"
        " --models {params.models} --out {output.table} --metrics {output.metrics}"
        " --figure {output.figure} > {log} 2>&1"

# Rows of the main table: seeds of one model are averaged (model names end in -seed<k>).
DAPO_ROWS = [f"dapo-iter{i}" for i in ITERATIONS] + (["dapo-oracle-iter1"] if ORACLE_ROW else [])
BASELINE_ROWS = [row for row, present in (("rft", RFT_ROW), ("dpo", DPO_ROW), ("grpo", GRPO_ROW), ("ppo", PPO_ROW))
                 if present]
TABLE_MODELS = ["base"] + DAPO_ROWS + BASELINE_ROWS
# each DAPO row against each baseline, paired over problems and matched seeds (results/tables/versus.md)
VERSUS = [f"{d}:{b}" for d in DAPO_ROWS for b in BASELINE_ROWS]
# model:seed:metrics.json of every job that made a row's model (results/tables/compute.md)
COSTS = [f"{row}:{s}:{path}" for row in TABLE_MODELS for s in (["-"] if row == "base" else SEEDS)
         for path in cost_jobs(row, s)]


rule tables:
    input:
        summaries=expand("{root}/evaluate/{model}/{bench}.json", root=ROOT, model=MAIN_MODELS, bench=BENCHMARKS),
        records=expand("{root}/evaluate/{model}/{bench}.jsonl", root=ROOT, model=MAIN_MODELS, bench=BENCHMARKS),
        costs=sorted({c.split(":", 2)[2] for c in COSTS}),
        code=code("tables"),
    output:
        table=f"{ROOT}/tables/main.csv",
        markdown=f"{ROOT}/tables/main.md",
        metrics=f"{ROOT}/tables/metrics.json",
        figure=f"{ROOT}/figures/main.png",
        versus=f"{ROOT}/tables/versus.csv",
        versus_md=f"{ROOT}/tables/versus.md",
        compute=f"{ROOT}/tables/compute.csv",
        compute_md=f"{ROOT}/tables/compute.md",
    params:
        file=PARAMS,
        section=sections("data.benchmarks"),
        models=" ".join(TABLE_MODELS),
        versus=" ".join(VERSUS),
        costs=" ".join(COSTS),
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
        " --figure {output.figure} --versus {params.versus} --versus-out {output.versus}"
        " --costs {params.costs} --compute-out {output.compute} > {log} 2>&1"

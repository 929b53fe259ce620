rule sft:
    input:
        params=PARAMS,
        data=f"{ROOT}/data/sft.jsonl",
        code=code("stages/sft", "sft", "models", "tasks/chain_sum"),
    output:
        model=directory(f"{ROOT}/sft/model"),
        metrics=f"{ROOT}/sft/metrics.json",
    params:
        section={"model": config["model"], "sft": config["sft"]},
    log:
        log("sft"),
    benchmark:
        bench("sft")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.sft --params {input.params} --data {input.data}"
        " --out {output.model} --metrics {output.metrics} > {log} 2>&1"

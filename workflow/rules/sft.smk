rule sft:
    input:
        data=f"{ROOT}/data/sft.jsonl",
        code=code("sft"),
    output:
        model=directory(f"{ROOT}/sft/model"),
        metrics=f"{ROOT}/sft/metrics.json",
        curve=f"{ROOT}/sft/curve.csv",
    params:
        file=PARAMS,
        section=sections("model", "sft"),
        overrides="",  # the critic_base rule's --set sft.<key>=<value> (workflow/rules/critic_base.smk)
    threads: workflow.cores  # nothing else can run while pi_0 trains; Snakemake sets OMP_NUM_THREADS from this
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log("sft"),
    benchmark:
        bench("sft")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.sft --params {params.file} {params.overrides} --data {input.data}"
        " --out {output.model} --metrics {output.metrics} --curve {output.curve} > {log} 2>&1"

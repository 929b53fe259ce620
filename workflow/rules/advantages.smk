rule advantages:
    input:
        critic=rules.critic.output.model,
        reference=policy,
        data=f"{ROOT}/data/rl.jsonl",
        states=rules.complete.output.states,
        completions=rules.complete.output.completions,
        code=code("advantages"),
    output:
        advantages=f"{ROOT}/advantages/{CHAIN}/advantages.parquet",
        metrics=f"{ROOT}/advantages/{CHAIN}/metrics.json",
    params:
        file=PARAMS,
        section=sections("advantages", "data.task"),
        value_source=config["advantages"]["value_source"],
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides="",  # --set <key>=<value> in the ablations of workflow/rules/paper.smk
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=0,
    log:
        log(f"advantages/{CHAIN}"),
    benchmark:
        bench(f"advantages/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.advantages --params {params.file} {params.overrides} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --critic {input.critic} --reference {input.reference}"
        " --data {input.data} --states {input.states} --completions {input.completions}"
        " --value-source {params.value_source} --out {params.out} > {log} 2>&1"

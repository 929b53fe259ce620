rule actor:
    input:
        policy=policy,
        advantages=rules.advantages.output.advantages,
        code=code("actor"),
    output:
        model=directory(f"{ROOT}/actor/{CHAIN}/model"),
        metrics=f"{ROOT}/actor/{CHAIN}/metrics.json",
        curve=f"{ROOT}/actor/{CHAIN}/curve.csv",
    params:
        file=PARAMS,
        section=sections("actor"),
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides="",  # --set <key>=<value> in the ablations of workflow/rules/paper.smk
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log(f"actor/{CHAIN}"),
    benchmark:
        bench(f"actor/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.actor --params {params.file} {params.overrides} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --policy {input.policy} --advantages {input.advantages}"
        " --out {params.out} > {log} 2>&1"

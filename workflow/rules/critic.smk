rule critic:
    input:
        init=critic_init,
        data=f"{ROOT}/data/rl.jsonl",
        states=rules.complete.output.states,
        code=code("critic"),
    output:
        model=directory(f"{ROOT}/critic/{CHAIN}/model"),
        metrics=f"{ROOT}/critic/{CHAIN}/metrics.json",
        curve=f"{ROOT}/critic/{CHAIN}/curve.csv",
    params:
        file=PARAMS,
        section=sections("critic", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides="",  # --set <key>=<value> in the ablations of workflow/rules/paper.smk
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log(f"critic/{CHAIN}"),
    benchmark:
        bench(f"critic/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.critic --params {params.file} {params.overrides} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --init {input.init} --data {input.data}"
        " --states {input.states} --out {params.out} > {log} 2>&1"

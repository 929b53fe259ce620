# The DPO baseline (beyond the paper): pi_0 trained with TRL's DPOTrainer on (correct, wrong) pairs
# of the responses the generate stage kept for chain `seed` in iteration 1. One model per seed;
# evaluated as dpo-seed<k>.
rule dpo:
    input:
        policy=base().output.model,
        data=f"{ROOT}/data/rl.jsonl",
        responses=lambda wc: rules.generate.output.responses.format(seed=wc.seed, iteration=1),
        code=code("dpo"),
    output:
        model=directory(f"{ROOT}/dpo/seed{{seed}}/model"),
        metrics=f"{ROOT}/dpo/seed{{seed}}/metrics.json",
        curve=f"{ROOT}/dpo/seed{{seed}}/curve.csv",
    params:
        file=PARAMS,
        section=sections("dpo", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log("dpo/seed{seed}"),
    benchmark:
        bench("dpo/seed{seed}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.dpo --params {params.file} --seed {wildcards.seed} --iteration 1"
        " --policy {input.policy} --data {input.data} --responses {input.responses} --out {params.out} > {log} 2>&1"

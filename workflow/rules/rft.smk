# The RFT baseline (beyond the paper): pi_0 fine-tuned on its own correct responses, those the
# generate stage sampled for chain `seed` in iteration 1. One model per seed; evaluated as rft-seed<k>.
rule rft:
    input:
        policy=base().output.model,
        data=f"{ROOT}/data/rl.jsonl",
        responses=lambda wc: rules.generate.output.responses.format(seed=wc.seed, iteration=1),
        code=code("rft"),
    output:
        model=directory(f"{ROOT}/rft/seed{{seed}}/model"),
        metrics=f"{ROOT}/rft/seed{{seed}}/metrics.json",
        curve=f"{ROOT}/rft/seed{{seed}}/curve.csv",
    params:
        file=PARAMS,
        section=sections("rft", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log("rft/seed{seed}"),
    benchmark:
        bench("rft/seed{seed}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.rft --params {params.file} --seed {wildcards.seed} --iteration 1"
        " --policy {input.policy} --data {input.data} --responses {input.responses} --out {params.out} > {log} 2>&1"

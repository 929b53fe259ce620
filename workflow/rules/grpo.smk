# The GRPO baseline (the paper's Table 3): pi_0 trained online on the rl prompts, sampling from the
# current policy at every step, with the verifier as the reward. One model per seed, independent of
# DAPO's samples; evaluated as grpo-seed<k>.
rule grpo:
    input:
        policy=base().output.model,
        data=f"{ROOT}/data/rl.jsonl",
        code=code("grpo"),
    output:
        model=directory(f"{ROOT}/grpo/seed{{seed}}/model"),
        metrics=f"{ROOT}/grpo/seed{{seed}}/metrics.json",
        curve=f"{ROOT}/grpo/seed{{seed}}/curve.csv",
    params:
        file=PARAMS,
        section=sections("grpo", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log("grpo/seed{seed}"),
    benchmark:
        bench("grpo/seed{seed}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.grpo --params {params.file} --seed {wildcards.seed} --iteration 1"
        " --policy {input.policy} --data {input.data} --out {params.out} > {log} 2>&1"

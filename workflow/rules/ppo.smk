# The PPO baseline (the paper's Table 3): pi_0 trained online on the rl prompts with a token-level
# critic, sampling from the current policy at every step, with the verifier as the final-token
# reward. One model per seed, independent of DAPO's samples; evaluated as ppo-seed<k>.
rule ppo:
    input:
        policy=base().output.model,
        data=f"{ROOT}/data/rl.jsonl",
        code=code("ppo"),
    output:
        model=directory(f"{ROOT}/ppo/seed{{seed}}/model"),
        metrics=f"{ROOT}/ppo/seed{{seed}}/metrics.json",
        curve=f"{ROOT}/ppo/seed{{seed}}/curve.csv",
    params:
        file=PARAMS,
        section=sections("ppo", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        gpu=0,
        launcher=LAUNCHER,
    log:
        log("ppo/seed{seed}"),
    benchmark:
        bench("ppo/seed{seed}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "{resources.launcher} -m dapo.stages.ppo --params {params.file} --seed {wildcards.seed} --iteration 1"
        " --policy {input.policy} --data {input.data} --out {params.out} > {log} 2>&1"

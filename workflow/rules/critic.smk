def critic_init(wc):
    """Iteration 1 starts from critic.init ('sft' = the base policy); later ones warm-start."""
    i = int(wc.iteration)
    if i > 1:
        return rules.critic.output.model.format(seed=wc.seed, iteration=i - 1)
    init = config["critic"]["init"]
    return rules.sft.output.model if init == "sft" else init


rule critic:
    input:
        params=PARAMS,
        init=critic_init,
        data=f"{ROOT}/data/rl.jsonl",
        states=rules.complete.output.states,
        code=code("stages/critic", "stages/_chain", "critic", "losses", "models", "tasks/chain_sum"),
    output:
        model=directory(f"{ROOT}/critic/{CHAIN}/model"),
        metrics=f"{ROOT}/critic/{CHAIN}/metrics.json",
    params:
        section=config["critic"],
        out=lambda wc: f"{ROOT}/critic/seed{wc.seed}/iter{wc.iteration}",
    log:
        log(f"critic/{CHAIN}"),
    benchmark:
        bench(f"critic/{CHAIN}")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.critic --params {input.params} --seed {wildcards.seed}"
        " --iteration {wildcards.iteration} --init {input.init} --data {input.data}"
        " --states {input.states} --out {params.out} > {log} 2>&1"

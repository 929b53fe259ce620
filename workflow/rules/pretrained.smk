# The base policy of an experiment with a `pretrained` section: a pretrained model, converted once
# into a plain checkpoint (cached like any output), in place of the sft stage; with
# `pretrained.critic`, also the model the iteration-1 critic starts from (critic.init: pretrained).
PRETRAINED_CRITIC = bool(config["pretrained"].get("critic"))


rule pretrained:
    input:
        code=code("pretrained"),
    output:
        model=directory(f"{ROOT}/pretrained/model"),
        metrics=f"{ROOT}/pretrained/metrics.json",
        **({"critic": directory(f"{ROOT}/pretrained/critic")} if PRETRAINED_CRITIC else {}),
    params:
        file=PARAMS,
        section=sections("pretrained"),
        critic_out=lambda wc, output: f"--critic-out {output.critic}" if PRETRAINED_CRITIC else "",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    log:
        log("pretrained"),
    benchmark:
        bench("pretrained")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.pretrained --params {params.file} --out {output.model} {params.critic_out}"
        " --metrics {output.metrics} > {log} 2>&1"

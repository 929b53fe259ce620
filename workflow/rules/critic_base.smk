# The model the iteration-1 critic starts from when critic.init is 'critic_base': the sft stage
# again, on pi_0's solutions, with the keys of the critic_base section in place of sft's. The paper
# starts every critic from one separate model rather than from the actor it judges.
use rule sft as critic_base with:
    output:
        model=directory(f"{ROOT}/critic_base/model"),
        metrics=f"{ROOT}/critic_base/metrics.json",
        curve=f"{ROOT}/critic_base/curve.csv",
    params:
        file=PARAMS,
        section=sections("model", "sft", "critic_base"),
        overrides=" ".join(f"--set {a}" for a in critic_base_overrides(config)) + " --role critic_base",
    log:
        log("critic_base"),
    benchmark:
        bench("critic_base")

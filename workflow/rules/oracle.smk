# The oracle row (advantages.oracle_row, beyond the paper): iteration 1 of every seed once more,
# with the task's exact step values in place of the critic's, from the same sampled candidates,
# so the table shows what the actor does with perfect values beside what it does with the critic.


use rule advantages as advantages_oracle with:
    output:
        advantages=f"{ROOT}/advantages_oracle/{CHAIN}/advantages.parquet",
        metrics=f"{ROOT}/advantages_oracle/{CHAIN}/metrics.json",
    params:
        file=PARAMS,
        section=sections("advantages", "data.task"),
        value_source="oracle",
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides="",
    log:
        log(f"advantages_oracle/{CHAIN}"),
    benchmark:
        bench(f"advantages_oracle/{CHAIN}")


use rule actor as actor_oracle with:
    input:
        policy=policy,
        advantages=rules.advantages_oracle.output.advantages,
        code=code("actor"),
    output:
        model=directory(f"{ROOT}/actor_oracle/{CHAIN}/model"),
        metrics=f"{ROOT}/actor_oracle/{CHAIN}/metrics.json",
        curve=f"{ROOT}/actor_oracle/{CHAIN}/curve.csv",
    log:
        log(f"actor_oracle/{CHAIN}"),
    benchmark:
        bench(f"actor_oracle/{CHAIN}")

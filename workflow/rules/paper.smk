# The ablations of the paper's Tables 4-6 (params section `paper`), as ordinary branches of the
# DAG, so Snakemake and DVC build each once and share what the main table already built:
# - iterations: DAPO iterations 1..paper.iterations of every seed (the main rules, run further);
# - beta: the iteration-1 actor of every seed retrained at each actor.beta, from the same
#   advantages (labels, critic and reference log-probs are shared);
# - completions: iteration 1 of every seed relabelled with N MC completions per state, then its
#   critic, advantages and actor rebuilt on those labels;
# - pairs: the iteration-1 actor of every seed retrained on a share of its advantages' states
#   (actor.state_fraction), for accuracy against trained state-action pairs (Figure 3);
# and four figures of iteration 1: the critic's reliability diagram, the advantage histogram, the
# critic along whole solutions (Figure 2) and accuracy against trained pairs (Figure 3).
# A point at the experiment's own value is its main row (dapo-iter1), not a second build. Every
# ablated job runs its stage with `--set <key>=<value>`, so its MLflow run carries the varied key.
# The names (PAPER_ITERATIONS, BETAS, NS) are in common.smk; the evaluations in evaluate.smk.

use rule actor as actor_beta with:
    input:
        policy=policy,
        advantages=rules.advantages.output.advantages,
        code=code("actor"),
    output:
        model=directory(f"{ROOT}/actor_beta/beta{{beta}}/{CHAIN}/model"),
        metrics=f"{ROOT}/actor_beta/beta{{beta}}/{CHAIN}/metrics.json",
        curve=f"{ROOT}/actor_beta/beta{{beta}}/{CHAIN}/curve.csv",
    params:
        file=PARAMS,
        section=sections("actor"),
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides=lambda wc: f"--set actor.beta={wc.beta}",
    log:
        log(f"actor_beta/beta{{beta}}/{CHAIN}"),
    benchmark:
        bench(f"actor_beta/beta{{beta}}/{CHAIN}")


use rule actor as actor_frac with:
    input:
        policy=policy,
        advantages=rules.advantages.output.advantages,
        code=code("actor"),
    output:
        model=directory(f"{ROOT}/actor_frac/frac{{fraction}}/{CHAIN}/model"),
        metrics=f"{ROOT}/actor_frac/frac{{fraction}}/{CHAIN}/metrics.json",
        curve=f"{ROOT}/actor_frac/frac{{fraction}}/{CHAIN}/curve.csv",
    params:
        file=PARAMS,
        section=sections("actor"),
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides=lambda wc: f"--set actor.state_fraction={wc.fraction}",
    log:
        log(f"actor_frac/frac{{fraction}}/{CHAIN}"),
    benchmark:
        bench(f"actor_frac/frac{{fraction}}/{CHAIN}")


use rule complete as complete_n with:
    output:
        states=f"{ROOT}/complete_n/n{{n}}/{CHAIN}/states.parquet",
        completions=f"{ROOT}/complete_n/n{{n}}/{CHAIN}/completions.parquet",
        metrics=f"{ROOT}/complete_n/n{{n}}/{CHAIN}/metrics.json",
    params:
        file=PARAMS,
        section=sections("complete", "data.task"),
        out=lambda wc, output: os.path.dirname(output.metrics),
        overrides=lambda wc: f"--set complete.N={wc.n}",
    log:
        log(f"complete_n/n{{n}}/{CHAIN}"),
    benchmark:
        bench(f"complete_n/n{{n}}/{CHAIN}")


use rule critic as critic_n with:
    input:
        init=critic_init,
        data=f"{ROOT}/data/rl.jsonl",
        states=rules.complete_n.output.states,
        code=code("critic"),
    output:
        model=directory(f"{ROOT}/critic_n/n{{n}}/{CHAIN}/model"),
        metrics=f"{ROOT}/critic_n/n{{n}}/{CHAIN}/metrics.json",
        curve=f"{ROOT}/critic_n/n{{n}}/{CHAIN}/curve.csv",
    log:
        log(f"critic_n/n{{n}}/{CHAIN}"),
    benchmark:
        bench(f"critic_n/n{{n}}/{CHAIN}")


use rule advantages as advantages_n with:
    input:
        critic=rules.critic_n.output.model,
        reference=policy,
        data=f"{ROOT}/data/rl.jsonl",
        states=rules.complete_n.output.states,
        completions=rules.complete_n.output.completions,
        code=code("advantages"),
    output:
        advantages=f"{ROOT}/advantages_n/n{{n}}/{CHAIN}/advantages.parquet",
        metrics=f"{ROOT}/advantages_n/n{{n}}/{CHAIN}/metrics.json",
    log:
        log(f"advantages_n/n{{n}}/{CHAIN}"),
    benchmark:
        bench(f"advantages_n/n{{n}}/{CHAIN}")


use rule actor as actor_n with:
    input:
        policy=policy,
        advantages=rules.advantages_n.output.advantages,
        code=code("actor"),
    output:
        model=directory(f"{ROOT}/actor_n/n{{n}}/{CHAIN}/model"),
        metrics=f"{ROOT}/actor_n/n{{n}}/{CHAIN}/metrics.json",
        curve=f"{ROOT}/actor_n/n{{n}}/{CHAIN}/curve.csv",
    log:
        log(f"actor_n/n{{n}}/{CHAIN}"),
    benchmark:
        bench(f"actor_n/n{{n}}/{CHAIN}")


rule paper:
    input:
        summaries=expand("{root}/evaluate/{model}/{bench}.json", root=ROOT, model=PAPER_MODELS, bench=BENCHMARKS),
        records=expand("{root}/evaluate/{model}/{bench}.jsonl", root=ROOT, model=PAPER_MODELS, bench=BENCHMARKS),
        main=f"{ROOT}/tables/main.csv",  # rule tables, included after this file
        critics=expand(rules.critic.output.metrics, seed=SEEDS, iteration=1),
        advantages=expand(rules.advantages.output.advantages, seed=SEEDS, iteration=1),
        oracle=expand(rules.advantages_oracle.output.advantages, seed=SEEDS, iteration=1) if ORACLE_ROW else [],
        critic_model=rules.critic.output.model.format(seed=SEEDS[0], iteration=1),
        trace_data=f"{ROOT}/data/{BENCHMARKS[0]}.jsonl",
        trace_records=f"{ROOT}/evaluate/base/{BENCHMARKS[0]}.jsonl",
        code=code("paper"),
    output:
        iterations=f"{ROOT}/tables/iterations.csv",
        beta=f"{ROOT}/tables/beta.csv",
        completions=f"{ROOT}/tables/completions.csv",
        pairs=f"{ROOT}/tables/pairs.csv",
        markdown=f"{ROOT}/tables/paper.md",
        reliability=f"{ROOT}/figures/reliability.png",
        advantage_figure=f"{ROOT}/figures/advantages.png",
        value_figure=f"{ROOT}/figures/value_trace.png",
        pairs_figure=f"{ROOT}/figures/pairs.png",
    params:
        file=PARAMS,
        section=sections("paper", "actor.beta", "actor.state_fraction", "complete.N", "data.benchmarks", "data.task"),
        iterations=paper_rows(PAPER_ITERATIONS, lambda i: f"dapo-iter{i}"),
        beta=paper_rows([f"{b:g}" for b in PAPER["beta"]],
                        lambda b: f"dapo-beta{b}" if b in BETAS else "dapo-iter1"),
        completions=paper_rows(PAPER["completions"], lambda n: f"dapo-n{n}" if str(n) in NS else "dapo-iter1"),
        fractions=paper_rows([f"{f:g}" for f in PAPER["state_fractions"]],
                             lambda f: f"dapo-frac{f}" if f in FRACTIONS else "dapo-iter1"),
        out=lambda wc, output: os.path.dirname(output.markdown),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        log("paper"),
    benchmark:
        bench("paper")
    conda:
        "../envs/dapo.yaml"
    shell:
        "python -m dapo.stages.paper --params {params.file} --summaries {input.summaries}"
        " --iterations {params.iterations} --beta {params.beta} --completions {params.completions}"
        " --fractions {params.fractions}"
        " --critics {input.critics} --advantages {input.advantages} --oracle-advantages {input.oracle}"
        " --out-dir {params.out} --reliability {output.reliability} --advantage-figure {output.advantage_figure}"
        " --critic-model {input.critic_model} --trace-data {input.trace_data} --trace-records {input.trace_records}"
        " --value-figure {output.value_figure} --pairs-figure {output.pairs_figure}"
        " > {log} 2>&1"

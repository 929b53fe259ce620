# Shared names of the workflow: the experiment's params file, its results root, the benchmarks, and
# the code each job depends on: its stage module and every dapo module that imports, read from
# the import graph (dapo.sources), so editing any of them marks the job out of date.
# The params file is not an input of any rule; each rule's `params: section=sections(...)` holds the
# keys its stage reads, so Snakemake's params trigger reruns exactly the rules whose sections changed,
# and the dvc.yaml generator lists the same keys as the DVC stage's params.
import re

# src/ is on sys.path already: the Snakefile put it there to read the params file
from dapo.params import critic_base_overrides, results_root
from dapo.sources import stage_sources

EXPERIMENT = config["experiment"]
PARAMS = PARAMS_FILE  # the Snakefile's
ROOT = results_root(EXPERIMENT)
BENCHMARKS = list(config["data"]["benchmarks"])
SPLITS = ["sft", "rl", "val"]
# The training rules (sft, critic, actor) run `{resources.launcher} -m dapo.stages.<stage>`. An
# execution profile may set another launcher (accelerate launch ...) with set-resources; a resource
# is not a rerun trigger, so outputs stay cached whichever launcher built them.
LAUNCHER = "python"


def code(stage):
    """Source files of the jobs that run `python -m dapo.stages.<stage>`."""
    return stage_sources(Path(workflow.basedir) / "src", stage)


def sections(*keys):
    """{dotted key: its value in the experiment} for the params keys a stage reads ('actor', 'data.task')."""
    out = {}
    for key in keys:
        value = config
        for part in key.split("."):
            value = value[part]
        out[key] = value
    return out


def log(name):
    return f"{ROOT}/logs/{name}.log"


def bench(name):
    return f"{ROOT}/benchmarks/{name}.tsv"

SEEDS = list(range(config["seeds"]))
ORACLE_ROW = config["advantages"]["oracle_row"]
# the baselines' rows, when the experiment has their params sections
RFT_ROW = "rft" in config
DPO_ROW = "dpo" in config
GRPO_ROW = "grpo" in config
PPO_ROW = "ppo" in config
ITERATIONS = list(range(1, config["iterations"] + 1))
# the paper target's ablations (workflow/rules/paper.smk), when the experiment has a `paper` section;
# a point at the experiment's own value is its main row, so only the other values are built
PAPER = config.get("paper")
PAPER_ITERATIONS = list(range(1, PAPER["iterations"] + 1)) if PAPER else []
BETAS = [f"{b:g}" for b in PAPER["beta"] if b != config["actor"]["beta"]] if PAPER else []
NS = [str(n) for n in PAPER["completions"] if n != config["complete"]["N"]] if PAPER else []
FRACTIONS = [f"{f:g}" for f in PAPER["state_fractions"] if f != config["actor"]["state_fraction"]] if PAPER else []


def dapo_model(seed, iteration):
    """Name of pi_iteration of chain `seed` in evaluations and tables."""
    return f"dapo-iter{iteration}-seed{seed}"


def run_args(seed=None, iteration=None, ablations=(), varied=None):
    """What a model's evaluate run carries in MLflow beside its name: tags seed and iteration, tag
    `ablations` (the paper ablations the model is a point of; the iteration-1 main row is the
    experiment's own value of each) and the ablated key as `--set`, so the run's params show it."""
    tags = {"seed": seed, "iteration": iteration, "ablations": ",".join(ablations)}
    args = [f"--tag {k}={v}" for k, v in tags.items() if v not in (None, "")]
    return " ".join(args + ([f"--set {varied}"] if varied else []))


# every model the paper target's tables read
PAPER_MODELS = ["base"] + [dapo_model(s, i) for s in SEEDS for i in PAPER_ITERATIONS] + [
    f"dapo-beta{b}-seed{s}" for s in SEEDS for b in BETAS
] + [f"dapo-n{n}-seed{s}" for s in SEEDS for n in NS] + [f"dapo-frac{f}-seed{s}" for s in SEEDS for f in FRACTIONS]
CHAIN = "seed{seed}/iter{iteration}"


def paper_rows(values, model):
    """setting:model arguments of the paper stage; the experiment's own value is its main row."""
    return " ".join(f"{v}:{model(v)}" for v in values)


def base():
    """What makes pi_0: the pretrained rule (an experiment with a `pretrained` section), else sft."""
    return rules.pretrained if "pretrained" in config else rules.sft


def policy(wc):
    """pi_{i-1}: the base policy in iteration 1, the previous actor afterwards."""
    i = int(wc.iteration)
    if i == 1:
        return base().output.model
    return rules.actor.output.model.format(seed=wc.seed, iteration=i - 1)


def critic_init(wc):
    """Iteration 1 starts from critic.init ('sft' = the base policy, 'critic_base' = the model the
    critic_base rule trains, 'pretrained' = the pretrained section's critic model); later ones
    warm-start."""
    i = int(wc.iteration)
    if i > 1:
        return rules.critic.output.model.format(seed=wc.seed, iteration=i - 1)
    init = config["critic"]["init"]
    if init == "pretrained":
        return rules.pretrained.output.critic
    if init == "critic_base":
        return rules.critic_base.output.model
    return base().output.model if init == "sft" else init


def cost_jobs(row, seed):
    """The metrics files of the jobs that made one seed's model of a row (results/tables/compute.md):
    a DAPO iteration counts every earlier iteration too; the base policy, shared, is its own row."""
    def chain(rule, i):
        return getattr(rules, rule).output.metrics.format(seed=seed, iteration=i)

    if row == "base":
        return [base().output.metrics]
    if row == "dapo-oracle-iter1":
        return [chain(r, 1) for r in ("generate", "complete", "advantages_oracle", "actor_oracle")]
    if row.startswith("dapo-iter"):
        start = [rules.critic_base.output.metrics] if "critic_base" in config else []  # the critic's own start
        return start + [chain(r, i) for i in range(1, int(row[len("dapo-iter"):]) + 1)
                        for r in ("generate", "complete", "critic", "advantages", "actor")]
    own = getattr(rules, row).output.metrics.format(seed=seed)
    return [own] if row in ("grpo", "ppo") else [chain("generate", 1), own]  # rft, dpo train on generate's samples


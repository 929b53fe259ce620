# The DAG of the DAPO workflow, defined once (dvc.yaml is generated from it).
#   snakemake results/tables/main.csv --cores 2                 # embedded default experiment
#   snakemake --config experiment=smoke --cores 2               # params/smoke.yaml -> results/smoke/
import sys

from snakemake.utils import min_version, validate

min_version("9.18")
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from dapo.params import read_yaml  # noqa: E402

PARAMS_FILE = f"params/{config.get('experiment', 'default')}.yaml"


configfile: PARAMS_FILE


# Snakemake reads YAML 1.1, where 1e-6 (no dot) is a string: read the numbers as the stages do
config.update(read_yaml(Path(PARAMS_FILE).read_text()))


validate(config, "workflow/schemas/params.schema.json")


wildcard_constraints:
    seed=r"\d+",
    iteration=r"\d+",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
# the base policy pi_0: a pretrained model when the experiment has a `pretrained` section, else sft
if "pretrained" in config:

    include: "workflow/rules/pretrained.smk"

else:

    include: "workflow/rules/sft.smk"

# the iteration-1 critic's own start, when critic.init is 'critic_base'
if "critic_base" in config:

    include: "workflow/rules/critic_base.smk"


include: "workflow/rules/generate.smk"
include: "workflow/rules/complete.smk"
include: "workflow/rules/critic.smk"
include: "workflow/rules/advantages.smk"
include: "workflow/rules/actor.smk"
include: "workflow/rules/oracle.smk"


# baselines: an experiment has a row for each baseline whose params section it states
if "rft" in config:

    include: "workflow/rules/rft.smk"


if "dpo" in config:

    include: "workflow/rules/dpo.smk"


if "grpo" in config:

    include: "workflow/rules/grpo.smk"


if "ppo" in config:

    include: "workflow/rules/ppo.smk"


# the paper target (results/tables/paper.md): the ablations of the paper's Tables 4-6
if "paper" in config:

    include: "workflow/rules/paper.smk"


include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/tracking.smk"


rule all:
    input:
        rules.tables.output,
        rules.paper.output if "paper" in config else [],
    default_target: True

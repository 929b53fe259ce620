# Shared names of the workflow: the profile's params file, its results root, the benchmarks, and
# the code each rule depends on (Snakemake does not see edits to modules a stage only imports).
import sys

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from dapo.params import results_root  # noqa: E402

PROFILE = config["profile"]
PARAMS = f"params/{PROFILE}.yaml"
ROOT = results_root(PROFILE)
BENCHMARKS = list(config["data"]["benchmarks"])
SPLITS = ["sft", "rl", "val"]
LIB = "src/dapo"


def code(*modules):
    """Source files a rule depends on: its stage CLI plus the library modules it calls."""
    return [f"{LIB}/{m}.py" for m in ("params", "io", "tracking", "stages/_cli", *modules)]


def log(name):
    return f"{ROOT}/logs/{name}.log"


def bench(name):
    return f"{ROOT}/benchmarks/{name}.tsv"

SEEDS = list(range(config["seeds"]))
ITERATIONS = list(range(1, config["iterations"] + 1))
CHAIN = "seed{seed}/iter{iteration}"


wildcard_constraints:
    seed=r"\d+",
    iteration=r"\d+",


def dapo_model(seed, iteration):
    """Name of pi_iteration of chain `seed` in evaluations and tables."""
    return f"dapo-iter{iteration}-seed{seed}"

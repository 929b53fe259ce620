"""Probe: which out-of-domain countdown settings can show a change of pi_0 at all.

A benchmark where the base policy scores 0 % can only show gains, never the drop the table must
watch for. Evaluates pi_0 greedily on 200 fresh problems (stream seed 99, not a benchmark's) of
each candidate setting and prints accuracy and the failure kinds.

    snakemake --cores 2 results/sft/model && python probes/ood_benchmarks.py

Measured on the default's pi_0: numbers 1-20 (three of them) 9.0 %; numbers 13-20 0 %;
targets 100-200 0 %; five numbers 0 %. The default's out-of-domain benchmark is the first.
"""

from dapo.evaluation import evaluate
from dapo.generation import HFGenerator
from dapo.models import load_policy
from dapo.tasks import get_task


def setting(numbers: tuple[int, int], values: tuple[int, int], targets: tuple[int, int]) -> dict:
    return {"min_numbers": numbers[0], "max_numbers": numbers[1], "min_value": values[0],
            "max_value": values[1], "min_target": targets[0], "max_target": targets[1]}


CANDIDATES = {
    "numbers_1_20_three": setting((3, 3), (1, 20), (10, 99)),
    "numbers_13_20": setting((3, 4), (13, 20), (10, 99)),
    "targets_100_200": setting((3, 4), (1, 12), (100, 200)),
    "five_numbers": setting((5, 5), (1, 12), (10, 99)),
}

if __name__ == "__main__":
    task = get_task("countdown")
    model, tok = load_policy("results/sft/model")
    for name, cfg in CANDIDATES.items():
        problems = task.make_problems({**cfg, "operators": ["+", "-", "*"]}, 200, 99)
        _, summary = evaluate(HFGenerator(model, tok, 500, progress=False), task, problems, 80)
        print(f"{name}: greedy {summary['accuracy']:.3f} {summary.get('greedy_outcomes')}")

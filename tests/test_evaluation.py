from conftest import problem
from dapo.evaluation import evaluate
from dapo.generation import Completion


class FixedGenerator:
    """Returns pre-set responses, and records the sampling it was asked for."""

    def __init__(self, responses):
        self.responses = responses

    def generate(self, prompts, sampling):
        self.sampling = sampling
        return [[Completion(self.responses[p], len(self.responses[p]), not self.responses[p].endswith("..."))]
                for p in prompts]


def test_accuracy_and_rates_count_each_problem(task):
    problems = [problem("1 + 2", "3"), problem("5 - 9", "-4"), problem("2 + 2", "4"), problem("3 + 3", "6")]
    gen = FixedGenerator({"Q: 1 + 2\n": "1 + 2 = 3\nA: 3",
                          "Q: 5 - 9\n": "5 - 9 = -4\nA: 4",
                          "Q: 2 + 2\n": "2 + 2 = 4\n...",
                          "Q: 3 + 3\n": "A: 6\nA: 6"})
    records, summary = evaluate(gen, task, problems, max_new_tokens=32)
    assert gen.sampling.temperature == 0 and gen.sampling.n == 1
    assert [r["correct"] for r in records] == [True, False, False, False]
    assert [r["extracted"] for r in records] == ["3", "4", None, None]
    assert summary["accuracy"] == 0.25
    assert summary["unparseable_rate"] == 0.5
    assert summary["truncated_rate"] == 0.25
    assert summary["n"] == 4 and summary["template_id"] == "chain_sum/v1"

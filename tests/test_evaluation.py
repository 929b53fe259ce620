from conftest import problem
from dapo.evaluation import evaluate
from dapo.generation import Completion


class FixedGenerator:
    """Greedy: pre-set responses. Sampling: `sampled[prompt]`, a list of n texts. Records the
    sampling settings it was asked for."""

    def __init__(self, responses, sampled=None):
        self.responses, self.sampled, self.calls = responses, sampled or {}, []

    def generate(self, prompts, sampling):
        self.calls.append(sampling)
        if sampling.temperature == 0:
            return [[Completion(self.responses[p], len(self.responses[p]), not self.responses[p].endswith("..."))]
                    for p in prompts]
        return [[Completion(t, len(t), True) for t in self.sampled[p][:sampling.n]] for p in prompts]


def test_accuracy_and_rates_count_each_problem(task):
    problems = [problem("1 + 2", "3"), problem("5 - 9", "-4"), problem("2 + 2", "4"), problem("3 + 3", "6")]
    gen = FixedGenerator({"Q: 1 + 2\n": "1 + 2 = 3\nA: 3",
                          "Q: 5 - 9\n": "5 - 9 = -4\nA: 4",
                          "Q: 2 + 2\n": "2 + 2 = 4\n...",
                          "Q: 3 + 3\n": "A: 6\nA: 6"})
    records, summary = evaluate(gen, task, problems, max_new_tokens=32)
    assert len(gen.calls) == 1 and gen.calls[0].temperature == 0 and gen.calls[0].n == 1
    assert [r["correct"] for r in records] == [True, False, False, False]
    assert [r["extracted"] for r in records] == ["3", "4", None, None]
    assert summary["accuracy"] == 0.25
    assert summary["unparseable_rate"] == 0.5
    assert summary["truncated_rate"] == 0.25
    assert summary["n"] == 4 and summary["template_id"] == "chain_sum/v1"


def test_sampled_accuracy_counts_right_samples_per_problem(task):
    """Problem 1: samples right, wrong -> 1 of 2. Problem 2: right, right -> 2 of 2. Sampled
    accuracy (1 + 2) / 4 = 0.75, while greedy gets 1 of 2 problems."""
    problems = [problem("1 + 2", "3"), {**problem("2 + 2", "4"), "id": "t-1"}]
    gen = FixedGenerator({"Q: 1 + 2\n": "1 + 2 = 3\nA: 3", "Q: 2 + 2\n": "A: 5"},
                         {"Q: 1 + 2\n": ["1 + 2 = 3\nA: 3", "A: 4"], "Q: 2 + 2\n": ["A: 4", "2 + 2 = 4\nA: 4"]})
    records, summary = evaluate(gen, task, problems, max_new_tokens=32, samples=2)
    assert [(c.temperature, c.n) for c in gen.calls] == [(0.0, 1), (1.0, 2)]
    assert [r["sampled_correct"] for r in records] == [1, 2]
    assert summary["accuracy"] == 0.5 and summary["sampled_accuracy"] == 0.75 and summary["samples"] == 2


def test_countdown_summaries_break_greedy_failures_down_by_kind():
    """Two countdown problems: one solved, one with a dead-end first step."""
    from dapo.tasks import get_task

    task = get_task("countdown")
    meta = {"source_dataset": "countdown", "numbers": [3, 5, 6], "target": 21}
    problems = [{"id": "a", "prompt": "Q: 3 5 6 -> 21\n", "answer": "21", "entry": {"metadata": meta}},
                {"id": "b", "prompt": "Q: 3 5 6 -> 21\n", "answer": "21", "entry": {"metadata": meta}}]
    gen = FixedGenerator({"Q: 3 5 6 -> 21\n": "5 * 3 = 15\n15 + 6 = 21\nA: 21"})
    records, summary = evaluate(gen, task, problems, max_new_tokens=32)
    assert summary["greedy_outcomes"] == {"correct": 1.0}
    gen = FixedGenerator({"Q: 3 5 6 -> 21\n": "6 - 5 = 1\n3 * 1 = 3\nA: 21"})
    records, summary = evaluate(gen, task, problems, max_new_tokens=32)
    assert [r["error"] for r in records] == ["dead_end", "dead_end"]
    assert summary["greedy_outcomes"] == {"dead_end": 1.0}

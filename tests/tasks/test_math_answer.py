"""Task `math`: answer extraction, grading by math-verify, and the local-file loaders."""

import json

import pytest

from dapo.io import InputError
from dapo.tasks import get_task
from dapo.tasks.math_answer import final_answer, last_boxed


def test_last_boxed_balances_braces():
    assert last_boxed("so \\boxed{\\frac{1}{2}} and then \\boxed{\\{1, 2\\}}") == "\\{1, 2\\}"
    assert last_boxed("x = \\boxed{\\sqrt{2}+\\frac{3}{4}}.") == "\\sqrt{2}+\\frac{3}{4}"
    assert last_boxed("\\fbox{7}") == "7"
    assert last_boxed("no box") is None and last_boxed("\\boxed{1 + {2}") is None


def test_final_answer_lines_count_only_as_the_last_line():
    assert final_answer("24 + 48 = 72\nThe answer is 72.") == "72"
    assert final_answer("work\nFinal answer: $\\frac{3}{5}$") == "\\frac{3}{5}"
    assert final_answer("work\n#### 1,000") == "1,000"
    assert final_answer("work\nSo, the answer is 1.") == "1"
    assert final_answer("work\nMy final answer is 12") == "12"
    assert final_answer("The answer is 5.\nThen I checked it again.") is None
    assert final_answer("the box wins \\boxed{3}\nThe answer is 4.") == "3"
    assert final_answer("") is None


@pytest.mark.parametrize(("gold", "response", "correct"), [
    ("72", "In all 48 + 24 = 72.\nThe answer is \\boxed{72}.", True),
    ("\\frac{1}{2}", "\\boxed{0.5}", True),
    ("0.5", "\\boxed{\\frac{1}{2}}", True),
    ("\\frac{1}{2}", "\\boxed{\\dfrac12}", True),
    ("3", "\\boxed{3.0}", True),
    ("\\{1, 2\\}", "\\boxed{\\{2, 1\\}}", True),
    ("72", "\\boxed{71}", False),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{3}}", False),
    ("72", "I think it is 72 but I am not sure", False),  # no final answer: no reward
])
def test_grading_by_math_verify(gold, response, correct):
    task = get_task("math")
    assert task.verify({"answer": gold}, response) is correct


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_each_dataset_format_loads_its_question_and_gold_answer(tmp_path):
    task = get_task("math")
    files = {
        "gsm8k": [{"question": "Q1?", "answer": "48 / 2 = 24\n48 + 24 = 72\n#### 1,072"}],
        "math": [{"problem": "P?", "solution": "So $x = \\boxed{\\frac{1}{2}}$.", "level": "Level 5"}],
        "minerva": [{"problem": "M?", "solution": "Thus \\boxed{3 \\mathrm{m}}."}],
        "olympiadbench": [{"question": "O?", "final_answer": ["$\\sqrt{2}$"], "solution": ["Because..."]}],
        "college_math": [{"question": "C?", "answer": "e^2"}],
    }
    expected = {"gsm8k": "1072", "math": "\\frac{1}{2}", "minerva": "3 \\mathrm{m}", "olympiadbench": "$\\sqrt{2}$",
                "college_math": "e^2"}
    for dataset, records in files.items():
        path = write_jsonl(tmp_path / f"{dataset}.jsonl", records)
        (problem,) = task.make_problems({"dataset": dataset, "path": path}, size=0, seed=0)
        assert problem["answer"] == expected[dataset], dataset
        assert problem["prompt"].startswith("Question: ") and "\\boxed{}" in problem["prompt"]
        assert task.verify(problem, task.write_solution(problem)), dataset  # its own solution is correct


def test_parquet_and_order_and_size(tmp_path):
    import pandas as pd

    task = get_task("math")
    pd.DataFrame({"question": [f"Q{i}?" for i in range(10)], "answer": [str(i) for i in range(10)]}).to_parquet(
        tmp_path / "c.parquet")
    config = {"dataset": "college_math", "path": str(tmp_path / "c.parquet")}
    every = task.make_problems(config, size=0, seed=0)
    assert sorted(p["answer"] for p in every) == [str(i) for i in range(10)]
    assert [p["id"] for p in task.make_problems(config, size=4, seed=0)] == [p["id"] for p in every[:4]]
    assert [p["id"] for p in task.make_problems(config, size=0, seed=1)] != [p["id"] for p in every]


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(InputError, match=r"missing file: .*gsm8k.jsonl; put GSM8K's test split .* there"):
        get_task("math").make_problems({"dataset": "gsm8k", "path": str(tmp_path / "gsm8k.jsonl")}, 0, 0)


def test_malformed_and_empty_files_name_the_cause(tmp_path):
    task = get_task("math")
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "Q?"}])  # no answer
    with pytest.raises(InputError, match=r"record 0: malformed record \(missing 'answer'\)"):
        task.make_problems({"dataset": "gsm8k", "path": bad}, 0, 0)
    (tmp_path / "broken.jsonl").write_text('{"question": "Q?", "answer": "#### 1"}\n{not json\n')
    with pytest.raises(InputError, match=r"broken.jsonl:2: malformed record"):
        task.make_problems({"dataset": "gsm8k", "path": str(tmp_path / "broken.jsonl")}, 0, 0)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(InputError, match="empty split"):
        task.make_problems({"dataset": "gsm8k", "path": str(tmp_path / "empty.jsonl")}, 0, 0)
    with pytest.raises(InputError, match="dataset: one of"):
        task.make_problems({"dataset": "aime"}, 0, 0)


def test_an_unreachable_hub_dataset_is_a_one_line_error(tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(InputError, match=r"^hub dataset openai/gsm8k \(split test\) could not be loaded: .*; save "
                                         r"GSM8K's test split .* and set path instead$"):
        get_task("math").make_problems({"dataset": "gsm8k", "hub": "openai/gsm8k", "hub_config": "main"}, 0, 0)

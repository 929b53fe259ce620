"""Task `code`: MBPP, TACO and LiveCodeBench records from local files, graded in the sandbox."""

import base64
import json
import pickle
import zlib

import pytest

from dapo.io import InputError
from dapo.tasks import get_task
from dapo.tasks.code import last_code_block


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return {"path": str(path)}


def block(code):
    return f"Here is my program.\n```python\n{code}\n```\n"


MBPP = {"task_id": 2, "text": "Write a function to add two numbers.", "code": "def add(a, b):\n    return a + b",
        "test_list": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], "test_setup_code": ""}
TACO_STDIO = {"question": "Read n and print n squared.", "solutions": json.dumps(["print(int(input()) ** 2)"]),
              "input_output": json.dumps({"inputs": ["3\n", "12\n"], "outputs": ["9\n", "144\n"]})}
TACO_FN = {"question": "Return the larger of a and b.", "solutions": "[]",
           "input_output": json.dumps({"fn_name": "larger", "inputs": [[1, 5], [7, 2]], "outputs": [[5], [7]]})}


def lcb_record(private):
    return {"question_content": "Print the sum of the two integers on the first line.", "starter_code": "",
            "public_test_cases": json.dumps([{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]),
            "private_test_cases": private, "metadata": "{}"}


def test_the_last_python_block_is_the_program():
    assert last_code_block("a\n```python\nx = 1\n```\nb\n```py\ny = 2\n```") == "y = 2\n"
    assert last_code_block("print(1)\n") == "print(1)\n" and last_code_block("  \n") is None


def test_mbpp_its_own_solution_passes_and_a_wrong_one_fails(tmp_path):
    task = get_task("code")
    (problem,) = task.make_problems({"dataset": "mbpp", **write_jsonl(tmp_path / "m.jsonl", [MBPP])}, 0, 0)
    assert "assert add(1, 2) == 3" in problem["prompt"] and problem["prompt"].endswith("code block.\n")
    assert task.verify(problem, task.write_solution(problem))
    assert task.error_kind(problem, block("def add(a, b):\n    return a - b")) == "failed"
    assert task.error_kind(problem, "") == "no_code"


def test_taco_stdin_stdout_and_function_cases(tmp_path):
    task = get_task("code")
    stdio, fn = task.make_problems({"dataset": "taco", **write_jsonl(tmp_path / "t.jsonl", [TACO_STDIO, TACO_FN])},
                                   0, seed=0)
    if stdio["entry"]["asserts"]:
        stdio, fn = fn, stdio
    assert task.verify(stdio, task.write_solution(stdio))
    assert task.verify(stdio, block("n = int(input())\nprint(n * n)   "))  # trailing spaces are ignored
    assert not task.verify(stdio, block("print(int(input()) * 2)"))  # doubles instead of squaring
    assert task.verify(fn, block("def larger(a, b):\n    return max(a, b)"))
    assert not task.verify(fn, block("def larger(a, b):\n    return min(a, b)"))
    assert task.error_kind(stdio, block("while True:\n    pass")) == "timeout"


def test_livecodebench_public_and_compressed_private_cases(tmp_path):
    task = get_task("code")
    private = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(
        [{"input": "40 2\n", "output": "42\n", "testtype": "stdin"}])))).decode()
    (problem,) = task.make_problems({"dataset": "livecodebench",
                                     **write_jsonl(tmp_path / "l.jsonl", [lcb_record(private)])}, 0, 0)
    assert [c[0] for c in problem["entry"]["stdio"]] == ["1 2\n", "40 2\n"]
    assert task.verify(problem, block("a, b = map(int, input().split())\nprint(a + b)"))
    assert not task.verify(problem, block("print(3)"))  # passes the public case only


def test_a_pickled_object_in_the_test_cases_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    private = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    path = write_jsonl(tmp_path / "l.jsonl", [lcb_record(private)])
    with pytest.raises(InputError, match=r"record 0: malformed record \(UnpicklingError: refusing builtins.print"):
        get_task("code").make_problems({"dataset": "livecodebench", **path}, 0, 0)


def test_missing_malformed_and_testless_files_name_the_cause(tmp_path):
    task = get_task("code")
    with pytest.raises(InputError, match=r"missing file: .*taco.jsonl; put TACO .* there"):
        task.make_problems({"dataset": "taco", "path": str(tmp_path / "taco.jsonl")}, 0, 0)
    with pytest.raises(InputError, match=r"record 0: malformed record \(missing 'test_list'\)"):
        task.make_problems({"dataset": "mbpp", **write_jsonl(tmp_path / "a.jsonl", [{"text": "t"}])}, 0, 0)
    with pytest.raises(InputError, match=r"record 0: malformed record \(ValueError: no tests\)"):
        task.make_problems({"dataset": "mbpp", **write_jsonl(tmp_path / "b.jsonl", [{**MBPP, "test_list": []}])}, 0, 0)
    with pytest.raises(InputError, match="dataset: one of"):
        task.make_problems({"dataset": "apps"}, 0, 0)


# the shape of an evalplus/mbppplus record: MBPP's asserts as examples, and a test program that runs
# the function on base and plus inputs through an `assertion` helper (numpy for float tolerance)
MBPP_PLUS = {
    "task_id": 2, "prompt": "Write a function to find the shared elements from the given two lists.",
    "code": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))",
    "test_imports": [],
    "test_list": ["assert set(similar_elements((3, 4, 5, 6), (5, 7, 4, 10))) == set((4, 5))"],
    "test": ("import numpy as np\n\n"
             "def assertion(out, exp, atol):\n"
             "    if atol == 0 and isinstance(exp, float):\n        atol = 1e-6\n"
             "    if out != exp and atol != 0:\n        assert np.allclose(out, exp, rtol=1e-07, atol=atol)\n"
             "    else:\n        assert out == exp, f'out: {out}, exp: {exp}'\n\n"
             "inputs = [[(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2, 3, 4), (5, 4, 3, 7)], [(), (1,)]]\n"
             "results = [(4, 5), (3, 4), ()]\n"
             "for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
             "    assertion(tuple(sorted(similar_elements(*inp))), exp, 0)\n"),
}


def test_mbppplus_runs_the_extended_test_program(tmp_path):
    task = get_task("code")
    (problem,) = task.make_problems({"dataset": "mbppplus", **write_jsonl(tmp_path / "p.jsonl", [MBPP_PLUS])}, 0, 0)
    assert problem["prompt"].startswith("Write a function to find the shared") and "assert set(" in problem["prompt"]
    assert task.verify(problem, task.write_solution(problem))
    # right on the example, wrong on the plus input with an empty tuple
    partial = "def similar_elements(a, b):\n    assert a\n    return tuple(set(a) & set(b))"
    assert task.error_kind(problem, block(partial)) == "failed"


def test_a_local_dataset_folder_reads_through_datasets_like_the_file(tmp_path):
    task = get_task("code")
    (tmp_path / "mbpp").mkdir()
    write_jsonl(tmp_path / "mbpp" / "test.jsonl", [MBPP, {**MBPP, "task_id": 3}])
    from_file = task.make_problems({"dataset": "mbpp", "path": str(tmp_path / "mbpp" / "test.jsonl")}, 0, 0)
    assert task.make_problems({"dataset": "mbpp", "hub": str(tmp_path / "mbpp")}, 0, 0) == from_file
    with pytest.raises(InputError, match=r"hub dataset .*mbpp \(split train\) could not be loaded: .*set path"):
        task.make_problems({"dataset": "mbpp", "hub": str(tmp_path / "mbpp"), "split": "train"}, 0, 0)
    with pytest.raises(InputError, match="both path and hub"):
        task.make_problems({"dataset": "mbpp", "hub": "x", "path": "y"}, 0, 0)

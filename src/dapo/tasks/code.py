"""Task `code`: programming problems with unit tests from local files (MBPP, MBPP+, TACO,
LiveCodeBench), the paper's code training data and Table 2's benchmarks beside HumanEval. The reward is whether the
response's program passes every test, run in `dapo.sandbox`, never in this process.

No dataset ships in a package here, so problems come from jsonl or parquet files in each
dataset's own format, at `path` (params: data.train: {dataset: taco, path: ...}). A missing file is
a one-line error that says where to put it. Where a hub is reachable, `hub` reads the records
through `datasets` ({dataset: mbppplus, hub: evalplus/mbppplus}). Prompt, and a response in the format graded::

    Write a function to find the minimum cost path to reach (m, n) from (0, 0) ...
    Your code should pass these tests:
    assert min_cost([[1, 2, 3], [4, 8, 2], [1, 5, 3]], 2, 2) == 8
    Answer with one Python program in a ```python code block.
    ```python
    def min_cost(cost, m, n):
        ...
    ```

The program is the last ```python block of the response (or the whole response when it has no
block). Tests come in two kinds: assert statements appended to the program (MBPP, MBPP+'s test
program, LiveCodeBench `functional` cases, TACO `fn_name` cases), and stdin/stdout pairs (TACO and LiveCodeBench `stdin`
cases), which a harness inside the sandbox feeds to the program and compares line by line with
trailing whitespace ignored.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import re
import zlib
from typing import Any

from ..sandbox import Limits, run_python
from .base import Task
from .math_answer import FILE_KEYS, MALFORMED, file_problems

INSTRUCTION = "Answer with one Python program in a ```python code block."
_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)

# The sandboxed harness of stdin/stdout tests: runs the candidate once per case with that stdin,
# in this same (sandboxed) interpreter, and exits 1 at the first case whose output differs.
_STDIO_HARNESS = '''
import io, sys
SOURCE = {source!r}
CASES = {cases!r}
for given, expected in CASES:
    sys.stdin, out = io.StringIO(given), io.StringIO()
    sys.stdout = out
    try:
        exec(compile(SOURCE, "candidate.py", "exec"), {{"__name__": "__main__"}})
    except SystemExit:
        pass
    finally:
        sys.stdout = sys.__stdout__
    got = [line.rstrip() for line in out.getvalue().strip().splitlines()]
    if got != [line.rstrip() for line in expected.strip().splitlines()]:
        sys.exit(1)
'''


def last_code_block(response: str) -> str | None:
    """The last ```python block of a response, else the response itself; None when empty."""
    blocks = _BLOCK.findall(response)
    code = blocks[-1] if blocks else response
    return code if code.strip() else None


def _mbpp(record: dict) -> dict:
    tests = list(record["test_list"])
    setup = record.get("test_setup_code") or ""
    question = f"{record['text'].strip()}\nYour code should pass these tests:\n" + "\n".join(tests[:3])
    return {"question": question, "asserts": (setup + "\n" if setup else "") + "\n".join(tests),
            "stdio": [], "solution": record.get("code")}


def _mbppplus(record: dict) -> dict:
    """EvalPlus's MBPP+ as the `evalplus/mbppplus` dataset holds it: the task (`prompt`), MBPP's three
    asserts (`test_list`, shown as examples) and the extended test program (`test`, which runs the
    function on every base and plus input), with the imports it needs (`test_imports`)."""
    examples = list(record["test_list"])
    question = f"{record['prompt'].strip()}\nYour code should pass these tests:\n" + "\n".join(examples)
    imports = "\n".join(record.get("test_imports") or [])
    return {"question": question, "asserts": (imports + "\n" if imports else "") + record["test"],
            "stdio": [], "solution": record.get("code")}


def _taco(record: dict) -> dict:
    io_spec = record["input_output"]
    io_spec = json.loads(io_spec) if isinstance(io_spec, str) else io_spec
    solutions = record.get("solutions") or "[]"
    solutions = json.loads(solutions) if isinstance(solutions, str) else solutions
    pairs = list(zip(io_spec["inputs"], io_spec["outputs"]))
    if not pairs:
        raise KeyError("input_output tests")
    if io_spec.get("fn_name"):
        fn = io_spec["fn_name"]
        asserts = "\n".join(f"assert {fn}(*{args!r}) == {_unwrap(out)!r}" for args, out in pairs)
        return {"question": record["question"], "asserts": asserts, "stdio": [], "solution": (solutions or [None])[0]}
    return {"question": record["question"], "asserts": "", "solution": (solutions or [None])[0],
            "stdio": [(_text(i), _text(o)) for i, o in pairs]}


def _livecodebench(record: dict) -> dict:
    cases = _cases(record["public_test_cases"]) + _cases(record.get("private_test_cases") or "[]")
    if not cases:
        raise KeyError("test cases")
    question = record["question_content"].strip()
    if record.get("starter_code"):
        question += f"\nStart from:\n{record['starter_code']}"
    fn = json.loads(record.get("metadata") or "{}").get("func_name")
    functional = [c for c in cases if c.get("testtype") == "functional"]
    if functional and not fn:
        raise KeyError("metadata.func_name of functional tests")
    # functional cases call Solution().<fn>(*args) with one json value per input line
    asserts = "\n".join(
        f"assert Solution().{fn}(*{[json.loads(x) for x in c['input'].splitlines()]!r}) == {json.loads(c['output'])!r}"
        for c in functional)
    return {"question": question, "asserts": asserts, "solution": None,
            "stdio": [(c["input"], c["output"]) for c in cases if c.get("testtype") != "functional"]}


def _cases(raw) -> list[dict]:
    """LiveCodeBench test cases: a json list, or (private cases) base64 of zlib of a pickled json
    string, read with an unpickler that refuses every class, so the data can only be a string."""
    if isinstance(raw, list):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return json.loads(_StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(raw)))).load())


class _StringsOnly(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing {module}.{name}: test cases hold plain data only")


def _unwrap(value):
    """TACO wraps a function's expected return value in a one-element list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _text(value) -> str:
    return "\n".join(value) if isinstance(value, list) else str(value)


# dataset -> (record -> question/tests, the file it reads by default, what to put there)
DATASETS = {
    "mbpp": (_mbpp, "data/external/mbpp/test.jsonl", "MBPP (text, code, test_list, test_setup_code)"),
    "mbppplus": (_mbppplus, "data/external/mbppplus/test.jsonl",
                 "MBPP+ (evalplus/mbppplus: prompt, code, test_list, test_imports, test)"),
    "taco": (_taco, "data/external/taco/train.jsonl", "TACO (question, solutions, input_output)"),
    "livecodebench": (_livecodebench, "data/external/livecodebench/test.jsonl",
                      ("LiveCodeBench code_generation (question_content, starter_code, public_test_cases, "
                       "private_test_cases, metadata)")),
}


class Code(Task):
    name = "code"
    template_id = "code/python-block-v1"
    config_keys = FILE_KEYS
    writes_solutions = False  # not every record has a reference solution
    limits = Limits(timeout_s=10.0, site_packages=True)  # MBPP+'s test programs import numpy

    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        """`size` problems of the dataset's file, in an order fixed by `seed` (all when size is 0)."""
        def convert(dataset: str, record: dict) -> dict:
            entry = DATASETS[dataset][0](record)
            if not entry["asserts"] and not entry["stdio"]:
                raise ValueError("no tests")
            return {"prompt": f"{entry.pop('question').strip()}\n{INSTRUCTION}\n", "answer": entry.pop("solution") or "",
                    "entry": entry}

        sources = {name: (path, what) for name, (_, path, what) in DATASETS.items()}
        return file_problems(self.name, sources, config, size, seed, convert,
                             MALFORMED + (zlib.error, pickle.UnpicklingError))

    def render_prompt(self, problem: dict) -> str:
        return problem["prompt"]

    def write_solution(self, problem: dict) -> str:
        if not problem["answer"]:
            raise ValueError(f"{problem['id']}: the record has no reference solution")
        return f"```python\n{problem['answer'].strip()}\n```"

    def extract_answer(self, response: str) -> str | None:
        return last_code_block(response)

    def programs(self, problem: dict, response: str) -> list[str] | None:
        """What the sandbox runs for a response: the program with its asserts, and the stdin/stdout
        harness around it; None when the response has no code."""
        code = self.extract_answer(response)
        if code is None:
            return None
        entry, out = problem["entry"], []
        if entry["asserts"]:
            out.append(f"{code}\n\n{entry['asserts']}\n")
        if entry["stdio"]:
            out.append(_STDIO_HARNESS.format(source=code, cases=[tuple(c) for c in entry["stdio"]]))
        return out

    def verify(self, problem: dict, response: str) -> bool:
        return self.error_kind(problem, response) == "correct"

    def error_kind(self, problem: dict, response: str) -> str | None:
        """'correct', 'no_code', or the sandbox's status of the first program that fails."""
        programs = self.programs(problem, response)
        if programs is None:
            return "no_code"
        for program in programs:
            outcome = run_python(program, self.limits)
            if not outcome.passed:
                return outcome.status
        return "correct"

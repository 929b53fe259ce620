"""Task `math`: competition and word-problem math with a final answer, graded by math-verify
(the paper's Table 1 benchmarks: MATH, GSM8K, Minerva Math, OlympiadBench, College Math).

No benchmark ships in a package here, so problems come from local files: jsonl or parquet in each
dataset's own format, at `path` (params: data.benchmarks.<name>: {dataset: gsm8k, path: ...}).
A missing file is a one-line error that says where to put it. Where a hub is reachable, `hub`
reads the same records through `datasets` instead ({dataset: gsm8k, hub: openai/gsm8k,
hub_config: main, split: test}; {dataset: math, hub: HuggingFaceH4/MATH-500}).

Prompt, and a response in the format the verifier reads (steps at newlines, the answer boxed)::

    Question: Natalia sold clips to 48 of her friends in April, and then half as many in May. ...
    Please reason step by step, and put your final answer within \\boxed{}.
    In May she sold 48 / 2 = 24 clips.
    In all she sold 48 + 24 = 72 clips.
    The answer is \\boxed{72}.

The answer is the last `\\boxed{...}` of the response; without one, a last line `Final answer: x`,
`The answer is x` or `#### x`. Grading: math-verify's `verify(parse(gold), parse(answer))`, which
treats 1/2, 0.5 and \\frac{1}{2} alike and compares sets, intervals and matrices.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io import InputError
from .base import Task

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."
# anywhere in the last line, so "So, the answer is 5." counts as well as "The answer is 5."
_FINAL_LINE = re.compile(r"(?:final answer\s*(?:is\s*)?[:：]?|the (?:final )?answer is\s*:?|####)\s*(.+?)\.?\s*$",
                         re.IGNORECASE)


def last_boxed(text: str) -> str | None:
    """The contents of the last `\\boxed{...}` (or `\\fbox{...}`) of `text`, braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j].strip()
    return None  # unbalanced: the box never closes


def final_answer(response: str) -> str | None:
    """The response's answer: its last box, else a final-answer line as its last non-empty line."""
    boxed = last_boxed(response)
    if boxed:
        return boxed
    lines = [line.strip() for line in response.strip().splitlines() if line.strip()]
    match = _FINAL_LINE.search(lines[-1]) if lines else None
    return match.group(1).strip().strip("$") if match else None


def _gsm8k_answer(record: dict) -> str:
    return record["answer"].split("####")[-1].strip().replace(",", "")


def _boxed_solution(record: dict) -> str:
    answer = record.get("answer") or last_boxed(record["solution"])
    if not answer:
        raise KeyError("answer (and no \\boxed{} in solution)")
    return answer


def _first_final_answer(record: dict) -> str:
    answer = record["final_answer"]
    return answer[0] if isinstance(answer, list) else answer


# dataset -> (question field, gold answer of a record, worked solution of a record or None, the
# file it reads by default, what to put there)
DATASETS: dict[str, tuple[str, Callable[[dict], str], Callable[[dict], str | None], str, str]] = {
    "gsm8k": ("question", _gsm8k_answer, lambda r: r["answer"].split("####")[0].strip() or None,
              "data/external/gsm8k/test.jsonl", "GSM8K's test split (openai/gsm8k main: question, answer)"),
    "math": ("problem", _boxed_solution, lambda r: r.get("solution"),
             "data/external/math/test.jsonl", "MATH's test split, or MATH-500 (problem, solution or answer)"),
    "minerva": ("problem", _boxed_solution, lambda r: r.get("solution"),
                "data/external/minerva_math/test.jsonl", "Minerva Math (problem, solution)"),
    "olympiadbench": ("question", _first_final_answer, lambda r: (r.get("solution") or [None])[0],
                      "data/external/olympiadbench/test.jsonl",
                      "OlympiadBench's English text-only math (question, final_answer, solution)"),
    "college_math": ("question", lambda r: r["answer"], lambda r: None,
                     "data/external/college_math/test.jsonl", "College Math (question, answer)"),
}


def read_records(path: Path) -> list[dict]:
    """Records of a jsonl or parquet file; a missing file is the caller's error to word."""
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path).to_dict("records")
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise InputError(f"{path}:{n}: malformed record (not JSON)") from None
    return records


MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError)


FILE_KEYS = frozenset({"dataset", "path", "hub", "hub_config", "split"})


def file_problems(task: str, sources: dict[str, tuple[str, str]], config: dict[str, Any], size: int, seed: int,
                  convert: Callable[[str, dict], dict], malformed: tuple[type[Exception], ...] = MALFORMED) -> list[dict]:
    """The loader of the file-backed tasks (math, code): `size` problems (all when 0) of the records a
    data config names, in an order fixed by `seed`. The records come from a local file (`path`, by
    default the dataset's own), or, with `hub`, from `datasets.load_dataset(hub, hub_config,
    split=split)`: a hub id where a hub is reachable, or a local dataset folder.

    sources: dataset -> (its default path, what the file must hold); convert(dataset, record) ->
    the problem's prompt, answer and entry, raising one of `malformed` on a malformed record.
    """
    dataset = config.get("dataset")
    if dataset not in sources:
        raise InputError(f"{task}: data config needs dataset: one of {sorted(sources)}, got {dataset!r}")
    default_path, what = sources[dataset]
    if "hub" in config and "path" in config:
        raise InputError(f"{task}: data config has both path and hub; name one source")
    if "hub" in config:
        where, records = hub_records(config, what)
    else:
        path = Path(config.get("path", default_path))
        if not path.is_file():
            raise InputError(f"missing file: {path}; put {what} there as jsonl or parquet, or set its path")
        where, records = str(path), read_records(path)
    problems = []
    for n, record in enumerate(records):
        try:
            problems.append({"id": f"{dataset}-{n}", **convert(dataset, record)})
        except malformed as e:
            cause = f"missing {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
            raise InputError(f"{where}: record {n}: malformed record ({cause})") from None
    if not problems:
        raise InputError(f"empty split: {where} holds no records")
    random.Random(seed).shuffle(problems)
    return problems[:size] if size else problems


def hub_records(config: dict[str, Any], what: str) -> tuple[str, list[dict]]:
    """Where the records of `config['hub']` come from (for error messages), and the records, through
    `datasets`, in the dataset's order. Unreachable or unknown datasets are a one-line error that
    says how to read a local copy instead."""
    import datasets

    name, split = config["hub"], config.get("split", "test")
    try:
        return f"{name} ({split})", datasets.load_dataset(name, config.get("hub_config"), split=split).to_list()
    except Exception as e:  # noqa: BLE001 - offline, missing, gated and bad-split errors all end here
        cause = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"hub dataset {name} (split {split}) could not be loaded: {cause}; save {what} "
                         f"as jsonl or parquet and set path instead") from None


class MathAnswer(Task):
    name = "math"
    template_id = "math/boxed-v1"
    config_keys = FILE_KEYS

    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        """`size` problems of the dataset (`file_problems`), in an order fixed by `seed` (all when size is 0)."""
        def convert(dataset: str, record: dict) -> dict:
            question, gold, solution, _, _ = DATASETS[dataset]
            return {"prompt": self.render_question(record[question]), "answer": str(gold(record)),
                    "entry": {"solution": solution(record)}}

        sources = {name: (d[3], d[4]) for name, d in DATASETS.items()}
        return file_problems(self.name, sources, config, size, seed, convert)

    @staticmethod
    def render_question(question: str) -> str:
        return f"Question: {question.strip()}\n{INSTRUCTION}\n"

    def render_prompt(self, problem: dict) -> str:
        return problem["prompt"]

    def write_solution(self, problem: dict) -> str:
        """The dataset's worked solution, its answer boxed on the last line (for SFT)."""
        steps = (problem["entry"].get("solution") or "").strip()
        boxed = f"The answer is \\boxed{{{problem['answer']}}}."
        return f"{steps}\n{boxed}" if steps and last_boxed(steps) is None else (steps or boxed)

    def extract_answer(self, response: str) -> str | None:
        return final_answer(response)

    def verify(self, problem: dict, response: str) -> bool:
        from math_verify import parse, verify

        answer = self.extract_answer(response)
        if answer is None:
            return False
        gold = parse(f"${problem['answer']}$")
        return bool(gold) and verify(gold, parse(f"${answer}$"))

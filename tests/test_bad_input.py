"""Bad input at the stage CLIs: each case gives a one-line error naming its cause, writes no
output, and leaves a finished output where it was.

Each case runs a real stage process (`python -m dapo.stages.<stage>`) on a tiny checkpoint and
the smoke experiment's params.
"""

import json
import math
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import TINY_LLAMA
from dapo.models import build_char_tokenizer, build_policy, save_checkpoint
from dapo.tasks import get_task
from helpers import run

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A workspace: valid params, a tiny checkpoint, a few rl prompts, an advantages table, and a
    finished output (`done/metrics.json`) that no failing stage may touch."""
    d = tmp_path_factory.mktemp("bad_input")
    params = yaml.safe_load((REPO / "params/smoke.yaml").read_text())
    (d / "params.yaml").write_text(yaml.safe_dump(params))
    tok = build_char_tokenizer()
    save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, d / "ckpt")
    task = get_task("countdown")
    config = {**params["data"]["train"]}
    problems = task.make_problems(config, size=3, seed=0)
    (d / "rl.jsonl").write_text("".join(json.dumps(p) + "\n" for p in problems))
    prompt = task.render_prompt(problems[0])
    pd.DataFrame({"state_id": ["s0", "s0"], "state": [prompt, prompt], "action": ["1 + 2 = 3\n", "2 * 2 = 4\n"],
                  "eos": [False, False], "count": [1, 1], "value": [1.0, 0.0], "advantage": [0.5, -0.5],
                  "ref_logp": [-3.0, math.nan]}).to_parquet(d / "nan_advantages.parquet")
    (d / "done").mkdir()
    (d / "done/metrics.json").write_text('{"finished": 1}\n')
    return d


def params_with(ws, edit) -> str:
    params = yaml.safe_load((ws / "params.yaml").read_text())
    edit(params)
    path = ws / f"params_{abs(hash(str(params)))}.yaml"
    path.write_text(yaml.safe_dump(params))
    return str(path)


def write(ws, name: str, text: str | bytes) -> str:
    path = ws / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def generate(ws, params=None, data=None, policy=None, out=None) -> list[str]:
    return ["generate", "--params", params or str(ws / "params.yaml"), "--seed", "0", "--iteration", "1",
            "--policy", policy or str(ws / "ckpt"), "--data", data or str(ws / "rl.jsonl"),
            "--out", out or str(ws / "out")]


def actor(ws, advantages: str) -> list[str]:
    return ["actor", "--params", str(ws / "params.yaml"), "--seed", "0", "--iteration", "1",
            "--policy", str(ws / "ckpt"), "--advantages", advantages, "--out", str(ws / "out")]


def damaged_checkpoint(ws, name: str, weights_bytes: int | None) -> str:
    """A copy of the tiny checkpoint whose weights file is missing (None) or cut to its first bytes."""
    d = ws / name
    d.mkdir(exist_ok=True)
    for f in (ws / "ckpt").iterdir():
        if f.suffix != ".safetensors":
            (d / f.name).write_bytes(f.read_bytes())
        elif weights_bytes is not None:
            (d / f.name).write_bytes(f.read_bytes()[:weights_bytes])
    return str(d)


CASES = {
    "unknown key": (lambda ws: generate(ws, params=params_with(ws, lambda p: p["sft"].update(stepz=3))), "stepz"),
    "wrong type": (lambda ws: generate(ws, params=params_with(ws, lambda p: p["sft"].update(steps="ten"))),
                   "sft.steps: 'ten' is not of type 'integer'"),
    "value out of range": (lambda ws: generate(ws, params=params_with(ws, lambda p: p["sft"].update(habit_fraction=2))),
                           "sft.habit_fraction: 2 is greater than the maximum of 1"),
    "missing data file": (lambda ws: generate(ws, data=str(ws / "nowhere.jsonl")), "missing file"),
    "malformed jsonl line": (lambda ws: generate(ws, data=write(ws, "bad.jsonl", '{"id": 1}\n{not json\n')),
                             "bad.jsonl:1: malformed record (missing key 'prompt')"),
    "empty split": (lambda ws: generate(ws, data=write(ws, "empty.jsonl", "\n")), "empty split"),
    "corrupted parquet": (lambda ws: actor(ws, write(ws, "bad.parquet", b"PAR1 not a table")), "corrupted parquet"),
    "missing checkpoint": (lambda ws: generate(ws, policy=str(ws / "no_ckpt")), "missing checkpoint"),
    "partial checkpoint": (lambda ws: generate(ws, policy=damaged_checkpoint(ws, "partial", None)),
                           "partial checkpoint"),
    "corrupted checkpoint": (lambda ws: generate(ws, policy=damaged_checkpoint(ws, "corrupted", 100)),
                             "corrupted checkpoint"),
    "unwritable output directory": (lambda ws: generate(ws, out=str(ws / "done/metrics.json/out")),
                                    "cannot write"),
    "NaN loss": (lambda ws: actor(ws, str(ws / "nan_advantages.parquet")), "actor: non-finite loss nan at step 1"),
    "malformed run tag": (lambda ws: ["evaluate", "--params", str(ws / "params.yaml"), "--model", str(ws / "ckpt"),
                                      "--name", "base", "--tag", "seed", "--data-dir", str(ws), "--out", str(ws / "out")],
                          "--tag 'seed': expected key=value"),
}


def listing(ws) -> list[Path]:
    """Every path of the workspace but the MLflow store (a failed stage may record its run)."""
    return sorted(p.relative_to(ws) for p in ws.rglob("*") if not p.name.startswith("mlflow"))


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_naming_the_cause_and_writes_nothing(ws, case):
    build, message = CASES[case]
    stage, *args = build(ws)
    before = listing(ws)
    result = run(ws, sys.executable, "-m", f"dapo.stages.{stage}", *args, timeout=300, check=False)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, last
    assert not (ws / "out").exists()
    assert listing(ws) == before
    assert (ws / "done/metrics.json").read_text() == '{"finished": 1}\n'

"""The outcome-level baselines (RFT, DPO): their training data, and each stage on a chain with no
correct response, which leaves nothing to train on."""

import json
import sys

import pandas as pd
import pytest
import yaml
from safetensors.torch import load_file

from conftest import TINY_LLAMA
from dapo.dpo import preference_pairs
from dapo.models import build_char_tokenizer, build_policy, save_checkpoint
from dapo.rft import rft_demonstrations
from dapo.tasks import get_task
from helpers import REPO, run


def test_demonstrations_are_the_distinct_correct_responses_in_a_fixed_order():
    responses = pd.DataFrame({
        "prompt_id": ["b", "a", "a", "a", "b", "a"],
        "response": ["y", "x2", "x1", "x2", "y", "wrong"],
        "correct": [True, True, True, True, True, False],
    })
    demos = rft_demonstrations(responses)
    assert list(zip(demos["prompt_id"], demos["response"])) == [("a", "x1"), ("a", "x2"), ("b", "y")]
    assert rft_demonstrations(responses.sample(frac=1, random_state=3)).equals(demos)
    assert rft_demonstrations(responses[~responses["correct"]]).empty


def test_preference_pairs_are_every_correct_against_every_wrong_finished_response():
    responses = pd.DataFrame({
        "prompt_id": ["a", "a", "a", "a", "a", "b", "b", "c"],
        "response": ["c2", "c1", "w1", "c1", "cut", "only-right", "only-right", "w"],
        "finished": [True, True, True, True, False, True, True, True],
        "correct": [True, True, False, True, False, True, True, False],
    })
    pairs = preference_pairs(responses)
    # a: 2 distinct correct x 1 finished wrong (the truncated one never ended); b, c: one side only
    assert list(zip(pairs["prompt_id"], pairs["chosen"], pairs["rejected"])) == [("a", "c1", "w1"), ("a", "c2", "w1")]
    assert preference_pairs(responses.sample(frac=1, random_state=1)).equals(pairs)


@pytest.mark.parametrize("stage", ["rft", "dpo"])
def test_with_no_correct_response_the_stage_writes_pi_0_unchanged(tmp_path, stage):
    params = yaml.safe_load((REPO / "params/smoke.yaml").read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    tok = build_char_tokenizer()
    save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, tmp_path / "pi0")
    problems = get_task("countdown").make_problems(params["data"]["train"], size=2, seed=0)
    (tmp_path / "rl.jsonl").write_text("".join(json.dumps(p) + "\n" for p in problems))
    pd.DataFrame({"prompt_id": [p["id"] for p in problems], "sample": [0, 0], "response": ["1 + 1 = 2", "3"],
                  "finished": [True, True], "correct": [False, False], "num_steps": [1, 1]}
                 ).to_parquet(tmp_path / "responses.parquet")
    run(tmp_path, sys.executable, "-m", f"dapo.stages.{stage}", "--params", "params.yaml", "--seed", "0",
        "--iteration", "1", "--policy", "pi0", "--data", "rl.jsonl", "--responses", "responses.parquet",
        "--out", "out")
    metrics = json.loads((tmp_path / "out/metrics.json").read_text())
    assert metrics == ({"rft/examples": 0, "rft/prompts": 0} if stage == "rft" else {"dpo/pairs": 0, "dpo/prompts": 0})
    before, after = load_file(tmp_path / "pi0/model.safetensors"), load_file(tmp_path / "out/model/model.safetensors")
    assert before.keys() == after.keys() and all((before[k] == after[k]).all() for k in before)

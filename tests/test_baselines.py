"""The baselines: the outcome-level offline ones (RFT, DPO), their training data, and each stage on a
chain with no correct response, which leaves nothing to train on; GRPO, its reward, its grouping
and its stage."""

import json
import sys

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from dapo.dpo import preference_pairs
from dapo.grpo import train_grpo
from dapo.models import load_policy
from dapo.rft import rft_demonstrations
from dapo.tasks import get_task, verifier_reward
from helpers import run, stage_workspace


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
    _, problems = stage_workspace(tmp_path, 2)
    pd.DataFrame({"prompt_id": [p["id"] for p in problems], "sample": [0, 0], "response": ["1 + 1 = 2", "3"],
                  "finished": [True, True], "correct": [False, False], "num_steps": [1, 1]}
                 ).to_parquet(tmp_path / "responses.parquet")
    run(tmp_path, sys.executable, "-m", f"dapo.stages.{stage}", "--params", "params.yaml", "--seed", "0",
        "--iteration", "1", "--policy", "pi0", "--data", "rl.jsonl", "--responses", "responses.parquet",
        "--out", "out")
    metrics = json.loads((tmp_path / "out/metrics.json").read_text())
    assert metrics.pop(f"{stage}/job_seconds") > 0
    assert metrics == ({"rft/examples": 0, "rft/prompts": 0} if stage == "rft" else {"dpo/pairs": 0, "dpo/prompts": 0})
    before, after = load_file(tmp_path / "pi0/model.safetensors"), load_file(tmp_path / "out/model/model.safetensors")
    assert before.keys() == after.keys() and all((before[k] == after[k]).all() for k in before)


def test_the_grpo_reward_is_the_verifier_of_each_completion_s_own_problem():
    task = get_task("countdown")
    a, b = task.make_problems({"min_numbers": 3, "max_numbers": 3, "min_value": 1, "max_value": 9, "min_target": 10,
                               "max_target": 60, "operators": ["+", "-", "*"]}, size=2, seed=0)
    reward = verifier_reward(task, {a["id"]: a, b["id"]: b})
    right_a, right_b = task.write_solution(a), task.write_solution(b)
    assert reward(["pa", "pb", "pa", "pb"], [right_a, right_b, right_b, "1 + 1 = 2"],
                  prompt_id=[a["id"], b["id"], a["id"], b["id"]]) == [1.0, 1.0, float(a["answer"] == b["answer"]), 0.0]


def test_grpo_samples_groups_from_the_current_policy_and_scores_each_against_its_own_prompt(tiny_checkpoint):
    texts = [f"{k} + {k} =" for k in range(6)]
    seen = []

    def reward(prompts, completions, prompt_id, **kwargs):
        seen.extend(zip(prompts, prompt_id))
        return [float(len(c) % 3 == 0) for c in completions]  # any reward whose groups are not all equal

    model, tok = load_policy(tiny_checkpoint)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hp = {"group_size": 4, "prompts_per_step": 3, "steps": 2, "beta": 0.01, "clip": 0.2, "temperature": 1.0,
          "max_new_tokens": 8, "lr": 1e-2, "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": 1.0,
          "adam_betas": [0.9, 0.999], "seed": 0, "log_every": 1}
    curve = []
    summary = train_grpo(model, tok, texts, [f"p{k}" for k in range(6)], reward, hp,
                         on_log=lambda step, row: curve.append((step, row)), progress=False)
    assert summary["grpo/steps"] == 2 and summary["grpo/responses_sampled"] == 24
    # at most 8 new tokens per response; the policy scored those and the prompts (7 characters each)
    assert 24 <= summary["grpo/tokens_generated"] <= 24 * 8
    assert summary["grpo/tokens_trained"] == summary["grpo/tokens_generated"] + 24 * 7, summary
    assert len(seen) == 24 and all(p == texts[int(i[1:])] for p, i in seen)
    # each prompt's group of 4 responses is scored together
    assert all(len({seen[g + j][1] for j in range(4)}) == 1 for g in range(0, 24, 4))
    assert [step for step, _ in curve] == [1, 2] and all("grpo/reward" in row for _, row in curve)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize(("stage", "per_prompt"), [("grpo", "group_size"), ("ppo", "samples_per_prompt")])
def test_an_online_baseline_stage_writes_its_model_metrics_and_curve(tmp_path, stage, per_prompt):
    params, _ = stage_workspace(tmp_path, 4)
    run(tmp_path, sys.executable, "-m", f"dapo.stages.{stage}", "--params", "params.yaml", "--seed", "0",
        "--iteration", "1", "--policy", "pi0", "--data", "rl.jsonl", "--out", "out")
    metrics = json.loads((tmp_path / "out/metrics.json").read_text())
    hp = params[stage]
    assert metrics[f"{stage}/steps"] == hp["steps"] and metrics[f"{stage}/prompts"] == 4
    assert metrics[f"{stage}/responses_sampled"] == hp["steps"] * hp["prompts_per_step"] * hp[per_prompt]
    assert metrics[f"{stage}/tokens_trained"] > metrics[f"{stage}/tokens_generated"] > 0
    assert metrics[f"{stage}/job_seconds"] > 0
    assert list(pd.read_csv(tmp_path / "out/curve.csv")["step"]) == list(range(1, hp["steps"] + 1))
    assert (tmp_path / "out/model/model.safetensors").is_file()

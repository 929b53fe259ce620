"""Resume: a training loop (sft, critic, actor, ppo) killed after a checkpoint, rerun, ends with the bytes, curve and summary
of an uninterrupted run; a checkpoint made under another fingerprint is never resumed; a stage
process killed mid-training resumes and clears its checkpoints once its outputs are written."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import TINY_LLAMA, problem
from dapo.actor import train_actor
from dapo.critic import train_critic
from dapo.io import InputError
from dapo.models import (
    build_char_tokenizer,
    build_policy,
    load_critic,
    load_policy,
    load_value_model,
    save_checkpoint,
)
from dapo.ppo import train_ppo
from dapo.sft import sft_example, train_sft
from dapo.training import CHECKPOINT_MINUTES, Checkpoints, checkpoint_minutes, job_fingerprint
from helpers import REPO

EVERY_STEP = 1e-9  # minutes: a save after every step


class Killed(Exception):
    """Stands in for kill -9: raised from the curve sink, so the step's save never happens."""


def sink_to(points: list, kill_at: int | None = None):
    def sink(step, metrics):
        if kill_at is not None and step >= kill_at:
            raise Killed
        points.append((step, metrics))
    return sink


def sft_loop(model, tok, task, sink, checkpoints=None):
    examples = [sft_example(task.render_prompt(p), task.write_solution(p), tok)
                for p in (problem("1 + 2", "3"), problem("4 - 6", "-2"), problem("7 + 8 - 9", "6"))]
    hp = {"steps": 12, "batch_size": 3, "lr": 1e-2, "warmup_steps": 3, "weight_decay": 0.01, "max_grad_norm": 1.0,
          "adam_betas": [0.9, 0.95], "seed": 0, "log_every": 3}
    return train_sft(model, examples, tok.pad_token_id, hp, on_log=sink, progress=False, checkpoints=checkpoints)


def critic_loop(model, tok, task, sink, checkpoints=None):
    texts = ["Q: 1 + 1\n", "Q: 9 - 8\n", "Q: 5 + 5\n1 + 1 = 2\n", "Q: 3\n", "Q: 2 + 2\n"]
    labels = np.array([0.9, 0.1, 0.75, 0.25, 0.5], dtype=np.float32)
    hp = {"epochs": 4, "batch_size": 2, "lr": 3e-3, "warmup_steps": 2, "weight_decay": 0.0, "max_grad_norm": 1.0,
          "seed": 0, "log_every": 3}
    return train_critic(model, tok, texts, labels, hp, on_log=sink, progress=False, checkpoints=checkpoints)


def actor_loop(model, tok, task, sink, checkpoints=None):
    data = pd.DataFrame({"state_id": [0, 0, 1, 1, 2, 3, 3], "state": ["Q: 1 + 2\n"] * 2 + ["Q: 4 - 1\n"] * 2
                         + ["Q: 5\n"] + ["Q: 6 + 1\n"] * 2,
                         "action": ["1 + 2 = 3\n", "1 + 2 = 4\n", "A: 3", "A: 5", "A: 5", "6 + 1 = 7\n", "A: 8"],
                         "eos": [False, False, True, True, True, False, True],
                         "advantage": [0.2, -0.2, 0.3, -0.3, 0.0, 0.1, -0.1],
                         "ref_logp": [-9.0, -9.5, -4.0, -4.2, -3.0, -8.0, -4.4]})
    hp = {"beta": 0.1, "lr": 1e-3, "epochs": 6, "states_per_batch": 2, "warmup_steps": 2, "weight_decay": 0.0,
          "max_grad_norm": 1.0, "seed": 0, "log_every": 3}
    return train_actor(model, tok, data, hp, on_log=sink, progress=False, checkpoints=checkpoints)


def fresh(kind, tmp_path):
    """The loop's starting model, as a rerun of the job loads it."""
    tok = build_char_tokenizer()
    if kind != "critic":
        return build_policy(tok, TINY_LLAMA, seed=0), tok
    path = tmp_path / "critic_init"
    if not path.exists():
        save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, path)
    return load_critic(path, seed=0)


def timeless(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if not k.endswith(("_seconds", "tokens_per_second"))}


@pytest.mark.parametrize("loop", [sft_loop, critic_loop, actor_loop], ids=["sft", "critic", "actor"])
def test_a_killed_loop_resumes_to_the_bytes_of_an_uninterrupted_one(loop, task, tmp_path):
    kind = loop.__name__.split("_")[0]
    model, tok = fresh(kind, tmp_path)
    whole_points = []
    whole = loop(model, tok, task, sink_to(whole_points))
    assert [s for s, _ in whole_points] == [3, 6, 9, 12]

    directory = tmp_path / "out.resume"
    killed, tok = fresh(kind, tmp_path)
    with pytest.raises(Killed):  # at the point of step 9: the last save is step 8's, mid-window
        loop(killed, tok, task, sink_to([], kill_at=9), Checkpoints(directory, "job", EVERY_STEP))
    assert [p.name for p in directory.iterdir()] == ["step-000000008"]

    resumed, tok = fresh(kind, tmp_path)
    points = []
    summary = loop(resumed, tok, task, sink_to(points), Checkpoints(directory, "job", EVERY_STEP))
    assert points == whole_points  # replayed up to step 6, then trained
    assert timeless(summary) == timeless(whole)
    mine, theirs = resumed.state_dict(), model.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    # the resumed run went on saving; the last save is before the last step
    assert [p.name for p in directory.iterdir()] == ["step-000000011"]


PPO_HP = {"prompts_per_step": 4, "samples_per_prompt": 2, "steps": 5, "ppo_epochs": 2, "minibatches": 2,
          "kl_coef": 0.01, "gamma": 1.0, "lam": 0.95, "clip": 0.2, "value_clip": 0.2, "temperature": 1.0,
          "max_new_tokens": 8, "actor_lr": 1e-2, "critic_lr": 1e-2, "warmup_steps": 1, "weight_decay": 0.0,
          "max_grad_norm": 1.0, "adam_betas": [0.9, 0.999], "seed": 0, "log_every": 3}


def ppo_run(tmp_path, sink, checkpoints=None):
    """Five rollouts of 4 of 6 prompts (the queue reshuffles mid-run) with a policy, a value model
    and a reference from one tiny checkpoint; returns the summary and the two trained models."""
    path = tmp_path / "ppo_init"
    tok = build_char_tokenizer()
    if not path.exists():
        save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, path)
    policy, critic, ref = load_policy(path)[0], load_value_model(path, seed=1)[0], load_policy(path)[0].eval()
    texts = [f"{k} + {k} =" for k in range(6)]
    summary = train_ppo(policy, critic, ref, tok, texts, [f"p{k}" for k in range(6)],
                        lambda prompts, completions, prompt_id: [float(len(c) % 3 == 0) for c in completions],
                        PPO_HP, on_log=sink, progress=False, checkpoints=checkpoints)
    return summary, policy, critic


def test_a_killed_ppo_run_resumes_to_the_bytes_of_an_uninterrupted_one(tmp_path):
    """PPO's state between rollouts is both models and optimisers, the prompt queue and the two
    random streams (prompt order and minibatch order, and sampling)."""
    whole_points = []
    whole, *whole_models = ppo_run(tmp_path, sink_to(whole_points))
    assert [s for s, _ in whole_points] == [3, 5]
    directory = tmp_path / "ppo.resume"
    # killed at the point of rollout 5: the last save is rollout 4's, mid-window, with two prompts
    # of the second pass over the six still queued
    with pytest.raises(Killed):
        ppo_run(tmp_path, sink_to([], kill_at=5), Checkpoints(directory, "job", EVERY_STEP))
    assert [p.name for p in directory.iterdir()] == ["step-000000004"]
    assert len(json.loads((directory / "step-000000004" / "loop.json").read_text())["values"]["queue"]) == 2
    points = []
    summary, *models = ppo_run(tmp_path, sink_to(points), Checkpoints(directory, "job", EVERY_STEP))
    assert points == whole_points
    assert timeless(summary) == timeless(whole)
    for mine, theirs in zip(models, whole_models):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_checkpoint_of_another_job_is_discarded_not_resumed(task, tmp_path, capsys):
    directory = tmp_path / "out.resume"
    model, tok = fresh("sft", tmp_path)
    with pytest.raises(Killed):
        sft_loop(model, tok, task, sink_to([], kill_at=6), Checkpoints(directory, "job-a", EVERY_STEP))
    assert (directory / "step-000000005").is_dir()
    (directory / "step-000000007.tmp").mkdir()  # a save cut short by a kill: never read

    other, tok = fresh("sft", tmp_path)
    points = []
    sft_loop(other, tok, task, sink_to(points), Checkpoints(directory, "job-b"))
    assert "not resuming" in capsys.readouterr().out
    assert not directory.exists()
    whole, tok = fresh("sft", tmp_path)
    whole_points = []
    sft_loop(whole, tok, task, sink_to(whole_points))
    assert points == whole_points
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), whole.state_dict().values()))


def test_a_damaged_checkpoint_is_a_one_line_error_that_names_it(task, tmp_path):
    directory = tmp_path / "out.resume"
    model, tok = fresh("sft", tmp_path)
    with pytest.raises(Killed):
        sft_loop(model, tok, task, sink_to([], kill_at=6), Checkpoints(directory, "job", EVERY_STEP))
    (directory / "step-000000005" / "optimiser-0" / "optimizer.bin").write_bytes(b"cut short")
    model, tok = fresh("sft", tmp_path)
    with pytest.raises(InputError, match="cannot resume from .*step-000000005.* remove .*out.resume") as error:
        sft_loop(model, tok, task, sink_to([]), Checkpoints(directory, "job", EVERY_STEP))
    assert "\n" not in str(error.value)
    assert (directory / "step-000000005").is_dir()  # left for the user to look at


def test_checkpoint_minutes_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(CHECKPOINT_MINUTES, raising=False)
    assert checkpoint_minutes() == 30
    monkeypatch.setenv(CHECKPOINT_MINUTES, "0.5")
    assert checkpoint_minutes() == 0.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(CHECKPOINT_MINUTES, bad)
        with pytest.raises(InputError, match=CHECKPOINT_MINUTES):
            checkpoint_minutes()


def test_the_fingerprint_changes_with_the_command_params_and_inputs(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("{}\n")
    base = job_fingerprint(["actor", "--seed", "0"], {"actor": {"lr": 1e-3}}, [data])
    assert job_fingerprint(["actor", "--seed", "0"], {"actor": {"lr": 1e-3}}, [data]) == base
    assert job_fingerprint(["actor", "--seed", "1"], {"actor": {"lr": 1e-3}}, [data]) != base
    assert job_fingerprint(["actor", "--seed", "0"], {"actor": {"lr": 2e-3}}, [data]) != base
    os.utime(data, ns=(0, 0))
    assert job_fingerprint(["actor", "--seed", "0"], {"actor": {"lr": 1e-3}}, [data]) != base


def stage_command(ws: Path, out: str, epochs: int) -> list[str]:
    return [sys.executable, "-m", "dapo.stages.actor", "--params", str(REPO / "params/smoke.yaml"),
            "--set", f"actor.epochs={epochs}", "--seed", "0", "--iteration", "1", "--policy", str(ws / "pi0"),
            "--advantages", str(ws / "advantages.parquet"), "--out", str(ws / out)]


def test_a_killed_actor_job_resumes_and_clears_its_checkpoints(tmp_path):
    """The actor stage as the workflow runs it, saving after every step: kill -9 once a save is on
    disk, rerun, and the model and curve are those of a run that was never killed."""
    tok = build_char_tokenizer()
    save_checkpoint(build_policy(tok, TINY_LLAMA, seed=0), tok, tmp_path / "pi0")
    states = [f"Q: {a} + {b}\n" for a in range(1, 7) for b in range(1, 6)]
    pd.DataFrame({"state_id": list(range(len(states))) * 2, "state": states * 2,
                  "action": [f"{s[3:-1]} = 1\n" for s in states] + ["A: 2"] * len(states),
                  "eos": [False] * len(states) + [True] * len(states),
                  "advantage": [0.1] * len(states) + [-0.1] * len(states),
                  "ref_logp": [-9.0] * len(states) + [-3.0] * len(states)}).to_parquet(tmp_path / "advantages.parquet")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "OMP_NUM_THREADS": "1"}
    epochs = 12  # 30 states, 4 per batch: 96 steps

    whole = subprocess.run(stage_command(tmp_path, "whole", epochs), env={**env, CHECKPOINT_MINUTES: "0"},
                           capture_output=True, text=True, timeout=600, check=False)
    assert whole.returncode == 0, whole.stderr[-2000:]

    saves = tmp_path / "killed.resume"
    job = subprocess.Popen(stage_command(tmp_path, "killed", epochs), env={**env, CHECKPOINT_MINUTES: str(EVERY_STEP)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(saves.glob("step-*[0-9]")):
        assert job.poll() is None and time.time() < deadline, "the job ended or stalled before its first save"
        time.sleep(0.01)
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert not (tmp_path / "killed" / "metrics.json").exists()

    rerun = subprocess.run(stage_command(tmp_path, "killed", epochs), env={**env, CHECKPOINT_MINUTES: "0"},
                           capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "actor: resumed at step " in rerun.stdout
    step = int(rerun.stdout.split("actor: resumed at step ")[1].split()[0])
    assert 0 < step < 96
    assert not saves.exists()
    for f in ("model/model.safetensors", "curve.csv"):
        assert (tmp_path / "killed" / f).read_bytes() == (tmp_path / "whole" / f).read_bytes(), f
    metrics = [json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("killed", "whole")]
    assert timeless(metrics[0]) == timeless(metrics[1])

"""The optimiser step shared by the SFT, critic and actor loops, prepared by accelerate so that
`accelerate launch` scales every loop the same way.

Data parallelism: every process draws the same global batch (same seed) and trains on its shard of
the rows (`Optimiser.shard`). DDP averages gradients over processes, so each process scales its
shard's mean loss by its share of the batch's weight times the number of processes: the averaged
gradient is then the gradient of the global batch's mean, and the loss curve is the single-process
one up to float summation order (tests/test_multiprocess.py).

Resume: a loop given `Checkpoints` saves its state every few minutes while it trains, and a rerun of
the killed job goes on from the last save and ends with the bytes of an uninterrupted run
(tests/test_resume.py).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import DistributedType, parse_flag_from_env
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainerCallback,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
)

from .io import InputError


def process_state() -> PartialState:
    """The processes of this run (one in a plain run), set up as an Accelerator will set them up."""
    # AcceleratorState reads ACCELERATE_USE_CPU, PartialState does not; set it the same way here so
    # that a call made before or after the first Accelerator sees the same processes
    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))


def is_main_process() -> bool:
    """True in a plain run and in the rank-0 process of `accelerate launch`: the one that writes."""
    return process_state().is_main_process


def token_count(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str]) -> int:
    """Tokens in `texts`, without special tokens or padding: the compute accounting's unit for
    what a training stage passes forward and backward (tables `compute`)."""
    return sum(len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]) if texts else 0


class LogWindow:
    """A loop's curve points: the mean of each metric over the steps since the last point, sent to
    `sink(step, means)` every `every` steps and at step `total`."""

    def __init__(self, every: int, total: int, sink: Callable[[int, dict[str, float]], None] | None):
        self.every, self.total, self.sink, self.rows = every, total, sink, []

    def add(self, step: int, row: dict[str, float]) -> dict[str, float] | None:
        """Record `step`'s metrics; returns the point's means when this step closes one, else None."""
        self.rows.append(row)
        if step % self.every and step != self.total:
            return None
        mean = {k: sum(r[k] for r in self.rows) / len(self.rows) for k in row}
        self.rows = []
        if self.sink:
            self.sink(step, mean)
        return mean


class TrainerCurve(TrainerCallback):
    """The logged values of a transformers/TRL trainer (the dpo and grpo baselines) whose names start
    with one of `keep`, as `<name>/<key>` metrics ('/' in a key becomes '_'), sent to `on_log` by the
    main process for the stage's curve; `last` holds the latest row for the summary."""

    def __init__(self, name: str, keep: tuple[str, ...], on_log: Callable[[int, dict[str, float]], None] | None):
        self.name, self.keep, self.sink, self.last = name, keep, on_log, {}

    def on_log(self, args, state, control, logs=None, **kwargs):
        row = {f"{self.name}/{k.replace('/', '_')}": float(v) for k, v in (logs or {}).items()
               if k.startswith(self.keep) and isinstance(v, (int, float))}
        if row:
            self.last = row
            if self.sink and state.is_world_process_zero:
                self.sink(state.global_step, row)


def trained_model(model: PreTrainedModel) -> PreTrainedModel | None:
    """The model a loop trained, whole, as a plain module on the main process; None elsewhere.

    Every process must call it. Under DDP (or one process) the model passed to the loop holds the
    trained weights and is returned as is. Under FSDP (version 2, which shards the module in place)
    each process holds a shard and forward passes are collective, so the full weights are gathered
    onto the main process and loaded into a fresh module of the same class, which evaluates and
    saves like any other.
    """
    state = process_state()
    if state.distributed_type != DistributedType.FSDP:
        return model if state.is_main_process else None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
    from torch.distributed.fsdp import FSDPModule

    if not isinstance(model, FSDPModule):
        raise TypeError("trained_model: FSDP runs need fsdp_version: 2 in the accelerate config "
                        "(version 1 wraps the module instead of sharding it in place)")
    full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if not state.is_main_process:
        return None
    cls = next(c for c in type(model).__mro__ if not issubclass(c, FSDPModule))
    plain = cls(model.config)
    loaded = plain.load_state_dict(full, strict=False)
    plain.tie_weights()  # a tied output matrix may be gathered once, under the embedding's name
    own = plain.state_dict()
    shared = {own[k].data_ptr() for k in full if k in own}
    lost = [k for k in loaded.missing_keys if own[k].data_ptr() not in shared]
    if loaded.unexpected_keys or lost:
        raise RuntimeError(f"trained_model: gathered weights do not fit {cls.__name__} "
                           f"(missing {lost[:3]}, unexpected {loaded.unexpected_keys[:3]})")
    return plain.to(state.device).eval()


class Optimiser:
    """AdamW with linear warm-up, then constant (or cosine decay to `total_steps` when given).

    `model` is the accelerate-prepared model to run forward passes with.
    """

    def __init__(self, model: PreTrainedModel, lr: float, weight_decay: float, warmup_steps: int,
                 max_grad_norm: float, name: str, total_steps: int | None = None,
                 betas: tuple[float, float] = (0.9, 0.999)):
        self.accelerator = Accelerator()
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=betas)
        # The schedule is stepped here, once per optimiser step, and not prepared: accelerate steps a
        # prepared schedule once per process per step (it assumes per-process batches), which
        # would make the warm-up of an N-process run N times shorter.
        self.sched = (get_cosine_schedule_with_warmup(opt, warmup_steps, total_steps) if total_steps
                      else get_constant_schedule_with_warmup(opt, warmup_steps))
        self.model, self.opt = self.accelerator.prepare(model, opt)
        self.max_grad_norm, self.name, self.steps = max_grad_norm, name, 0

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    @property
    def lr(self) -> float:
        return self.sched.get_last_lr()[0]

    @property
    def processes(self) -> int:
        return self.accelerator.num_processes

    @property
    def is_main_process(self) -> bool:
        return self.accelerator.is_main_process

    @property
    def sharded(self) -> bool:
        """Whether the weights are sharded over the processes (FSDP) rather than replicated."""
        return self.accelerator.distributed_type == DistributedType.FSDP

    def shard(self, rows: Sequence, weights: Sequence[float] | None = None) -> tuple[list, float]:
        """This process's rows of a global batch, and their share of the batch's total weight.

        weights: per-row weights of the batch mean (label tokens, action weights); None = equal.
        A batch with fewer rows than processes is not split: every process takes all of it, with
        share 1 / processes, and the averaged gradient is that batch's gradient.
        """
        world, rank = self.accelerator.num_processes, self.accelerator.process_index
        rows = list(rows)
        if world == 1:
            return rows, 1.0
        if len(rows) < world:
            return rows, 1.0 / world
        w = list(weights) if weights is not None else [1.0] * len(rows)
        return rows[rank::world], sum(w[rank::world]) / sum(w)

    def gather(self, values: torch.Tensor) -> torch.Tensor:
        """The global batch's values from every process's shard (rank order, on the CPU), for logging."""
        values = values.detach().cpu()
        if self.accelerator.num_processes == 1:
            return values
        from accelerate.utils import gather_object

        return torch.tensor(gather_object(values.tolist()), dtype=values.dtype)

    def step(self, loss: torch.Tensor, share: float = 1.0) -> tuple[float, float]:
        """Backward, clip, update, for `loss`, the mean loss over this process's shard of the batch
        (`share` of its weight, see `shard`).

        Returns the global batch's mean loss and the gradient norm before clipping. A non-finite
        loss stops training, in every process, with an error naming the step.
        """
        world = self.accelerator.num_processes
        total = loss.item() if world == 1 else self.accelerator.reduce(loss.detach() * share, "sum").item()
        if not math.isfinite(total):
            raise FloatingPointError(f"{self.name}: non-finite loss {total} at step {self.steps + 1}")
        self.accelerator.backward(loss if world == 1 else loss * (share * world))
        grad_norm = self.accelerator.clip_grad_norm_(self.model.parameters(), self.max_grad_norm)
        if hasattr(grad_norm, "full_tensor"):  # FSDP2 returns the norm as a replicated DTensor
            grad_norm = grad_norm.full_tensor()
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        self.steps += 1
        return total, float(grad_norm)


CHECKPOINT_MINUTES = "DAPO_CHECKPOINT_MINUTES"


def checkpoint_minutes() -> float:
    """Minutes between a training loop's checkpoints: the environment's DAPO_CHECKPOINT_MINUTES,
    30 when unset, 0 for none. An execution setting, like the thread count: it never changes what a
    job computes, so it is not an experiment param and no cache depends on it."""
    raw = os.environ.get(CHECKPOINT_MINUTES, "30")
    try:
        minutes = float(raw)
    except ValueError:
        minutes = -1.0
    if not (math.isfinite(minutes) and minutes >= 0):
        raise InputError(f"{CHECKPOINT_MINUTES}={raw!r}: expected the minutes between training checkpoints, "
                         "a number >= 0 (0 saves none)")
    return minutes


def job_fingerprint(command: Sequence[str], params: dict[str, Any], inputs: Sequence[str | Path]) -> str:
    """A digest of what a training job computes from: its command line, its params, the size and
    modification time of every input file (a rerun after an input changed must start afresh), the
    dapo package's source, the versions of torch, transformers and accelerate, and the processes
    of the launch. Sizes and times rather than contents: hashing a 7B checkpoint would take longer
    than the save it guards."""
    import hashlib

    import accelerate
    import transformers

    files = []
    for path in map(Path, inputs):
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file():
                stat = f.stat()
                files.append([str(f), stat.st_size, stat.st_mtime_ns])
    package = Path(__file__).parent
    source = hashlib.sha256(b"".join(f.read_bytes() for f in sorted(package.rglob("*.py")))).hexdigest()
    state = process_state()
    record = {"command": list(command), "params": params, "inputs": files, "source": source,
              "versions": [torch.__version__, transformers.__version__, accelerate.__version__],
              "launch": [state.num_processes, str(state.distributed_type)]}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


class Checkpoints:
    """Mid-loop checkpoints of one training loop, so that a killed job resumes instead of restarting.

    Saved every `minutes` of training into `directory/step-<n>` (written as `.tmp`, then renamed, so
    a kill during a save leaves the previous one whole; older ones are removed): accelerate's state
    of each of the loop's optimisers (model, optimiser, RNG of every process) with its learning-rate
    schedule, in `optimiser-<i>/`, and `loop.json`, with the loop's steps done, each optimiser's
    step count, the curve points sent so far and the loop's own values (its log window, counters,
    sampling state). The sft, critic and actor loops do not save their batch order: each draws it
    from its seed, so a resumed loop redraws it and skips the batches of the steps done.

    `fingerprint` names what the job computes from (its command line, params, inputs, code and
    launch); a checkpoint made under another one is discarded, never resumed. A directory of None
    saves and resumes nothing.

    A loop calls `resume` once, after building its Optimisers, sends its curve points through
    `log`, and calls `save_if_due` after every step; the stage calls `clear` once its outputs are
    written.
    """

    def __init__(self, directory: str | Path | None, fingerprint: str = "", minutes: float = 0.0):
        self.dir = Path(directory) if directory is not None else None
        self.fingerprint, self.every_s = fingerprint, minutes * 60
        self.optims: list[Optimiser] = []
        self.sink: Callable[[int, dict[str, float]], None] | None = None
        self.points: list[tuple[int, dict[str, float]]] = []
        self.total, self.last_save = 0, 0.0

    def resume(self, optims: Optimiser | Sequence[Optimiser], on_log: Callable[[int, dict[str, float]], None] | None,
               total: int) -> tuple[int, dict[str, Any]]:
        """Attach to the loop (`total` steps, trained by `optims`) and restore the newest checkpoint
        made under this fingerprint, replaying its curve points to `on_log`. Returns the steps done
        and the loop values given to `save_if_due`; (0, {}) when starting afresh."""
        self.optims = [optims] if isinstance(optims, Optimiser) else list(optims)
        self.sink, self.total, self.last_save = on_log, total, time.time()
        if self.dir is None:
            return 0, {}
        for optim in self.optims:
            optim.accelerator.register_for_checkpointing(optim.sched)
        saves = sorted(self.dir.glob("step-*[0-9]"))
        if not saves:
            return 0, {}
        name, acc = self.optims[0].name, self.optims[0].accelerator
        try:
            meta = json.loads((saves[-1] / "loop.json").read_text())
        except (OSError, ValueError) as e:
            raise InputError(f"{name}: unreadable checkpoint {saves[-1]} ({e}); remove {self.dir} to start "
                             "the job afresh") from e
        if meta["fingerprint"] != self.fingerprint:
            print(f"{name}: not resuming from {saves[-1]}: it was made from other inputs, code or launch")
            acc.wait_for_everyone()
            if acc.is_main_process:
                shutil.rmtree(self.dir)
            return 0, {}
        try:
            for i, optim in enumerate(self.optims):
                optim.accelerator.load_state(str(saves[-1] / f"optimiser-{i}"))
                optim.steps = meta["optimiser_steps"][i]
        except Exception as e:  # any damage to a save ends in the same advice
            cause = (str(e).strip().splitlines() or [""])[0][:200]
            raise InputError(f"{name}: cannot resume from {saves[-1]} ({type(e).__name__}: {cause}); remove "
                             f"{self.dir} to start the job afresh") from e
        for step, point in meta["points"]:
            self.log(step, point)
        print(f"{name}: resumed at step {meta['step']} of {total} from {saves[-1]}")
        return meta["step"], meta["values"]

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """The loop's curve sink: remembers the point for the next save and passes it on."""
        self.points.append((step, metrics))
        if self.sink:
            self.sink(step, metrics)

    def save_if_due(self, values: dict[str, Any], step: int | None = None) -> None:
        """After the loop's `step` (default: the first optimiser's step count): save when `minutes`
        have passed since the last save (or the loop's start), and the loop is not done. `values`:
        the loop's own values (JSON)."""
        step = self.optims[0].steps if step is None else step
        if self.dir is None or not self.every_s or step >= self.total:
            return
        due = time.time() - self.last_save >= self.every_s
        if self.optims[0].processes > 1:  # every process must take part in a save: the main one decides
            from accelerate.utils import broadcast_object_list

            due = broadcast_object_list([due])[0]
        if due:
            self.save(values, step)

    def save(self, values: dict[str, Any], step: int) -> None:
        acc = self.optims[0].accelerator
        final = self.dir / f"step-{step:09d}"
        if final.exists():  # this step is saved already
            return
        # a fixed name, not io.atomic_path's random one: every process writes its RNG state into it
        tmp = final.with_name(final.name + ".tmp")
        if acc.is_main_process and tmp.exists():
            shutil.rmtree(tmp)
        acc.wait_for_everyone()
        for i, optim in enumerate(self.optims):
            optim.accelerator.save_state(str(tmp / f"optimiser-{i}"))
        if acc.is_main_process:
            (tmp / "loop.json").write_text(json.dumps(
                {"fingerprint": self.fingerprint, "step": step, "optimiser_steps": [o.steps for o in self.optims],
                 "points": self.points, "values": values}))
            os.replace(tmp, final)
            for old in self.dir.glob("step-*"):
                if old != final:
                    shutil.rmtree(old)
        acc.wait_for_everyone()
        self.last_save = time.time()

    def clear(self) -> None:
        """Remove the checkpoints (the job's outputs are written). Main process only."""
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


def job_checkpoints(params: dict[str, Any], out: str | Path, inputs: Sequence[str | Path]) -> Checkpoints:
    """The training checkpoints of the running stage job, in `<out>.resume` beside its output
    (which the workflow removes before a rerun) until the stage calls `clear()`; saved every
    DAPO_CHECKPOINT_MINUTES, resumed only by the same command on the same inputs and code."""
    return Checkpoints(f"{str(out).rstrip('/')}.resume", job_fingerprint(sys.argv, params, inputs),
                       checkpoint_minutes())

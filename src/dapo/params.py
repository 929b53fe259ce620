"""Params experiments: `params/<experiment>.yaml`, checked against one strict JSON schema.

The schema (workflow/schemas/params.schema.json) is the single home of every key's type, range,
description and default; the Snakefile validates with it through `snakemake.utils.validate`, and
every stage validates the same file again before it touches anything.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .io import InputError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "params.schema.json"
PARAMS_DIR = ROOT / "params"


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: YAML 1.1 reads `1e-6` (no dot), which is how
    `dvc exp run -S actor.lr=1e-6` and `--set actor.lr=1e-6` write a learning rate, as a string."""


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def read_yaml(text: str) -> Any:
    """A YAML document, numbers read as YAML 1.2 reads them (`YamlLoader`)."""
    return yaml.load(text, Loader=YamlLoader)


def results_root(experiment: str) -> str:
    """The default experiment writes straight into results/, any other into results/<experiment>/."""
    return "results" if experiment == "default" else f"results/{experiment}"


def load_schema() -> dict:
    import json

    return json.loads(SCHEMA_PATH.read_text())


def _with_defaults(cls):
    """A validator class that also fills each missing key's schema default (as snakemake does)."""
    validate_props = cls.VALIDATORS["properties"]

    def fill(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = sub["default"]
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": fill})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def validate_params(params: Any, source: str = "params") -> dict:
    """Validate in place (filling defaults) and return `params`; one-line InputError on failure."""
    if not isinstance(params, dict):
        raise InputError(f"{source}: expected a mapping of sections, got {type(params).__name__}")
    errors = sorted(_Validator(load_schema()).iter_errors(params), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.absolute_path) or "<top level>"
        raise InputError(f"{source}: invalid params at {where}: {e.message}")
    from .tasks import (
        TASKS,  # the schema lists every task's keys; which ones apply depends on data.task
    )

    experiment_task = TASKS[params["data"]["task"]]
    for name, cfg in [("data.train", params["data"]["train"]),
                      *((f"data.benchmarks.{b}", c) for b, c in params["data"]["benchmarks"].items())]:
        task = TASKS[cfg.get("task", experiment_task.name)]
        keys = set(cfg) - {"size", "task"}
        if keys and not keys <= task.config_keys:
            raise InputError(f"{source}: invalid params at {name}: keys {sorted(keys - task.config_keys)} "
                             f"are not settings of task {task.name!r}")
        for lo, hi in (("min_terms", "max_terms"), ("min_digits", "max_digits"), ("min_numbers", "max_numbers"),
                       ("min_value", "max_value"), ("min_target", "max_target")):
            if lo in cfg and cfg[lo] > cfg[hi]:
                raise InputError(f"{source}: invalid params at {name}: {lo} {cfg[lo]} > {hi} {cfg[hi]}")
    if params["critic"]["init"] == "pretrained" and not params.get("pretrained", {}).get("critic"):
        raise InputError(f"{source}: invalid params at critic.init: 'pretrained' needs pretrained.critic")
    if (params["critic"]["init"] == "critic_base") != ("critic_base" in params):
        raise InputError(f"{source}: invalid params at critic.init: 'critic_base' and a critic_base section "
                         "go together (the section trains the model that critic.init 'critic_base' starts from)")
    if "critic_base" in params and "pretrained" in params:
        raise InputError(f"{source}: invalid params at critic_base: it reruns the sft stage, which an experiment "
                         "with a pretrained section does not have")
    if "pretrained" not in params and not experiment_task.writes_solutions:
        raise InputError(f"{source}: invalid params at data.task: {experiment_task.name!r} has no written solutions "
                         "for the sft stage; start from a model with a pretrained section")
    if not params["data"]["train"]:
        raise InputError(f"{source}: invalid params at data.train: no generator settings")
    return params


def load_params(path: str | Path) -> dict:
    """Read and validate an experiment file; the experiment name is its path under params/ without
    the suffix (`default`, `paper/qwen2.5-math-7b-instruct`), elsewhere the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"missing params file: {path}")
    try:
        params = read_yaml(path.read_text())
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    params = validate_params(params, str(path))
    where = path.resolve().parent
    params["experiment"] = (f"{where.relative_to(PARAMS_DIR).as_posix()}/{path.stem}"
                            if where.is_relative_to(PARAMS_DIR) and where != PARAMS_DIR else path.stem)
    return params


def override(params: dict, assignments: list[str]) -> dict:
    """`params` with `section.key=value` settings applied (each value read as YAML) and validated
    again: how the workflow runs a stage at an ablated value (`--set actor.beta=0.01`). A key the
    params do not have is an error, never a new setting."""
    out = copy.deepcopy(params)
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep:
            raise InputError(f"--set {assignment!r}: expected section.key=value")
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or last not in node or key == "experiment":
            raise InputError(f"--set {assignment!r}: unknown params key {key!r}")
        node[last] = read_yaml(raw)
    experiment = out.pop("experiment", None)
    out = validate_params(out, f"params with --set {' '.join(assignments)}")
    if experiment is not None:
        out["experiment"] = experiment
    return out


def critic_base_overrides(params: dict) -> list[str]:
    """The critic_base section as `--set sft.<key>=<value>` assignments of the sft stage: JSON values
    without spaces, which YAML reads back unchanged and a shell passes as one word."""
    import json

    return [f"sft.{k}={json.dumps(v, separators=(',', ':'))}" for k, v in params.get("critic_base", {}).items()]


def flatten(params: dict, prefix: str = "") -> dict[str, Any]:
    """{'sft': {'lr': 1e-3}} -> {'sft.lr': 1e-3}, for MLflow params and DVC keys."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out

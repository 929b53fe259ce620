"""dvc.yaml, generated from the Snakemake workflow (the one definition of the DAG).

    python -m dapo.dvc_yaml                    # rewrite dvc.yaml for params/default.yaml
    python -m dapo.dvc_yaml --check            # exit 1 if the committed dvc.yaml has drifted
    python -m dapo.dvc_yaml --experiment smoke --out dvc.yaml

Snakemake resolves every job of the experiment (wildcards, input functions, formatted shell command);
each job becomes one DVC stage running the rule's own command:
- name: the job's log path below <root>/logs ('actor-seed0-iter1', 'evaluate-base', 'tables');
- cmd: the rule's shell command, after creating its log directory (DVC does not, Snakemake does);
- deps: the rule's inputs (data, checkpoints and the source files of the stage);
- params: the keys of the experiment file the rule reads (its `params: section=sections(...)`);
- metrics: the outputs named `metrics` or `summaries` (json); plots: those named `curve` (csv, plotted
  against `step`) or `figure` (png); outs: the rest. All are cached, so `dvc push` shares them and
  `dvc exp show` reads them from the cache.
The benchmark files Snakemake writes itself are not DVC outputs. Top-level plots chart the main table
(an out of the tables stage) per benchmark.

One DVC-only stage, `dag`, guards the hand-off: its params are the keys that change the set of
stages (DAG_SHAPE), so `dvc exp run -S seeds=5` runs it, and it fails with one line when dvc.yaml no
longer matches the Snakemake DAG of the edited params (regenerate, then rerun) instead of silently
running the old set of stages.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import yaml

from .io import InputError
from .params import load_params, results_root

HEADER = """\
# Generated from the Snakemake workflow by `python -m dapo.dvc_yaml --experiment {experiment}` (make dvc-yaml).
# Do not edit: change the rules in workflow/ and regenerate; tests/test_dvc_yaml.py fails on drift.
"""

# How each named output of a rule is tracked; any other output is a plain cached `outs` entry.
METRICS = {"metrics", "summaries"}
PLOTS = {"curve", "figure", "reliability", "advantage_figure", "value_figure", "pairs_figure"}
# The column a training curve plots against its `step` column.
CURVE_Y = {"sft": "loss", "critic_base": "loss", "critic": "train_bce", "actor": "loss", "actor_oracle": "loss", "rft": "loss",
           "dpo": "loss", "grpo": "reward", "ppo": "reward", "actor_beta": "loss", "actor_frac": "loss", "critic_n": "train_bce", "actor_n": "loss"}
# The params that decide which jobs exist (or which checkpoint a job starts from); a baseline's
# section (rft, dpo, grpo, ppo), the critic's start (critic_base) and the paper target's (paper)
# add their jobs when present.
DAG_SHAPE = ["seeds", "iterations", "data.benchmarks", "advantages.oracle_row", "critic.init", "critic_base", "rft",
             "dpo", "grpo", "ppo", "paper"]


def snakemake_jobs(experiment: str, workdir: Path) -> list:
    """Every job of the experiment's DAG, resolved by Snakemake (inputs, outputs, params, command)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
    )

    with SnakemakeApi(OutputSettings()) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                          config_settings=ConfigSettings(config={"experiment": experiment}),
                          snakefile=workdir / "Snakefile", workdir=workdir)
        wf.dag(DAGSettings(forceall=True))
        workflow = wf._workflow  # the API has no public accessor for the resolved jobs
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
        workflow._build_dag()
        return [job for job in workflow.dag.jobs if job.shellcmd]


def stage_name(job, root: str) -> str:
    log = Path(str(job.log[0])).relative_to(f"{root}/logs")
    return str(log.with_suffix("")).replace("/", "-")


def output_kinds(job) -> dict[str, list[str]]:
    """Output files of a job by kind: metrics, plots and plain outs (see METRICS and PLOTS)."""
    name_of = {str(f): name for name, files in job.output.items()
               for f in ([files] if isinstance(files, str) else files)}
    kinds = {"outs": [], "metrics": [], "plots": []}
    for f in map(str, job.output):
        name = name_of.get(f)
        kinds["metrics" if name in METRICS else "plots" if name in PLOTS else "outs"].append(f)
    return kinds


def plot_entry(path: str, rule: str, name: str) -> str | dict:
    """A curve plots its stage's column against `step`; an image needs no properties."""
    if not path.endswith(".csv"):
        return path
    return {path: {"x": "step", "y": CURVE_Y[rule], "title": f"{name}: {CURVE_Y[rule]} by step"}}


def dvc_stage(job, params_file: str, name: str) -> dict:
    """One job as a DVC stage (see the module docstring)."""
    log_dir = str(Path(str(job.log[0])).parent)
    kinds = output_kinds(job)
    stage = {
        "cmd": f"mkdir -p {log_dir} && {' '.join(job.shellcmd.split())}",
        "deps": [str(f) for f in job.input],
        "params": [{params_file: list(job.params.section)}],
        "outs": kinds["outs"],
        "metrics": kinds["metrics"],
        "plots": [plot_entry(f, job.rule.name, name) for f in kinds["plots"]],
    }
    return {k: v for k, v in stage.items() if v}


def accuracy_plots(tables_job) -> list[dict]:
    """Per benchmark, the main table (an out of the tables stage) as horizontal bars by model."""
    table = str(tables_job.output.table)
    return [{f"accuracy-{bench}": {"title": f"{bench}: greedy accuracy (%), mean over seeds",
                                   "template": "bar_horizontal", "x": bench, "y": {table: "model"}}}
            for bench in tables_job.params.section["data.benchmarks"]]


def _has_key(params: dict, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(params, dict) or part not in params:
            return False
        params = params[part]
    return True


def dvc_yaml(experiment: str = "default", workdir: Path | None = None) -> str:
    """The dvc.yaml text for params/<experiment>.yaml of the workflow in `workdir` (default: cwd)."""
    workdir = Path.cwd() if workdir is None else Path(workdir)
    root = results_root(experiment)
    params_file = f"params/{experiment}.yaml"
    jobs = sorted(snakemake_jobs(experiment, workdir), key=lambda j: stage_name(j, root))
    # DVC can track only keys written in the file; a key left to its schema default cannot be
    # changed by `dvc exp run -S` either
    written = yaml.safe_load((workdir / params_file).read_text())
    shape = [k for k in DAG_SHAPE if _has_key(written, k)]
    stages = {"dag": {"cmd": f"python -m dapo.dvc_yaml --experiment {experiment} --check --quiet",
                      "params": [{params_file: shape}]}}
    for job in jobs:
        name = stage_name(job, root)
        stages[name] = dvc_stage(job, params_file, name)
    plots = [p for job in jobs if job.rule.name == "tables" for p in accuracy_plots(job)]
    body = yaml.safe_dump({"stages": stages, "plots": plots}, sort_keys=False, width=1 << 16)
    return HEADER.format(experiment=experiment) + body


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiment", default="default", help="params/<experiment>.yaml (default: default)")
    p.add_argument("--out", default="dvc.yaml", help="file to write or check (default: dvc.yaml)")
    p.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on drift")
    p.add_argument("--quiet", action="store_true", help="with --check: no diff, only the one-line verdict")
    args = p.parse_args(argv)
    try:
        load_params(f"params/{args.experiment}.yaml")  # one-line errors naming a missing file or a bad key
    except InputError as e:
        sys.exit(f"error: {e}")
    try:
        text = dvc_yaml(args.experiment)
    except Exception as e:  # noqa: BLE001 - Snakemake reports a bad workflow or experiment in many exception types
        sys.exit(f"error: Snakemake could not build the DAG of experiment {args.experiment!r}: "
                 f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}")
    out = Path(args.out)
    if args.check:
        current = out.read_text() if out.is_file() else ""
        if current == text:
            print(f"{out} is up to date with the Snakemake workflow")
            return 0
        if not args.quiet:
            sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                       str(out), "generated from Snakemake"))
        old = (yaml.safe_load(current) or {}).get("stages", {}) if current else {}
        new = yaml.safe_load(text)["stages"]
        changed = sum(old[k] != new[k] for k in set(old) & set(new))
        print(f"error: {out} has drifted from the Snakemake DAG of params/{args.experiment}.yaml "
              f"({len(set(new) - set(old))} stages to add, {len(set(old) - set(new))} to remove, {changed} changed); "
              f"run `python -m dapo.dvc_yaml --experiment {args.experiment}` (make dvc-yaml), commit, rerun",
              file=sys.stderr)
        return 1
    out.write_text(text)
    print(f"wrote {out}: {len(yaml.safe_load(text)['stages'])} stages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

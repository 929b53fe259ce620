import copy

import pytest
import yaml

from dapo.io import InputError
from dapo.params import (
    PARAMS_DIR,
    critic_base_overrides,
    flatten,
    load_params,
    load_schema,
    override,
    results_root,
    validate_params,
)
from helpers import snakemake, workflow_copy

EXPERIMENTS = sorted(PARAMS_DIR.glob("**/*.yaml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.relative_to(PARAMS_DIR).with_suffix("").as_posix()
                                                    for p in EXPERIMENTS])
def test_every_shipped_experiment_is_valid(path):
    params = load_params(path)
    assert params["experiment"] == path.relative_to(PARAMS_DIR).with_suffix("").as_posix()
    stages = {"experiment", "iterations", "seeds", "data", "model", "sft", "generate", "complete", "critic",
              "advantages", "actor", "evaluate"}
    if "pretrained" in params:  # pi_0 is a pretrained model: no architecture, no sft stage
        stages -= {"model", "sft"}
    # baselines, the paper target, a pretrained base policy and a critic start of its own are optional
    assert stages <= set(params) <= stages | {"rft", "dpo", "grpo", "ppo", "paper", "pretrained", "critic_base"}


def test_every_schema_key_is_documented():
    def walk(node, where):
        for key, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{where}.{key} has no description"
            walk(sub, f"{where}.{key}")
    schema = load_schema()
    walk(schema, "")
    for name, sub in schema["$defs"].items():
        walk(sub, name)


def default():
    return yaml.safe_load((PARAMS_DIR / "default.yaml").read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p["sft"].update(lrr=1), r"at sft: Additional properties .*'lrr' was unexpected"),
    (lambda p: p.update(critics={}), r"at <top level>: Additional properties .*'critics'"),
    (lambda p: p["sft"].update(lr="fast"), r"at sft.lr: 'fast' is not of type 'number'"),
    (lambda p: p["sft"].update(steps=0), r"at sft.steps: 0 is less than the minimum of 1"),
    (lambda p: p["data"]["train"].update(colour=1), r"at data.train: .*'colour' was unexpected"),
    (lambda p: p["data"]["benchmarks"]["countdown_wide"].pop("size"),
     r"at data.benchmarks.countdown_wide: 'size' is a required"),
    (lambda p: p["data"]["benchmarks"]["countdown"].update(colour=1), r"at data.benchmarks.countdown: .*'colour'"),
    (lambda p: p["data"]["train"].update(min_numbers=5), r"at data.train: min_numbers 5 > max_numbers 4"),
    (lambda p: p["data"]["train"].update(operators=["/"]), r"at data.train"),
    (lambda p: p["data"].update(task="chain_sum"), r"at data.train: keys .* are not settings of task 'chain_sum'"),
    (lambda p: p["advantages"].update(value_source="mc"), r"at advantages.value_source: 'mc' is not one of"),
    (lambda p: p["critic"].update(init="pretrained"), r"at critic.init: 'pretrained' needs pretrained.critic"),
    (lambda p: p.pop("critic_base"), r"at critic.init: 'critic_base' and a critic_base section go together"),
    (lambda p: p["critic"].update(init="sft"), r"at critic.init: 'critic_base' and a critic_base section go together"),
    (lambda p: p["critic_base"].update(lrr=1), r"at critic_base: Additional properties .*'lrr' was unexpected"),
    (lambda p: p["critic_base"].update(habit_fraction=2), r"at critic_base.habit_fraction: 2 is greater than"),
    (lambda p: p["critic_base"].clear(), r"at critic_base: \{\} should be non-empty"),
    (lambda p: p["data"].update(task="rg_math", train={"dataset": "chain_sum"}, benchmarks={"b": {"size": 8}}),
     r"at data.task: 'rg_math' has no written solutions for the sft stage; start from a model with a pretrained"),
    (lambda p: p["data"]["benchmarks"].update(he={"size": 8, "task": "humanevil"}), r"at data.benchmarks.he.task"),
])
def test_schema_rejects_bad_params_naming_the_key(mutate, message):
    params = default()
    mutate(params)
    with pytest.raises(InputError, match=message):
        validate_params(params)


# Where the schema's default is the paper's recipe and the default experiment departs from it on
# val evidence (params/default.yaml says which); every other default is the default experiment's.
PAPER_RECIPE = {"actor.beta": 0.01, "actor.action_weight": "unique", "actor.target_floor": None}
# critic.init defaults to the base policy, which every experiment has; the default experiment's
# critic_base start needs a section of its own
FALLBACK = {"critic.init": "sft"}


def test_schema_defaults_are_the_default_experiment_except_the_papers_recipe():
    def walk(node, value, where):
        for key, sub in node.get("properties", {}).items():
            path = f"{where}{key}"
            if "default" in sub and path != "experiment":
                assert key in value, f"params/default.yaml does not state {path}"
                expected = PAPER_RECIPE.get(path, FALLBACK.get(path, value[key]))
                assert sub["default"] == expected, f"{path}: schema default {sub['default']!r}, expected {expected!r}"
            if sub.get("type") == "object" and key in value:
                walk(sub, value[key], path + ".")
    walk(load_schema(), default(), "")
    assert all(default()["actor"][k.split(".")[1]] != v for k, v in PAPER_RECIPE.items())


def test_defaults_come_from_the_schema():
    params = default()
    del params["sft"]["weight_decay"]
    assert validate_params(copy.deepcopy(params))["sft"]["weight_decay"] == 0.01


def test_missing_and_malformed_files_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="missing params file"):
        load_params(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("sft: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_params(tmp_path / "bad.yaml")


def test_results_root_and_flatten():
    assert results_root("default") == "results"
    assert results_root("smoke") == "results/smoke"
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_snakemake_stops_on_a_bad_experiment_before_any_job(tmp_path):
    workflow_copy(tmp_path)
    params = default()
    params["sft"]["lrr"] = 0.1
    (tmp_path / "params" / "bad.yaml").write_text(yaml.safe_dump(params))
    result = snakemake(tmp_path, "--config", "experiment=bad", "--cores", "1")
    assert result.returncode != 0
    assert "'lrr' was unexpected" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_set_overrides_one_key_and_validates_it():
    params = load_params(PARAMS_DIR / "smoke.yaml")
    changed = override(params, ["actor.beta=0.1", "complete.N=2"])
    assert (changed["actor"]["beta"], changed["complete"]["N"]) == (0.1, 2)
    assert params["actor"]["beta"] == 0.01 and changed["experiment"] == "smoke"  # the loaded params are untouched
    with pytest.raises(InputError, match="unknown params key 'actor.betta'"):
        override(params, ["actor.betta=0.1"])
    with pytest.raises(InputError, match="invalid params at complete.N"):
        override(params, ["complete.N=0"])
    with pytest.raises(InputError, match="expected section.key=value"):
        override(params, ["actor.beta"])


def test_exponent_floats_without_a_dot_are_numbers(tmp_path):
    """YAML 1.1 reads 1e-6 as a string; `--set`, the params files (as `dvc exp run -S` writes
    them) and the Snakefile read it as a number."""
    params = load_params(PARAMS_DIR / "smoke.yaml")
    assert override(params, ["actor.lr=1e-6"])["actor"]["lr"] == 1e-6
    assert override(params, ["actor.lr=5E-1"])["actor"]["lr"] == 0.5
    raw = yaml.safe_load((PARAMS_DIR / "smoke.yaml").read_text())
    raw["actor"]["lr"] = "LR"
    (tmp_path / "lr.yaml").write_text(yaml.safe_dump(raw).replace("lr: LR", "lr: 3e-5"))
    assert load_params(tmp_path / "lr.yaml")["actor"]["lr"] == 3e-5
    (tmp_path / "repo").mkdir()
    workflow_copy(tmp_path / "repo")
    (tmp_path / "repo" / "params" / "lr.yaml").write_text((tmp_path / "lr.yaml").read_text())
    result = snakemake(tmp_path / "repo", "-n", "results/lr/data/rl.jsonl", "--config", "experiment=lr")
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_critic_base_needs_an_sft_stage_to_rerun():
    params = yaml.safe_load((PARAMS_DIR / "smollm2.yaml").read_text())  # pi_0 is a pretrained model
    params["critic"]["init"] = "critic_base"
    params["critic_base"] = {"seed": 1}
    with pytest.raises(InputError, match="at critic_base: it reruns the sft stage, which an experiment with a pretrained"):
        validate_params(params)


def test_critic_base_becomes_the_sft_stages_overrides():
    params = default()
    params["critic_base"] = {"habit_fraction": 0.0, "adam_betas": [0.9, 0.99]}
    assert critic_base_overrides(params) == ["sft.habit_fraction=0.0", "sft.adam_betas=[0.9,0.99]"]
    params["experiment"] = "default"
    changed = override(validate_params(params), critic_base_overrides(params))
    assert changed["sft"] == {**params["sft"], "habit_fraction": 0.0, "adam_betas": [0.9, 0.99]}
    assert critic_base_overrides(yaml.safe_load((PARAMS_DIR / "chain_sum.yaml").read_text())) == []

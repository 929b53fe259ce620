# The README's two commands: `make run` (the embedded default, end to end) and `make test`.
# Both create or reuse .venv. TORCH_SPEC is installed first so the project never pulls a second
# torch build; on a CUDA box set it to the build you want, e.g. TORCH_SPEC='torch==2.14.0'.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
EXPERIMENT ?= default
CORES ?= 2
BIN := $(VENV)/bin
# Rules call `python -m dapo.stages.*`: that python must be the venv's.
export PATH := $(abspath $(BIN)):$(PATH)
STAMP := $(VENV)/.installed

.PHONY: install run repro dvc-yaml test lint mlflow-ui clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --workflow-profile workflow/profiles/default --cores $(CORES) --config experiment=$(EXPERIMENT) -- $(TARGET)

# dvc.yaml is generated from the Snakemake rules (python -m dapo.dvc_yaml); never edit it by hand.
dvc-yaml: $(STAMP)
	$(BIN)/python -m dapo.dvc_yaml --experiment default --out dvc.yaml

repro: $(STAMP)
	$(BIN)/dvc repro

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests workflow

mlflow-ui: $(STAMP)
	$(BIN)/python -m dapo.tracking ui

clean:
	rm -rf results .snakemake

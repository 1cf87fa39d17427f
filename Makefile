# hireloop: two commands do all the set-up — `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Simulated quarters the demo runs after the history (each one about a minute here): six
# let concept drift be noticed (5th close) and a retrain promote a new champion (6th).
DEMO_QUARTERS ?= 6
export HIRELOOP_HOME ?= $(CURDIR)/.hireloop
# Telemetry off everywhere, always.
export DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true

.PHONY: install demo test lint validate ui up down status bench clean

$(BIN)/.installed: pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "hireloop needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==24.3.1"
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## The whole loop on the embedded defaults (PostgreSQL, MLflow, Dagster, synthetic HR data).
demo: install
	$(BIN)/hireloop up
	$(BIN)/hireloop build --defects 0.01
	$(BIN)/hireloop simulate --quarters $(DEMO_QUARTERS) --scenario concept_drift

## Lint, validate the Dagster definitions, run the test suite (real PostgreSQL, real dbt).
test: install lint validate
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

validate: install
	$(BIN)/python -c 'from orchestration.dbt import ensure_manifest; ensure_manifest(force=True)'
	DAGSTER_HOME=$$(mktemp -d) $(BIN)/dagster definitions validate -w workspace.yaml

ui: install
	$(BIN)/hireloop ui

up down status: install
	$(BIN)/hireloop $@

bench: install
	$(BIN)/python bench/pipeline.py

clean:
	-$(BIN)/hireloop down
	rm -rf $(HIRELOOP_HOME) dbt_project/target dbt_project/logs

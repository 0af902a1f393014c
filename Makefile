# Hyperpage: `make run` serves the portal on SQLite with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt

.PHONY: run test bench deps lint typecheck image clean

$(BIN)/python:
	bash scripts/bootstrap-venv.sh "$(PYTHON)" "$(VENV)"

$(VENV)/.app: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install -q -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[test]'
	touch $@ $(VENV)/.app

deps:
	bash scripts/install-deps.sh

run: $(VENV)/.app
	bash scripts/run-local.sh

test: $(VENV)/.test deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.test deps
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench

# mypy --strict over src/ with the [tool.mypy] config in pyproject.toml; must report no error.
typecheck: $(VENV)/.test
	$(BIN)/python -m mypy

image:
	bash scripts/build-image.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts bench-results

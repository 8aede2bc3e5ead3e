# custml: `make help` lists the targets. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# `make test` and `make test-fast` run test files on 2 worker processes (pytest-xdist; one file's tests share a
# worker and its fixtures; tests/conftest.py spreads the notebooks); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
# Test runs write bytecode (and pytest's rewritten test modules) even where the shell sets
# PYTHONDONTWRITEBYTECODE: each of the 2 workers would otherwise recompile ~270 modules on every run (~4 s each).
test test-fast: export PYTHONDONTWRITEBYTECODE :=

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-fast lint format lab mlflow-ui bench clean-data

help: ## List the targets with what they do
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "custml needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv and install custml (editable) with dev and Spark extras

demo: venv ## Run the main job on embedded defaults (DuckDB, MLflow on SQLite in this folder)
	$(BIN)/custml demo

test: venv ## Run the whole test suite (notebooks, Spark, browser and MLflow server tests included)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: venv ## Run the quick tests: no Spark, browser, MLflow server, notebook kernel or slow end-to-end test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not spark and not browser and not mlflow_server and not notebook and not slow" $(PYTEST_ARGS)

lint: venv ## ruff check and format check (package, tests, benchmarks, notebooks), architecture contracts, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: venv ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lab: venv ## Open JupyterLab with the package importable and MLflow tracking set to this project
	MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlflow.db} $(BIN)/jupyter lab --notebook-dir=notebooks

mlflow-ui: venv ## Open the MLflow UI on this project's tracking store (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

bench: venv ## Run every benchmark script (prints figures; takes minutes)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean-data: ## Delete generated data, scores, reports and the local MLflow store (keeps .venv)
	rm -rf data/raw data/interim data/processed data/scores models reports mlflow.db mlartifacts spark-warehouse

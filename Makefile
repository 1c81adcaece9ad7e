# One lint-and-test command, one demo command. Everything installs into .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp

.PHONY: install demo test test-unit test-lowest lint format bench clean

install: $(STAMP)

# uv installs the same pyproject several times faster than pip; pip is the fallback. Bytecode is
# compiled at install, so no command pays for compiling its imports (even without a writable cache).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv \
		&& $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]' \
		|| $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadscore demo

# Every test, in random order (pytest-randomly); the 15 slowest are listed at the end.
test: lint
	$(BIN)/pytest

# The tests that need no MLflow store, server process or database: under a minute.
test-unit: $(STAMP)
	$(BIN)/pytest -m "not integration"

# The lowest versions pyproject allows, in a venv of their own, through lint and the unit tests.
LOWEST := .venv-lowest
test-lowest:
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct \
		-e '.[dev]'
	$(LOWEST)/bin/lint-imports
	$(LOWEST)/bin/pytest -m "not integration" -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python benchmarks/feature_engines.py
	$(BIN)/python benchmarks/oracle_auc.py
	$(BIN)/python benchmarks/explain.py

clean:
	rm -rf $(VENV) $(LOWEST) data mlflow.db models/mlartifacts .pytest_cache .ruff_cache .hypothesis

# Two commands do all set-up: `make dev` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test test-fast lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/motcua dev $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast loop: every test that needs neither PostgreSQL nor Temporal (tests/domain, the
# documents, catalog, CLI parsing, deploy files...), selected by the `stack` marker that
# tests/conftest.py derives from the fixtures each test uses; MOTCUA_TESTS_NO_STACK=1 makes a
# test that starts a stack anyway fail, so the set stays honest.
test-fast: $(STAMP)
	MOTCUA_TESTS_NO_STACK=1 $(BIN)/python -m pytest -m "not stack and not slow" -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .motcua .pytest_cache .mypy_cache .ruff_cache

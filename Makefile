# The two commands: `make run` and `make test`. Everything else is here for developers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
DEMO_YEAR ?= 2017

.PHONY: run test lint bench translations messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run-installed

translations: | $(BIN)/python
	$(BIN)/pybabel compile --use-fuzzy -d trainer/translations

## Set up (venv, schema, demo province of DEMO_YEAR 2017|2026) and serve on http://$(HOST):$(PORT)
run: $(VENV)/.run-installed translations
	$(BIN)/trainer db upgrade
	$(BIN)/trainer demo --year $(DEMO_YEAR)
	@echo ""
	@echo "Open http://$(HOST):$(PORT) and log in with one of the accounts above."
	@echo "(Stop with Ctrl+C. The data stays in $${TRAINER_DATA_DIR:-instance}/.)"
	$(BIN)/trainer serve --host $(HOST) --port $(PORT)

## The whole test suite
test: $(VENV)/.test-installed translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy trainer

## Benchmarks against real server processes (see bench/README.md)
bench: $(VENV)/.bench-installed translations
	$(BIN)/python -m bench

$(VENV)/.bench-installed: $(VENV)/.test-installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

## Refresh the message catalogues after changing user-facing text
messages: | $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o trainer/translations/messages.pot .
	$(BIN)/pybabel -q update -N -i trainer/translations/messages.pot -d trainer/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

# The two set-up commands of the README:
#   make run   installs ptest-tui into .venv and opens the app on examples/quickstart
#   make test  installs what the tests need (system packages, Docker daemon, base image)
#              and runs the whole suite, lint and type checks included
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint typecheck unit prepare screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/ptest-tui --workspace examples/quickstart

prepare: install
	bash .ci/prepare.sh

lint: install
	$(BIN)/ruff check ptest_tui tests benchmarks screenshots
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

test: prepare lint typecheck
	$(BIN)/python -m pytest -p no:cacheprovider --timeout 600 $(PYTEST_ARGS)

unit: install
	$(BIN)/python -m pytest -q tests/unit

screenshots: install
	$(BIN)/python screenshots/make_screenshots.py

bench: install
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

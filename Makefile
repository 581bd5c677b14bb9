# Tessera: `make up` runs everything, `make test` runs the whole suite.
# Needs only Python 3.11 and make: uv is bootstrapped into .tools/ (the system Python is untouched).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

export DO_NOT_TRACK := 1
export DAGSTER_HOME ?= $(CURDIR)/dagster_home
export PATH := $(BIN):$(PATH)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install up test fuzz check audit openapi format clean

help:
	@echo "make up     install, migrate, load demo data and serve the API"
	@echo "make test   install and run the whole test suite"
	@echo "make check  ruff, ruff format --check, mypy, import contracts, dbt parse, dagster validate"
	@echo "make fuzz   schemathesis in every phase against a real server (admin and organizer, SQLite and PostgreSQL)"
	@echo "make openapi  write docs/openapi.json from the code (a test fails when they differ)"
	@echo "make audit  pip-audit over the locked dependencies (needs the PyPI advisory database)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(BIN)/.installed

up: install
	$(BIN)/tessera up

# Two (up to four) processes: the suite takes about half as long as in one.
test: install
	$(BIN)/pytest -n auto --maxprocesses=4

# Every phase (examples, coverage, fuzzing, stateful) as an admin and as an organizer, on SQLite
# and PostgreSQL; reports under var/fuzz/. About 15 minutes here; docs/fuzzing.md has the results.
fuzz: install
	$(BIN)/python -m tests.fuzz.campaign

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd dbt_project && $(BIN)/dbt parse --profiles-dir . --quiet
	$(BIN)/dagster definitions validate -w workspace.yaml

# Known vulnerabilities in the locked dependencies, from PyPI's advisory database. Not part of
# `make check`: a machine without access to that database cannot audit anything.
audit: install
	@mkdir -p var
	$(UV) export --frozen --no-emit-project --format requirements-txt > var/requirements.txt
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r var/requirements.txt

# The published API document; tests/api/test_openapi_document.py fails when it and the code differ.
openapi: install
	$(BIN)/python -c 'import json; from api.main import create_app; \
		print(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False))' > docs/openapi.json

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache dbt_project/target dbt_project/logs

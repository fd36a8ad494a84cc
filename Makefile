# Everyday tasks. `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
SERVICES := $(PYTHON) deploy/local/services.py
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help setup dev run serve test test-deep check lint format typecheck pytest docs audit lock clean \
	services-up services-down services-status

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP_INSTALL) -c $(CONSTRAINTS) -e ".[all]"
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP_INSTALL) -c $(CONSTRAINTS) -e ".[all,dev]"
	@touch $@ $(VENV)/.installed-run

setup: $(VENV)/.installed-run  ## Create .venv with CIFT and every backend client

dev: $(VENV)/.installed-dev  ## Create .venv with CIFT plus test, lint and type tools

run: setup  ## Set up, then run the main job on the embedded defaults (cift demo)
	$(BIN)/cift demo

serve: setup  ## Set up, then serve the API on http://127.0.0.1:8000
	$(BIN)/cift serve

test: dev  ## Set up, then run the whole suite: lint, format check, types, tests
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy
	$(BIN)/mypy src deploy/local
	$(BIN)/python deploy/local/run_tests.py

test-deep: dev  ## The suite with property and fuzz tests searching 10 times harder (slow)
	CIFT_TEST_DEPTH=10 $(BIN)/python deploy/local/run_tests.py

check: test  ## Alias of test

lint: dev  ## Lint with ruff
	$(BIN)/ruff check src tests bench deploy

format: dev  ## Format and auto-fix with ruff
	$(BIN)/ruff format src tests bench deploy
	$(BIN)/ruff check --fix src tests bench deploy

typecheck: dev  ## Type-check src/ with mypy (strict)
	$(BIN)/mypy src deploy/local

pytest: dev  ## Run only the tests (pass ARGS="-k name" to select)
	$(BIN)/pytest $(ARGS)

docs: dev  ## Regenerate docs/configuration.md and .env.example from the settings model
	$(BIN)/cift config docs

services-up: dev  ## Start PostgreSQL, Redis, QuestDB, Kafka and MLflow on loopback (SERVICES_ARGS="questdb" for some)
	$(SERVICES) up $(SERVICES_ARGS)

services-down:  ## Stop the servers services-up started
	$(SERVICES) down $(SERVICES_ARGS)

services-status:  ## Show which servers are up, their ports and logs
	$(SERVICES) status $(SERVICES_ARGS)

audit:  ## Check every pinned dependency for published vulnerabilities (needs pypi.org)
	$(PYTHON) -m venv .audit-venv
	.audit-venv/bin/python -m pip install --quiet --disable-pip-version-check pip-audit
	.audit-venv/bin/pip-audit -r $(CONSTRAINTS) --no-deps --disable-pip --strict --progress-spinner off

lock: ## Re-resolve the newest compatible versions into requirements/constraints.txt
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[all,dev]"
	{ echo "# Exact versions for repeatable installs of cift[all,dev] on Python 3.11."; \
	  echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^cift'; } > $(CONSTRAINTS)
	rm -rf .lock-venv

clean:  ## Remove the virtualenv, caches and the local data folder
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage htmlcov .cift

# Everyday tasks. `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
SERVICES := $(PYTHON) deploy/local/services.py
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --retries 10
# The packages go in with uv (from PyPI, pinned here), several times quicker than pip;
# pip stays the fallback. A download cut short fails pip's hash check, and pip does not
# fetch it again: one more attempt, bypassing the cache, does.
UV_VERSION := 0.13.9
UV_INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
RETRY_INSTALL := $(PIP_INSTALL) --no-cache-dir
BANDIT := $(BIN)/python -m bandit -r src -q -c pyproject.toml
# Python keeps compiled bytecode beside the sources (git ignores __pycache__) even where
# the environment turns that off: without it every process, each test worker's collection
# and every `cift` the tests start, compiles CIFT's and the tests' modules again.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help setup dev kernels run serve test test-deep check lint format typecheck pytest docs audit sbom lock \
	clean services-up services-down services-status web web-api web-check browser tools go-tools \
	web-if-node dashboard types

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: $(BIN)/python
	$(PIP_INSTALL) "uv==$(UV_VERSION)" || $(RETRY_INSTALL) "uv==$(UV_VERSION)"

$(VENV)/.installed-run: $(BIN)/uv pyproject.toml $(CONSTRAINTS)
	$(UV_INSTALL) -c $(CONSTRAINTS) -e ".[all]" || $(PIP_INSTALL) -c $(CONSTRAINTS) -e ".[all]" || \
		$(RETRY_INSTALL) -c $(CONSTRAINTS) -e ".[all]"
	@touch $@

$(VENV)/.installed-dev: $(BIN)/uv pyproject.toml $(CONSTRAINTS)
	$(UV_INSTALL) -c $(CONSTRAINTS) -e ".[all,dev]" || \
		$(PIP_INSTALL) -c $(CONSTRAINTS) -e ".[all,dev]" || \
		$(RETRY_INSTALL) -c $(CONSTRAINTS) -e ".[all,dev]"
	@touch $@ $(VENV)/.installed-run

setup: $(VENV)/.installed-run  ## Create .venv with CIFT and every backend client

# The dashboard: a TypeScript app in web/, built into the package (cift serve serves it at /).
WEB_BUILD := src/cift/web/dist/index.html
WEB_DEPS := web/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src web/public web/index.html web/package.json web/openapi.json \
	web/vite.config.ts web/tsconfig.json -type f -not -name '*.test.*' -not -name 'schema.d.ts' 2>/dev/null)

$(WEB_DEPS): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build

web: $(WEB_BUILD)  ## Build the dashboard (needs Node.js 20 and npm) when missing or stale

web-api: setup  ## Regenerate web/openapi.json (the dashboard's API types) after changing the API
	$(BIN)/python -m cift.api.document > web/openapi.json

web-check: $(WEB_DEPS)  ## The dashboard's lint (ESLint), strict types and unit tests (Vitest)
	cd web && npm run lint && npm run typecheck && npm test

browser:  ## Install Debian's Chromium for the dashboard's end-to-end tests
	$(PYTHON) deploy/local/browser.py

tools:  ## Install promtool, actionlint and the Docker Compose plugin for the deployment tests
	$(PYTHON) deploy/local/tools.py

# Without npm the API still serves (and says how to build the dashboard).
web-if-node:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory web; \
	else echo "npm not found: the dashboard is not built; the API works without it"; fi

dev: $(VENV)/.installed-dev  ## Create .venv with CIFT plus test, lint and type tools

run: setup web-if-node  ## Set up, then run the main job on the embedded defaults (cift demo)
	$(BIN)/cift demo

serve: setup web-if-node  ## Set up, then serve the API and the dashboard on http://127.0.0.1:8000
	$(BIN)/cift serve

# Long set-up steps run in the background, beside each other and the quick checks:
# $(call started,NAME,COMMAND) runs COMMAND with its output in .venv/NAME.log and its
# exit code in .venv/NAME.status; $(call awaited,NAME) waits for it, prints the log and
# fails when the step did.
started = rm -f $(VENV)/$(1).status; ( $(2) > $(VENV)/$(1).log 2>&1; echo $$? > $(VENV)/$(1).status ) &
awaited = while [ ! -f $(VENV)/$(1).status ]; do sleep 1; done; cat $(VENV)/$(1).log; \
	[ "$$(cat $(VENV)/$(1).status)" = 0 ]

# The dashboard's install, build and checks need no Python: they start first, beside the
# Python packages' install.
dashboard:
	@mkdir -p $(VENV)
	@$(call started,dashboard,$(MAKE) --no-print-directory web web-check)

# The feature kernels compile (under two minutes, once per install), so that the tests'
# two workers do not both compile them; the tests start once they are cached.
kernels: dev
	@$(call started,compile,$(BIN)/cift features compile)

# mypy (over a minute of one core) beside the kernels' compile and the dashboard's checks.
types: dev
	@$(call started,types,$(BIN)/mypy src deploy/local)

# actionlint and Docker Compose, built with Go on a new machine (about three minutes of
# both cores), beside the downloads (npm, Debian's Chromium) and the single-core checks.
# Debian's packages install one at a time, in the foreground.
go-tools:
	@$(call started,go-tools,$(PYTHON) deploy/local/tools.py actionlint compose)

test: dashboard dev kernels types go-tools browser  ## Set up, then run the whole suite: lint, format check, types, tests
	$(PYTHON) deploy/local/tools.py prometheus
	$(BIN)/ruff check src tests bench deploy
	$(BANDIT)
	$(BIN)/ruff format --check src tests bench deploy
	@$(call awaited,dashboard)
	@$(call awaited,types)
	@$(call awaited,compile)
	@$(call awaited,go-tools)
	$(BIN)/python deploy/local/run_tests.py

test-deep: dev  ## The suite with property and fuzz tests searching 10 times harder (slow)
	CIFT_TEST_DEPTH=10 $(BIN)/python deploy/local/run_tests.py

check: test  ## Alias of test

lint: dev  ## Lint with ruff, and bandit over src/ (security)
	$(BIN)/ruff check src tests bench deploy
	$(BANDIT)

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

sbom:  ## Write a CycloneDX SBOM of the pinned dependencies to sbom.cdx.json
	$(PYTHON) -m venv .sbom-venv
	.sbom-venv/bin/python -m pip install --quiet --disable-pip-version-check "cyclonedx-bom>=7,<8"
	.sbom-venv/bin/cyclonedx-py requirements $(CONSTRAINTS) --output-format JSON \
		--output-file sbom.cdx.json
	@echo "wrote sbom.cdx.json"

lock: ## Re-resolve the newest compatible versions into requirements/constraints.txt
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e ".[all,dev]"
	{ echo "# Exact versions for repeatable installs of cift[all,dev] on Python 3.11."; \
	  echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^cift'; } > $(CONSTRAINTS)
	rm -rf .lock-venv

clean:  ## Remove the virtualenv, caches and the local data folder
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage htmlcov .cift \
		web/node_modules web/test-results src/cift/web/dist sbom.cdx.json

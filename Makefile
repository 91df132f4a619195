# The two commands in the README are the contract:
#   make demo  — set everything up, then run the sync end to end on the sandboxes
#   make test  — set everything up, then lint and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo airflow test lint browser bench soak constraints clean

setup: $(STAMP)

$(STAMP): pyproject.toml devkit/pyproject.toml requirements.txt requirements-dev.txt constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e . -e devkit
	touch $(STAMP)

demo: setup
	$(BIN)/an-sf-sync demo

airflow: setup
	$(BIN)/an-sf-sync airflow

# Debian's headless Chromium and its driver, for the browser test (tests/e2e/test_browser.py).
# Installed when missing and we may (CI runs as root); without them that one test is skipped.
# axe-core (npm, pinned in package-lock.json) checks the report pages' accessibility there.
browser: node_modules/axe-core/axe.min.js
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver; } || \
	  echo "chromium could not be installed: the browser test will be skipped"

node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint browser
	$(BIN)/pytest

bench: setup
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# The long chaos soak (tests/soak): 24 simulated hours by default; prints its figures.
SOAK_HOURS ?= 24
SOAK_SEED ?= 1
SOAK_OVERLAP ?= 5
SOAK_BUDGET ?= 0
soak: setup
	AN_SF_SYNC_SOAK_HOURS=$(SOAK_HOURS) AN_SF_SYNC_SOAK_SEED=$(SOAK_SEED) AN_SF_SYNC_SOAK_OVERLAP=$(SOAK_OVERLAP) \
	AN_SF_SYNC_SOAK_BUDGET=$(SOAK_BUDGET) $(BIN)/pytest tests/soak -k long -s -q

constraints: setup
	{ echo "# Every package of a working install, pinned (pip freeze). Regenerate with 'make constraints'."; \
	  $(BIN)/pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf $(VENV) .airflow .an_sf_sync node_modules

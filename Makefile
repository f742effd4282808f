# The two commands: `make demo` runs the district, `make test` proves it works.
SHELL := /bin/bash
VENV := .venv/bin
WANGGE := $(VENV)/wangge

.PHONY: setup demo test test-any-day fuzz lint format bench db clean-db help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup:  ## Install what is missing (Debian packages, .venv); safe to repeat
	@scripts/setup.sh

db: setup  ## Start the private PostGIS cluster (unless WANGGE_DATABASE_URL is set) and migrate
	@$(WANGGE) db start
	@$(WANGGE) migrate

demo: db  ## Set up, migrate, load the demo district (once), serve it
	@$(WANGGE) demo load --if-missing
	@$(WANGGE) serve

test: setup  ## Lint, check the import contracts, the size rules and types, run the tests (the fuzz run included) on a real PostGIS
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/lint-imports
	@$(VENV)/python scripts/check_sizes.py
	@$(VENV)/mypy
	@$(VENV)/python -m pytest

test-any-day: setup  ## The whole suite a year ahead and across a month boundary (faketime)
	@scripts/test-any-day.sh

fuzz: setup  ## Only the schemathesis run over every operation of /openapi.json (with and without a key)
	@$(VENV)/python -m pytest -m fuzz tests/geo_api/test_fuzz.py

lint: setup  ## Ruff, the import contracts, the size rules and the type checker (mypy on layers, grids, maps)
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .
	@$(VENV)/lint-imports
	@$(VENV)/python scripts/check_sizes.py
	@$(VENV)/mypy

format: setup  ## Format the code
	@$(VENV)/ruff format .
	@$(VENV)/ruff check --fix .

bench: db  ## Benchmarks: print figures and ratios against baselines measured in the same run
	@for b in bench/bench_*.py; do echo "== $$b"; $(VENV)/python $$b || exit 1; done

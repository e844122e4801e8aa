# Meadhall — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTERNAL_PG ?= postgresql://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BIN)/meadhall: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

.PHONY: install
install: $(BIN)/meadhall ## Create .venv and install Meadhall with its test tools

.PHONY: run
run: install ## Install and start the server on embedded defaults (data in ./data)
	$(BIN)/meadhall serve

.PHONY: browser
browser: ## Make sure headless Chromium is present for the browser tests
	@scripts/ensure-chromium

.PHONY: test
test: install browser ## Install and run the whole suite on embedded PostgreSQL, then on the external one
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	MEADHALL_TEST_DATABASE=$(EXTERNAL_PG) $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: test-embedded
test-embedded: install ## Run the suite on the embedded PostgreSQL only
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## Ruff lint and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

.PHONY: typecheck
typecheck: install ## Strict mypy on src/
	$(BIN)/mypy

.PHONY: check
check: lint typecheck test ## Everything CI checks

.PHONY: bench
bench: install ## Run the benchmarks and print their numbers
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/ingest.py --photos 48
	$(BIN)/python bench/timeline.py
	$(BIN)/python bench/timeline_ui.py

.PHONY: clean
clean: ## Remove the virtualenv and caches (keeps ./data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info

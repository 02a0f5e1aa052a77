# Developer entry points. `make demo` runs the embedded default with demo data on
# http://127.0.0.1:8000 (`make demo PORT=8080` for another port); `make test` runs every
# test on SQLite and PostgreSQL (a throwaway PostgreSQL cluster is started when initdb is
# installed; see tests/pgcluster.py).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHIXIN_DATA_DIR ?= data
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core by default; `make test TEST_WORKERS=0` runs
# in this process alone (easier to debug with pdb or print).
TEST_WORKERS ?= auto
BENCH_ARGS ?= all --count 1000000
# Where `make demo` listens; `make demo PORT=8080 HOST=0.0.0.0` overrides both. HOST ignores
# the environment: some shells (tcsh) export HOST as the machine's name.
HOST := 127.0.0.1
PORT ?= 8000
export SHIXIN_DATA_DIR

.PHONY: help venv demo test lint format bench clean
.DEFAULT_GOAL := help

help:
	@echo "make demo    run the portal with $(SHIXIN_DATA_DIR)/, 5,000 demo entries and demo tickets on $(HOST):$(PORT)"
	@echo "             (PORT=8080 HOST=0.0.0.0 to change; a busy port is reported before anything is imported)"
	@echo "make test    run all tests, SQLite and PostgreSQL, one process per core (PYTEST_ARGS='-k foo'"
	@echo "             to narrow, TEST_WORKERS=0 for one process)"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make format  ruff format and ruff check --fix"
	@echo "make bench   run the benchmarks (BENCH_ARGS='search --count 100000' to narrow);"
	@echo "             needs wrk; Datasette and sqlite-utils go to benchmarks/work/peers-venv"
	@echo "make clean   remove the virtualenv and caches (keeps $(SHIXIN_DATA_DIR)/)"

venv: $(STAMP)

# Reinstalled whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check --no-input -e '.[dev]'
	touch $@

demo: $(STAMP)
	@# A busy port stops here, before the import below spends half a minute.
	@$(BIN)/shixin serve --check-port --host "$(HOST)" --port "$(PORT)"
	@if [ ! -e "$(SHIXIN_DATA_DIR)/shixin.sqlite3" ]; then \
		set -e; \
		echo "No database in $(SHIXIN_DATA_DIR)/ yet: generating and importing demo data"; \
		mkdir -p "$(SHIXIN_DATA_DIR)"; \
		$(BIN)/shixin demo-data --count 5000 --seed 1 --out "$(SHIXIN_DATA_DIR)/demo.jsonl"; \
		$(BIN)/shixin import "$(SHIXIN_DATA_DIR)/demo.jsonl"; \
	fi
	@# Demo unit accounts and tickets (only in a demo data directory; adds nothing twice).
	@if [ -e "$(SHIXIN_DATA_DIR)/demo.jsonl" ]; then $(BIN)/shixin demo-cases; fi
	$(BIN)/shixin serve --host "$(HOST)" --port "$(PORT)"

test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The peers benchmark (benchmarks/peers.py) needs wrk and Datasette + sqlite-utils in
# benchmarks/work/peers-venv (the `bench` extra); --setup makes that venv, or stops here
# with how to install a missing wrk, before an hour of other benchmarks runs.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.peers --setup
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

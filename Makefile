# Newswire: `make run` starts the platform, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: lock run chaos test unit integration e2e lint typecheck eval bench bench-throughput bench-dedup bench-api install clean-data help

help:
	@echo "make run    - install into .venv and start the whole platform (embedded PostgreSQL + Redis)"
	@echo "make test   - install into .venv and run the whole test suite"
	@echo "make chaos  - push 2000 articles while killing and restarting parts; print what survived"
	@echo "make bench  - bench-throughput (platform vs plain libraries), bench-dedup, bench-api (1M articles)"
	@echo "make lint / typecheck / eval"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

LOCK := requirements.lock

# installs are pinned: every package at the version requirements.lock names (`make lock` regenerates it
# from pyproject.toml), then the project and the client, editable, without resolving again
$(STAMP): pyproject.toml clients/python/pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip uv==0.13.10
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r $(LOCK)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e . -e clients/python
	@touch $(STAMP)

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip uv==0.13.10
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o $(LOCK)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/newswire run

CHAOS_ARGS ?=

chaos: $(STAMP)
	$(BIN)/newswire chaos $(if $(BROKER),--broker $(BROKER)) $(CHAOS_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

BENCH_ARGS ?=

bench: bench-throughput bench-dedup bench-api

bench-throughput: $(STAMP)
	$(BIN)/python scripts/bench_throughput.py $(BENCH_ARGS)

bench-dedup: $(STAMP)
	$(BIN)/python scripts/bench_dedup.py

eval: $(STAMP)
	$(BIN)/python scripts/eval_extraction.py
	$(BIN)/python scripts/eval_ner.py
	-$(BIN)/python scripts/eval_ner.py --split eng.testb  # the CoNLL test split, when present
	$(BIN)/python scripts/eval_ner_multilingual.py --per-type
	OMP_NUM_THREADS=1 $(BIN)/python scripts/eval_cost.py
	$(BIN)/python scripts/eval_entity_merges.py
	$(BIN)/python scripts/eval_topics.py
	$(BIN)/python scripts/eval_topics_multilingual.py
	$(BIN)/python scripts/eval_dedup.py
	$(BIN)/python scripts/eval_stories.py

BENCH_ARTICLES ?= 1000000

bench-api: $(STAMP)
	$(BIN)/python scripts/gen_articles.py --articles $(BENCH_ARTICLES) --database nw_bench && $(BIN)/python scripts/bench_api.py --database nw_bench

clean-data:
	rm -rf .newswire

# The one place a newcomer looks. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-stateful test-cluster test-faults cluster lint format bench db-migrate clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "quantdesk needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes: a second `make run` starts at once.
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m quantdesk.web.vendor
	@touch $@

# The dashboard's browser libraries (pinned in src/quantdesk/web/vendor.lock.json, ignored by
# git): fetched again when the lock changes or the folder is gone (a fresh clone, existing venv).
VENDOR_STAMP := src/quantdesk/web/static/vendor/.stamp
$(VENDOR_STAMP): src/quantdesk/web/vendor.lock.json | $(INSTALLED)
	$(BIN)/python -m quantdesk.web.vendor

$(INSTALLED_DEV): pyproject.toml $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

run: $(INSTALLED) $(VENDOR_STAMP)  ## migrate, load the demo (first time only), serve on $(HOST):$(PORT)
	$(BIN)/quantdesk db upgrade
	$(BIN)/quantdesk demo load
	HOST=$(HOST) PORT=$(PORT) $(BIN)/quantdesk serve

# Two workers (pytest-xdist) by default: the suite is CPU-bound and each worker starts its own
# PostgreSQL and Redis. TEST_WORKERS=0 runs in one process (a debugger, -x, -k ...).
TEST_WORKERS ?= 2

test: $(INSTALLED_DEV) $(VENDOR_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

# The paper desk's Hypothesis state machine at full length (2,000 sequences, ~5 min); `make test`
# runs 200 of them. .ci/run runs both.
test-stateful: $(INSTALLED_DEV)
	QUANTDESK_MACHINE_SEQUENCES=2000 $(BIN)/pytest tests/portfolio/test_desk_state_machine.py -k sqlite

# The loopback cluster's invariants (tests/cluster, marker `cluster`, skipped by `make test`): one
# cluster of 2 replicas and 1 worker per module, a few minutes in all.
test-cluster: $(INSTALLED_DEV)
	$(BIN)/pytest -m cluster -n 0 --timeout 900 tests/cluster

# Faults under load on the loopback cluster (tests/cluster/test_faults.py, marker
# `cluster_faults`, skipped by `make test` and `make test-cluster`): the Celery worker killed
# mid-sweep, PostgreSQL killed and restarted, Redis killed for 30 s; about 4 minutes
# (docs/scale-out.md).
test-faults: $(INSTALLED_DEV)
	$(BIN)/pytest -m cluster_faults -n 0 --timeout 900 -s tests/cluster/test_faults.py

# PostgreSQL, Redis, haproxy, API replicas, Celery workers and beat on 127.0.0.1 (docs/scale-out.md);
# `$(BIN)/quantdesk cluster status` / `cluster down` (state in var/cluster).
REPLICAS ?= 3
WORKERS ?= 2
cluster: $(INSTALLED) $(VENDOR_STAMP)
	$(BIN)/quantdesk cluster up --replicas $(REPLICAS) --workers $(WORKERS)

lint: $(INSTALLED_DEV)  ## ruff, ruff format --check, mypy --strict, import contracts (ARCHITECTURE.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(INSTALLED_DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(INSTALLED_DEV)  ## speed against reference implementations; writes docs/benchmarks.md (scale-out CPU shape: docs/scale-out.md)
	$(BIN)/python -m benchmarks.bench_foundation
	$(BIN)/python -m benchmarks.bench_indicators
	$(BIN)/python -m benchmarks.bench_backtest
	$(BIN)/python -m benchmarks.bench_access
	$(BIN)/python -m benchmarks.bench_access --storage redis
	$(BIN)/python -m benchmarks.bench_cache
	$(BIN)/python -m benchmarks.bench_desk
	$(BIN)/python -m benchmarks.bench_realtime
	$(BIN)/python -m benchmarks.bench_webhooks
	$(BIN)/python -m benchmarks.bench_exports
	$(BIN)/python -m benchmarks.bench_research_market
	$(BIN)/python -m benchmarks.bench_research_sentiment
	$(BIN)/python -m benchmarks.bench_research_fx
	$(BIN)/python -m benchmarks.bench_dashboard
	$(BIN)/python -m benchmarks.scaleout.cpu_shape

db-migrate: $(INSTALLED)
	$(BIN)/quantdesk db upgrade

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

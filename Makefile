# Careline: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080
PG_HOST ?= 127.0.0.1
REDIS_PORT ?= 6379

.PHONY: install run serve test lint bench services clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The triage engine's hot modules compiled with mypyc (triage/native.py); rebuilt when they change. A failed
# build leaves Careline on the pure-Python sources (same results, slower) and says so.
NATIVE := triage/_native.json
TRIAGE_NATIVE_SRC := $(addprefix triage/,numbers.py lexicon.py scanner.py ruleset.py engine.py native.py build_native.py)

$(NATIVE): $(STAMP) $(TRIAGE_NATIVE_SRC)
	$(PY) -m triage.build_native

install: $(STAMP) $(NATIVE)

## make run: install, migrate, seed a demo practice, serve on http://127.0.0.1:8080 (embedded defaults).
run: install
	$(VENV)/bin/careline db upgrade
	$(VENV)/bin/careline seed-demo
	$(VENV)/bin/careline serve --host $(HOST) --port $(PORT)

## make services: start PostgreSQL and Redis if they are not running (this machine's packages).
services:
	@if ! pg_isready -q -h $(PG_HOST) -p 5432; then \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h $(PG_HOST) -p 5432 && break; sleep 1; done; \
	fi
	@if ! redis-cli -h 127.0.0.1 -p $(REDIS_PORT) ping >/dev/null 2>&1; then \
		echo "starting Redis"; \
		redis-server --daemonize yes --bind 127.0.0.1 --port $(REDIS_PORT) --save "" --appendonly no; \
		for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p $(REDIS_PORT) ping >/dev/null 2>&1 && break; sleep 1; done; \
	fi
	@pg_isready -h $(PG_HOST) -p 5432
	@redis-cli -h 127.0.0.1 -p $(REDIS_PORT) ping

## make test: install, make sure the services are up, run the whole suite (SQLite and PostgreSQL, real Redis).
test: install services
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: install services
	@command -v wrk >/dev/null || (apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null)) || echo "wrk not installed: the webhook benchmark falls back to a Python load generator"
	$(PY) bench/webhook_sms.py
	@if [ -f bench/triage.py ]; then $(PY) bench/triage.py; fi
	$(PY) bench/page_latency.py

clean:
	rm -rf $(VENV) careline.db careline.db-wal careline.db-shm .pytest_cache .mypy_cache .ruff_cache build
	rm -f triage/*.so triage/_native.json

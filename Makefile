# Doorstep: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: run test mutation install install-test install-mutation translations browser postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-mutation: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,mutation]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-mutation: $(VENV)/.installed-mutation

# Catalogs are compiled by the build, never committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d fieldapp/translations

run: install translations
	$(BIN)/flask check-db
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty --base-url http://localhost:$(PORT)
	@echo "Doorstep on http://$(HOST):$(PORT)  demo sign-ins:"
	@$(BIN)/flask demo-logins
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# Browser tests drive Debian's chromium (Playwright's own download does not work here);
# the PostgreSQL 15 server binaries back half of the suite.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "Install chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)"; exit 1; fi; \
	fi

postgres:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	  else echo "Install the PostgreSQL 15 server (apt-get install postgresql-15)"; exit 1; fi; \
	fi

test: install-test translations browser postgres
	$(BIN)/pytest $(PYTEST_ARGS)

# Mutation testing of the rules (slow, so not part of `make test`): prints the score per
# module and rewrites tests/MUTATION.md. MUTATION_JOBS=n sets the number of workers.
mutation: install-mutation translations
	$(BIN)/python -m tests.mutation.run

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis mutants

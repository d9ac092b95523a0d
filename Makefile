# The two commands of the README: `make run` and `make test`.
SHELL  := /bin/bash
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app app
STAMP  := $(VENV)/.installed

.PHONY: run test bench system-deps translations

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

translations: $(STAMP)
	$(PY) -m babel.messages.frontend compile -d translations 2>&1 | grep -v '^compiling catalog'; test $${PIPESTATUS[0]} -eq 0

## run: the app on the embedded SQLite database with demo data, at http://127.0.0.1:5000
run: $(STAMP) translations
	AUDIT_DEMO=1 $(FLASK) init-db
	AUDIT_DEMO=1 $(FLASK) demo --if-empty
	@# The background worker (region ZIPs, XLSX exports) runs beside the web server and stops with it.
	AUDIT_DEMO=1 $(PY) -m audit.worker & worker=$$!; trap "kill $$worker" EXIT INT TERM; \
	AUDIT_DEMO=1 $(FLASK) run --host 127.0.0.1 --port 5000

## test: Debian packages, the venv, then the whole suite on SQLite and on a throw-away PostgreSQL
test: system-deps $(STAMP) translations
	bash .ci/test-both-databases

## bench: every benchmark, then a table of the figures the README quotes (about 20 minutes)
bench: system-deps $(STAMP) translations
	$(PY) bench/run_all.py

system-deps:
	bash .ci/install-system-deps

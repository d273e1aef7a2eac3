# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
IDP_TLS ?= 0
PORT   ?= $(if $(filter 1,$(IDP_TLS)),5443,5000)
SCHEME := $(if $(filter 1,$(IDP_TLS)),https,http)
export IDP_TLS
export FLASK_APP := app.py

.PHONY: run test venv browser bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: export IDP_DEV_MODE ?= 1
run: venv
	$(BIN)/flask db upgrade
	$(BIN)/flask idp seed-demo --base-url $(SCHEME)://$(HOST):$(PORT)
ifeq ($(IDP_TLS),1)
	$(BIN)/flask idp tls
	$(BIN)/flask run --host $(HOST) --port $(PORT) --cert instance/tls/server.pem --key instance/tls/server-key.pem
else
	$(BIN)/flask run --host $(HOST) --port $(PORT)
endif

# Debian's Chromium and its driver for the browser tests; never a downloaded browser build.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium/chromium-driver missing and not root: browser tests will be skipped"; fi; \
	fi

# The whole suite on SQLite and every database test again on PostgreSQL (skipped, with the reason, when no
# server answers on 127.0.0.1:5432), side by side: the tests mostly wait on servers, so two passes share the
# machine well. Browser, multi-process and database-agnostic tests run in the SQLite pass only. The test that
# restarts PostgreSQL runs last, alone.
PG_LOG := test-artifacts/postgresql-pass.log
test: venv browser
	@mkdir -p test-artifacts
	@IDP_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider \
	    -m "not browser and not postgres and not once" $(PYTEST_ARGS) > $(PG_LOG) 2>&1 & pg=$$!; \
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not restart" $(PYTEST_ARGS); sqlite=$$?; \
	wait $$pg; postgresql=$$?; echo "--- PostgreSQL pass ---"; cat $(PG_LOG); \
	test $$sqlite -eq 0 -a $$postgresql -eq 0
	$(BIN)/python -m pytest -q -p no:cacheprovider -m restart $(PYTEST_ARGS)

fuzz: venv
	IDP_FUZZ_EXAMPLES=3000 IDP_SCHEMA_EXAMPLES=100 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_oauth.py tests/test_schemathesis.py

bench: venv
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/idp.db

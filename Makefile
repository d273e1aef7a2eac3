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

.PHONY: run dev test lint venv browser bench fuzz clean translations screens

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# `make run`: the production server (granian, one worker per core; idp/serve.py). `make dev`: Flask's
# development server with its reloader.
run: export IDP_DEV_MODE ?= 1
run: venv
	$(BIN)/flask db upgrade
	$(BIN)/flask idp seed-demo --base-url $(SCHEME)://$(HOST):$(PORT)
ifeq ($(IDP_TLS),1)
	$(BIN)/flask idp tls
	$(BIN)/python -m idp.serve --host $(HOST) --port $(PORT) --tls instance/tls/server.pem instance/tls/server-key.pem
else
	$(BIN)/python -m idp.serve --host $(HOST) --port $(PORT)
endif

dev: export IDP_DEV_MODE ?= 1
dev: venv
	$(BIN)/flask db upgrade
	$(BIN)/flask idp seed-demo --base-url $(SCHEME)://$(HOST):$(PORT)
ifeq ($(IDP_TLS),1)
	$(BIN)/flask idp tls
	$(BIN)/flask run --reload --host $(HOST) --port $(PORT) --cert instance/tls/server.pem --key instance/tls/server-key.pem
else
	$(BIN)/flask run --reload --host $(HOST) --port $(PORT)
endif

# Screenshots of every page in every language at 1280 and 390 px (test-artifacts/screens/), with the axe-core
# accessibility check of each page.
screens: venv browser
	IDP_SCREENS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_screens.py

# After adding or changing _() strings: refresh every catalogue (then translate the new entries). A new language:
# $(BIN)/pybabel init -i translations/messages.pot -d translations -l <code>. The app compiles catalogues itself.
translations: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output --no-wrap -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --no-wrap --ignore-pot-creation-date

# Debian's Chromium and its driver for the browser tests; never a downloaded browser build.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium/chromium-driver missing and not root: browser tests will be skipped"; fi; \
	fi
	@if [ ! -f /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic >/dev/null; fi  # Japanese pages
	@if [ ! -f tests/a11y/node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null; then \
	  npm install --prefix tests/a11y --no-audit --no-fund --silent; fi

# The whole suite on SQLite and every database test again on PostgreSQL (skipped, with the reason, when no
# server answers on 127.0.0.1:5432), side by side: the tests mostly wait on servers, so two passes share the
# machine well. Browser, multi-process and database-agnostic tests run in the SQLite pass only. The test that
# restarts PostgreSQL runs last, alone.
PG_LOG := test-artifacts/postgresql-pass.log
test: venv browser lint
	@mkdir -p test-artifacts
	@IDP_TEST_BACKEND=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider \
	    -m "not browser and not postgres and not once" $(PYTEST_ARGS) > $(PG_LOG) 2>&1 & pg=$$!; \
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -m "not restart" $(PYTEST_ARGS); sqlite=$$?; \
	wait $$pg; postgresql=$$?; echo "--- PostgreSQL pass ---"; cat $(PG_LOG); \
	test $$sqlite -eq 0 -a $$postgresql -eq 0
	$(BIN)/python -m pytest -q -p no:cacheprovider -m restart $(PYTEST_ARGS)

# ruff (lint and format), mypy (strict on the core modules) and import-linter (the contracts in pyproject.toml)
lint: venv
	$(BIN)/ruff check idp tests bench app.py
	$(BIN)/ruff format --check idp tests bench app.py
	$(BIN)/mypy
	$(BIN)/lint-imports

fuzz: venv
	IDP_FUZZ_EXAMPLES=3000 IDP_SCHEMA_EXAMPLES=100 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_oauth.py tests/test_fuzz_inputs.py tests/test_schemathesis.py

bench: venv
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/idp.db

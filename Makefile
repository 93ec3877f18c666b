# The README's two commands: `make run` and `make test`. Both start with `make install`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/mostrador/web/static/vendor
PYTEST_WORKERS ?= 2

.PHONY: install run test lint typecheck unit bench services clean

install: $(STAMP) $(VENDOR)/htmx.min.js

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(VENDOR)/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.min.js $(VENDOR)/sse.min.js

run: install
	$(BIN)/mostrador serve --demo

services:
	bash scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check src tests bench

typecheck: install
	$(BIN)/mypy

unit: install services
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

# Lint, types and the suite all run; the target fails if any of them failed.
test: install services
	@status=0; \
	$(BIN)/ruff check src tests bench || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q || status=1; \
	exit $$status

bench: install services
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var .mypy_cache .ruff_cache

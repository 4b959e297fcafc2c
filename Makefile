# Two commands for a fresh machine: `make serve` and `make test` (see README).
PYTHON ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `npm ci` runs again only when the lock file changed since it last ran.
NODE_STAMP := web/node_modules/.installed
UI := web/dist/index.html
# What the UI's build reads: its own sources, and the Python that shapes the OpenAPI document
# its types are generated from (web/src/api/schema.d.ts is generated, so not a source).
UI_SOURCES := $(shell find web/src web/index.html web/package.json web/vite.config.ts \
	web/tsconfig*.json -type f ! -path web/src/api/schema.d.ts 2>/dev/null) \
	$(shell find src/callout -name '*.py' 2>/dev/null)

.PHONY: serve test check install web clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(NODE_STAMP): web/package-lock.json
	cd web && $(NPM) ci
	mkdir -p web/node_modules && touch $@

# The web UI, built into web/dist only when its sources or the REST API changed.
$(UI): $(STAMP) $(NODE_STAMP) $(UI_SOURCES)
	$(BIN)/callout openapi --output web/openapi.json
	cd web && $(NPM) run gen
	cd web && $(NPM) run build
	touch $@

web: $(UI)

# Set up on first run (data dir, key, database, demo client and its admin key), then serve.
serve: $(STAMP) web
	$(BIN)/callout init
	$(BIN)/callout serve

# Lint, types, the UI's component tests, then the suite (the browser tests in tests/e2e use
# the built UI); PostgreSQL runs too when CALLOUT_TEST_POSTGRES is set.
test: check web
	cd web && $(NPM) test
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
	rm -rf web/node_modules web/dist web/openapi.json web/src/api/schema.d.ts

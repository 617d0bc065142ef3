# The two commands a newcomer needs: `make serve` and `make test`.
# Each creates .venv with the Python it finds and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test validate format install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The embedded store lives in var/store; the curated data is synced into it at start.
serve: $(STAMP)
	$(BIN)/meent serve

JS := tests/js
JS_STAMP := $(JS)/node_modules/.package-lock.json

# The JavaScript clients the tests hold Meent against (Comunica, the LDES client), from npm.
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y --no-install-recommends nodejs npm)
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

# The browser tests drive Debian's chromium, never a browser build Playwright downloads.
test: $(STAMP) $(JS_STAMP)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/meent validate data/

format: $(STAMP)
	$(BIN)/ruff format service tests bench
	$(BIN)/meent format ontology shapes data

clean:
	rm -rf $(VENV)

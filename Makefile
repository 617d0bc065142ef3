# The two commands a newcomer needs: `make test` and (later) `make serve`.
# Each creates .venv with the Python it finds and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint format install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff format service tests bench
	$(BIN)/meent format ontology shapes data

clean:
	rm -rf $(VENV)

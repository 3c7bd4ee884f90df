# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# The newest supported Python on the PATH (3.13, 3.12, 3.11); `make PYTHON=… VENV=…` overrides.
SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))
PYTHON ?= $(or $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c '$(SUPPORTED)' >/dev/null 2>&1 && { echo $$p; break; }; done),python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench constraints clean

$(BIN)/python:
	@$(PYTHON) -c '$(SUPPORTED)' >/dev/null 2>&1 || { echo "Python 3.11, 3.12 oder 3.13 wird benötigt ($(PYTHON) passt nicht)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

## Start the assistant with whatever is configured (embedded defaults otherwise).
run: $(STAMP)
	$(BIN)/zukunftsraum run

## Run the whole test suite (PostgreSQL too when ZR_TEST_DATABASE_URL is set), one worker per
## core (each worker with its own PostgreSQL database); `make test ARGS=...` passes pytest options.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(ARGS)

## Refresh the pinned versions after changing dependencies in pyproject.toml.
constraints: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache

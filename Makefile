# Two commands a new user needs: `make run` and `make test`.
# Each creates .venv with a Python >= 3.12 found on the machine (override: make test PYTHON=/path/to/python3.12).

VENV ?= .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml
REPLICATIONS ?= 10

.PHONY: run test lint bench clean-venv

$(BIN)/python:
	@interpreter="$$(scripts/find-python)" || exit 1; \
	echo "Creating $(VENV) with $$interpreter"; \
	"$$interpreter" -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

run: $(VENV)/.installed
	$(BIN)/cloudrace run $(SCENARIO) --replications $(REPLICATIONS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check sim tests benchmarks

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_model.py

clean-venv:
	rm -rf $(VENV)

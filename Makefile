# Two commands a new user needs: `make run` and `make test`.
# Each creates .venv with a Python >= 3.12 found on the machine (override: make test PYTHON=/path/to/python3.12).

VENV ?= .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml
REPLICATIONS ?= 10

.PHONY: run test lint bench bench-long clean-venv app app-assets

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

test: $(VENV)/.installed app-assets
	$(BIN)/python -m pytest

# The classroom app's browser files, fetched once with npm into .cache/solara-assets/ (git-ignored)
# so the app runs with no internet; packages already there are skipped. Without npm or the npm
# registry it says so and `make test` carries on: the browser test then skips (fails in CI).
app-assets: $(VENV)/.installed
	-$(BIN)/python -m sim.app.assets

app: $(VENV)/.installed app-assets
	$(BIN)/cloudrace app

lint: $(VENV)/.installed
	$(BIN)/ruff check sim tests benchmarks

# Every benchmark prints its figures (docs/performance.md); a few minutes on 2 idle cores.
# bench-long adds the long variants: run -n 1000 (memory) and 1,152 Sobol' runs.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_scaling.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_sobol.py
	$(BIN)/python benchmarks/profile_replication.py

bench-long: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_cli.py --rounds 1 --long
	$(BIN)/python benchmarks/bench_sobol.py --replications 3

clean-venv:
	rm -rf $(VENV)

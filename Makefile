# `make demo`: set up .venv, ingest the bundled sample data with the embedded models, print the topic report.
# `make test`: set up .venv and run the test suite (what CI runs).
# Both install the exact versions in requirements.lock; `make lock` regenerates it from pyproject.toml's ranges,
# and `make test-latest` runs the suite on the newest versions those ranges allow and names what moved.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
DEMO_DB ?= demo.duckdb
# setuptools' one informational note on every editable install with mapped folders (queries/, reports/ install as
# analyzer.queries, analyzer.reports): "be careful with folders named like your package". Nothing to act on.
QUIET_EDITABLE := PYTHONWARNINGS="ignore:Editable installation"

.PHONY: demo test lint venv clean lock test-latest

venv: $(VENV)/.installed

# torch is installed first, pinned, so that the CPU build is used and `torch>=2.4` is already satisfied.
$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c $(LOCK) --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) torch==2.13.0
	$(QUIET_EDITABLE) $(BIN)/python -m pip install -q -c $(LOCK) -e ".[dev,ray]"
	touch $@

demo: venv
	rm -f $(DEMO_DB)
	$(BIN)/opinions ingest sample_data --db $(DEMO_DB)
	$(BIN)/opinions report topic --db $(DEMO_DB)

test: venv
	$(BIN)/ruff check analyzer queries reports tests training bench sample_data scripts
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .

lock:
	PYTHON=$(PYTHON) bash scripts/lock.sh

# the suite on the newest versions pyproject.toml allows (torch stays the CPU 2.13.0 file), in .venv-latest;
# it prints every package whose version differs from the lock first, so a failure names its suspects
test-latest:
	bash scripts/test_latest.sh

clean:
	rm -rf $(VENV) .venv-latest *.egg-info $(DEMO_DB)

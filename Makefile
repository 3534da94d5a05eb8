# `make demo`: set up .venv, ingest the bundled sample data with the embedded models, print the topic report.
# `make test`: set up .venv and run the test suite (what CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB ?= demo.duckdb

.PHONY: demo test lint venv clean

venv: $(VENV)/.installed

# torch is installed first, pinned, so that the CPU build is used and `torch>=2.4` is already satisfied.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,ray]"
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

clean:
	rm -rf $(VENV) *.egg-info $(DEMO_DB)

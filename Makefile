# Two commands do all the set-up:
#   make demo   create .venv (torch==2.13.0 first, then the project) and run the main job on generated data
#               (synth → mine: ranked findings in the terminal, reports in demo/report)
#   make test   create .venv when needed and run the test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := demo

.PHONY: install demo test lint bench clean

$(BIN)/tracemine: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, in its own command: any other spec pulls several GB of CUDA packages
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(BIN)/tracemine

install: $(BIN)/tracemine

demo: install
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/tracemine synth --traces 2000 --days 7 --seed 1 --out $(DEMO)/traces
	HF_HUB_OFFLINE=1 $(BIN)/tracemine mine $(DEMO)/traces --db $(DEMO)/tracemine.duckdb --window 7d --out $(DEMO)/report

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(DEMO) .pytest_cache .ruff_cache

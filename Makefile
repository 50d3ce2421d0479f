# Two commands on a fresh machine: `make run` serves the app, `make test` runs lint + every test.
# `make check` is the quick loop while coding (lint, format, types, layers, unit tests); `make docs` draws the diagram.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.run-deps
STAMP_DEV := $(VENV)/.dev-deps
PORT ?= 8501

.PHONY: run test check lint docs bench load system-graphviz system-chromium clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(STAMP_DEV): requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP_RUN) $@

system-graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "Installing Debian's graphviz (for server-side graph layout)..."; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; } \
	  || echo "Could not install graphviz with apt (not root?). The app still runs; graphs are laid out in the browser."; }

system-chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium (for the browser tests)..."; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei fonts-noto-color-emoji >/dev/null; } \
	  || { echo "Could not install chromium with apt: browser tests need it (apt-get install chromium)."; exit 1; }; }

run: $(STAMP_RUN) system-graphviz
	$(BIN)/streamlit run app.py --server.port $(PORT)

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

test: $(STAMP_DEV) system-graphviz system-chromium lint
	$(BIN)/python -m pytest -q

# Under a minute on 2 cores: no browser tests, no AppTest page runs, no slow unit tests (`make test` runs them all).
check: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -m "not e2e and not apptest and not slow" -p no:cacheprovider

docs: docs/architecture.svg

docs/architecture.svg: docs/architecture.dot | system-graphviz
	dot -Tsvg $< -o $@

bench: $(STAMP_DEV) system-graphviz
	$(BIN)/python benchmarks/programs_vs_torch.py
	$(BIN)/python benchmarks/sandbox_overhead.py
	$(BIN)/python benchmarks/graph_vs_torchviz.py
	$(BIN)/python benchmarks/training_vs_bare.py

load: $(STAMP_DEV) system-graphviz
	$(BIN)/python benchmarks/load_test.py --json test-results/load.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results

# Two entry points that set everything up themselves on a fresh machine with Python >= 3.11:
#   make demo   -- the main job on the embedded defaults
#   make test   -- the whole test suite (what CI runs)
# Both create and reuse a local virtual environment in .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/qkit reproduce --quick

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/theory.py

lint: $(STAMP)
	$(BIN)/ruff check qkit tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# ---- documentation site (docs/): `make docs` builds docs/_build/html, warnings are errors ----
DOCS_STAMP := $(VENV)/.docs-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	rm -f $(VENV)/.docs-installed-*
	touch $(DOCS_STAMP)

.PHONY: docs
docs: $(DOCS_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sphinx-build -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

# Entry points that set everything up themselves on a fresh machine with Python >= 3.11:
#   make demo       -- the main job on the embedded defaults (installs the core + Jupyter only)
#   make notebooks  -- open the tutorials in JupyterLab (same environment as the demo)
#   make test       -- the whole test suite (installs the test extras); CI runs .ci/run
#   make test-fast  -- the suite without the tests marked slow: the inner loop
#   make lint       -- ruff check, ruff format --check and make typecheck
#   make typecheck  -- mypy on the package (configured in pyproject.toml)
# All create and reuse a local virtual environment in .venv. The demo and the test extras
# have separate stamps, so each target installs only what it needs and neither undoes the
# other; editing pyproject.toml re-runs the install.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO_STAMP := $(VENV)/.demo-$(HASH)
TEST_STAMP := $(VENV)/.test-$(HASH)
LINTED := qkit tests benchmarks tools
# setuptools warns on every editable install ("Editable installation. Please be careful with
# folders ... same name as your package"): a banner, in every mode, that says nothing to a user
PIP    := PYTHONWARNINGS="ignore:Editable installation:UserWarning" $(BIN)/python -m pip

.PHONY: demo notebooks test test-fast bench lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[notebooks]'
	rm -f $(VENV)/.demo-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev]'
	rm -f $(VENV)/.test-*
	touch $@

demo: $(DEMO_STAMP)
	$(BIN)/qkit reproduce --quick
	@echo "qkit is installed in .venv: 'source .venv/bin/activate' puts it on your PATH"

notebooks: $(DEMO_STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

bench: $(DEMO_STAMP)
	$(BIN)/python benchmarks/theory.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(MAKE) typecheck

typecheck: $(TEST_STAMP)
	$(BIN)/mypy qkit

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# ---- documentation site (docs/): `make docs` builds docs/_build/html, warnings are errors ----
DOCS_STAMP := $(VENV)/.docs-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev,docs]'
	rm -f $(VENV)/.docs-installed-*
	touch $(DOCS_STAMP)

.PHONY: docs
docs: $(DOCS_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sphinx-build -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

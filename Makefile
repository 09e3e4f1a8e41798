# cluster_abm — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast test-mesa-latest browser ui-assets bench lint docs clean golden

# Create the virtual environment and install the project (re-run when pyproject.toml changes).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The main job: the policy comparison report (a smaller version of experiments/policy_comparison.toml).
demo: install
	$(VENV)/bin/cluster-abm compare experiments/demo.toml

# Debian's Chromium for the real-browser tests (skipped when already installed).
browser:
	bash scripts/install_browser.sh

# Solara's front-end files from the npm registry, so the app renders offline; the app's default
# worlds spun up into the model's cache, so its first page renders warm.
ui-assets: install
	$(PY) -m cluster_abm.ui.offline
	$(PY) -m cluster_abm.ui.warm

# The whole suite, browser tests included.
test: install browser ui-assets
	CLUSTER_ABM_REQUIRE_BROWSER=1 $(PY) -m pytest -q

# Everything but the browser and slow statistical tests, for quick iterations.
test-fast: install
	$(PY) -m pytest -q -m "not browser and not slow"

# Regenerate the golden numbers of tests/test_golden.py, on purpose (say why in the commit).
golden: install
	$(PY) -m tests.golden_runs --write

bench: install
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_levers.py

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The newest Mesa needs Python >= 3.12: check the model there too (skipped without such a Python).
test-mesa-latest:
	bash scripts/check_mesa_latest.sh

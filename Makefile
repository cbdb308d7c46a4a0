# Each target bootstraps .venv on a fresh machine (Python 3.11+ as $(PYTHON)), then does its job.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast chromium redis airflow lint bench bench-real bench-steps wheel constraints clean

demo: $(STAMP)
	$(BIN)/newsdesk demo

test: $(STAMP) chromium redis
	$(BIN)/ruff check .
	$(BIN)/pytest

# The fast tier: no crawl, no Airflow, no browser (see "Running the tests" in README.md).
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

# The report tests open the HTML report in a real browser: Debian's chromium, installed when
# missing (through sudo unless root; the package lists are updated only if the install fails).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_CHROMIUM := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
chromium:
	@command -v chromium >/dev/null || $(APT_CHROMIUM) || ($(SUDO) apt-get update -q && $(APT_CHROMIUM))

# The CeleryExecutor tests use a real Redis broker: Debian's redis-server, installed the same way
# (the tests start their own on a free port; the package's own service is not needed).
APT_REDIS := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server
redis:
	@command -v redis-server >/dev/null || $(APT_REDIS) || ($(SUDO) apt-get update -q && $(APT_REDIS))

# A local Airflow (scheduler, DAG processor, UI, triggerer) running our DAGs, until Ctrl-C.
airflow: $(STAMP)
	$(BIN)/newsdesk airflow

# Every stage against a 10,000-article demo site, plus the 50k and 100k growth points; rewrites
# docs/performance.md as each section ends (about an hour and a half).
bench: $(STAMP)
	$(BIN)/python bench/performance.py --out docs/performance.md

# The same stages on the dev corpus's real pages served as their publishers, paired with bare
# trafilatura on the same pages; rewrites its own block of docs/performance.md (20 minutes with
# --repeat 1 on a heavily shared host; about 15 estimated on a quiet one).
bench-real: $(STAMP)
	$(BIN)/python bench/performance_real.py --out docs/performance.md

# Extraction's CPU step by step (cProfile, steps found by function) on demo and real pages.
bench-steps: $(STAMP)
	$(BIN)/python bench/extraction_steps.py

lint: $(STAMP)
	$(BIN)/ruff check .

# The installable package, dist/newsdesk-*.whl (migrations, default sources and DAGs inside;
# docs/deploy.md). build/lib is cleared first: setuptools would pack a stale file left there.
wheel: $(STAMP)
	rm -rf build/lib dist
	$(BIN)/python -m build --wheel

# Reinstall when the dependency declarations change.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip check
	touch $(STAMP)

# Re-pin every dependency to what is installed now (after a deliberate upgrade).
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^newsdesk' > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

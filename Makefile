# Each target bootstraps .venv on a fresh machine (Python 3.11+ as $(PYTHON)), then does its job.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test airflow lint bench constraints clean

demo: $(STAMP)
	$(BIN)/newsdesk demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

# A local Airflow (scheduler, DAG processor, UI, triggerer) running our DAGs, until Ctrl-C.
airflow: $(STAMP)
	$(BIN)/newsdesk airflow

# Every stage against a 10,000-article demo site; rewrites docs/performance.md (about an hour).
bench: $(STAMP)
	$(BIN)/python bench/performance.py --out docs/performance.md

lint: $(STAMP)
	$(BIN)/ruff check .

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

# Two commands on a fresh machine: `make demo` (the main job, on the embedded sandbox) and
# `make test` (the whole suite). Both create .venv themselves.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
MPQL   := $(VENV)/bin/mpql
STAMP  := $(VENV)/.mpql-installed

.PHONY: demo test fuzz bench tables install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,spark]'
	# An editable install leaves our own modules uncompiled, and PYTHONDONTWRITEBYTECODE (set on
	# some machines, CI among them) stops Python from caching them: every `mpql` start would
	# recompile the package. A wheel install compiles at install time; do the same here.
	$(PY) -m compileall -q mpql
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(MPQL) lint examples/
	$(MPQL) fmt --check examples/
	$(MPQL) demo

test: $(STAMP)
	$(PY) -m pytest -q

# Long property-based runs: every hypothesis test (hypothesis's pytest plugin marks each one
# `hypothesis`) with the large example budget of the `fuzz` profile in tests/conftest.py.
# tests/test_fuzz_reach.py keeps this honest: no test may pin its own budget.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q tests -m hypothesis

# Regenerate mpql/language/_tables.py after editing grammar/mpql.lark (a test checks it).
tables: $(STAMP)
	$(PY) -m mpql.language.tablegen

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis

# ccdlab: two commands on a fresh machine.
#   make lab    set up, create the default data, start JupyterLab on the course
#   make test   set up and run every test (unit, command line, notebooks)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ccdlab-installed
# make data SIZE=tiny|workshop|full; unset: keep whatever verified night is there, else workshop.
# FORCE=1 replaces an existing night (e.g. make data SIZE=tiny FORCE=1).
SIZE   ?=
FORCE  ?=

.PHONY: lab test setup data notebooks bench clean help

help:
	@echo "make lab        set up .venv, create the default dataset, start JupyterLab"
	@echo "make test       set up .venv and run the full test suite"
	@echo "make data       create the default dataset (or SIZE=tiny|workshop|full; FORCE=1 replaces one)"
	@echo "make notebooks  regenerate the student notebooks from solutions/"
	@echo "make bench      run the benchmarks (prints tables)"
	@echo "make clean      remove .venv and generated files (never your data)"

setup: $(STAMP)

# Reinstall only when the package metadata changes: the second run is instant.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "ccdlab needs Python 3.10 or newer; found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

data: $(STAMP)
	$(PY) data_fetch.py $(if $(SIZE),--size $(SIZE),) $(if $(filter 1 yes true,$(FORCE)),--force,)

# JupyterLab refuses to run as root unless told (containers, some workshop servers).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: data
	$(VENV)/bin/jupyter lab --notebook-dir=. $(ALLOW_ROOT) notebooks/00_getting_started.ipynb

test: $(STAMP)
	$(PY) -m pytest

notebooks: $(STAMP)
	$(VENV)/bin/ccdlab student solutions --out notebooks

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info

# ccdlab: two commands on a fresh machine.
#   make lab    set up, create the default data, start JupyterLab on lesson 00
#   make test   set up and run every test (unit, command line, notebooks)
#   make test-browser   the student notebooks in JupyterLab in a real browser (CI runs it after make test)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ccdlab-installed
# make data SIZE=tiny|workshop|full; unset: keep whatever verified night is there, else workshop.
# FORCE=1 replaces an existing night (e.g. make data SIZE=tiny FORCE=1).
SIZE   ?=
FORCE  ?=
# numpy advises the kernel to back large arrays with transparent huge pages. On virtual machines
# where a huge page is slow to fault in, that is most of the time of a frame-sized step: on this
# 2-core VM the first GB of new arrays takes 4-9 s with the advice and 0.6 s without. Everything
# run from here (the lab's kernels, the tests, the benchmarks) runs without it; pass
# NUMPY_MADVISE_HUGEPAGE=1 to keep numpy's default.
export NUMPY_MADVISE_HUGEPAGE ?= 0

.PHONY: lab test test-fast test-browser setup system-packages browser-packages data notebooks bench clean help

help:
	@echo "make lab        set up .venv, create the default dataset, start JupyterLab on lesson 00"
	@echo "make test       set up .venv and run the full test suite"
	@echo "make test-fast  the tests without the notebook runs and the slow ones (a few minutes less)"
	@echo "make test-browser  lessons 00-02 in JupyterLab in headless Chromium (installs chromium and Playwright)"
	@echo "make data       create the default dataset (or SIZE=tiny|workshop|full; FORCE=1 replaces one)"
	@echo "make notebooks  regenerate the student notebooks from solutions/"
	@echo "make bench      run the benchmarks (prints tables)"
	@echo "make clean      remove .venv and generated files (never your data)"

setup: $(STAMP)

# One environment for the course, the instructor's tools and the tests (the `test` extra holds
# `lab` and `instructor`). Reinstalled only when the package metadata changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "ccdlab needs Python 3.10 or newer; found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Debian packages the tests need: bubblewrap, the grading sandbox. Installed when missing and
# this is a Debian machine we may install on (root); otherwise the tests that need it say so.
system-packages:
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing bubblewrap (the grading sandbox) with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "Note: bubblewrap (bwrap) is not installed; grading needs it: sudo apt-get install bubblewrap"; \
	  fi; \
	fi

# The browser test's Python side: Playwright's Python API (the `browser` extra). It drives the
# system's Chromium, so `playwright install` (a browser download) is never run.
BROWSER_STAMP := $(VENV)/.ccdlab-browser-installed
$(BROWSER_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,browser]'
	@touch $(BROWSER_STAMP)

# The browser test's browser: Debian's chromium, installed when no Chromium is on PATH (nor named by
# CCDLAB_CHROMIUM) and this is a Debian machine we may install on (root). Otherwise it stops here
# with one sentence saying what is missing: the browser test never skips.
CHROMIUM_NAMES := chromium chromium-browser google-chrome google-chrome-stable
browser-packages:
	@found=; for name in $${CCDLAB_CHROMIUM:-} $(CHROMIUM_NAMES); do command -v $$name >/dev/null 2>&1 && { found=$$name; break; }; done; \
	if [ -z "$$found" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing chromium (the browser test's browser) with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	      || { echo "The browser test needs Chromium, and 'apt-get install chromium' failed: install it (or Chrome) and run make test-browser again, or set CCDLAB_CHROMIUM to its executable." >&2; exit 1; }; \
	  else \
	    echo "The browser test needs Chromium and none is installed: run 'sudo apt-get install chromium' (Debian, Ubuntu) or install Chrome, or set CCDLAB_CHROMIUM to its executable, then make test-browser again." >&2; \
	    exit 1; \
	  fi; \
	fi

data: $(STAMP)
	$(PY) data_fetch.py $(if $(SIZE),--size $(SIZE),) $(if $(filter 1 yes true,$(FORCE)),--force,)

lab: data
	$(VENV)/bin/ccdlab lab

# Tests run on every core (pytest-xdist; conftest.py makes the work units): TEST_WORKERS=0 runs them
# in this process, one after another.
TEST_WORKERS ?= auto
PARALLEL := -n $(TEST_WORKERS)

test: $(STAMP) system-packages
	$(PY) -m pytest $(PARALLEL)

test-fast: $(STAMP) system-packages
	$(PY) -m pytest $(PARALLEL) -m "not slow and not notebooks"

# tests/browser runs only when named on pytest's command line (see tests/browser/conftest.py).
# Screenshots: artifacts/browser/*.png.
test-browser: $(BROWSER_STAMP) browser-packages
	$(PY) -m pytest tests/browser

notebooks: $(STAMP)
	$(VENV)/bin/ccdlab student solutions --out notebooks

bench: $(STAMP)
	@for script in bench/*.py; do case $$script in */_*) continue;; esac; echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info artifacts

"""pytest set-up shared by the unit tests and the notebook runs (nbval).

The solution and student notebooks run on a tiny synthetic night made once into ``.cache/`` (a
second run only verifies its checksums). The folder is exported as ``CCDLAB_DATA`` before any
notebook kernel starts, so every notebook finds it the way a student's would. Set
``CCDLAB_NOTEBOOK_SIZE=workshop`` to run the notebooks on the workshop-size night instead.

Each solution notebook runs once, under nbval, first in the session (``testpaths`` lists
``solutions`` first). While they run, ``CCDLAB_RESULTS`` names :data:`SOLUTION_RESULTS`, where
their checks record every result: ``tests/test_course.py`` reads it (its path is in
``CCDLAB_SOLUTION_RESULTS``) to prove the solutions earn full marks without running them again.

Markers: ``notebooks`` (every notebook run: nbval items and the course's grading batch) and
``slow``; ``make test-fast`` leaves both out.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NOTEBOOK_DATA_ENV = "CCDLAB_NOTEBOOK_DATA"

#: Where the solution notebooks' checks record their results during this session's nbval run.
SOLUTION_RESULTS = ROOT / ".cache" / "solution-results.jsonl"


def notebook_dataset() -> Path:
    """Create (once) and return the dataset the notebooks run on."""
    from ccdlab.data.fetch import fetch_default

    size = os.environ.get("CCDLAB_NOTEBOOK_SIZE", "tiny")
    dest = ROOT / ".cache" / f"data-{size}"
    fetch_default(dest=dest, size=size, progress=False)
    return dest


def pytest_sessionstart(session):
    dest = notebook_dataset()
    os.environ[NOTEBOOK_DATA_ENV] = str(dest)
    os.environ["CCDLAB_DATA"] = str(dest)
    os.environ.setdefault("MPLBACKEND", "Agg")
    SOLUTION_RESULTS.unlink(missing_ok=True)
    os.environ["CCDLAB_SOLUTION_RESULTS"] = str(SOLUTION_RESULTS)  # for tests/test_course.py


def _is_notebook_item(item) -> bool:
    return str(getattr(item, "fspath", "")).endswith(".ipynb")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_notebook_item(item):
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item):
    """Solution kernels (started at their notebook's first cell) record into SOLUTION_RESULTS; nothing else does."""
    if _is_notebook_item(item) and Path(str(item.fspath)).parent.name == "solutions":
        os.environ["CCDLAB_RESULTS"] = str(SOLUTION_RESULTS)
    else:
        os.environ.pop("CCDLAB_RESULTS", None)

"""pytest set-up shared by the unit tests and the notebook runs (nbval).

The solution and student notebooks run on a tiny synthetic night made once into ``.cache/`` (a
second run only verifies its checksums). The folder is exported as ``CCDLAB_DATA`` before any
notebook kernel starts, so every notebook finds it the way a student's would. Set
``CCDLAB_NOTEBOOK_SIZE=workshop`` to run the notebooks on the workshop-size night instead.

Each solution notebook runs once, under nbval, first in the session (``testpaths`` lists
``solutions`` first). While they run, ``CCDLAB_RESULTS`` names :data:`SOLUTION_RESULTS`, where
their checks record every result: ``tests/test_course.py`` reads it (its path is in
``CCDLAB_SOLUTION_RESULTS``) to prove the solutions earn full marks without running them again.

Every notebook under nbval (solutions and the handed-out 0.1 notebooks) works on a private copy of
that night, so what they write (``reduced/``, L.A.Cosmic's kept results) never reaches the night
the other tests read, fingerprint and copy, even while they run beside it.

``make test`` runs the tests on every core (``pytest -n auto``, pytest-xdist). The work units are
the test modules (their module fixtures are computed once), plus one unit, ``course``, for the
solution notebooks and the test that reads their results, in that order. Units holding slow tests
are handed out first, so no long one starts last. Without pytest-xdist (``pytest`` alone) the same
tests run one after another, in the same order.

Markers: ``notebooks`` (every notebook run: nbval items and the course's grading batch) and
``slow``; ``make test-fast`` leaves both out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NOTEBOOK_DATA_ENV = "CCDLAB_NOTEBOOK_DATA"

#: Where the solution notebooks' checks record their results during this session's nbval run.
SOLUTION_RESULTS = ROOT / ".cache" / "solution-results.jsonl"


def notebook_dataset(create: bool = True) -> Path:
    """The dataset the notebooks run on; created (once) and verified when ``create``."""
    size = os.environ.get("CCDLAB_NOTEBOOK_SIZE", "tiny")
    dest = ROOT / ".cache" / f"data-{size}"
    if create:
        from ccdlab.data.fetch import fetch_default

        fetch_default(dest=dest, size=size, progress=False)
    return dest


def _xdist_worker() -> str | None:
    """This process's name among pytest-xdist's workers (``gw0``...), or None for the main process."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def pytest_sessionstart(session):
    # pytest-xdist's main process runs this before it starts the workers: only it makes the night and
    # clears the solutions' results; each worker finds the night where the main process made it.
    main = _xdist_worker() is None
    if not main:  # each worker is one of the cores: OpenMP (astroscrappy) spinning on the others' would only slow both
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    dest = notebook_dataset(create=main)
    os.environ[NOTEBOOK_DATA_ENV] = str(dest)
    os.environ["CCDLAB_DATA"] = str(dest)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if main:
        SOLUTION_RESULTS.unlink(missing_ok=True)
    os.environ["CCDLAB_SOLUTION_RESULTS"] = str(SOLUTION_RESULTS)  # for tests/test_course.py


_NOTEBOOK_NIGHT: list = []


def notebook_night() -> Path:
    """This process's private copy of the notebooks' night (its raw frames; no ``reduced/``), made once."""
    if not _NOTEBOOK_NIGHT:
        source = Path(os.environ[NOTEBOOK_DATA_ENV])
        copy = Path(tempfile.mkdtemp(prefix="ccdlab-notebook-night-")) / source.name
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("reduced"))
        _NOTEBOOK_NIGHT.append(copy)
    return _NOTEBOOK_NIGHT[0]


def pytest_sessionfinish(session):
    for copy in _NOTEBOOK_NIGHT:
        shutil.rmtree(copy.parent, ignore_errors=True)


def _is_notebook_item(item) -> bool:
    return str(getattr(item, "fspath", "")).endswith(".ipynb")


def _is_solution(item) -> bool:
    return _is_notebook_item(item) and Path(str(item.fspath)).parent.name == "solutions"


#: The test that reads what the solution notebooks' checks recorded: it runs after them, in their unit.
READS_SOLUTION_RESULTS = "tests/test_course.py::test_solutions_earn_full_marks"


def work_unit(nodeid: str) -> str:
    """The unit of work pytest-xdist hands to one worker: ``course`` or the test's module.

    Examples
    --------
    >>> work_unit("solutions/03_master_bias.ipynb::Cell 4"), work_unit("tests/test_io.py::test_read[a::b]")
    ('course', 'tests/test_io.py')
    """
    if (nodeid.startswith("solutions/") and ".ipynb::" in nodeid) or nodeid == READS_SOLUTION_RESULTS:
        return "course"
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scope scheduling (whatever ``--dist`` says), with :func:`work_unit` as the scope,
    handed out in the order of the collection (see :func:`pytest_collection_modifyitems`)."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class CourseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return CourseScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_notebook_item(item):
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.slow)
    slow = {work_unit(item.nodeid) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: work_unit(item.nodeid) not in slow)  # stable: the order within a unit is kept


def pytest_runtest_setup(item):
    """Notebook kernels (started at their notebook's first cell) work on this process's copy of the night;
    solution kernels record into SOLUTION_RESULTS, nothing else does."""
    if _is_notebook_item(item):
        os.environ["CCDLAB_DATA"] = str(notebook_night())
    if _is_solution(item):
        os.environ["CCDLAB_RESULTS"] = str(SOLUTION_RESULTS)
    else:
        os.environ.pop("CCDLAB_RESULTS", None)

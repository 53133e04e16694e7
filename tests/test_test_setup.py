"""How `make test` splits its work (the root conftest.py): units that keep what must stay together,
and notebooks that never write into the night other tests read at the same time."""

from __future__ import annotations

import importlib.util
import shutil
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def root_conftest():
    spec = importlib.util.spec_from_file_location("ccdlab_root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_solutions_and_the_test_that_reads_their_results_are_one_unit(root_conftest):
    unit = root_conftest.work_unit
    assert unit("solutions/03_master_bias.ipynb::Cell 4") == unit(root_conftest.READS_SOLUTION_RESULTS) == "course"
    assert unit("tests/test_course.py::test_student_notebooks_run_end_to_end") == "tests/test_course.py"
    assert unit("tests/test_io.py::test_read[a::b]") == "tests/test_io.py"
    assert unit("tests/data/handed_out_0.1/01_fits_files.ipynb::Cell 0") == "tests/data/handed_out_0.1/01_fits_files.ipynb"


def test_the_scheduler_hands_out_those_units(root_conftest, monkeypatch):
    xdist_scheduler = pytest.importorskip("xdist.scheduler", reason="make test installs pytest-xdist")
    monkeypatch.setattr(xdist_scheduler.LoadScopeScheduling, "__init__", lambda self, config, log=None: None)
    config = types.SimpleNamespace(option=types.SimpleNamespace(loadscopereorder=True))
    scheduler = root_conftest.pytest_xdist_make_scheduler(config, None)
    assert isinstance(scheduler, xdist_scheduler.LoadScopeScheduling)
    assert config.option.loadscopereorder is False  # the units go out in the collection's order
    assert scheduler._split_scope("solutions/00_getting_started.ipynb::Cell 0") == "course"
    assert scheduler._split_scope(root_conftest.READS_SOLUTION_RESULTS) == "course"
    assert scheduler._split_scope("tests/test_grading_attacks.py::test_an_attack_gains_no_points[@evil]") == \
        "tests/test_grading_attacks.py"


class _Item:
    def __init__(self, nodeid: str, slow: bool = False):
        self.nodeid, self.fspath, self.slow, self.markers = nodeid, ROOT / nodeid.split("::")[0], slow, []

    def add_marker(self, mark):
        self.markers.append(mark.name)

    def get_closest_marker(self, name):
        return name if name == "slow" and (self.slow or "slow" in self.markers) else None


def test_units_with_slow_tests_go_first_and_each_keeps_its_order(root_conftest):
    items = [_Item("tests/test_io.py::test_a"), _Item("tests/test_course.py::test_student_notebooks_run_end_to_end", True),
             _Item("tests/test_io.py::test_b"), _Item("solutions/00_getting_started.ipynb::Cell 0"),
             _Item("solutions/00_getting_started.ipynb::Cell 1"), _Item(root_conftest.READS_SOLUTION_RESULTS, True),
             _Item("tests/test_course.py::test_a_blank_notebook_holds_no_written_answer")]
    root_conftest.pytest_collection_modifyitems(None, items)
    assert [item.nodeid for item in items] == [
        "tests/test_course.py::test_student_notebooks_run_end_to_end", "solutions/00_getting_started.ipynb::Cell 0",
        "solutions/00_getting_started.ipynb::Cell 1", root_conftest.READS_SOLUTION_RESULTS,
        "tests/test_course.py::test_a_blank_notebook_holds_no_written_answer",
        "tests/test_io.py::test_a", "tests/test_io.py::test_b"]
    assert items[1].markers == ["notebooks", "slow"]


def test_notebooks_work_on_a_private_copy_of_the_night(root_conftest, tiny_night, monkeypatch):
    monkeypatch.setattr(root_conftest, "_NOTEBOOK_NIGHT", [])
    copy = root_conftest.notebook_night()
    try:
        assert copy != tiny_night and copy.name == tiny_night.name and root_conftest.notebook_night() == copy
        assert not (copy / "reduced").exists()
        raw = sorted(p.relative_to(tiny_night) for p in tiny_night.rglob("*.fits") if "reduced" not in p.parts)
        assert raw and raw == sorted(p.relative_to(copy) for p in copy.rglob("*.fits"))
    finally:
        shutil.rmtree(copy.parent)

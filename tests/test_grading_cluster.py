"""Grading on a Dask cluster (``ccdlab grade --scheduler``): a LocalCluster on 127.0.0.1 (processes,
two workers, one thread each) gives the same grades CSV, byte for byte, as a local ``--jobs 2`` run
of the same submissions; a scheduler that cannot be reached, a missing dask, a worker with another
ccdlab or without the sandbox, a night a worker cannot have: a clear error, never a hang."""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import nbformat
import pytest

from ccdlab import cli
from ccdlab.classroom.authoring import make_student
from ccdlab.classroom.grading import GradeBook, cluster, grade
from ccdlab.classroom.grading.batch import _sandbox_in_use
from ccdlab.classroom.grading.report import write_csv
from ccdlab.errors import GradingError, SandboxError

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"

distributed = pytest.importorskip("distributed", reason="the cluster extra (make setup installs it)")


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """Two worker processes with one thread each on 127.0.0.1; their nights in a folder of this test."""
    cache = tmp_path_factory.mktemp("cluster-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("CCDLAB_CLUSTER_CACHE", str(cache))  # inherited by the worker processes
    made = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None)
    try:
        yield made, cache
    finally:
        made.close()
        mp.undo()


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def solution(lesson="01_fits_files"):
    return nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)


# ----------------------------------------------------------------------------------------------
# Errors, quickly


def test_a_scheduler_that_cannot_be_reached_is_named_quickly(tmp_path, capsys):
    start = time.monotonic()
    with pytest.raises(GradingError, match=r"Could not reach the Dask scheduler at tcp://127\.0\.0\.1:9 .*dask scheduler"):
        cluster.connect("tcp://127.0.0.1:9", timeout=2)
    assert time.monotonic() - start < 30
    with pytest.raises(GradingError, match="needs the scheduler's address"):
        cluster.connect("  ")


def test_without_dask_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(GradingError, match=r"pip install 'ccdlab\[cluster\]'"):
        cluster.connect("tcp://127.0.0.1:8786")


def test_cli_scheduler_error_is_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2)
    nb = write(solution("00_getting_started"), tmp_path / "ada_00_getting_started.ipynb")
    args = cli.build_parser("grade").parse_args(["grade", str(nb), "--out", str(tmp_path / "g.csv"), "--no-data",
                                                 "--no-progress", "--scheduler", "tcp://127.0.0.1:9"])
    assert cli.run_command("grade", args) == 1
    err = capsys.readouterr().err
    assert "tcp://127.0.0.1:9" in err and "Traceback" not in err and not (tmp_path / "g.csv").exists()


def test_a_worker_without_the_sandbox_is_named(tmp_path):
    runner = cluster.ClusterRunner(None, "tcp://sched:8786", {
        "tcp://10.0.0.2:4000": {"host": "node2", "sandbox": ""},
        "tcp://10.0.0.3:4000": {"host": "node3", "sandbox": "bubblewrap (bwrap) is not installed"}}, 2)
    with pytest.raises(SandboxError, match=r"cannot run on the Dask cluster at tcp://sched:8786.*node3.*bwrap"):
        _sandbox_in_use("require", GradeBook(), runner)
    book = GradeBook()
    assert _sandbox_in_use("auto", book, runner) is False and "tcp://10.0.0.3:4000 (node3)" in book.warnings[0]


class _LostFuture:
    def result(self, timeout=None):
        raise TimeoutError

    def cancel(self):
        self.cancelled = True


class _Client:
    def __init__(self, future):
        self.future = future

    def submit(self, *args, **kwargs):
        return self.future


def test_a_task_that_does_not_come_back_costs_its_notebook_only(tmp_path):
    (tmp_path / "data").mkdir()
    write(solution("00_getting_started"), tmp_path / "n.ipynb")
    future = _LostFuture()
    runner = cluster.ClusterRunner(_Client(future), "tcp://sched:8786", {"tcp://w:1": {"sandbox": ""}}, 1)
    job = {"notebook": str(tmp_path / "n.ipynb"), "folder": str(tmp_path / "run"), "data": str(tmp_path / "data"),
           "lesson": "00_getting_started"}
    record = runner(job, tmp_path, 5)
    assert record.status == "kernel failed" and "tcp://sched:8786 did not return" in record.message
    assert future.cancelled


# ----------------------------------------------------------------------------------------------
# Nights on a worker


def test_a_worker_makes_a_synthetic_night_it_does_not_have(tmp_path, monkeypatch, tiny_night):
    monkeypatch.setenv("CCDLAB_CLUSTER_CACHE", str(tmp_path / "cache"))
    spec = cluster.night_spec(tiny_night)
    assert spec["recipe"] == {"size": "tiny", "seed": 20181013, "camera": "cool", "student": "", "truth": True}
    assert cluster.local_night(spec, "b1") == Path(tiny_night).resolve()  # there, same manifest: used as is
    elsewhere = dict(spec, path=str(tmp_path / "not-here"))
    made = cluster.local_night(elsewhere, "b1")
    assert made.is_relative_to(tmp_path / "cache") and (made / "manifest.json").read_bytes() == \
        (Path(tiny_night) / "manifest.json").read_bytes()
    assert cluster.local_night(elsewhere, "b1") == made  # once per batch and machine
    with pytest.raises(GradingError, match="not a synthetic night a worker can make"):
        cluster.local_night(dict(elsewhere, recipe=None), "b1")
    with pytest.raises(GradingError, match="differs from the grading machine's"):
        cluster.local_night(dict(elsewhere, manifest="0" * 64), "b1")


# ----------------------------------------------------------------------------------------------
# A real cluster


def test_a_worker_with_another_ccdlab_is_refused(local_cluster, monkeypatch):
    monkeypatch.setattr(cluster, "package_digest", lambda: "0" * 64)  # this grader only: the workers differ
    with pytest.raises(GradingError, match="runs another ccdlab than this grader"):
        cluster.connect(local_cluster[0].scheduler_address)


def test_connect_counts_the_workers_threads(local_cluster):
    runner = cluster.connect(local_cluster[0].scheduler_address)
    try:
        assert runner.slots == 2 and len(runner.facts) == 2 and runner.sandbox_status() == ""
        assert {f["package"] for f in runner.facts.values()} == {cluster.package_digest()}
    finally:
        runner.close()
    runner = cluster.connect(local_cluster[0].scheduler_address, jobs=1)
    runner.close()
    assert runner.slots == 1


def _class(folder: Path) -> Path:
    """Lessons 00 and 01: solutions, blanks, a raising cell, a dying kernel, a damaged file."""
    write(solution(), folder / "alice_01_fits_files.ipynb")
    write(make_student(solution(), "01_fits_files"), folder / "bob_01_fits_files.ipynb")
    carol = copy.deepcopy(solution())
    cell = next(c for c in carol.cells if c.cell_type == "code" and "EXERCISE 1.1" in c.source)
    cell.source = cell.source.replace('x_len = header["NAXIS1"]', "x_len = 1 / 0")
    write(carol, folder / "carol_01_fits_files.ipynb")
    erin = copy.deepcopy(solution())
    cell = next(c for c in erin.cells if c.cell_type == "code" and "EXERCISE 1.2" in c.source)
    cell.source = "import os\nos._exit(1)\n" + cell.source
    write(erin, folder / "erin_01_fits_files.ipynb")
    write(solution("00_getting_started"), folder / "dave_00_getting_started.ipynb")
    (folder / "frank_01_fits_files.ipynb").write_text('{"cells": [', encoding="utf-8")
    return folder


@pytest.mark.slow
@pytest.mark.notebooks
def test_a_local_cluster_gives_the_same_grades_csv_as_a_local_run(local_cluster, tmp_path, tiny_night):
    returned = _class(tmp_path / "returned")
    settings = dict(timeout=300, cell_timeout=120, progress=False, sandbox="require")
    here = grade([returned], SOLUTIONS, tiny_night, jobs=2, **settings)
    there = grade([returned], SOLUTIONS, tiny_night, scheduler=local_cluster[0].scheduler_address,
                  executed_dir=tmp_path / "executed", **settings)
    assert there.settings["jobs"] == 2 and "Dask cluster" in there.settings["where"] and there.settings["sandboxed"]
    a, b = write_csv(here.rows, tmp_path / "here.csv"), write_csv(there.rows, tmp_path / "there.csv")
    assert a.read_bytes() == b.read_bytes()
    statuses = {(r.student, r.exercise): r.status for r in there.rows}
    assert statuses[("alice", "1.2")] == "correct" and statuses[("bob", "1.1")] == "not attempted"
    assert statuses[("carol", "1.1")] == "error" and statuses[("erin", "1.2")] == "kernel died"
    assert statuses[("dave", "0.1")] == "correct" and statuses[("frank", "1.1")] == "invalid notebook"
    executed = sorted(p.name for p in (tmp_path / "executed").iterdir())
    assert len(executed) == 5 and executed[0].startswith("alice__01_fits_files")  # came back from the workers
    assert "outputs" in (tmp_path / "executed" / executed[0]).read_text()
    assert not there.warnings, there.warnings
    assert not list(local_cluster[1].iterdir()), "the batch's folder was left on the workers"


@pytest.mark.slow
@pytest.mark.notebooks
def test_student_nights_made_on_the_workers_give_the_same_grades(local_cluster, tmp_path, tiny_night):
    """With --student-nights each worker makes the nights of the students it grades from their recipe."""
    returned = tmp_path / "returned"
    write(solution(), returned / "ada_01_fits_files.ipynb")
    write(make_student(solution(), "01_fits_files"), returned / "bob_01_fits_files.ipynb")
    settings = dict(timeout=300, cell_timeout=120, progress=False, sandbox="require", student_nights=True,
                    night_size="tiny")
    here = grade([returned], SOLUTIONS, tiny_night, jobs=2, **settings)
    there = grade([returned], SOLUTIONS, tiny_night, scheduler=local_cluster[0].scheduler_address, **settings)
    a, b = write_csv(here.rows, tmp_path / "here.csv"), write_csv(there.rows, tmp_path / "there.csv")
    assert a.read_bytes() == b.read_bytes()
    assert {(r.student, r.status) for r in there.rows if not r.written} == {("ada", "correct"), ("bob", "not attempted")}
    assert {(r.student, r.status) for r in there.rows if r.written} == {("ada", "ungraded"), ("bob", "not attempted")}

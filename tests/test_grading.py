"""Instructor grading, piece by piece: identification, solutions, scoring, reports, the sandbox runner, CLI.

The batches that run real notebooks are in ``test_grading_batch.py`` (statuses) and
``test_grading_attacks.py`` (hostile notebooks).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ccdlab import cli
from ccdlab.classroom import grading
from ccdlab.classroom.grading import (
    GRADE_STATUSES,
    GradeBook,
    GradeRow,
    GradingError,
    Lesson,
    Submission,
    find_submissions,
    fingerprint,
    grade,
    grade_record,
    identify_lesson,
    identify_student,
    load_solutions,
    read_submission,
)
from ccdlab.classroom.grading import report as grading_report
from ccdlab.classroom.grading import run as grading_run
from ccdlab.classroom.grading import sandbox
from ccdlab.classroom.grading.run import CellRecord, RunRecord, Submitted
from ccdlab.classroom.grading.score import not_counted
from ccdlab.commands import grade as grade_command
from ccdlab.course.markers import Exercise

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def write(nb, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def lesson_notebook(cells, lesson="01_fits_files"):
    nb = new_notebook(cells=cells)
    nb.metadata["ccdlab"] = {"lesson": lesson}
    return nb


# ----------------------------------------------------------------------------------------------
# Solutions and identification


def test_load_solutions():
    lessons = load_solutions(SOLUTIONS)
    assert "01_fits_files" in lessons and lessons["01_fits_files"].ids == ["1.1", "1.2"]
    assert lessons["01_fits_files"].max_points == 5
    assert lessons["01_fits_files"].answers["1.1"] == frozenset({"x_len", "y_len"})


def test_load_solutions_bad_inputs(tmp_path):
    with pytest.raises(GradingError, match="does not exist"):
        load_solutions(tmp_path / "nope")
    write(new_notebook(cells=[new_code_cell("x = 1")]), tmp_path / "plain.ipynb")
    with pytest.raises(GradingError, match="declares an exercise"):
        load_solutions(tmp_path)
    (tmp_path / "broken.ipynb").write_text("{")
    with pytest.raises(GradingError, match="broken.ipynb"):
        load_solutions(tmp_path)


def test_default_solutions_dir():
    assert grading.default_solutions_dir().name == "solutions"


def test_find_submissions(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.ipynb").write_text("{}")
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "a" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    (tmp_path / "odd.txt").write_text("?")
    found = find_submissions([tmp_path / "a", tmp_path / "odd.txt", tmp_path / "a" / "x.ipynb"])
    assert sorted((p.name, r) for p, r in found) == [("odd.txt", None), ("x.ipynb", tmp_path / "a")]
    with pytest.raises(GradingError, match="no such file"):
        find_submissions([tmp_path / "missing.ipynb"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradingError, match="No notebooks"):
        find_submissions([tmp_path / "empty"])


def test_links_in_the_submissions_folder_are_not_followed(tmp_path):
    returned = tmp_path / "returned"
    returned.mkdir()
    write(new_notebook(), returned / "ada_01_fits_files.ipynb")
    (returned / "eve_01_fits_files.ipynb").symlink_to(SOLUTIONS / "01_fits_files.ipynb")
    (returned / "mallory").symlink_to(SOLUTIONS, target_is_directory=True)
    skipped = []
    found = find_submissions([returned], skipped)
    assert [p.name for p, _ in found] == ["ada_01_fits_files.ipynb"]
    assert sorted(p.name for p in skipped) == ["eve_01_fits_files.ipynb", "mallory"]


def test_read_submission(tmp_path):
    good = write(lesson_notebook([new_code_cell("x = 1")]), tmp_path / "good.ipynb")
    assert read_submission(good)[0] is not None
    (tmp_path / "bad.ipynb").write_text("{nope")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    (tmp_path / "cells.ipynb").write_text(json.dumps({"cells": [{"source": 3}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}))
    (tmp_path / "binary.ipynb").write_bytes(b"\xff\xfe\x00")
    for name, words in [("bad", "not valid notebook JSON"), ("list", "not a notebook"), ("cells", "not a valid notebook"),
                        ("binary", "not valid notebook JSON")]:
        notebook, message = read_submission(tmp_path / f"{name}.ipynb")
        assert notebook is None and words in message and f"{name}.ipynb" in message


def test_identify_lesson():
    lessons = load_solutions(SOLUTIONS)
    nb = nbformat.read(SOLUTIONS / "01_fits_files.ipynb", as_version=4)
    nb.metadata["ccdlab"] = {"lesson": "01_fits_files"}
    assert identify_lesson(nb, "whatever.ipynb", lessons) == ("01_fits_files", "notebook metadata")
    assert identify_lesson(nb, "x_03_master_bias.ipynb", lessons)[1].endswith("the file name suggests 03_master_bias")
    nb.metadata.pop("ccdlab")
    assert identify_lesson(nb, "alice-01_fits_files.ipynb", lessons) == ("01_fits_files", "file name")
    assert identify_lesson(nb, "alice.ipynb", lessons) == ("01_fits_files", "exercise IDs")
    assert identify_lesson(new_notebook(), "alice.ipynb", lessons)[0] == ""
    lesson, how = identify_lesson(lesson_notebook([], lesson="99_future"), "alice.ipynb", lessons)
    assert lesson == "" and "99_future" in how


def test_identify_student(tmp_path):
    assert identify_student("r/alice_01_demo.ipynb", "01_demo") == "alice"
    assert identify_student("r/Alice Smith - 01_demo.ipynb", "01_demo") == "Alice_Smith"
    assert identify_student(tmp_path / "bob" / "01_demo.ipynb", "01_demo", root=tmp_path) == "bob"
    nb = new_notebook()
    nb.metadata["authors"] = [{"name": "Carol"}]
    assert identify_student(tmp_path / "01_demo.ipynb", "01_demo", nb, root=tmp_path) == "Carol"
    nb.metadata["ccdlab"] = {"student": "dave"}
    assert identify_student(tmp_path / "01_demo.ipynb", "01_demo", nb, root=tmp_path) == "dave"
    assert identify_student(tmp_path / "01_demo.ipynb", "01_demo", None, root=tmp_path) == "01_demo"
    assert identify_student("erin.ipynb") == "erin"


def test_identify_student_ignores_what_browsers_and_colab_add(tmp_path):
    for name in ("Copy of 01_demo.ipynb", "01_demo (1).ipynb", "01_demo_solved.ipynb",
                 "01_demo-checkpoint.ipynb", "01_demo_final_v2.ipynb"):
        assert identify_student(tmp_path / "ada" / name, "01_demo", root=tmp_path) == "ada", name
    assert identify_student(tmp_path / "ada_01_demo (1).ipynb", "01_demo", root=tmp_path) == "ada"
    assert identify_student(tmp_path / "Copy of bob_01_demo.ipynb", "01_demo", root=tmp_path) == "bob"
    assert identify_student(tmp_path / "donna42_01_demo.ipynb", "01_demo", root=tmp_path) == "donna42"
    assert identify_student(tmp_path / "redone_01_demo.ipynb", "01_demo", root=tmp_path) == "redone"
    assert identify_student(tmp_path / "Copeland_01_demo (2).ipynb", "01_demo", root=tmp_path) == "Copeland"


# ----------------------------------------------------------------------------------------------
# From a run record to rows (no kernel needed)


LESSON = Lesson("01_demo", (Exercise("1.1", 2.0, "Sum"), Exercise("1.2", 1.0), Exercise("1.3", 3.0)))


def demo_nb():
    cells = [new_markdown_cell("# Demo"), new_code_cell("setup()"),
             new_code_cell('# EXERCISE 1.1 (2 points): Sum\ntotal = 2\ncheck("1.1", total=total)'),
             new_code_cell('# EXERCISE 1.2 (1 point): Name\nname = "M31"'), new_code_cell('check("1.2", name=name)'),
             new_code_cell('# EXERCISE 1.3 (3 points): Count\nn = 2\ncheck("1.3", n=n)')]
    return lesson_notebook(cells, "01_demo")


def test_grade_record_takes_the_counted_verdicts():
    record = RunRecord("completed", cells=[CellRecord(i, "ok") for i in (1, 2, 3, 4, 5)], submissions=[
        Submitted("1.1", 2, False, reason="checked twice"),
        Submitted("1.1", 2, True, status="partial", score=0.25, hint="closer"),
        Submitted("1.3", 5, True, status="correct", score=1.0),
        Submitted("9.9", 5, True, status="correct", score=1.0),
    ])
    rows = {r.exercise: r for r in grade_record(record, demo_nb(), LESSON, "alice", "a.ipynb")}
    assert list(rows) == ["1.1", "1.2", "1.3"]
    assert (rows["1.1"].status, rows["1.1"].points, rows["1.1"].hint) == ("partial", 0.5, "closer")
    assert rows["1.2"].status == "missing" and "did not submit" in rows["1.2"].hint
    assert rows["1.3"].points == 3.0 and rows["1.3"].max_points == 3.0
    assert not_counted(record) == ["exercise 1.1 was checked again from code cell 2 (not counted: checked twice)"]


def test_grade_record_a_cell_that_raised_before_its_check():
    record = RunRecord("completed", cells=[CellRecord(2, "error", "ZeroDivisionError", "division by zero")],
                       submissions=[Submitted("1.1", 2, True, status="error", raised="ZeroDivisionError: division by zero")])
    row = grade_record(record, demo_nb(), LESSON, "a")[0]
    assert row.status == "error" and row.points == 0 and "raised ZeroDivisionError" in row.hint


def test_grade_record_statuses_from_cells():
    cells = [CellRecord(1, "ok"), CellRecord(2, "error", "ValueError", "bad"), CellRecord(3, "timeout"),
             CellRecord(4, "not run"), CellRecord(5, "not run")]
    record = RunRecord("timeout", cells=cells, message="The notebook ran out of time (5 s) in code cell 3.")
    rows = {r.exercise: r for r in grade_record(record, demo_nb(), LESSON, "a")}
    assert rows["1.1"].status == "error" and rows["1.1"].hint == "Code cell 2 raised ValueError: bad."
    assert rows["1.2"].status == "timeout" and rows["1.2"].hint.startswith("Code cell 3 (exercise 1.2) ran too long")
    assert rows["1.3"].status == "timeout" and "never reached" in rows["1.3"].hint
    died = RunRecord("kernel died", cells=[CellRecord(1, "ok"), CellRecord(2, "kernel died")] +
                     [CellRecord(i, "not run") for i in (3, 4, 5)], message="The Python kernel died while running cell 3.")
    rows = {r.exercise: r for r in grade_record(died, demo_nb(), LESSON, "a")}
    assert [rows[k].status for k in ("1.1", "1.2", "1.3")] == ["kernel died"] * 3


def test_check_answers():
    source = 'x_len, y_len = check("1.1", x_len=x_len,\n    y_len=y_len)\n%matplotlib inline\nexercises.check("1.2", mean=m)'
    assert grading.check_answers(source) == {"1.1": frozenset({"x_len", "y_len"}), "1.2": frozenset({"mean"})}
    assert grading.check_answers("check(eid, a=1)\ncheck('1.3')") == {}
    assert grading.check_answers("def broken(:") == {}


def test_run_record_round_trip():
    record = RunRecord("timeout", cells=[CellRecord(0, "ok", submitted=["1.1"])],
                       submissions=[Submitted("1.1", 0, True, status="correct", score=1.0)], message="m")
    assert RunRecord.from_dict(json.loads(record.to_json())) == record


def test_dataclasses_and_totals():
    rows = [GradeRow("a", "l", "1", 1.0, 2.0, "partial"), GradeRow("a", "l", "2", 0.0, 1.0, "timeout")]
    sub = Submission(Path("a.ipynb"), "a", "l", "completed", rows=rows)
    assert (sub.points, sub.max_points) == (1.0, 3.0)
    book = GradeBook(submissions=[sub], lessons={"l": Lesson("l", (Exercise("1", 2.0), Exercise("2", 1.0)))})
    assert book.rows == rows
    assert grading_report.student_totals(book)[0]["problems"] == "1 timeout"
    stats = grading_report.exercise_stats(book)
    assert [s["exercise"] for s in stats] == ["2", "1"]  # hardest first
    assert LESSON.ids == ["1.1", "1.2", "1.3"] and LESSON.max_points == 6
    assert set(GRADE_STATUSES) >= {"correct", "not attempted", "missing", "timeout", "wrong check", "invalid notebook"}


def test_fingerprint_notices_a_same_size_edit_with_its_time_restored(tmp_path):
    import os

    frame = tmp_path / "bias.fits"
    frame.write_bytes(b"EXPTIME = 0.001")
    info = frame.stat()
    before = fingerprint(tmp_path, None, tmp_path / "missing")
    frame.write_bytes(b"EXPTIME = 9.999")  # same size
    os.utime(frame, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert fingerprint(tmp_path) != before
    (tmp_path / "b.txt").write_text("2")
    assert set(fingerprint(tmp_path)) - set(before) == {str(tmp_path / "b.txt")}


# ----------------------------------------------------------------------------------------------
# Reports


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    rows = [GradeRow("=HYPERLINK(\"http://evil\")", "01", "1.1", 2, 2, "correct", hint="+1 ok"),
            GradeRow("@sum", "01", "1.1", 0, 2, "incorrect", hint="-x"), GradeRow("ada", "01", "1.1", 2, 2, "correct")]
    path = grading_report.write_csv(rows, tmp_path / "g.csv")
    table = list(csv.DictReader(path.open()))
    assert [r["student"] for r in table] == ["'=HYPERLINK(\"http://evil\")", "'@sum", "ada"]
    assert [r["hint"] for r in table] == ["'+1 ok", "'-x", ""]
    for row in table:
        assert not any(str(v).startswith(("=", "+", "-", "@")) for v in row.values())


def test_reports_say_when_no_sandbox_was_used(tmp_path):
    book = GradeBook(settings={"sandboxed": False}, warnings=["NO SANDBOX: bwrap is missing."])
    md = grading_report.summary_markdown(book)
    assert "WITHOUT the sandbox" in md and "NO SANDBOX" in md


# ----------------------------------------------------------------------------------------------
# The sandbox


def test_the_sandbox_runs_here():
    """make test installs bubblewrap: on this machine the sandbox must work (it never silently skips)."""
    assert sandbox.status() == "", sandbox.status()


def test_sandbox_command_line_confines_and_limits(tmp_path):
    mounts = sandbox.Mounts(work=tmp_path / "w", raw={"bias": tmp_path / "bias"}, reduced=tmp_path / "r",
                            outbox=tmp_path / "o", inbox=tmp_path / "i")
    argv = sandbox.sandbox_argv(mounts, ["python", "-c", "pass"], {"A": "1"}, sandbox.Limits(memory=123), "/cg")
    assert argv[:3] == [__import__("sys").executable, "-m", "ccdlab.classroom.grading.confine"]
    assert "--memory" in argv and "123" in argv and "--cgroup" in argv
    text = " ".join(argv)
    for piece in ("--unshare-all", "--die-with-parent", "--cap-drop ALL", "--clearenv", "--setenv A 1",
                  f"--ro-bind {tmp_path / 'bias'} /sandbox/data/bias", f"--bind {tmp_path / 'r'} /sandbox/data/reduced",
                  f"--ro-bind {tmp_path / 'i'} /sandbox/inbox", f"--bind {tmp_path / 'o'} /sandbox/outbox"):
        assert piece in text, piece
    hidden = sandbox.package_paths()["hide"]
    assert any(p.name == "checks" for p in hidden) and any(p.name == "classroom" for p in hidden)


def test_a_missing_bwrap_is_said_loudly(monkeypatch):
    sandbox._probe.cache_clear()
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    try:
        assert "bubblewrap (bwrap) is not installed" in sandbox.status()
        with pytest.raises(grading.GradingError, match="cannot run on this machine"):
            sandbox.require()
        book = GradeBook()
        with pytest.raises(grading.GradingError, match="Nothing was graded"):
            grading.batch._sandbox_in_use("require", book)
        assert grading.batch._sandbox_in_use("auto", book) is False and "NO SANDBOX" in book.warnings[0]
    finally:
        monkeypatch.undo()
        sandbox._probe.cache_clear()


def test_execute_notebook_stubborn_loop_and_notebook_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(grading_run, "PROBE_SECONDS", 1)
    stubborn = ("import time\nwhile True:\n    try:\n        time.sleep(10)\n    except KeyboardInterrupt:\n        pass")
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell(stubborn), new_code_cell("y = 2")])
    record = grading_run.execute_notebook(nb, tmp_path / "a", None, None, "01_fits_files", cell_timeout=2, timeout=40)
    assert record.status == "timeout" and "did not stop" in record.message
    assert [c.status for c in record.cells] == ["ok", "timeout", "not run"]
    nb = new_notebook(cells=[new_code_cell("import time\ntime.sleep(60)"), new_code_cell("y = 2")])
    start = time.monotonic()
    record = grading_run.execute_notebook(nb, tmp_path / "b", None, None, "01_fits_files", cell_timeout=60, timeout=4)
    assert record.status == "timeout" and "ran out of time" in record.message and time.monotonic() - start < 30


def test_execute_notebook_caps_printed_output_and_displays(tmp_path):
    many = ("from IPython.display import HTML, display\nfor i in range(400):\n    display(HTML('y' * 50_000))\n"
            "display(HTML('<b>late</b>'), display_id='kept')")
    nb = new_notebook(cells=[new_code_cell("for i in range(300000):\n    print('xxxxxxxxxx')"),
                             new_code_cell("from IPython.display import HTML, display\ndisplay(HTML('x' * 20_000_000))"),
                             new_code_cell(many), new_code_cell("display(HTML('<i>fine</i>'))")])
    record = grading_run.execute_notebook(nb, tmp_path, None, None, "01_fits_files", cell_timeout=60, timeout=120)
    assert record.status == "completed"
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert len(text) < grading_run.Limits().output_chars + 1000 and "truncated by the grader" in text
    assert "left out by the grader" in json.dumps(nb.cells[1].outputs)
    # 400 displays of 50 kB: 20 MB in all, kept up to the 5 MB of one display, then one note
    kept = nb.cells[2].outputs
    assert len(json.dumps(kept)) < grading_run.Limits().display_bytes * 1.1
    assert sum("displays past 5 MB in this cell, left out by the grader" in json.dumps(o) for o in kept) == 1
    assert 90 <= len(kept) <= 102  # 99 kept, the note, the one with a display id
    assert "fine" in json.dumps(nb.cells[3].outputs)  # the next cell has its own allowance


def test_stopping_the_workers_ends_running_notebooks_at_once(tmp_path):
    """What Ctrl-C does during a batch: running notebooks stop now, not at their timeout."""
    write(new_notebook(cells=[new_code_cell("while True:\n    pass")]), tmp_path / "loop.ipynb")
    job = {"notebook": str(tmp_path / "loop.ipynb"), "folder": str(tmp_path / "run"), "data": None,
           "lesson": "01_fits_files", "cell_timeout": 120, "timeout": 120}
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault(
        "record", grading.batch.run_worker(job, tmp_path / "job.json", 180)))
    thread.start()
    for _ in range(300):
        if grading.batch._LIVE:
            break
        time.sleep(0.1)
    time.sleep(3)
    start = time.monotonic()
    grading.batch.stop_workers()
    thread.join(timeout=30)
    assert not thread.is_alive() and time.monotonic() - start < 30
    assert outcome["record"].status == "kernel failed"


# ----------------------------------------------------------------------------------------------
# Command line


def parse(*argv):
    parser = argparse.ArgumentParser()
    grade_command.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize("argv, words", [
    (["--timeout", "0"], "positive"),
    (["--jobs", "0"], "at least 1"),
    (["--memory", "0"], "--memory"),
    (["--out", "grades.txt"], ".csv"),
    (["--data", "/no/such/data"], "--data DIR"),
    (["--solutions", "/no/such/solutions", "--no-data"], "solutions folder"),
])
def test_cli_bad_inputs(tmp_path, capsys, argv, words):
    nb = write(lesson_notebook([new_code_cell("x = 1")]), tmp_path / "a_01_fits_files.ipynb")
    args = [str(nb), "--out", str(tmp_path / "g.csv"), "--no-progress"] + argv
    if "--out" in argv:
        args[1:3] = []
    assert cli.run_command("grade", parse(*args)) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_cli_missing_submission(tmp_path, capsys):
    code = cli.run_command("grade", parse(str(tmp_path / "none.ipynb"), "--out", str(tmp_path / "g.csv"), "--no-data"))
    assert code == 1 and "none.ipynb: no such file" in capsys.readouterr().err


def test_cli_checks_the_output_before_anything_runs(tmp_path, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(grading.batch, "run_worker", lambda *a, **k: ran.append(1))
    nb = write(lesson_notebook([new_code_cell("x = 1")]), tmp_path / "a_01_fits_files.ipynb")
    (tmp_path / "file").write_text("x")
    code = cli.run_command("grade", parse(str(nb), "--out", str(tmp_path / "file" / "g.csv"), "--no-data", "--no-progress"))
    assert code == 1 and "Could not write the grades" in capsys.readouterr().err and ran == []


def test_wrong_lesson_and_unknown_lesson_with_lesson_option(tmp_path):
    other = lesson_notebook([new_code_cell("x = 1")], lesson="03_master_bias")
    write(other, tmp_path / "judy.ipynb")
    write(new_notebook(cells=[new_code_cell("x = 1")]), tmp_path / "zed.ipynb")
    (tmp_path / "frank.ipynb").write_text("garbage")
    book = grade([tmp_path], SOLUTIONS, None, lesson="01_fits_files", progress=False)  # nothing runs
    statuses = {(r.student, r.exercise): r.status for r in book.rows}
    assert statuses[("judy", "1.1")] == "wrong lesson" and statuses[("zed", "1.2")] == "unknown lesson"
    assert statuses[("frank", "")] == "invalid notebook"


def test_grade_bad_inputs(tmp_path):
    nb = write(lesson_notebook([new_code_cell("x = 1")]), tmp_path / "a_01_fits_files.ipynb")
    with pytest.raises(GradingError, match="No solution notebook for lesson"):
        grade([nb], SOLUTIONS, None, lesson="07_nope", progress=False)
    with pytest.raises(GradingError, match="data folder"):
        grade([nb], SOLUTIONS, tmp_path / "nodata", progress=False)
    with pytest.raises(GradingError, match="does not exist"):
        grade([nb], tmp_path / "nosolutions", None, progress=False)



def test_a_grading_worker_starts_without_compiling_iri_grammars():
    """jsonschema's IRI checker (rfc3987_syntax) compiles 39 grammars on import, 1.6 s per worker: the
    grader's processes leave it out, and nbformat still validates notebooks (no schema uses ``iri``)."""
    script = (
        "import sys, ccdlab.classroom.grading.worker, nbformat\n"
        "from nbformat.v4 import new_notebook, new_code_cell\n"
        "nb = new_notebook(cells=[new_code_cell('1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'no such type'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "    print('accepted a broken notebook')\n"
        "except nbformat.ValidationError:\n"
        "    print(sys.modules.get('rfc3987_syntax', 'imported'))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"

"""Tests of instructor grading: identification, sandboxed runs, hostile notebooks, reports, CLI.

Most tests use a tiny course made here: a solution folder with two small lessons whose checks call
``ccdlab.course.results`` directly, and a small data folder. One batch of mixed submissions (a full-marks
solution, a blank student copy, and every hostile case) is graded once per test session.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ccdlab import cli
from ccdlab.classroom import grading
from ccdlab.commands import grade as grade_command
from ccdlab.classroom.grading import report as grading_report, run as grading_run
from ccdlab.classroom.grading import (
    GRADE_STATUSES, GradeBook, GradeRow, GradingError, Lesson, Submission, find_submissions, fingerprint,
    grade, grade_record, identify_lesson, identify_student, load_solutions, read_submission, suspect_cells,
)
from ccdlab.classroom.grading.run import CellRecord, RunRecord
from ccdlab.course.markers import Exercise

# The checks of the little course: the solution avoids naming grading internals on purpose, so a
# student cell that names them stands out (see grading.suspect_cells).
SETUP = '''import importlib, os
_res = importlib.import_module("ccdlab." + "results")

def check(eid, value, expected):
    make = getattr(_res, "Exercise" + "Result")
    if value is ...:
        return _res.record(make(eid, "not attempted", 0.0, "Fill in the blank.", "01_demo"))
    ok = value == expected
    return _res.record(make(eid, "correct" if ok else "incorrect", float(ok),
                            "" if ok else f"Not quite: look again at {eid}.", "01_demo"))
'''

EX11 = '''# EXERCISE 1.1 (2 points): Sum
### BEGIN SOLUTION
total = 1 + 1
### END SOLUTION
check("1.1", total, 2)'''

EX12 = '''# EXERCISE 1.2 (1 point): Name
### BEGIN SOLUTION
name = "M31"
### END SOLUTION'''

CHECK12 = 'check("1.2", name, "M31")'

EX13 = '''# EXERCISE 1.3 (3 points): Count the bias frames
### BEGIN SOLUTION
n_bias = len(os.listdir(os.path.join(os.environ["CCDLAB_DATA"], "bias")))
### END SOLUTION
check("1.3", n_bias, 2)'''


def solution_cells():
    return [new_markdown_cell("# Demo lesson"), new_code_cell(SETUP), new_code_cell(EX11),
            new_code_cell(EX12), new_code_cell(CHECK12), new_code_cell(EX13)]


def lesson_notebook(cells, lesson="01_demo"):
    nb = new_notebook(cells=cells)
    nb.metadata["ccdlab"] = {"lesson": lesson}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def blank(source: str) -> str:
    """The student version of a cell: each assignment in a solution block becomes ``name = ...``."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif inside:
            match = re.match(r"^(\s*)(\w+)\s*=", line)
            if match:
                out.append(f"{match[1]}{match[2]} = ...")
        else:
            out.append(line)
    return "\n".join(out)


def write(nb, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A solutions folder with lessons 01_demo (6 points) and 02_other (1 point), and a data folder."""
    root = tmp_path_factory.mktemp("course")
    solutions = root / "solutions"
    write(lesson_notebook(solution_cells()), solutions / "01_demo.ipynb")
    other = lesson_notebook([new_code_cell(SETUP), new_code_cell(
        '# EXERCISE 2.1 (1 point): Two\n### BEGIN SOLUTION\ntwo = 2\n### END SOLUTION\ncheck("2.1", two, 2)')],
        lesson="02_other")
    write(other, solutions / "02_other.ipynb")
    data = root / "data"
    for folder in ("bias", "flats", "science"):
        (data / folder).mkdir(parents=True)
    (data / "bias" / "b1.fits").write_bytes(b"bias one")
    (data / "bias" / "b2.fits").write_bytes(b"bias two")
    (data / "flats" / "f1.fits").write_bytes(b"flat")
    return {"root": root, "solutions": solutions, "data": data}


def student_nb(**replace):
    """The blank student notebook, with some cells replaced (index -> source, or None to delete)."""
    cells = [new_markdown_cell(c.source) if c.cell_type == "markdown" else new_code_cell(blank(c.source))
             for c in solution_cells()]
    return lesson_notebook(cells)


def answered_nb(changes=None, insert=None, delete=()):
    """The solution notebook with some cells changed, cells inserted ({index: source}), cells deleted."""
    cells = solution_cells()
    for index, source in (changes or {}).items():
        cells[index] = new_code_cell(source)
    for index in sorted(insert or {}, reverse=True):
        cells.insert(index, new_code_cell(insert[index]))
    cells = [cell for i, cell in enumerate(cells) if i not in set(delete)]
    return lesson_notebook(cells)


@pytest.fixture(scope="session")
def batch(course, tmp_path_factory):
    """Grade one batch with every kind of submission; return (book, folder of submissions)."""
    subs = tmp_path_factory.mktemp("returned")
    solutions = course["solutions"]
    write(lesson_notebook(solution_cells()), subs / "alice_01_demo.ipynb")
    write(student_nb(), subs / "bob_01_demo.ipynb")
    write(answered_nb({2: EX11.replace("total = 1 + 1", "total = 1 / 0")}), subs / "carol_01_demo.ipynb")
    loops = tmp_path_factory.mktemp("returned-loop")  # the one case that needs a short cell timeout
    write(answered_nb({3: EX12.replace('name = "M31"', "while True:\n    pass")}), loops / "dave_01_demo.ipynb")
    write(answered_nb({3: EX12.replace('name = "M31"', "import os\nos._exit(1)")}), subs / "erin_01_demo.ipynb")
    (subs / "frank_01_demo.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour', encoding="utf-8")
    write(answered_nb(delete=(3, 4)), subs / "grace_01_demo.ipynb")
    # heidi: check of 1.2 moved above its answer, 1.1 duplicated, one cell added
    heidi = answered_nb(insert={6: "print('my own extra cell')"})
    heidi.cells[3], heidi.cells[4] = heidi.cells[4], heidi.cells[3]
    heidi.cells.insert(3, new_code_cell(EX11))
    write(heidi, subs / "heidi_01_demo.ipynb")
    write(lesson_notebook(solution_cells()), subs / "ivan_homework_final.ipynb")  # renamed
    judy = lesson_notebook([new_code_cell(SETUP), new_code_cell('# EXERCISE 2.1 (1 point): Two\ntwo = 2\ncheck("2.1", two, 2)')],
                           lesson="02_other")
    write(judy, subs / "judy_01_demo.ipynb")  # another lesson's notebook under this lesson's name
    # mallory: deletes her data copy, other students' files, and touches the solutions folder
    hostile = ("import shutil, glob, os\n"
               "shutil.rmtree(os.environ['CCDLAB_DATA'], ignore_errors=True)\n"
               f"for p in glob.glob({str(subs)!r} + '/*.ipynb'):\n"
               "    if 'mallory' not in p and 'zed' in p:\n"
               "        os.remove(p)\n"
               f"open({str(solutions / 'mallory-was-here.txt')!r}, 'w').write('x')")
    write(answered_nb(insert={5: hostile}), subs / "mallory_01_demo.ipynb")
    # trudy: writes results herself, once openly and once by rewriting the results file
    forge = "from ccdlab.course.results import record, ExerciseResult\nrecord(ExerciseResult('1.3', 'correct', 1.0))"
    rewrite = ("import json, os\np = os.environ['CCDLAB_' + 'RES' + 'ULTS']\n"
               "open(p, 'w').write(json.dumps({'exercise': '1.2', 'status': 'correct', 'score': 1.0}) + '\\n')")
    write(answered_nb({5: forge, 3: rewrite}, delete=(4,)), subs / "trudy_01_demo.ipynb")
    write(new_notebook(cells=[new_code_cell("print('hello')")]), subs / "zed_notes.ipynb")
    book = grade([subs], solutions, course["data"], timeout=120, cell_timeout=60, jobs=2, progress=False)
    looped = grade([loops], solutions, course["data"], timeout=60, cell_timeout=2, jobs=1, progress=False)
    book.submissions.extend(looped.submissions)
    return book, subs


def rows_of(book, student):
    return {row.exercise: row for row in book.rows if row.student == student}


# ----------------------------------------------------------------------------------------------
# The batch: every case graded, none stops the others


def test_solution_scores_full_marks(batch):
    book, _ = batch
    rows = rows_of(book, "alice")
    assert {k: r.status for k, r in rows.items()} == {"1.1": "correct", "1.2": "correct", "1.3": "correct"}
    assert sum(r.points for r in rows.values()) == 6


def test_blank_student_notebook_scores_zero(batch):
    rows = rows_of(batch[0], "bob")
    assert sum(r.points for r in rows.values()) == 0
    assert {r.status for r in rows.values()} == {"not attempted"}
    assert rows["1.1"].hint == "Fill in the blank."


def test_cell_that_raises_is_an_error_and_later_exercises_grade(batch):
    rows = rows_of(batch[0], "carol")
    assert rows["1.1"].status == "error" and "ZeroDivisionError" in rows["1.1"].hint
    assert rows["1.2"].status == rows["1.3"].status == "correct"


def test_infinite_loop_times_out_and_later_exercises_grade(batch):
    rows = rows_of(batch[0], "dave")
    assert rows["1.1"].status == "correct"
    assert rows["1.2"].status == "timeout" and "too long" in rows["1.2"].hint
    assert rows["1.3"].status == "correct"


def test_kernel_death_is_reported_and_earlier_results_kept(batch):
    rows = rows_of(batch[0], "erin")
    assert rows["1.1"].status == "correct"
    assert rows["1.2"].status == rows["1.3"].status == "kernel died"


def test_invalid_json_is_an_invalid_notebook_with_its_lesson_rows(batch):
    rows = rows_of(batch[0], "frank")
    assert set(rows) == {"1.1", "1.2", "1.3"}
    assert {r.status for r in rows.values()} == {"invalid notebook"}
    assert "JSON" in rows["1.1"].hint


def test_deleted_cells_are_missing(batch):
    rows = rows_of(batch[0], "grace")
    assert rows["1.2"].status == "missing" and "deleted" in rows["1.2"].hint
    assert rows["1.1"].status == rows["1.3"].status == "correct"


def test_reordered_duplicated_and_added_cells(batch):
    rows = rows_of(batch[0], "heidi")
    assert rows["1.1"].status == "correct"
    assert rows["1.2"].status == "error" and "NameError" in rows["1.2"].hint and "moved" in rows["1.2"].hint
    assert rows["1.3"].status == "correct"


def test_renamed_notebook_is_recognised_by_metadata(batch):
    rows = rows_of(batch[0], "ivan")  # "_homework_final" says nothing about who
    assert rows and all(r.lesson == "01_demo" and r.status == "correct" for r in rows.values())


def test_notebook_of_another_lesson_is_graded_as_that_lesson_and_noted(batch):
    book = batch[0]
    sub = next(s for s in book.submissions if s.path.name == "judy_01_demo.ipynb")
    assert sub.lesson == "02_other" and sub.student == "judy_01_demo"
    assert rows_of(book, "judy_01_demo")["2.1"].status == "correct"
    assert any("file name suggests 01_demo" in note for note in sub.notes)


def test_deleting_files_harms_only_the_submission_itself(batch, course):
    book, subs = batch
    rows = rows_of(book, "mallory")
    assert rows["1.1"].status == "correct"
    assert rows["1.3"].status == "error" and "FileNotFoundError" in rows["1.3"].hint
    assert sorted(p.name for p in (course["data"] / "bias").iterdir()) == ["b1.fits", "b2.fits"]
    assert not (subs / "zed_notes.ipynb").exists()  # she deleted it on disk...
    assert any(s.path.name == "zed_notes.ipynb" and s.status == "unknown lesson" for s in book.submissions)  # ...graded anyway
    assert any("changed while grading" in w and "solutions" in w for w in book.warnings)


def test_results_not_written_by_a_check_are_tampered(batch):
    rows = rows_of(batch[0], "trudy")
    assert rows["1.1"].status == "correct"  # recorded before she rewrote the file: kept
    assert rows["1.2"].status == "tampered" and "rewrote the results file" in rows["1.2"].hint
    assert rows["1.3"].status == "tampered" and "ExerciseResult" in rows["1.3"].hint
    assert rows["1.2"].points == rows["1.3"].points == 0


def test_unknown_lesson_gets_one_row(batch):
    rows = [r for r in batch[0].rows if r.student == "zed_notes"]
    assert len(rows) == 1 and rows[0].status == "unknown lesson" and rows[0].max_points == 0


def test_every_status_is_a_known_status(batch):
    assert {row.status for row in batch[0].rows} <= set(GRADE_STATUSES)
    assert len(batch[0].submissions) == 13


def test_reports_from_the_batch(batch, tmp_path):
    book, _ = batch
    paths = grading_report.write_reports(book, tmp_path / "grades.csv")
    with open(paths[0], newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == list(grading_report.CSV_COLUMNS)
    alice = [r for r in table if r["student"] == "alice"]
    assert [r["exercise"] for r in alice] == ["1.1", "1.2", "1.3"] and [r["points"] for r in alice] == ["2", "1", "3"]
    md = paths[1].read_text()
    assert "## Exercises, hardest first" in md and "| alice | 01_demo | 6 | 6 | 100% |" in md
    assert "trudy" in md.split("## Notebooks to look at")[1]
    assert "<table>" in paths[2].read_text()
    assert "| judy_01_demo | all lessons | 1 | 1 | 100% |" in md  # several lessons: overall lines too


# ----------------------------------------------------------------------------------------------
# Identification and reading


def test_load_solutions(course):
    lessons = load_solutions(course["solutions"])
    assert sorted(lessons) == ["01_demo", "02_other"]
    assert lessons["01_demo"].ids == ["1.1", "1.2", "1.3"] and lessons["01_demo"].max_points == 6


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
    assert [(p.name, r) for p, r in found] == [("x.ipynb", tmp_path / "a"), ("odd.txt", None)]
    with pytest.raises(GradingError, match="no such file"):
        find_submissions([tmp_path / "missing.ipynb"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradingError, match="No notebooks"):
        find_submissions([tmp_path / "empty"])


def test_read_submission(tmp_path):
    good = write(lesson_notebook(solution_cells()), tmp_path / "good.ipynb")
    assert read_submission(good)[0] is not None
    (tmp_path / "bad.ipynb").write_text("{nope")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    (tmp_path / "cells.ipynb").write_text(json.dumps({"cells": [{"source": 3}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}))
    (tmp_path / "binary.ipynb").write_bytes(b"\xff\xfe\x00")
    for name, words in [("bad", "not valid notebook JSON"), ("list", "not a notebook"), ("cells", "not a valid notebook"),
                        ("binary", "not valid notebook JSON")]:
        notebook, message = read_submission(tmp_path / f"{name}.ipynb")
        assert notebook is None and words in message and f"{name}.ipynb" in message


def test_identify_lesson(course):
    lessons = load_solutions(course["solutions"])
    nb = lesson_notebook(solution_cells())
    assert identify_lesson(nb, "whatever.ipynb", lessons) == ("01_demo", "notebook metadata")
    assert identify_lesson(nb, "x_02_other.ipynb", lessons)[1].endswith("the file name suggests 02_other")
    nb.metadata.pop("ccdlab")
    assert identify_lesson(nb, "alice-01_demo.ipynb", lessons) == ("01_demo", "file name")
    assert identify_lesson(nb, "alice.ipynb", lessons) == ("01_demo", "exercise IDs")
    assert identify_lesson(new_notebook(), "alice.ipynb", lessons)[0] == ""
    other = lesson_notebook([], lesson="09_future")
    lesson, how = identify_lesson(other, "alice.ipynb", lessons)
    assert lesson == "" and "09_future" in how
    assert identify_lesson(None, "bob_02_other.ipynb", lessons) == ("02_other", "file name")


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
    # Colab downloads "Copy of ..."; browsers add " (1)"; students add "_solved" or "_final".
    for name in ("Copy of 01_demo.ipynb", "01_demo (1).ipynb", "01_demo_solved.ipynb",
                 "01_demo-checkpoint.ipynb", "01_demo_final_v2.ipynb"):
        assert identify_student(tmp_path / "ada" / name, "01_demo", root=tmp_path) == "ada", name
    assert identify_student(tmp_path / "ada_01_demo (1).ipynb", "01_demo", root=tmp_path) == "ada"
    assert identify_student(tmp_path / "Copy of bob_01_demo.ipynb", "01_demo", root=tmp_path) == "bob"
    # a name that merely contains a noise word or digits is kept
    assert identify_student(tmp_path / "donna42_01_demo.ipynb", "01_demo", root=tmp_path) == "donna42"
    assert identify_student(tmp_path / "redone_01_demo.ipynb", "01_demo", root=tmp_path) == "redone"
    assert identify_student(tmp_path / "Copeland_01_demo (2).ipynb", "01_demo", root=tmp_path) == "Copeland"


def test_suspect_cells():
    lesson = Lesson("l", (Exercise("1", 1.0),), source="check('1', x)")
    nb = new_notebook(cells=[new_code_cell("check('1', x)"), new_markdown_cell("ExerciseResult"),
                             new_code_cell("from ccdlab.course.results import record, ExerciseResult")])
    assert suspect_cells(nb, lesson) == {2: ["ExerciseResult", "ccdlab.course.results"]}
    allowed = Lesson("l", (), source="from ccdlab.course.results import record, ExerciseResult")
    assert suspect_cells(nb, allowed) == {}
    own = new_notebook(cells=[new_code_cell("my_record = 1\nresults_record = 2"),
                              new_code_cell("from ccdlab import exercises\nexercises._record('1', 'correct', 1, '', '')")])
    assert suspect_cells(own, lesson) == {1: ["_record"]}


# ----------------------------------------------------------------------------------------------
# From a run record to rows (no kernel needed)


LESSON = Lesson("01_demo", (Exercise("1.1", 2.0, "Sum"), Exercise("1.2", 1.0), Exercise("1.3", 3.0)))


def demo_nb():
    return lesson_notebook(solution_cells())


def test_grade_record_last_result_wins_and_points_scale():
    record = RunRecord("completed", cells=[CellRecord(i, "ok") for i in (1, 2, 3, 4, 5)], results=[
        {"exercise": "1.1", "status": "incorrect", "score": 0.0, "cell": 2},
        {"exercise": "1.1", "status": "partial", "score": 0.25, "hint": "closer", "cell": 2},
        {"exercise": "1.3", "status": "correct", "score": 1.0, "cell": 5},
        {"exercise": "9.9", "status": "correct", "score": 1.0, "cell": 5},
        {"exercise": "1.2", "status": "bogus", "score": 1.0, "cell": 4},
        {"exercise": "1.2", "status": "correct", "score": 7.0, "cell": 4},
    ])
    rows = {r.exercise: r for r in grade_record(record, demo_nb(), LESSON, "alice", "a.ipynb")}
    assert list(rows) == ["1.1", "1.2", "1.3"]
    assert (rows["1.1"].status, rows["1.1"].points, rows["1.1"].hint) == ("partial", 0.5, "closer")
    assert rows["1.2"].status == "missing" and "no check recorded" in rows["1.2"].hint
    assert rows["1.3"].points == 3.0 and rows["1.3"].max_points == 3.0 and rows["1.3"].title == ""


def test_grade_record_statuses_from_cells():
    cells = [CellRecord(1, "ok"), CellRecord(2, "error", "ValueError", "bad"), CellRecord(3, "timeout"),
             CellRecord(4, "not run"), CellRecord(5, "not run")]
    record = RunRecord("timeout", cells=cells, message="The notebook ran out of time (5 s) in cell 4.")
    rows = {r.exercise: r for r in grade_record(record, demo_nb(), LESSON, "a")}
    assert rows["1.1"].status == "error" and rows["1.1"].hint == "Cell 3 raised ValueError: bad."
    assert rows["1.2"].status == "timeout" and "Cell 4" in rows["1.2"].hint
    assert rows["1.3"].status == "timeout" and "never reached" in rows["1.3"].hint
    died = RunRecord("kernel died", cells=[CellRecord(1, "ok"), CellRecord(2, "kernel died")] +
                     [CellRecord(i, "not run") for i in (3, 4, 5)], message="The Python kernel died while running cell 3.")
    rows = {r.exercise: r for r in grade_record(died, demo_nb(), LESSON, "a")}
    assert [rows[k].status for k in ("1.1", "1.2", "1.3")] == ["kernel died"] * 3


def test_grade_record_tampered_results():
    nb = demo_nb()
    nb.cells.append(new_code_cell("import os\nos.environ['CCDLAB_RESULTS']"))
    record = RunRecord("completed", cells=[CellRecord(i, "ok") for i in range(1, 7)], results=[
        {"exercise": "1.1", "status": "correct", "score": 1.0, "cell": 6},
        {"exercise": "1.2", "status": "correct", "score": 1.0, "cell": 4},
    ])
    record.cells[3].rewrote_results = True
    rows = {r.exercise: r for r in grade_record(record, nb, LESSON, "a")}
    assert rows["1.1"].status == "tampered" and "CCDLAB_RESULTS" in rows["1.1"].hint
    assert rows["1.2"].status == "tampered" and rows["1.2"].points == 0


def test_check_answers():
    source = 'x_len, y_len = check("1.1", x_len=x_len,\n    y_len=y_len)\n%matplotlib inline\nexercises.check("1.2", mean=m)'
    assert grading.check_answers(source) == {"1.1": frozenset({"x_len", "y_len"}), "1.2": frozenset({"mean"})}
    assert grading.check_answers("check(eid, a=1)\ncheck('1.3')") == {}
    assert grading.check_answers("def broken(:") == {}


def test_grade_record_wrong_check():
    lesson = Lesson("01_demo", LESSON.exercises, answers={"1.1": frozenset({"x_len", "y_len"}), "1.3": frozenset({"mean"})})
    parts = {"x_len": "right", "y_len": "right"}
    record = RunRecord("completed", cells=[CellRecord(i, "ok") for i in range(1, 6)], results=[
        {"exercise": "1.1", "status": "correct", "score": 1.0, "cell": 2, "details": {"parts": parts}},
        {"exercise": "1.3", "status": "correct", "score": 1.0, "cell": 5, "details": {"parts": parts}},
        {"exercise": "1.2", "status": "correct", "score": 1.0, "cell": 4, "details": {"parts": parts}},
    ])
    rows = {r.exercise: r for r in grade_record(record, demo_nb(), lesson, "a")}
    assert rows["1.1"].status == "correct" and rows["1.1"].points == 2
    assert rows["1.3"].status == "wrong check" and rows["1.3"].points == 0 and "x_len, y_len, not mean" in rows["1.3"].hint
    assert rows["1.2"].status == "correct"  # no check call known for 1.2: nothing to compare
    book = GradeBook(submissions=[Submission(Path("a.ipynb"), "a", "01_demo", "completed",
                                             rows=grade_record(record, demo_nb(), lesson, "a"))])
    assert any("wrong check" in line for line in grading_report.attention(book))


def test_dataclasses_and_totals():
    rows = [GradeRow("a", "l", "1", 1.0, 2.0, "partial"), GradeRow("a", "l", "2", 0.0, 1.0, "timeout")]
    sub = Submission(Path("a.ipynb"), "a", "l", "completed", rows=rows)
    assert (sub.points, sub.max_points) == (1.0, 3.0)
    book = GradeBook(submissions=[sub], lessons={"l": Lesson("l", (Exercise("1", 2.0), Exercise("2", 1.0)))})
    assert book.rows == rows
    assert grading_report.student_totals(book)[0]["problems"] == "1 timeout"
    stats = grading_report.exercise_stats(book)
    assert [s["exercise"] for s in stats] == ["2", "1"]  # hardest first
    assert stats[0]["common"] == "timeout (1)"
    assert LESSON.ids == ["1.1", "1.2", "1.3"] and LESSON.max_points == 6


def test_fingerprint_notices_changes(tmp_path):
    (tmp_path / "a.txt").write_text("1")
    before = fingerprint(tmp_path, None, tmp_path / "missing")
    (tmp_path / "b.txt").write_text("2")
    after = fingerprint(tmp_path)
    assert set(after) - set(before) == {str(tmp_path / "b.txt")}


def test_grade_bad_inputs(course, tmp_path):
    nb = write(demo_nb(), tmp_path / "a_01_demo.ipynb")
    with pytest.raises(GradingError, match="No solution notebook for lesson"):
        grade([nb], course["solutions"], None, lesson="07_nope", progress=False)
    with pytest.raises(GradingError, match="data folder"):
        grade([nb], course["solutions"], tmp_path / "nodata", progress=False)
    with pytest.raises(GradingError, match="does not exist"):
        grade([nb], tmp_path / "nosolutions", None, progress=False)


def test_wrong_lesson_and_unknown_lesson_with_lesson_option(course, tmp_path):
    other = lesson_notebook([new_code_cell("x = 1")], lesson="02_other")
    write(other, tmp_path / "judy.ipynb")
    write(new_notebook(cells=[new_code_cell("x = 1")]), tmp_path / "zed.ipynb")
    (tmp_path / "frank.ipynb").write_text("garbage")
    book = grade([tmp_path], course["solutions"], None, lesson="01_demo", progress=False)  # nothing runs
    statuses = {(r.student, r.exercise): r.status for r in book.rows}
    assert statuses[("judy", "1.1")] == "wrong lesson" and statuses[("zed", "1.3")] == "unknown lesson"
    assert statuses[("frank", "")] == "invalid notebook"
    assert "02_other" in rows_of(book, "judy")["1.2"].hint


# ----------------------------------------------------------------------------------------------
# The sandbox runner


def test_kernel_environment_drops_grader_settings():
    env = grading_run.kernel_environment("/r.jsonl", None, base={"CCDLAB_DATA": "/mine", "JPY_X": "1", "PATH": "/bin"})
    assert "CCDLAB_DATA" not in env and "JPY_X" not in env and env["PATH"] == "/bin"
    assert env["CCDLAB_RESULTS"] == "/r.jsonl" and env["OMP_NUM_THREADS"] == "1"


def test_copy_data_and_make_writable(course, tmp_path):
    # the instructor's own outputs and the simulator's truth stay out of the sandbox
    night = shutil.copytree(course["data"], tmp_path / "night")
    (night / "reduced").mkdir()
    (night / "reduced" / "old.proc.fits").write_bytes(b"instructor's run")
    (night / "truth").mkdir()
    (night / "truth" / "flat.fits").write_bytes(b"answers")
    copy = grading_run.copy_data(night, tmp_path / "copy")
    assert not (copy / "truth").exists() and not any((copy / "reduced").iterdir())
    assert (copy / "flats" / "f1.fits").read_bytes() == b"flat"
    assert (copy / "bias" / "b1.fits").read_bytes() == b"bias one"
    assert not (copy / "bias" / "b1.fits").stat().st_mode & stat.S_IWUSR
    assert not (copy / "bias").stat().st_mode & stat.S_IWUSR
    assert (copy / "reduced").stat().st_mode & stat.S_IWUSR
    grading_run.make_writable(copy)
    assert (copy / "bias" / "b1.fits").stat().st_mode & stat.S_IWUSR
    with pytest.raises(FileExistsError):
        grading_run.copy_data(course["data"], copy)


def test_run_record_round_trip():
    record = RunRecord("timeout", cells=[CellRecord(0, "ok", recorded=["1.1"])], results=[{"exercise": "1.1"}], message="m")
    again = RunRecord.from_dict(json.loads(record.to_json()))
    assert again == record


def test_execute_notebook_stubborn_loop_and_notebook_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(grading_run, "PROBE_SECONDS", 1)
    stubborn = ("import time\nwhile True:\n    try:\n        time.sleep(10)\n    except KeyboardInterrupt:\n        pass")
    nb = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell(stubborn), new_code_cell("y = 2")])
    results = tmp_path / "r.jsonl"
    record = grading_run.execute_notebook(nb, tmp_path, grading_run.kernel_environment(results), results,
                                          cell_timeout=1, timeout=20)
    assert record.status == "timeout" and "did not stop" in record.message
    assert [c.status for c in record.cells] == ["ok", "timeout", "not run"]
    nb = new_notebook(cells=[new_code_cell("import time\ntime.sleep(30)"), new_code_cell("y = 2")])
    record = grading_run.execute_notebook(nb, tmp_path, grading_run.kernel_environment(results), results,
                                          cell_timeout=30, timeout=2)
    assert record.status == "timeout" and "ran out of time" in record.message and record.elapsed < 15


def test_execute_notebook_caps_printed_output(tmp_path):
    nb = new_notebook(cells=[new_code_cell("for i in range(300000):\n    print('xxxxxxxxxx')")])
    results = tmp_path / "r.jsonl"
    record = grading_run.execute_notebook(nb, tmp_path, grading_run.kernel_environment(results), results,
                                          cell_timeout=30, timeout=60)
    assert record.status == "completed"
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert len(text) < grading_run.MAX_STREAM_CHARS + 1000 and "truncated by the grader" in text


def test_run_job_unreadable_notebook(tmp_path):
    (tmp_path / "nb.ipynb").write_text("{")
    record = grading_run.run_job({"notebook": str(tmp_path / "nb.ipynb"), "sandbox": str(tmp_path / "s")})
    assert record.status == "invalid notebook"


def test_worker_main_usage_error(capsys):
    assert grading_run.main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_run_submission_worker_output_cannot_be_forged(tmp_path):
    """A notebook printing a fake record on the worker's original stdout does not become the record."""
    fake = RunRecord("completed", results=[{"exercise": "1.1", "status": "correct", "score": 1.0, "cell": 0}]).to_json()
    nb = new_notebook(cells=[new_code_cell(f"import os\nos.write(1, {fake!r}.encode() + b'\\n')\nx = 1"),
                             new_code_cell("from ccdlab.paths import find_data_dir\nassert os.listdir(find_data_dir()) == []")])
    write(nb, tmp_path / "nb.ipynb")
    record = grading.run_submission(tmp_path / "nb.ipynb", tmp_path / "sandbox", None, timeout=30, cell_timeout=10,
                                    executed=tmp_path / "done.ipynb")
    assert record.status == "completed" and record.results == []
    assert [c.status for c in record.cells] == ["ok", "ok"]  # no data: an empty folder, not the project's data/
    assert nbformat.read(tmp_path / "done.ipynb", as_version=4).cells[0].execution_count == 1


# ----------------------------------------------------------------------------------------------
# Command line


def parse(*argv):
    parser = argparse.ArgumentParser()
    grade_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_grades_and_writes_reports(course, tmp_path, capsys):
    write(lesson_notebook(solution_cells()), tmp_path / "in" / "alice_01_demo.ipynb")
    out = tmp_path / "out" / "grades.csv"
    code = cli.run_command("grade", parse(str(tmp_path / "in"), "--out", str(out), "--solutions", str(course["solutions"]),
                             "--data", str(course["data"]), "--jobs", "1", "--timeout", "60", "--cell-timeout", "20",
                             "--no-progress", "--executed", str(tmp_path / "executed")))
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Graded 1 notebook(s) from 1 student(s)" in printed.out
    assert out.exists() and out.with_suffix(".md").exists() and out.with_suffix(".html").exists()
    assert [r["status"] for r in csv.DictReader(out.open())] == ["correct"] * 3
    assert len(list((tmp_path / "executed").glob("alice__01_demo__*.ipynb"))) == 1


@pytest.mark.parametrize("argv, words", [
    (["--timeout", "0"], "positive"),
    (["--jobs", "0"], "at least 1"),
    (["--out", "grades.txt"], ".csv"),
    (["--data", "/no/such/data"], "--data DIR"),
    (["--solutions", "/no/such/solutions", "--no-data"], "solutions folder"),
])
def test_cli_bad_inputs(course, tmp_path, capsys, argv, words):
    nb = write(demo_nb(), tmp_path / "a_01_demo.ipynb")
    args = [str(nb), "--out", str(tmp_path / "g.csv"), "--solutions", str(course["solutions"]), "--no-progress"] + argv
    if "--out" in argv:
        args[1:3] = []
    assert cli.run_command("grade", parse(*args)) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_cli_missing_submission(course, tmp_path, capsys):
    code = cli.run_command("grade", parse(str(tmp_path / "none.ipynb"), "--out", str(tmp_path / "g.csv"),
                             "--solutions", str(course["solutions"]), "--no-data"))
    assert code == 1 and "none.ipynb: no such file" in capsys.readouterr().err


def test_cli_unwritable_output(course, tmp_path, capsys):
    nb = write(demo_nb(), tmp_path / "a_01_demo.ipynb")
    (tmp_path / "file").write_text("x")
    code = cli.run_command("grade", parse(str(nb), "--out", str(tmp_path / "file" / "g.csv"), "--solutions", str(course["solutions"]),
                             "--no-data", "--lesson", "02_other", "--no-progress"))
    assert code == 1 and "Could not write" in capsys.readouterr().err


def test_stop_all_ends_running_workers_at_once(tmp_path):
    """What Ctrl-C does during a batch: running notebooks stop now, not at their timeout."""
    import threading
    import time

    write(new_notebook(cells=[new_code_cell("while True:\n    pass")]), tmp_path / "loop.ipynb")
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("record", grading.run_submission(
        tmp_path / "loop.ipynb", tmp_path / "sandbox", None, timeout=120, cell_timeout=120)))
    thread.start()
    for _ in range(100):
        if grading.batch._LIVE:
            break
        time.sleep(0.1)
    time.sleep(1)
    grading.batch._stop_all()
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert outcome["record"].status == "kernel failed" and "stopped" in outcome["record"].message

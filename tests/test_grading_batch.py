"""One batch of real returned notebooks (lessons 00 and 01 on the tiny night), graded in the sandbox:
every kind of submission gets its status, and none stops the others."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from ccdlab.classroom.authoring import make_student
from ccdlab.classroom.grading import GRADE_STATUSES, grade, write_reports
from ccdlab.classroom.grading.run import code_cell_numbers

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
DATA = Path(__file__).resolve().parent / "data"

pytestmark = pytest.mark.slow


def solution(lesson="01_fits_files"):
    return nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)


def student(lesson="01_fits_files"):
    return make_student(solution(lesson), lesson)


def cell_of(nb, marker: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)


def replaced(nb, marker, old, new):
    nb = copy.deepcopy(nb)
    cell = nb.cells[cell_of(nb, marker)]
    assert old in cell.source, (marker, old)
    cell.source = cell.source.replace(old, new)
    return nb


def write(nb, path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory, tiny_night):
    subs = tmp_path_factory.mktemp("returned")
    write(solution(), subs / "alice_01_fits_files.ipynb")
    write(student(), subs / "bob_01_fits_files.ipynb")
    write(replaced(solution(), "EXERCISE 1.1", 'x_len = header["NAXIS1"]', "x_len = 1 / 0"), subs / "carol_01_fits_files.ipynb")
    write(replaced(solution(), "EXERCISE 1.2", 'exptime = header["EXPTIME"]', "import os\nos._exit(1)"),
          subs / "erin_01_fits_files.ipynb")
    (subs / "frank_01_fits_files.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour', encoding="utf-8")
    grace = solution()
    del grace.cells[cell_of(grace, "EXERCISE 1.2")]
    write(grace, subs / "grace_01_fits_files.ipynb")
    heidi = solution()  # the check line of 1.2 moved into a cell of its own, before the answers
    index = cell_of(heidi, "EXERCISE 1.2")
    source = heidi.cells[index].source
    answer, check_line = source.split("### END SOLUTION\n")
    heidi.cells[index].source = answer + "### END SOLUTION\n"
    heidi.cells.insert(index, new_code_cell(check_line))
    heidi.cells.insert(2, new_code_cell("print('my own extra cell')"))
    write(heidi, subs / "heidi_01_fits_files.ipynb")
    write(solution(), subs / "ivan" / "homework_final.ipynb")  # renamed: the metadata and the folder say
    write(solution("00_getting_started"), subs / "judy_01_fits_files.ipynb")  # another lesson, misnamed
    write(nbformat.read(DATA / "handed_out_0.1" / "01_fits_files.ipynb", as_version=4), subs / "olga_01_fits_files.ipynb")
    write(nbformat.v4.new_notebook(cells=[new_code_cell("print('hello')")]), subs / "zed_notes.ipynb")
    executed = tmp_path_factory.mktemp("executed")
    book = grade([subs], SOLUTIONS, tiny_night, timeout=300, cell_timeout=120, jobs=2, progress=False,
                 executed_dir=executed, sandbox="require")
    loops = tmp_path_factory.mktemp("returned-loop")  # the one case that needs a short cell timeout
    write(replaced(solution(), "EXERCISE 1.2", 'exptime = header["EXPTIME"]', "while True:\n    pass"),
          loops / "dave_01_fits_files.ipynb")
    looped = grade([loops], SOLUTIONS, tiny_night, timeout=120, cell_timeout=5, jobs=1, progress=False, sandbox="require")
    book.submissions.extend(looped.submissions)
    return book, subs, executed


def rows_of(book, student):
    """The student's exercise rows (written answers, graded by the instructor, left out)."""
    return {row.exercise: row for row in book.rows if row.student == student and not row.written}


def test_the_solution_scores_full_marks(batch):
    rows = rows_of(batch[0], "alice")
    assert {k: (r.status, r.points) for k, r in rows.items()} == {"1.1": ("correct", 2), "1.2": ("correct", 3)}


def test_a_blank_notebook_scores_zero(batch):
    rows = rows_of(batch[0], "bob")
    assert {(r.status, r.points) for r in rows.values()} == {("not attempted", 0)}


def test_a_cell_that_raises_costs_only_its_own_exercise(batch):
    book = batch[0]
    rows = rows_of(book, "carol")
    assert rows["1.1"].status == "error" and "ZeroDivisionError" in rows["1.1"].hint and rows["1.1"].points == 0
    index = cell_of(solution(), "EXERCISE 1.1")  # named as Jupyter numbers it: code cells only, from 1
    number = code_cell_numbers(solution())[index]
    assert number != index + 1 and rows["1.1"].hint.startswith(f"Code cell {number} (exercise 1.1) raised ZeroDivisionError")
    assert rows["1.2"].status == "correct" and rows["1.2"].points == 3
    carol = next(s for s in book.submissions if s.student == "carol")
    names = [error.ename for error in carol.cell_errors]
    assert names[0] == "ZeroDivisionError" and "NameError" not in names  # no cascade after it


def test_an_endless_loop_times_out_and_earlier_exercises_grade(batch):
    rows = rows_of(batch[0], "dave")
    assert rows["1.1"].status == "correct"
    assert rows["1.2"].status == "timeout" and "too long" in rows["1.2"].hint


def test_a_kernel_death_is_reported_and_earlier_results_kept(batch):
    rows = rows_of(batch[0], "erin")
    assert rows["1.1"].status == "correct"
    assert rows["1.2"].status == "kernel died"


def test_invalid_json_is_an_invalid_notebook_with_its_lesson_rows(batch):
    rows = rows_of(batch[0], "frank")
    assert set(rows) == {"1.1", "1.2"} and {r.status for r in rows.values()} == {"invalid notebook"}
    assert "JSON" in rows["1.1"].hint


def test_a_deleted_exercise_cell_is_missing(batch):
    rows = rows_of(batch[0], "grace")
    assert rows["1.2"].status == "missing" and "deleted" in rows["1.2"].hint
    assert rows["1.1"].status == "correct"


def test_a_check_moved_out_of_its_cell_does_not_count(batch):
    book = batch[0]
    rows = rows_of(book, "heidi")
    assert rows["1.1"].status == "correct"
    assert rows["1.2"].points == 0 and rows["1.2"].status in ("missing", "error")
    heidi = next(s for s in book.submissions if s.student == "heidi")
    assert any("exercise 1.2 was checked again" in note for note in heidi.notes)


def test_a_renamed_notebook_is_recognised(batch):
    rows = rows_of(batch[0], "ivan")
    assert rows and all(r.lesson == "01_fits_files" and r.status == "correct" for r in rows.values())


def test_a_notebook_of_another_lesson_is_graded_as_that_lesson_and_noted(batch):
    book = batch[0]
    sub = next(s for s in book.submissions if s.path.name == "judy_01_fits_files.ipynb")
    assert sub.lesson == "00_getting_started" and sub.student == "judy_01_fits_files"
    assert rows_of(book, "judy_01_fits_files")["0.1"].status == "correct"
    assert any("file name suggests 01_fits_files" in note for note in sub.notes)


def test_a_notebook_handed_out_with_ccdlab_0_1_still_grades(batch):
    """Its setup cell and imports are those of 0.1 (ccdlab.setup_cell, ccdlab.exercises)."""
    rows = rows_of(batch[0], "olga")
    assert {k: r.status for k, r in rows.items()} == {"1.1": "correct", "1.2": "correct"}


def test_an_unknown_notebook_gets_one_row(batch):
    rows = [r for r in batch[0].rows if r.student == "zed_notes"]
    assert len(rows) == 1 and rows[0].status == "unknown lesson" and rows[0].max_points == 0


def test_every_status_is_known_and_the_batch_ran_in_the_sandbox(batch):
    book = batch[0]
    assert {row.status for row in book.rows} <= set(GRADE_STATUSES)
    assert book.settings["sandboxed"] is True and not book.warnings


def test_the_executed_notebooks_show_the_grader_s_feedback(batch):
    executed = batch[2]
    alice = next(executed.glob("alice__01_fits_files__*.ipynb"))
    text = alice.read_text()
    assert "Exercise 1.1: correct" in text and "ccdlab-feedback" in text


def test_reports_from_the_batch(batch, tmp_path):
    book = batch[0]
    paths = write_reports(book, tmp_path / "grades.csv")
    md = paths[1].read_text()
    lesson = book.lessons["01_fits_files"]  # its exercises, and its written answers (0 until the instructor's points)
    assert f"| alice | 01_fits_files | 5 | {lesson.total_points:g} | {500 / lesson.total_points:.0f}% |" in md
    assert "heidi" in md.split("## Notebooks to look at")[1]
    assert "each in the bubblewrap sandbox" in md


def test_the_same_file_under_two_names_is_listed_as_coinciding(batch, tmp_path):
    book = batch[0]
    assert [(c.students, c.how) for c in book.copies] == [(("alice", "ivan"), "same file")]  # the solution's bytes twice
    md, html_ = (path.read_text() for path in write_reports(book, tmp_path / "grades.csv")[1:3])
    assert "alice and ivan handed in the same file for 01_fits_files" in md.split("## Notebooks to look at")[1]
    assert "## Answers that coincide" in md and "<h2>Answers that coincide</h2>" in html_

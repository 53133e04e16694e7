"""The course itself, each notebook run once: solutions earn full marks, student notebooks run blank.

The solution notebooks run under nbval at the start of the session (``solutions/`` comes first in
``testpaths``), their checks recording into the file ``CCDLAB_SOLUTION_RESULTS`` names (see conftest.py): the first test reads
those results rather than running the solutions again. Run on its own (``pytest tests/``), it has
no such results and runs the solutions through the grader instead. The student notebooks are
graded once, in one batch, as an instructor would grade a class that handed in nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from ccdlab.classroom.grading import grade, load_solutions
from ccdlab.course.results import read_results

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
STUDENTS = ROOT / "notebooks"

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def _solution_results_of_this_session() -> dict:
    path = os.environ.get("CCDLAB_SOLUTION_RESULTS")
    return read_results(path) if path else {}


def test_solutions_earn_full_marks(tmp_path, tiny_night):
    lessons = load_solutions(SOLUTIONS)
    found = _solution_results_of_this_session()
    wanted = {exercise.id for lesson in lessons.values() for exercise in lesson.exercises}
    if not wanted <= set(found):  # the solutions did not run under nbval in this session: grade them
        book = grade([SOLUTIONS], SOLUTIONS, tiny_night, timeout=600, cell_timeout=300, jobs=2, progress=False)
        found = {row.exercise: row for row in book.rows}
    for name, lesson in lessons.items():
        for exercise in lesson.exercises:
            result = found[exercise.id]
            assert result.status == "correct", f"{name} {exercise.id}: {result.status} ({result.hint})"


@pytest.fixture(scope="module")
def blank_class(tmp_path_factory, tiny_night):
    """Every student notebook handed back untouched, graded in one batch."""
    returned = tmp_path_factory.mktemp("returned")
    for path in sorted(STUDENTS.glob("*.ipynb")):
        nbformat.write(nbformat.read(path, as_version=4), returned / f"blank_{path.name}")
    return grade([returned], SOLUTIONS, tiny_night, timeout=600, cell_timeout=300, jobs=2, progress=False)


def test_student_notebooks_run_end_to_end(blank_class):
    lessons = load_solutions(SOLUTIONS)
    assert sorted(sub.lesson for sub in blank_class.submissions) == sorted(lessons)
    for sub in blank_class.submissions:
        assert sub.status == "completed", (sub.lesson, sub.message)
        assert sub.cell_errors == [], (sub.lesson, sub.cell_errors)


def test_every_blank_check_says_not_attempted_and_earns_nothing(blank_class):
    lessons = load_solutions(SOLUTIONS)
    rows = [row for row in blank_class.rows if not row.written]  # written answers: the instructor's to grade
    assert {(row.lesson, row.exercise) for row in rows} == {
        (name, exercise.id) for name, lesson in lessons.items() for exercise in lesson.exercises}
    for row in rows:
        assert (row.status, row.points) == ("not attempted", 0), (row.lesson, row.exercise, row.hint)


def test_a_blank_notebook_holds_no_written_answer(blank_class):
    """Every written question of the course has a row for a blank notebook: nothing written, nothing earned."""
    lessons = load_solutions(SOLUTIONS)
    written = [row for row in blank_class.rows if row.written]
    assert {(row.lesson, row.exercise) for row in written} == {
        (name, question.id) for name, lesson in lessons.items() for question in lesson.written}
    for row in written:
        assert (row.status, row.points, row.answer) == ("not attempted", 0, ""), (row.lesson, row.exercise, row.answer)

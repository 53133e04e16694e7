"""From what happened in a run to one grade row per exercise: points, status and the hint.

The grade of an exercise is the verdict the grader gave, outside the kernel, to the one
submission that counts (:mod:`ccdlab.classroom.grading.run`). Every exercise of the lesson gets
one row with one status (see :data:`GRADE_STATUSES`): an exercise without a counted submission is
explained from its cells (an error, a timeout, a dead kernel, a deleted or moved check line), so a
broken or hostile notebook is reported, not fatal.

A written answer with points (:mod:`.written`) gets a row too, never scored by the grader: status
``ungraded`` with the student's answer, or ``not attempted`` when there is none, until the instructor's
points are merged (:mod:`.manual`, status ``graded``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ccdlab.classroom.grading.cascade import because, cell_errors
from ccdlab.classroom.grading.run import RunRecord
from ccdlab.classroom.grading.solutions import Lesson
from ccdlab.course.markers import Exercise, cell_source
from ccdlab.course.results import STATUSES as CHECK_STATUSES

__all__ = ["GRADE_STATUSES", "WRITTEN_STATUSES", "GradeRow", "grade_record", "not_counted", "rows_without_run",
           "written_rows"]


#: Every status a grade row can have: the check's own verdicts, then what the grader found.
GRADE_STATUSES = CHECK_STATUSES + (
    "missing",           # no result recorded: the check cell was deleted, or never reached
    "timeout",           # the exercise's cell ran too long, or the notebook's time ran out first
    "kernel died",       # the kernel crashed before the exercise's check ran
    "wrong check",       # the check line of this exercise was given another exercise's answers
    "invalid notebook",  # the file is not a readable notebook
    "unknown lesson",    # no solution notebook matches this notebook
    "wrong lesson",      # a notebook of another lesson than the one being graded
    "grader error",      # the grader itself failed on this notebook (please report)
    "ungraded",          # a written answer, waiting for the instructor's points (--manual)
    "graded",            # a written answer the instructor gave points to
)

#: The statuses of written answers that wait for, or have, the instructor's points.
WRITTEN_STATUSES = ("ungraded", "graded")


@dataclass
class GradeRow:
    """One line of the grades: one student, one exercise.

    Examples
    --------
    >>> GradeRow("alice", "01_fits_files", "1.1", 2.0, 2.0, "correct").points
    2.0
    """

    student: str
    lesson: str
    exercise: str
    points: float
    max_points: float
    status: str
    hint: str = ""
    submission: str = ""
    title: str = ""
    score: float = 0.0
    written: bool = False   # a written answer (points from the instructor), not an exercise
    answer: str = ""        # the written answer, as found in the notebook


def _marker_cells(notebook) -> dict:
    """``{exercise id: index of the first code cell declaring it}`` in the submitted notebook."""
    from ccdlab.course.markers import EXERCISE_RE

    where = {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        for match in EXERCISE_RE.finditer(cell_source(cell)):
            where.setdefault(match["id"], index)
    return where


def _region(exercise_id: str, markers: dict, record: RunRecord) -> list:
    """The code cells that belong to an exercise: from its marker to the next marker."""
    start = markers.get(exercise_id)
    if start is None:
        return []
    later = [index for index in markers.values() if index > start]
    stop = min(later) if later else float("inf")
    return [cell for cell in record.cells if start <= cell.index < stop]


def _cell(record: RunRecord, index: int) -> str:
    """How a hint names the cell at notebook position ``index``: its code-cell number, as Jupyter shows it."""
    number = record.code_number(index)
    return f"code cell {number}" if number else f"cell {index + 1} of the notebook"


def _raised(record: RunRecord, index: int, what: str, errors: dict) -> str:
    """``Code cell 5 (...) raised X.``, and the root cause when the error follows an earlier one."""
    sentence = f"{_cell(record, index)[:1].upper()}{_cell(record, index)[1:]}{what}".strip().rstrip(":")
    sentence = sentence if sentence.endswith((".", "!", "?")) else sentence + "."
    error = errors.get(index)
    return f"{sentence} {because(error, record)}".strip() if error is not None else sentence


def _moved_check_error(exercise: Exercise, region: list, record: RunRecord, notebook) -> tuple | None:
    """A cell outside the exercise's region that checks it (quotes its ID) and raised."""
    if notebook is None:
        return None
    quoted = (f'"{exercise.id}"', f"'{exercise.id}'")
    inside = {cell.index for cell in region}
    for cell in record.cells:
        if cell.index in inside or cell.status != "error" or cell.index >= len(notebook.cells):
            continue
        if any(q in cell_source(notebook.cells[cell.index]) for q in quoted):
            return "error", (f"{_cell(record, cell.index).capitalize()}, which checks exercise {exercise.id}, raised "
                             f"{cell.ename}: {cell.evalue} (was it moved before the cell that computes the answer?)")
    return None


def _explain_missing(exercise: Exercise, markers: dict, record: RunRecord, notebook=None, errors: dict | None = None) -> tuple:
    """Status and hint for an exercise without a recorded result."""
    region = _region(exercise.id, markers, record)
    for cell in region:
        if cell.status == "timeout":
            return "timeout", (f"{_cell(record, cell.index).capitalize()} (exercise {exercise.id}) ran too long and was "
                               f"stopped. {record.message or 'Look for an endless loop.'}").strip()
        if cell.status == "kernel died":
            return "kernel died", f"The Python kernel crashed in {_cell(record, cell.index)} (exercise {exercise.id})."
        if cell.status == "error":
            return "error", _raised(record, cell.index, f" raised {cell.ename}: {cell.evalue}", errors or {})
    if record.status in ("timeout", "kernel died") and (not region or any(c.status == "not run" for c in region)):
        return record.status, f"Exercise {exercise.id} was never reached. {record.message}".strip()
    moved = _moved_check_error(exercise, region, record, notebook)
    if moved:
        return moved
    if not region:
        return "missing", (
            f"No answer for exercise {exercise.id}, and its cell ('# EXERCISE {exercise.id}') with its check line "
            "is not in the notebook: it was deleted or changed. Copy it back from a fresh notebook."
        )
    return "missing", (
        f"The cells of exercise {exercise.id} ran, but its check line did not submit an answer from the "
        "exercise's own cell: it was probably deleted or moved. Copy it back from a fresh notebook."
    )


def rows_without_run(lesson: Lesson | None, student: str, status: str, hint: str, submission: str) -> list:
    """One row per exercise of the lesson (one row when the lesson is unknown), all with one status.

    Examples
    --------
    >>> rows_without_run(None, "ada", "invalid notebook", "not JSON", "a.ipynb")[0].status
    'invalid notebook'
    """
    if lesson is None:
        return [GradeRow(student, "", "", 0.0, 0.0, status, hint, submission)]
    return [GradeRow(student, lesson.name, e.id, 0.0, e.points, status, hint, submission, e.title)
            for e in lesson.exercises] + [
        GradeRow(student, lesson.name, q.id, 0.0, q.points, status, hint, submission, q.title, written=True)
        for q in lesson.written]


def written_rows(notebook, lesson: Lesson, student: str, submission: str = "") -> list:
    """One row per written question of the lesson, with the student's answer (never scored here).

    Examples
    --------
    >>> import nbformat
    >>> from ccdlab.classroom.grading.written import WrittenQuestion
    >>> lesson = Lesson("l", written=(WrittenQuestion("Q1", 2.0, prompt="Why?"),))
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Why?\\nThe median.")])
    >>> row = written_rows(nb, lesson, "ada")[0]
    >>> row.status, row.max_points, row.answer
    ('ungraded', 2.0, 'The median.')
    """
    from ccdlab.classroom.grading.written import find_answer

    rows = []
    for question in lesson.written:
        found = find_answer(notebook, question, lesson.handout)
        row = GradeRow(student, lesson.name, question.id, 0.0, question.points, "ungraded", "", submission,
                       question.title, written=True, answer=found.text)
        if found.where == "not found":
            row.status = "not attempted"
            row.hint = (f"The question of written answer {question.id} is no longer in the notebook (its cell was "
                        "deleted or changed), so no answer was found.")
        elif found.blank:
            row.status, row.hint = "not attempted", f"No answer was written for {question.id}."
        rows.append(row)
    return rows


def grade_record(record: RunRecord, notebook, lesson: Lesson, student: str, submission: str = "") -> list:
    """Turn what happened in a run into one grade row per exercise of the lesson.

    An exercise with a counted submission gets the grader's verdict (points = score x points;
    ``error`` when its cell raised before the check). One without is explained from the cells
    around its marker: ``error`` (with the exception), ``timeout``, ``kernel died`` or ``missing``.
    Written answers follow, one row each (:func:`written_rows`).

    Parameters
    ----------
    record : RunRecord
        From :func:`ccdlab.classroom.grading.run.execute_notebook`.
    notebook : NotebookNode
        The submitted notebook (for marker positions).
    lesson : Lesson
    student, submission : str
        Copied into the rows.

    Returns
    -------
    list of GradeRow

    Examples
    --------
    >>> import nbformat
    >>> from ccdlab.classroom.grading.run import Submitted
    >>> from ccdlab.course.markers import Exercise
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (2 points): x")])
    >>> rec = RunRecord("completed", submissions=[Submitted("1.1", 0, True, status="partial", score=0.5)])
    >>> grade_record(rec, nb, Lesson("l", (Exercise("1.1", 2.0),)), "alice")[0].points
    1.0
    """
    counted = {s.exercise: s for s in record.submissions if s.counted}
    markers = _marker_cells(notebook)
    errors = {error.index: error for error in cell_errors(record, notebook)}
    rows = []
    for exercise in lesson.exercises:
        row = GradeRow(student, lesson.name, exercise.id, 0.0, exercise.points, "", "", submission, exercise.title)
        found = counted.get(exercise.id)
        if found is not None:
            row.status, row.score = found.status, float(found.score)
            row.hint = found.hint
            if found.raised:
                cell = next((c for c in record.cells if c.index == found.cell), None)
                row.score = 0.0
                if cell is not None and cell.status in ("timeout", "kernel died"):  # the grader's interrupt, not a bug
                    row.status, row.hint = _explain_missing(exercise, markers, record, notebook, errors)
                else:
                    row.status = "error"
                    row.hint = _raised(record, found.cell, f" (exercise {exercise.id}) raised {found.raised}", errors)
            row.points = round(row.score * exercise.points, 4)
        else:
            row.status, row.hint = _explain_missing(exercise, markers, record, notebook, errors)
        rows.append(row)
    return rows + written_rows(notebook, lesson, student, submission)


def not_counted(record: RunRecord) -> list:
    """One sentence per submission that did not count (submitted from another cell, twice...), for the report.

    Examples
    --------
    >>> from ccdlab.classroom.grading.run import CellRecord, Submitted
    >>> record = RunRecord("completed", cells=[CellRecord(i, "ok") for i in (1, 2, 4)],
    ...                    submissions=[Submitted("3.2", 4, False, reason="it was checked twice")])
    >>> not_counted(record)
    ['exercise 3.2 was checked again from code cell 3 (not counted: it was checked twice)']
    """
    notes = []
    for item in record.submissions:
        if not item.counted:
            where = f"from {_cell(record, item.cell)}" if item.cell >= 0 else "between cells"
            notes.append(f"exercise {item.exercise} was checked again {where} (not counted: {item.reason})")
    return notes

"""From what happened in a run to one grade row per exercise: points, status and the hint.

Every exercise of the lesson gets one row with one status (see :data:`GRADE_STATUSES`), so a
broken or hostile notebook is reported, not fatal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ccdlab.classroom.grading.run import RunRecord
from ccdlab.classroom.grading.solutions import Lesson
from ccdlab.course.markers import Exercise, cell_source
from ccdlab.course.results import STATUSES as CHECK_STATUSES

__all__ = ["GRADE_STATUSES", "GRADING_INTERNALS", "GradeRow", "suspect_cells", "grade_record", "rows_without_run"]


#: Every status a grade row can have: the check's own verdicts, then what the grader found.
GRADE_STATUSES = CHECK_STATUSES + (
    "missing",           # no result recorded: the check cell was deleted, or never reached
    "timeout",           # the exercise's cell ran too long, or the notebook's time ran out first
    "kernel died",       # the kernel crashed before the exercise's check ran
    "tampered",          # the result was written by a cell that uses grading internals
    "wrong check",       # the result recorded under this ID came from the check of other answers
    "invalid notebook",  # the file is not a readable notebook
    "unknown lesson",    # no solution notebook matches this notebook
    "wrong lesson",      # a notebook of another lesson than the one being graded
    "grader error",      # the grader itself failed on this notebook (please report)
)


#: Names a student notebook never needs: using them (when the lesson's solution does not) is how a
#: cell would write its own results, so results recorded by such a cell are not trusted.
GRADING_INTERNALS = (
    "CCDLAB_RESULTS", "ExerciseResult", "ccdlab.course.results", "results.record", "_RECORDED", "_record",
    "read_results", "ccdlab import results", "ccdlab.course.checks", "find_check", "grading_run",
)


def _uses(name: str, source: str) -> bool:
    """True when ``name`` appears in ``source`` as a whole name (``my_record`` is not ``_record``)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", source) is not None


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


def suspect_cells(notebook, lesson: Lesson) -> dict:
    """Find the cells that use grading internals the lesson's solution does not use.

    Parameters
    ----------
    notebook : NotebookNode
    lesson : Lesson

    Returns
    -------
    dict
        ``{cell index: [names used]}``.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; os.environ['CCDLAB_RESULTS']")])
    >>> suspect_cells(nb, Lesson("x", (), source="check('1.1', x)"))
    {0: ['CCDLAB_RESULTS']}
    """
    allowed = {name for name in GRADING_INTERNALS if _uses(name, lesson.source)}
    found = {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        used = [name for name in GRADING_INTERNALS if name not in allowed and _uses(name, source)]
        if used:
            found[index] = used
    return found


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
            return "error", (f"Cell {cell.index + 1}, which checks exercise {exercise.id}, raised {cell.ename}: "
                             f"{cell.evalue} (was it moved before the cell that computes the answer?)")
    return None


def _explain_missing(exercise: Exercise, markers: dict, record: RunRecord, notebook=None) -> tuple:
    """Status and hint for an exercise without a recorded result."""
    region = _region(exercise.id, markers, record)
    for cell in region:
        if cell.status == "timeout":
            return "timeout", f"Cell {cell.index + 1} (exercise {exercise.id}) ran too long and was stopped. {record.message or 'Look for an endless loop.'}".strip()
        if cell.status == "kernel died":
            return "kernel died", f"The Python kernel crashed in cell {cell.index + 1} (exercise {exercise.id})."
        if cell.status == "error":
            return "error", f"Cell {cell.index + 1} raised {cell.ename}: {cell.evalue}".strip().rstrip(":") + "."
    if record.status in ("timeout", "kernel died") and (not region or any(c.status == "not run" for c in region)):
        return record.status, f"Exercise {exercise.id} was never reached. {record.message}".strip()
    moved = _moved_check_error(exercise, region, record, notebook)
    if moved:
        return moved
    if not region:
        return "missing", (
            f"No result for exercise {exercise.id}, and its cell ('# EXERCISE {exercise.id}') is not in the "
            "notebook: it was deleted or changed. Copy it back from a fresh notebook."
        )
    return "missing", (
        f"The cells of exercise {exercise.id} ran, but no check recorded a result: the check line "
        "was probably deleted or moved. Copy it back from a fresh notebook."
    )


def grade_record(record: RunRecord, notebook, lesson: Lesson, student: str, submission: str = "") -> list:
    """Turn what happened in a run into one grade row per exercise of the lesson.

    The last result recorded for an exercise wins (a student may run a check many times). A result
    recorded by a cell that uses grading internals, or that rewrote the results file, scores 0 with
    status ``tampered``; one whose checked answers are not those the solution's check of that
    exercise passes scores 0 with status ``wrong check``. An exercise without a result is explained
    from the cells around its marker: ``error`` (with the exception), ``timeout``, ``kernel died``
    or ``missing``.

    Parameters
    ----------
    record : RunRecord
        From :func:`ccdlab.classroom.grading.run.execute_notebook`.
    notebook : NotebookNode
        The submitted notebook (for marker positions and suspicious cells).
    lesson : Lesson
    student, submission : str
        Copied into the rows.

    Returns
    -------
    list of GradeRow

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (2 points): x")])
    >>> rec = RunRecord("completed", results=[{"exercise": "1.1", "status": "partial", "score": 0.5, "cell": 0}])
    >>> grade_record(rec, nb, Lesson("l", (Exercise("1.1", 2.0),)), "alice")[0].points
    1.0
    """
    from ccdlab.course.results import ExerciseResult

    suspects = suspect_cells(notebook, lesson)
    rewriters = {cell.index for cell in record.cells if cell.rewrote_results}
    latest = {}
    for line in record.results:
        try:
            result = ExerciseResult(
                exercise=str(line["exercise"]), status=str(line["status"]), score=float(line["score"]),
                hint=str(line.get("hint", "") or ""), lesson=str(line.get("lesson", "") or ""),
            )
        except (KeyError, TypeError, ValueError):
            continue
        details = line.get("details") if isinstance(line.get("details"), dict) else {}
        parts = details.get("parts") if isinstance(details.get("parts"), dict) else None
        latest[result.exercise] = (result, int(line.get("cell", -1)), parts)
    markers = _marker_cells(notebook)
    rows = []
    for exercise in lesson.exercises:
        row = GradeRow(student, lesson.name, exercise.id, 0.0, exercise.points, "", "", submission, exercise.title)
        if exercise.id in latest:
            result, cell, parts = latest[exercise.id]
            expected = lesson.answers.get(exercise.id)
            if cell in suspects or cell in rewriters:
                why = (f"uses {', '.join(suspects[cell])}" if cell in suspects else "rewrote the results file")
                row.status = "tampered"
                row.hint = (f"The result of exercise {exercise.id} was written by cell {cell + 1}, which {why} "
                            "instead of calling the check; it is not counted. See your instructor.")
            elif expected and parts is not None and set(parts) != set(expected):
                row.status = "wrong check"
                row.hint = (f"The result recorded as exercise {exercise.id} (cell {cell + 1}) checked "
                            f"{', '.join(sorted(parts)) or 'nothing'}, not {', '.join(sorted(expected))}: "
                            "use the check line given in the notebook.")
            else:
                row.status, row.hint, row.score = result.status, result.hint, float(result.score)
                row.points = round(float(result.score) * exercise.points, 4)
        else:
            row.status, row.hint = _explain_missing(exercise, markers, record, notebook)
        rows.append(row)
    return rows


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
            for e in lesson.exercises]


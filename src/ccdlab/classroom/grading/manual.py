"""Points the instructor gives by hand: the written-answers sheet, and merging it back (``--manual``).

``ccdlab grade ... --out grades.csv`` writes ``grades-written.csv`` beside the grades: one row per
student and written question (:mod:`.written`), grouped by question so a grader reads every answer to
one question in turn. Its columns (:data:`SHEET_COLUMNS`):

``student, lesson, question, prompt, max_points, model_answer, answer, points, comment``

The instructor fills in ``points`` (a number from 0 to ``max_points``; ``1,5`` reads as 1.5) and,
if they like, ``comment`` (shown to the student on their feedback page), leaving any row blank that
is not graded yet. ``ccdlab grade ... --manual grades-written.csv`` merges the points into the
totals, the reports, the feedback pages and the LMS export; a graded answer gets status ``graded``.
Only ``student``, ``lesson``, ``question`` and ``points`` are read back (``comment`` when present),
so columns may be reordered, hidden or added. The sheet written by a run with ``--manual`` carries
the merged points and comments, so it can be merged again.

Cells a spreadsheet would run as formulas are written with a leading apostrophe
(:func:`ccdlab.classroom.grading.report.safe_cell`), which is taken off again when reading.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ccdlab.classroom.grading.report import safe_cell
from ccdlab.errors import GradingError
from ccdlab.files import atomic_write_text

__all__ = ["SHEET_COLUMNS", "sheet_path", "write_sheet", "read_sheet", "apply_manual", "plain_cell"]

#: Columns of the written-answers sheet, in order.
SHEET_COLUMNS = ("student", "lesson", "question", "prompt", "max_points", "model_answer", "answer", "points", "comment")

_REQUIRED = ("student", "lesson", "question", "points")


def sheet_path(out) -> Path:
    """Where the written-answers sheet of a grades CSV goes: ``grades.csv`` -> ``grades-written.csv``.

    Examples
    --------
    >>> sheet_path("out/grades.csv").as_posix()
    'out/grades-written.csv'
    """
    out = Path(out)
    return out.with_name(f"{out.stem}-written.csv")


def plain_cell(value: str) -> str:
    """Undo :func:`~ccdlab.classroom.grading.report.safe_cell`: the apostrophe before ``= + - @`` goes.

    Examples
    --------
    >>> plain_cell("'-2"), plain_cell("'tis"), plain_cell("ada")
    ('-2', "'tis", 'ada')
    """
    text = str(value or "")
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


def _number(value: float) -> str:
    return f"{float(value):.4g}"


def write_sheet(book, path) -> Path:
    """Write every written answer of a graded batch to a sheet for the instructor's points (atomically).

    Parameters
    ----------
    book : ccdlab.classroom.grading.GradeBook
    path : path-like

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.classroom.grading import GradeBook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_sheet(GradeBook(), Path(tmp) / "w.csv").read_text().splitlines()
    ['student,lesson,question,prompt,max_points,model_answer,answer,points,comment']
    """
    order = {}
    for lesson in book.lessons.values():
        for position, question in enumerate(lesson.written):
            order[(lesson.name, question.id)] = position
    rows = sorted((row for row in book.rows if row.written),
                  key=lambda r: (r.lesson, order.get((r.lesson, r.exercise), 0), r.student, r.submission))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    for row in rows:
        lesson = book.lessons.get(row.lesson)
        question = next((q for q in (lesson.written if lesson else ()) if q.id == row.exercise), None)
        graded = row.status == "graded"
        writer.writerow([safe_cell(value) for value in (
            row.student, row.lesson, row.exercise, question.prompt if question else "", _number(row.max_points),
            question.model_answer if question else "", row.answer, _number(row.points) if graded else "",
            row.hint if graded else "")])
    return atomic_write_text(Path(path), buffer.getvalue())


def _points(text: str, where: str, maximum: float) -> float:
    cleaned = plain_cell(text).strip()
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise GradingError(f"{where}: points {text!r} is not a number: write a number from 0 to {maximum:g}, "
                           "or leave it blank.") from None
    if not math.isfinite(value) or value < 0 or value > maximum:
        raise GradingError(f"{where}: points {text!r} is outside 0 to {maximum:g} (the question's points): "
                           "correct the row.")
    return value


def read_sheet(path, book) -> list:
    """Read the instructor's points from a written-answers sheet, checking every row against the batch.

    Parameters
    ----------
    path : path-like
        The sheet (:func:`write_sheet`), filled in.
    book : ccdlab.classroom.grading.GradeBook
        The graded batch: every row must name one of its students, and a written question of a
        lesson that student handed in.

    Returns
    -------
    list of dict
        ``{"student", "lesson", "question", "points", "comment", "answer", "row"}`` for each row with points.

    Raises
    ------
    GradingError
        The file is missing or not such a sheet; a row has points that are not a number or are above
        the question's points, names a student, lesson or question that is not in the batch, or
        repeats another row. The message names the file and the row (as a spreadsheet numbers it).

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.classroom.grading import GradeBook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "w.csv").write_text("student,lesson,question,points\\n")
    ...     read_sheet(Path(tmp) / "w.csv", GradeBook())
    []
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GradingError(f"The written-answers sheet {path} could not be read ({exc.__class__.__name__}): pass "
                           "the sheet ccdlab grade wrote beside the grades (grades-written.csv), saved as CSV (UTF-8).") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)  # some spreadsheets save with ; or tabs
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        raise GradingError(f"{path} is not a written-answers sheet: it has no column {', '.join(missing)} (its "
                           f"header should be {','.join(SHEET_COLUMNS)}). Pass the sheet ccdlab grade wrote.")
    reader.fieldnames = header
    handed_in = {}
    for row in book.rows:
        if row.written:
            handed_in.setdefault((row.student, row.lesson, row.exercise), row)
    students = {sub.student for sub in book.submissions}
    entries, seen = [], {}
    for number, raw in enumerate(reader, start=2):
        where = f"{path.name}, row {number}"
        cells = {key: plain_cell(value or "").strip() for key, value in raw.items() if key}
        if not cells.get("points"):
            continue
        student, lesson_name, question_id = cells.get("student", ""), cells.get("lesson", ""), cells.get("question", "")
        lesson = book.lessons.get(lesson_name)
        if lesson is None:
            raise GradingError(f"{where}: lesson {lesson_name!r} is not a lesson of the solutions "
                               f"({', '.join(book.lessons) or 'none'}): correct the row.")
        question = next((q for q in lesson.written if q.id == question_id), None)
        if question is None:
            known = ", ".join(q.id for q in lesson.written) or "none"
            raise GradingError(f"{where}: lesson {lesson_name} has no written question {question_id!r} (its questions: "
                               f"{known}): correct the row.")
        if student not in students:
            raise GradingError(f"{where}: student {student!r} handed in nothing in this batch: correct the name "
                               "(as in the sheet ccdlab grade wrote), or grade their notebook too.")
        if (student, lesson_name, question_id) not in handed_in:
            raise GradingError(f"{where}: {student} handed in no notebook of lesson {lesson_name} in this batch: "
                               "correct the row.")
        points = _points(raw.get("points") or "", where, question.points)
        key = (student, lesson_name, question_id)
        if key in seen and seen[key]["points"] != points:
            raise GradingError(f"{where}: {student}'s answer to {question_id} already has {seen[key]['points']:g} "
                               f"points in row {seen[key]['row']}: keep one row per student and question.")
        entry = {"student": student, "lesson": lesson_name, "question": question_id, "points": points,
                 "comment": cells.get("comment", ""), "answer": cells.get("answer"), "row": number}
        seen[key] = entry
        entries.append(entry)
    return entries


def apply_manual(book, path) -> int:
    """Merge the instructor's points from a written-answers sheet into a graded batch (rows changed in place).

    Each answer given points gets status ``graded``, those points and the comment as its hint. An
    answer that differs from the one in the sheet (the notebook changed since) is kept graded, with
    a warning in the report.

    Returns
    -------
    int
        The number of answers graded.

    Raises
    ------
    GradingError
        See :func:`read_sheet`.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> apply_manual(GradeBook(), "no-such-sheet.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.GradingError: The written-answers sheet no-such-sheet.csv could not be read (FileNotFoundError): ...
    """
    entries = read_sheet(path, book)
    by_key = {(e["student"], e["lesson"], e["question"]): e for e in entries}
    graded = 0
    for row in book.rows:
        entry = by_key.get((row.student, row.lesson, row.exercise)) if row.written else None
        if entry is None:
            continue
        row.points, row.status, row.hint = entry["points"], "graded", entry["comment"]
        row.score = entry["points"] / row.max_points if row.max_points else 0.0
        graded += 1
        if entry["answer"] is not None and " ".join(entry["answer"].split()) != " ".join(row.answer.split()):
            book.warnings.append(f"{row.student}'s answer to {row.exercise} ({row.lesson}) is not the one in "
                                 f"{Path(path).name} (row {entry['row']}): the notebook changed since; check the points.")
    return graded

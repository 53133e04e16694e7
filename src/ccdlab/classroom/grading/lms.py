"""Grades into the LMS: an import file for Canvas, Gradescope or Moodle (``--roster FILE --lms NAME``).

One column per lesson graded in the batch, with the student's points in that lesson (exercises and,
once merged with ``--manual``, written answers; the better notebook when one was handed in twice). A
student on the roster who handed in nothing for a lesson gets an empty cell, which the LMS leaves as
it is (so a late notebook graded later is not overwritten by a 0). Every cell goes through
:func:`~ccdlab.classroom.grading.report.safe_cell`. The formats (what each is based on is in
``docs/grading.md``):

``canvas``
    Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column
    per assignment (a lesson name Canvas does not know creates that assignment), then a
    ``Points Possible`` row. Students are matched on ``ID`` (the roster's ``lms_id``).
``gradescope``
    The columns of Gradescope's roster (``Name, Email, SID, Section``), then for each lesson its
    points and ``<lesson> - Max Points``, as Gradescope's own grade export lays them out. Matched on
    ``Email`` (and ``SID``, the roster's ``lms_id``).
``moodle``
    Moodle's CSV grade import: ``Name, ID number, Email address``, then one column per grade item.
    In Moodle's import page, map "Email address" to the user's e-mail (or "ID number" to the ID
    number) and each lesson column to its grade item.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ccdlab.classroom.grading.report import course_lessons, course_totals, safe_cell
from ccdlab.classroom.grading.roster import match_roster
from ccdlab.errors import GradingError
from ccdlab.files import atomic_write_text

__all__ = ["LMS_FORMATS", "lms_path", "lms_table", "write_lms"]

#: The LMS an import file can be written for.
LMS_FORMATS = ("canvas", "gradescope", "moodle")


def lms_path(out, lms: str) -> Path:
    """Where the import file goes, beside the grades: ``grades.csv`` -> ``grades-canvas.csv``.

    Examples
    --------
    >>> lms_path("out/grades.csv", "moodle").as_posix()
    'out/grades-moodle.csv'
    """
    out = Path(out)
    return out.with_name(f"{out.stem}-{lms}.csv")


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


def lms_table(book, roster: list, lms: str) -> tuple:
    """The import file's rows, and who was left out.

    Parameters
    ----------
    book : ccdlab.classroom.grading.GradeBook
    roster : list of ccdlab.classroom.grading.roster.RosterEntry
    lms : {"canvas", "gradescope", "moodle"}

    Returns
    -------
    (list of list of str, dict)
        The rows (header first) and :func:`~ccdlab.classroom.grading.roster.match_roster`'s result.

    Raises
    ------
    GradingError
        An unknown LMS, or a roster without what that LMS matches students on (Canvas: ``lms_id``;
        Gradescope: ``email``; Moodle: ``email`` or ``lms_id``) for a graded student.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> lms_table(GradeBook(), [], "canvas")[0]
    [['Student', 'ID', 'SIS User ID', 'SIS Login ID', 'Section'], ['Points Possible', '', '', '', '']]
    """
    if lms not in LMS_FORMATS:
        raise GradingError(f"Unknown LMS {lms!r}: use one of {', '.join(LMS_FORMATS)}.")
    graded = {sub.lesson for sub in book.submissions if sub.lesson}
    lessons = [lesson for lesson in course_lessons(book) if lesson.name in graded]
    match = match_roster(book, roster, [lesson.name for lesson in lessons])
    needs = {"canvas": ("lms_id",), "gradescope": ("email",), "moodle": ("email", "lms_id")}[lms]
    lacking = [entry for entry in match["matched"].values() if not any(getattr(entry, field) for field in needs)]
    if lacking:
        rows = ", ".join(str(entry.row) for entry in lacking[:10])
        raise GradingError(f"The roster has no {' or '.join(needs)} for {len(lacking)} graded student(s) (row(s) {rows}): "
                           f"{lms.capitalize()} matches students on it. Fill it in, e.g. from the LMS's gradebook export.")
    totals = {t["student"]: t for t in course_totals(book)}
    handed = {student: [lesson for lesson in (totals[student]["lessons"] if student in totals else {})
                        if totals[student]["lessons"][lesson]["handed_in"]] for student in totals}
    people = [(entry, totals.get(student)) for student, entry in sorted(match["matched"].items(), key=lambda i: i[1].row)]

    def cell(total, lesson) -> str:
        if total is None or lesson.name not in handed.get(total["student"], []):
            return ""
        return _points(total["lessons"][lesson.name]["points"])

    if lms == "canvas":
        table = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] + [lesson.name for lesson in lessons],
                 ["Points Possible", "", "", "", ""] + [_points(lesson.total_points) for lesson in lessons]]
        table += [[entry.name, entry.lms_id, "", "", entry.section] + [cell(total, lesson) for lesson in lessons]
                  for entry, total in people]
    elif lms == "gradescope":
        header = ["Name", "Email", "SID", "Section"]
        for lesson in lessons:
            header += [lesson.name, f"{lesson.name} - Max Points"]
        table = [header]
        for entry, total in people:
            row = [entry.name, entry.email, entry.lms_id, entry.section]
            for lesson in lessons:
                row += [cell(total, lesson), _points(lesson.total_points)]
            table.append(row)
    else:
        table = [["Name", "ID number", "Email address"] + [lesson.name for lesson in lessons]]
        table += [[entry.name, entry.lms_id, entry.email] + [cell(total, lesson) for lesson in lessons]
                  for entry, total in people]
    return table, match


def write_lms(book, roster: list, lms: str, path) -> tuple:
    """Write the LMS import file (atomically) and list who is missing.

    Graded students not on the roster, and roster students with nothing handed in for a lesson of the
    batch, are added to ``book.warnings`` (so they are printed and shown at the top of the report).

    Returns
    -------
    (pathlib.Path, dict)
        The file written and :func:`~ccdlab.classroom.grading.roster.match_roster`'s result.

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.classroom.grading import GradeBook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path, match = write_lms(GradeBook(), [], "moodle", Path(tmp) / "g-moodle.csv")
    ...     path.read_text()
    'Name,ID number,Email address\\n'
    """
    table, match = lms_table(book, roster, lms)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in table:
        writer.writerow([safe_cell(value) if value != "" else "" for value in row])
    path = atomic_write_text(Path(path), buffer.getvalue())
    if match["not_on_roster"]:
        names = ", ".join(match["not_on_roster"])
        book.warnings.append(f"{len(match['not_on_roster'])} graded student(s) are not on the roster, so not in "
                             f"{path.name}: {names}. Add them to the roster (name as in their hand-in files).")
    for lesson, entries in match["no_submission"].items():
        if entries:
            names = ", ".join(entry.name for entry in entries)
            book.warnings.append(f"{len(entries)} student(s) on the roster handed in nothing for {lesson} (left empty "
                                 f"in {path.name}): {names}.")
    return path, match

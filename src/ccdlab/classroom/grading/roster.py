"""The class roster: who the students are in the LMS (``--roster FILE``).

A roster is a CSV file with a header row; its columns, in any order (names case-insensitive, other
columns ignored; ``LMS id`` reads as ``lms_id``)::

    name,lms_id,email,section
    ada,40012,ada.lovelace@example.edu,Lab A
    bob,40013,bob@example.edu,Lab B

- ``name`` (required): the student as ccdlab names them from the hand-in: the file name without the
  lesson (``ada_01_fits_files.ipynb`` -> ``ada``), or their folder (``returned/ada/...``). Compared
  without case, with spaces and punctuation as ccdlab writes them (``Ada Lovelace`` = ``Ada_Lovelace``);
- ``lms_id``: the student's ID in the LMS (Canvas: the user ID of its gradebook export's ``ID``
  column; Gradescope: the SID; Moodle: the ID number);
- ``email``: the student's e-mail address in the LMS (Gradescope and Moodle match on it);
- ``section``: their section (Canvas and Gradescope show it).

Graded students missing from the roster, and students on it who handed in nothing for a lesson being
graded, are listed (:func:`match_roster`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ccdlab.classroom.grading.identify import safe_name
from ccdlab.errors import GradingError

__all__ = ["ROSTER_COLUMNS", "RosterEntry", "read_roster", "match_roster", "roster_key"]

#: The roster's columns (``name`` is required).
ROSTER_COLUMNS = ("name", "lms_id", "email", "section")


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster.

    Examples
    --------
    >>> RosterEntry("ada", "40012", "ada@example.edu", "Lab A", 2).key
    'ada'
    """

    name: str
    lms_id: str = ""
    email: str = ""
    section: str = ""
    row: int = 0

    @property
    def key(self) -> str:
        """The name as compared with graded students (:func:`roster_key`).

        Examples
        --------
        >>> RosterEntry("Ada Lovelace").key
        'ada_lovelace'
        """
        return roster_key(self.name)


def roster_key(name: str) -> str:
    """How a roster name and a graded student's name are compared: as ccdlab writes names, without case.

    Examples
    --------
    >>> roster_key("Ada Lovelace") == roster_key("ada_lovelace")
    True
    """
    return safe_name(str(name).strip()).casefold()


def read_roster(path) -> list:
    """Read a roster CSV (see the module's documentation for its columns).

    Raises
    ------
    GradingError
        The file is missing or unreadable, has no ``name`` column, a row has no name, or two rows
        name the same student; the message names the file and the row.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "r.csv").write_text("Name,LMS_ID,email,section\\nada,40012,ada@example.edu,A\\n")
    ...     read_roster(Path(tmp) / "r.csv")
    [RosterEntry(name='ada', lms_id='40012', email='ada@example.edu', section='A', row=2)]
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GradingError(f"The roster {path} could not be read ({exc.__class__.__name__}): pass a CSV file (UTF-8) "
                           f"with the header {','.join(ROSTER_COLUMNS)}.") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [re.sub(r"[\s\-]+", "_", (name or "").strip().lower()) for name in (reader.fieldnames or [])]
    if "name" not in header:
        raise GradingError(f"The roster {path} has no 'name' column: its first row should be the header "
                           f"{','.join(ROSTER_COLUMNS)}.")
    reader.fieldnames = header
    entries, seen = [], {}
    for number, raw in enumerate(reader, start=2):
        cells = {key: (value or "").strip() for key, value in raw.items() if key}
        if not any(cells.values()):
            continue
        entry = RosterEntry(cells.get("name", ""), cells.get("lms_id", ""), cells.get("email", ""),
                            cells.get("section", ""), number)
        if not entry.key:
            raise GradingError(f"{path.name}, row {number}: no name: give the student's name as in their hand-in files.")
        if entry.key in seen:
            raise GradingError(f"{path.name}, row {number}: {entry.name!r} is already on row {seen[entry.key]}: "
                               "keep one row per student.")
        seen[entry.key] = number
        entries.append(entry)
    return entries


def match_roster(book, roster: list, lessons=None) -> dict:
    """Match the graded students with the roster.

    Parameters
    ----------
    book : ccdlab.classroom.grading.GradeBook
    roster : list of RosterEntry
    lessons : list of str, optional
        The lessons being exported (default: every lesson handed in in this batch).

    Returns
    -------
    dict
        ``matched`` (``{student: RosterEntry}``), ``not_on_roster`` (graded students, sorted) and
        ``no_submission`` (``{lesson: [RosterEntry...]}``: on the roster, nothing handed in for that lesson).

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> match_roster(GradeBook(), [RosterEntry("ada", row=2)])["not_on_roster"]
    []
    """
    by_key = {entry.key: entry for entry in roster}
    students = sorted({sub.student for sub in book.submissions})
    matched = {student: by_key[roster_key(student)] for student in students if roster_key(student) in by_key}
    if lessons is None:
        lessons = sorted({sub.lesson for sub in book.submissions if sub.lesson})
    handed = {(roster_key(sub.student), sub.lesson) for sub in book.submissions}
    return {
        "matched": matched,
        "not_on_roster": [student for student in students if student not in matched],
        "no_submission": {lesson: [entry for entry in roster if (entry.key, lesson) not in handed] for lesson in lessons},
    }

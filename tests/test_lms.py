"""Grades into the LMS: the roster, and the import files for Canvas, Gradescope and Moodle."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ccdlab.classroom.grading import GradeBook, GradeRow, Lesson, Submission
from ccdlab.classroom.grading.lms import LMS_FORMATS, lms_path, lms_table, write_lms
from ccdlab.classroom.grading.roster import ROSTER_COLUMNS, RosterEntry, match_roster, read_roster
from ccdlab.classroom.grading.written import WrittenQuestion
from ccdlab.commands.grade import LMS_CHOICES
from ccdlab.course.markers import Exercise
from ccdlab.errors import GradingError

ROSTER = """name,lms_id,email,section
Ada Lovelace,40012,ada@example.edu,Lab A
bob,40013,bob@example.edu,Lab B
=cmd|' /C calc'!A0,40014,eve@example.edu,Lab A
dan,40015,dan@example.edu,Lab B
"""


def book() -> GradeBook:
    lessons = {
        "00_getting_started": Lesson("00_getting_started", (Exercise("0.1", 1.0),)),
        "01_fits_files": Lesson("01_fits_files", (Exercise("1.1", 2.0), Exercise("1.2", 3.0)),
                                written=(WrittenQuestion("Q1.1", 2.0),)),
        "02_statistics_display": Lesson("02_statistics_display", (Exercise("2.1", 4.0),)),
    }

    def sub(student, lesson, rows):
        return Submission(Path(f"returned/{student}_{lesson}.ipynb"), student, lesson, "completed",
                          rows=[GradeRow(student, lesson, *row) for row in rows])

    return GradeBook(lessons=lessons, submissions=[
        sub("Ada_Lovelace", "00_getting_started", [("0.1", 1, 1, "correct")]),
        sub("Ada_Lovelace", "01_fits_files", [("1.1", 2, 2, "correct"), ("1.2", 1.333333, 3, "partial")]),
        sub("bob", "01_fits_files", [("1.1", 0, 2, "incorrect"), ("1.2", 0, 3, "missing")]),
        sub("zed", "01_fits_files", [("1.1", 2, 2, "correct"), ("1.2", 3, 3, "correct")]),
    ])


@pytest.fixture()
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return read_roster(path)


def rows(lms, roster):
    table, match = lms_table(book(), roster, lms)
    return table, match


def test_the_lms_choices_of_the_command_are_the_formats():
    assert LMS_CHOICES == LMS_FORMATS == ("canvas", "gradescope", "moodle")
    assert ROSTER_COLUMNS == ("name", "lms_id", "email", "section")


def test_canvas_gradebook_import(roster, tmp_path):
    path, match = write_lms(book(), roster, "canvas", lms_path(tmp_path / "grades.csv", "canvas"))
    assert path.name == "grades-canvas.csv"
    table = list(csv.reader(io.StringIO(path.read_text())))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "00_getting_started", "01_fits_files"]
    assert table[1] == ["Points Possible", "", "", "", "", "1", "7"]  # lesson 01: 5 points of exercises + 2 written
    assert table[2] == ["Ada Lovelace", "40012", "", "", "Lab A", "1", "3.33"]
    assert table[3] == ["bob", "40013", "", "", "Lab B", "", "0"]  # nothing handed in for 00: left empty, not 0
    assert len(table) == 4  # eve and dan handed in nothing; zed is not on the roster


def test_gradescope_and_moodle(roster):
    table, _ = rows("gradescope", roster)
    assert table[0] == ["Name", "Email", "SID", "Section", "00_getting_started", "00_getting_started - Max Points",
                        "01_fits_files", "01_fits_files - Max Points"]
    assert table[1] == ["Ada Lovelace", "ada@example.edu", "40012", "Lab A", "1", "1", "3.33", "7"]
    table, _ = rows("moodle", roster)
    assert table[0] == ["Name", "ID number", "Email address", "00_getting_started", "01_fits_files"]
    assert table[2] == ["bob", "40013", "bob@example.edu", "", "0"]


def test_who_is_missing_is_listed(roster, tmp_path):
    graded = book()
    _, match = write_lms(graded, roster, "moodle", tmp_path / "grades-moodle.csv")
    assert match["not_on_roster"] == ["zed"]
    assert [e.name for e in match["no_submission"]["00_getting_started"]] == ["bob", "=cmd|' /C calc'!A0", "dan"]
    assert [e.name for e in match["no_submission"]["01_fits_files"]] == ["=cmd|' /C calc'!A0", "dan"]
    warnings = "\n".join(graded.warnings)
    assert "1 graded student(s) are not on the roster, so not in grades-moodle.csv: zed." in warnings
    assert "2 student(s) on the roster handed in nothing for 01_fits_files (left empty in grades-moodle.csv)" in warnings


def test_the_import_files_are_spreadsheet_safe(roster, tmp_path):
    graded = book()
    graded.submissions.append(Submission(Path("returned/x.ipynb"), "cmd_C_calc_A0", "01_fits_files", "completed",
                                         rows=[GradeRow("cmd_C_calc_A0", "01_fits_files", "1.1", 2, 2, "correct")]))
    hostile = [RosterEntry("cmd_C_calc_A0", "=1+1", "@evil", "-Lab", 2)]
    for lms in LMS_FORMATS:
        path, _ = write_lms(graded, hostile, lms, tmp_path / f"{lms}.csv")
        for row in csv.reader(io.StringIO(path.read_text())):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), (lms, row)


def test_roster_names_match_as_ccdlab_writes_them(roster):
    match = match_roster(book(), roster)
    assert sorted(match["matched"]) == ["Ada_Lovelace", "bob"]  # "Ada Lovelace" on the roster


@pytest.mark.parametrize("text, message", [
    ("student,email\nada,a@x\n", "has no 'name' column: its first row should be the header name,lms_id,email,section"),
    ("name,lms_id\nada,1\n,2\n", r"roster.csv, row 3: no name"),
    ("name,lms_id\nada,1\nAda,2\n", r"roster.csv, row 3: 'Ada' is already on row 2: keep one row per student"),
])
def test_bad_rosters(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GradingError, match=message):
        read_roster(path)
    with pytest.raises(GradingError, match="could not be read"):
        read_roster(tmp_path / "missing.csv")


def test_a_roster_without_what_the_lms_matches_on(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("Name;LMS id;Section\nbob;;Lab B\n", encoding="utf-8")  # ; and "LMS id" read too
    entries = read_roster(path)
    assert entries == [RosterEntry("bob", "", "", "Lab B", 2)]
    with pytest.raises(GradingError, match=r"no lms_id for 1 graded student\(s\) \(row\(s\) 2\): Canvas matches"):
        lms_table(book(), entries, "canvas")
    with pytest.raises(GradingError, match="Unknown LMS 'blackboard'"):
        lms_table(book(), entries, "blackboard")

"""Written answers: markers with points in the solutions, a place the grader finds again in the student's
notebook however they edit around it, the written-answers sheet, and merging the instructor's points."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ccdlab.classroom.authoring import MARKDOWN_BLANK, make_student, validate_solution
from ccdlab.classroom.grading import GradeBook, Lesson, Submission, load_solutions
from ccdlab.classroom.grading.manual import SHEET_COLUMNS, apply_manual, read_sheet, sheet_path, write_sheet
from ccdlab.classroom.grading.report import summary_markdown
from ccdlab.classroom.grading.run import CellRecord, RunRecord, Submitted
from ccdlab.classroom.grading.score import grade_record, written_rows
from ccdlab.classroom.grading.written import blank_markdown, find_answer, written_questions
from ccdlab.errors import AuthoringError, GradingError

QUESTION = ("**Think about it.** Why do we take the median of the bias frames, not their mean?\n\n"
            "<!-- BEGIN SOLUTION (2 points): Q1.1 why the median -->\n"
            "The median ignores a cosmic ray in one frame; the mean spreads it over the master.\n"
            "<!-- END SOLUTION -->")
PLAIN = "**Think about it.** Which header value tells you it is a bias?\n\n<!-- BEGIN SOLUTION -->\nEXPTIME.\n<!-- END SOLUTION -->"


def solution_notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# Lesson 01"),
        new_code_cell('# EXERCISE 1.1 (2 points): Size\n### BEGIN SOLUTION\nx_len = 4096\n### END SOLUTION\ncheck("1.1", x_len=x_len)'),
        new_markdown_cell(QUESTION),
        new_markdown_cell(PLAIN),
        new_code_cell('# EXERCISE 1.2 (3 points): Time\n### BEGIN SOLUTION\nexptime = 0.001\n### END SOLUTION\ncheck("1.2", exptime=exptime)'),
    ])
    nb.metadata["ccdlab"] = {"lesson": "01_demo"}
    return nb


@pytest.fixture()
def solutions(tmp_path):
    folder = tmp_path / "solutions"
    folder.mkdir()
    nbformat.write(solution_notebook(), folder / "01_demo.ipynb")
    return folder


def student():
    return make_student(solution_notebook(), "01_demo")


def question_cell(nb):
    return next(c for c in nb.cells if "Think about it.** Why do we take the median" in c.source)


# ----------------------------------------------------------------------------------------------
# The markers


def test_a_marker_with_points_declares_a_written_question():
    [question] = written_questions(solution_notebook(), "01_demo.ipynb")
    assert (question.id, question.points, question.title) == ("Q1.1", 2.0, "why the median")
    assert question.prompt.startswith("**Think about it.** Why do we take the median")
    assert question.model_answer.startswith("The median ignores a cosmic ray")
    assert written_questions(new_notebook(cells=[new_markdown_cell(PLAIN)])) == []  # old markers: not collected


@pytest.mark.parametrize("line, message", [
    ("<!-- BEGIN SOLUTION (2 points) -->", "is not a written-answer marker"),       # points without an ID
    ("<!-- BEGIN SOLUTION (two points): Q1 -->", "is not a written-answer marker"),
    ("<!-- BEGIN SOLUTION: Q1 -->", "is not a written-answer marker"),
])
def test_malformed_markers_are_refused_naming_the_cell(line, message):
    nb = new_notebook(cells=[new_markdown_cell(f"Why?\n{line}\nSo.\n<!-- END SOLUTION -->")])
    with pytest.raises(AuthoringError, match=rf"bad\.ipynb, cell 1: line 2 .*{message}"):
        validate_solution(nb, "bad.ipynb")


def test_written_ids_are_unique_and_not_an_exercise_s():
    twice = solution_notebook()
    twice.cells.append(new_markdown_cell(QUESTION))
    with pytest.raises(AuthoringError, match="written answer Q1.1 is declared again"):
        validate_solution(twice, "twice.ipynb")
    clash = solution_notebook()
    clash.cells[2].source = QUESTION.replace("Q1.1", "1.2")
    with pytest.raises(AuthoringError, match="written answer 1.2 has the ID of the exercise declared in cell 5"):
        validate_solution(clash, "clash.ipynb")


def test_the_student_notebook_keeps_a_recognisable_place():
    nb = student()
    cell = question_cell(nb)
    assert "The median ignores" not in cell.source and "BEGIN SOLUTION" not in cell.source
    assert "<!-- ANSWER Q1.1 (2 points)" in cell.source and "<!-- END ANSWER Q1.1 -->" in cell.source
    assert "*Write your answer here (2 points).*" in cell.source
    assert cell.metadata["ccdlab"]["written"] == ["Q1.1"]
    plain = next(c for c in nb.cells if "Which header value" in c.source)
    assert plain.source.endswith(MARKDOWN_BLANK) and "ccdlab" not in plain.metadata  # old markers: as before
    assert blank_markdown(PLAIN, "x") == (PLAIN.split("<!--")[0] + MARKDOWN_BLANK, [])


# ----------------------------------------------------------------------------------------------
# Finding the answer again


def answered(edit) -> str:
    nb = student()
    edit(nb)
    [question] = written_questions(solution_notebook())
    lesson = load_lesson()
    return find_answer(nb, question, lesson.handout)


def load_lesson():
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        nbformat.write(solution_notebook(), Path(tmp) / "01_demo.ipynb")
        return load_solutions(tmp)["01_demo"]


def test_an_answer_typed_in_place_is_found():
    def edit(nb):
        cell = question_cell(nb)
        cell.source = cell.source.replace("*Write your answer here (2 points).*", "Cosmic rays are outliers.")
    assert answered(edit).text == "Cosmic rays are outliers." and answered(edit).where == "marked place"


def test_an_answer_is_found_after_the_cell_moved_and_the_question_was_deleted():
    def edit(nb):
        cell = question_cell(nb)
        nb.cells.remove(cell)
        cell.source = "<!-- ANSWER Q1.1 (2 points): ... -->\nOutliers are ignored."  # END marker deleted too
        cell.metadata = {}
        nb.cells.insert(1, cell)
    found = answered(edit)
    assert (found.text, found.where) == ("Outliers are ignored.", "marked place")


def test_an_answer_is_found_by_the_cell_metadata_when_the_markers_are_gone():
    def edit(nb):
        question_cell(nb).source = "My answer: the median is robust."
    found = answered(edit)
    assert (found.text, found.where) == ("My answer: the median is robust.", "question cell")


def test_an_answer_is_found_by_the_question_text_in_an_old_notebook():
    def edit(nb):
        cell = question_cell(nb)
        cell.metadata = {}
        cell.source = cell.source.split("<!--")[0] + "Because of cosmic rays."
    found = answered(edit)
    assert (found.text, found.where) == ("Because of cosmic rays.", "question text")


def test_an_answer_in_a_cell_added_below_counts():
    def edit(nb):
        index = nb.cells.index(question_cell(nb))
        nb.cells.insert(index + 1, new_markdown_cell("The mean is pulled by a single hot frame."))
    found = answered(edit)
    assert found.text == "The mean is pulled by a single hot frame."


def test_a_blank_or_missing_answer():
    assert answered(lambda nb: None).blank
    found = answered(lambda nb: nb.cells.remove(question_cell(nb)))
    assert found.where == "not found" and found.blank


# ----------------------------------------------------------------------------------------------
# Rows, the sheet and --manual


def book_with(answers: dict, solutions_dir) -> GradeBook:
    """A graded batch: each student's notebook is the student version with their written answer."""
    lessons = load_solutions(solutions_dir)
    lesson = lessons["01_demo"]
    book = GradeBook(lessons=lessons, settings={"solutions": str(solutions_dir)})
    for name, text in answers.items():
        nb = student()
        if text is not None:
            cell = question_cell(nb)
            cell.source = cell.source.replace("*Write your answer here (2 points).*", text)
        record = RunRecord("completed", cells=[CellRecord(1, "ok"), CellRecord(4, "ok")], submissions=[
            Submitted("1.1", 1, True, status="correct", score=1.0), Submitted("1.2", 4, True, status="incorrect")])
        path = Path(f"returned/{name}_01_demo.ipynb")
        book.submissions.append(Submission(path, name, "01_demo", "completed",
                                           rows=grade_record(record, nb, lesson, name, str(path))))
    return book


def test_written_answers_get_rows_that_wait_for_the_instructor(solutions):
    book = book_with({"ada": "The median ignores outliers.", "bob": None}, solutions)
    rows = {(r.student, r.exercise): r for r in book.rows}
    assert (rows["ada", "Q1.1"].status, rows["ada", "Q1.1"].points, rows["ada", "Q1.1"].max_points) == ("ungraded", 0, 2)
    assert rows["ada", "Q1.1"].answer == "The median ignores outliers." and rows["ada", "Q1.1"].written
    assert rows["bob", "Q1.1"].status == "not attempted"
    assert not rows["ada", "1.1"].written and rows["ada", "1.1"].points == 2  # never scored by the grader
    md = summary_markdown(book)
    assert "| ada | 2/7 (+2 to grade) | 2/7 | 29% | 2 |" in md


def fill(sheet: Path, points: dict, comments: dict = None) -> Path:
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    for row in rows:
        row["points"] = points.get(row["student"], row["points"])
        row["comment"] = (comments or {}).get(row["student"], row["comment"])
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return sheet


def test_the_sheet_round_trip_merges_points_into_the_totals(solutions, tmp_path):
    book = book_with({"ada": "The median ignores outliers.", "bob": "=HYPERLINK(\"http://evil\")"}, solutions)
    sheet = write_sheet(book, sheet_path(tmp_path / "grades.csv"))
    assert sheet.name == "grades-written.csv"
    table = list(csv.DictReader(sheet.open(encoding="utf-8")))
    assert [(r["student"], r["question"], r["max_points"], r["points"]) for r in table] == [
        ("ada", "Q1.1", "2", ""), ("bob", "Q1.1", "2", "")]
    assert table[0]["model_answer"].startswith("The median ignores a cosmic ray") and table[0]["prompt"].startswith("**Think")
    assert table[1]["answer"].startswith("'=")  # a formula stays text in a spreadsheet
    fill(sheet, {"ada": "1,5", "bob": "0"}, {"ada": "Say why the mean is pulled."})
    assert apply_manual(book, sheet) == 2
    rows = {(r.student, r.exercise): r for r in book.rows}
    assert (rows["ada", "Q1.1"].status, rows["ada", "Q1.1"].points, rows["ada", "Q1.1"].hint) == (
        "graded", 1.5, "Say why the mean is pulled.")
    assert "| ada | 3.5/7 | 3.5/7 | 50% |  |" in summary_markdown(book)
    again = write_sheet(book, sheet)  # the sheet written after merging carries the points: it merges again
    assert [r["points"] for r in csv.DictReader(again.open(encoding="utf-8"))] == ["1.5", "0"]
    assert apply_manual(book, again) == 2 and not book.warnings


def test_an_answer_changed_since_the_sheet_is_flagged(solutions, tmp_path):
    sheet = write_sheet(book_with({"ada": "First answer."}, solutions), tmp_path / "w.csv")
    fill(sheet, {"ada": "2"})
    book = book_with({"ada": "A different answer."}, solutions)
    apply_manual(book, sheet)
    assert any("is not the one in w.csv (row 2)" in w for w in book.warnings)


@pytest.mark.parametrize("points, student, question, lesson, message", [
    ("3", "ada", "Q1.1", "01_demo", r"w.csv, row 2: points '3' is outside 0 to 2"),
    ("-1", "ada", "Q1.1", "01_demo", r"w.csv, row 2: points '-1' is outside 0 to 2"),
    ("two", "ada", "Q1.1", "01_demo", r"w.csv, row 2: points 'two' is not a number"),
    ("nan", "ada", "Q1.1", "01_demo", r"w.csv, row 2: points 'nan' is outside"),
    ("1", "zoe", "Q1.1", "01_demo", r"w.csv, row 2: student 'zoe' handed in nothing in this batch"),
    ("1", "ada", "Q9", "01_demo", r"w.csv, row 2: lesson 01_demo has no written question 'Q9' \(its questions: Q1.1\)"),
    ("1", "ada", "Q1.1", "07_nope", r"w.csv, row 2: lesson '07_nope' is not a lesson of the solutions"),
])
def test_bad_sheet_rows_are_clear_errors_naming_the_row(solutions, tmp_path, points, student, question, lesson, message):
    book = book_with({"ada": "Answer."}, solutions)
    sheet = tmp_path / "w.csv"
    sheet.write_text(f"student,lesson,question,points\n{student},{lesson},{question},{points}\n", encoding="utf-8")
    with pytest.raises(GradingError, match=message):
        apply_manual(book, sheet)


def test_bad_sheets(solutions, tmp_path):
    book = book_with({"ada": "Answer."}, solutions)
    wrong = tmp_path / "grades.csv"
    wrong.write_text("student,lesson,exercise,points\n", encoding="utf-8")
    with pytest.raises(GradingError, match="grades.csv is not a written-answers sheet: it has no column question"):
        read_sheet(wrong, book)
    twice = tmp_path / "twice.csv"
    twice.write_text("student,lesson,question,points\nada,01_demo,Q1.1,1\nada,01_demo,Q1.1,2\n", encoding="utf-8")
    with pytest.raises(GradingError, match="twice.csv, row 3: ada's answer to Q1.1 already has 1 points in row 2"):
        read_sheet(twice, book)
    semicolons = tmp_path / "excel.csv"  # a spreadsheet saving with ; and decimal commas
    semicolons.write_text("student;lesson;question;points;comment\nada;01_demo;Q1.1;1,5;ok\n", encoding="utf-8-sig")
    assert read_sheet(semicolons, book)[0]["points"] == 1.5


def test_rows_of_a_notebook_that_did_not_run_include_the_written_questions(solutions):
    from ccdlab.classroom.grading.score import rows_without_run

    lesson = load_solutions(solutions)["01_demo"]
    rows = rows_without_run(lesson, "ada", "invalid notebook", "not JSON", "a.ipynb")
    assert [(r.exercise, r.written) for r in rows] == [("1.1", False), ("1.2", False), ("Q1.1", True)]
    assert written_rows(copy.deepcopy(student()), lesson, "ada")[0].status == "not attempted"


def test_a_written_question_enters_the_exercise_stats_once_all_its_answers_have_points(solutions, tmp_path):
    from ccdlab.classroom.grading.report import exercise_stats

    book = book_with({"ada": "The median ignores outliers.", "bob": None}, solutions)
    assert "Q1.1" not in {s["exercise"] for s in exercise_stats(book)}  # ada's answer waits: no misleading 0%
    sheet = fill(write_sheet(book, tmp_path / "w.csv"), {"ada": "2"})
    apply_manual(book, sheet)
    [q] = [s for s in exercise_stats(book) if s["exercise"] == "Q1.1"]
    assert (q["mean_score"], q["correct"], q["graded"], q["common"]) == (0.5, 1, 2, "not attempted (1)")

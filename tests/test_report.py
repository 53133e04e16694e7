"""The grading report: code cells named as Jupyter numbers them, one root cause per cascade of errors,
course totals out of the whole course, no duplicated rows, hints in the HTML."""

from __future__ import annotations

from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ccdlab.classroom.grading import GradeBook, GradeRow, Lesson, Submission, grade_record
from ccdlab.classroom.grading.cascade import cell_errors, defined_names
from ccdlab.classroom.grading.run import CellRecord, RunRecord, Submitted, code_cell_numbers
from ccdlab.classroom.grading.score import not_counted
from ccdlab.course.markers import Exercise

LESSON = Lesson("01_demo", (Exercise("1.1", 2.0, "Size"), Exercise("1.2", 3.0, "Time")))


def cascade_notebook():
    """Markdown between every code cell: code cell numbers and notebook positions differ."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Lesson 1"),                                   # 0
        new_code_cell("from astropy.io import fits"),                       # 1: code cell 1
        new_markdown_cell("Read the header."),                              # 2
        new_code_cell("header = fits.getheader(pth)"),                      # 3: code cell 2, NameError (typo: root)
        new_markdown_cell("## Exercise 1.1"),                               # 4
        new_code_cell('# EXERCISE 1.1 (2 points): Size\nx_len = header["NAXIS1"]\ncheck("1.1", x_len=x_len)'),  # 5: 3
        new_markdown_cell("## Exercise 1.2"),                               # 6
        new_code_cell('# EXERCISE 1.2 (3 points): Time\nexptime = header["EXPTIME"]\ncheck("1.2", exptime=exptime)'),  # 7: 4
    ])
    nb.metadata["ccdlab"] = {"lesson": "01_demo"}
    return nb


def cascade_record():
    undefined = "name 'header' is not defined"
    return RunRecord("completed", cells=[
        CellRecord(1, "ok"),
        CellRecord(3, "error", "NameError", "name 'pth' is not defined"),
        CellRecord(5, "error", "NameError", undefined),
        CellRecord(7, "error", "NameError", undefined),
    ], submissions=[Submitted("1.1", 5, True, status="error", raised=f"NameError: {undefined}"),
                    Submitted("1.2", 7, True, status="error", raised=f"NameError: {undefined}")])


def test_code_cells_are_numbered_as_jupyter_shows_them():
    nb = cascade_notebook()
    assert code_cell_numbers(nb) == {1: 1, 3: 2, 5: 3, 7: 4}
    record = cascade_record()
    assert [record.code_number(i) for i in (1, 3, 5, 7, 0, 2)] == [1, 2, 3, 4, 0, 0]


def test_hints_name_code_cells_not_notebook_positions():
    rows = {r.exercise: r for r in grade_record(cascade_record(), cascade_notebook(), LESSON, "ada")}
    assert rows["1.1"].hint.startswith("Code cell 3 (exercise 1.1) raised NameError")
    assert "Cell 6" not in rows["1.1"].hint and "cell 6" not in rows["1.1"].hint  # the notebook position + 1
    record = RunRecord("completed", cells=[CellRecord(1, "ok"), CellRecord(3, "ok"), CellRecord(5, "ok")],
                       submissions=[Submitted("1.1", 3, False, reason="it was checked twice")])
    assert not_counted(record) == ["exercise 1.1 was checked again from code cell 2 (not counted: it was checked twice)"]


def test_a_cascade_of_name_errors_has_one_root_cause():
    errors = cell_errors(cascade_record(), cascade_notebook())
    assert [(e.number, e.follows, e.cause_number) for e in errors] == [(2, False, 0), (3, True, 2), (4, True, 2)]
    rows = {r.exercise: r for r in grade_record(cascade_record(), cascade_notebook(), LESSON, "ada")}
    for exercise in ("1.1", "1.2"):
        assert rows[exercise].status == "error"
        assert "It follows from code cell 2, which raised NameError: name 'pth' is not defined before it could " \
               "define header: fix that cell first." in rows[exercise].hint


def test_a_name_error_of_its_own_is_a_root_cause():
    """A typo (a name no earlier cell defines) is the student's own mistake, not a consequence."""
    nb = cascade_notebook()
    record = RunRecord("completed", cells=[CellRecord(1, "ok"), CellRecord(3, "ok"),
                                           CellRecord(5, "error", "NameError", "name 'heder' is not defined")])
    assert [(e.number, e.follows) for e in cell_errors(record, nb)] == [(3, False)]
    # a name defined by an earlier cell that ran fine: not a cascade either (e.g. the student deleted it)
    record = RunRecord("completed", cells=[CellRecord(1, "ok"), CellRecord(3, "ok"),
                                           CellRecord(5, "error", "NameError", "name 'header' is not defined")])
    assert not cell_errors(record, nb)[0].follows


def test_a_cascade_is_traced_to_its_first_cell():
    nb = new_notebook(cells=[new_code_cell("a = 1 / 0"), new_code_cell("b = a + 1"), new_code_cell("c = b * 2")])
    record = RunRecord("completed", cells=[CellRecord(0, "error", "ZeroDivisionError", "division by zero"),
                                           CellRecord(1, "error", "NameError", "name 'a' is not defined"),
                                           CellRecord(2, "error", "NameError", "name 'b' is not defined")])
    assert [(e.number, e.cause_number) for e in cell_errors(record, nb)] == [(1, 0), (2, 1), (3, 1)]


def test_defined_names():
    source = ("%matplotlib inline\nimport numpy as np\nimport astropy.io.fits\nfor i, frame in enumerate(x):\n    pass\n"
              "with open(p) as f:\n    text = f.read()\ndef helper(arg):\n    inner = 1\nclass K: pass\n"
              "try:\n    pass\nexcept ValueError as exc:\n    pass\nlam = lambda q: q")
    assert defined_names(source) == {"np", "astropy", "i", "frame", "f", "text", "helper", "K", "exc", "lam"}


def test_a_timeout_as_root_cause():
    nb = new_notebook(cells=[new_code_cell("data = slow()"), new_code_cell("m = data.mean()")])
    record = RunRecord("completed", cells=[CellRecord(0, "timeout"),
                                           CellRecord(1, "error", "NameError", "name 'data' is not defined")])
    from ccdlab.classroom.grading.cascade import because

    error = cell_errors(record, nb)[0]
    assert error.cause_number == 1 and "ran too long and was stopped" in because(error, record)


# ----------------------------------------------------------------------------------------------
# Course totals, one row per notebook, hints in the HTML


from ccdlab.classroom.grading import report  # noqa: E402

COURSE = {
    "00_getting_started": Lesson("00_getting_started", (Exercise("0.1", 1.0, "Hello"),)),
    "01_fits_files": Lesson("01_fits_files", (Exercise("1.1", 2.0, "Size"), Exercise("1.2", 3.0, "Time"))),
    "02_statistics_display": Lesson("02_statistics_display", (Exercise("2.1", 4.0, "Stats"),)),
}


def course_book() -> GradeBook:
    def sub(student, lesson, rows, **kw):
        return Submission(Path(f"returned/{student}_{lesson}.ipynb"), student, lesson, "completed",
                          rows=[GradeRow(student, lesson, *row) for row in rows], **kw)

    return GradeBook(lessons=dict(COURSE), submissions=[
        sub("ada", "00_getting_started", [("0.1", 1, 1, "correct", "")]),
        sub("ada", "01_fits_files", [("1.1", 2, 2, "correct", ""), ("1.2", 0, 3, "incorrect", "Look at EXPTIME <b>again</b>.")]),
        sub("bob", "01_fits_files", [("1.1", 0, 2, "error", "Code cell 3 raised NameError"), ("1.2", 0, 3, "error", "")],
            cell_errors=cell_errors(cascade_record(), cascade_notebook())),
    ])


def test_course_totals_are_out_of_the_whole_course():
    totals = {t["student"]: t for t in report.course_totals(course_book())}
    assert totals["ada"]["max_points"] == totals["bob"]["max_points"] == 10  # 1 + 5 + 4: every lesson, not those handed in
    assert (totals["ada"]["points"], totals["bob"]["points"]) == (3, 0)
    assert totals["bob"]["lessons"]["00_getting_started"] == {"points": 0, "max_points": 1, "handed_in": False, "ungraded": 0}
    md = report.summary_markdown(course_book())
    assert "| student | 00_getting_started | 01_fits_files | 02_statistics_display | course total | score |" in md
    assert "| ada | 1/1 | 2/5 | 0/4 not handed in | 3/10 | 30% |  |" in md
    assert "| bob | 0/1 not handed in | 0/5 | 0/4 not handed in | 0/10 | 0% |  |" in md
    assert "Out of the whole course: 10 points over 3 lesson(s)" in md


def test_no_all_lessons_rows_duplicate_the_per_lesson_rows():
    md = report.summary_markdown(course_book())
    assert "all lessons" not in md
    notebooks = md.split("## Notebooks\n")[1].split("## Exercises")[0]
    assert notebooks.count("| ada |") == 2 and notebooks.count("| bob |") == 1  # one row per notebook handed in


def test_the_report_counts_a_cascade_once():
    [bob] = [t for t in report.student_totals(course_book()) if t["student"] == "bob"]
    assert bob["problems"] == "code cell 2 raised NameError (2 later cells failed because of it)"


def test_hints_are_in_the_html_escaped():
    page = report.summary_html(course_book())
    assert "<h2>Hints, student by student</h2>" in page
    assert "Look at EXPTIME &lt;b&gt;again&lt;/b&gt;." in page and "<b>again</b>" not in page
    assert "<summary>ada: 3 points in 2 notebook(s)</summary>" in page


def test_a_lesson_handed_in_twice_counts_once_the_better():
    book = course_book()
    book.submissions.append(Submission(Path("returned/ada_01_fits_files (1).ipynb"), "ada", "01_fits_files", "completed",
                                       rows=[GradeRow("ada", "01_fits_files", "1.1", 2, 2, "correct"),
                                             GradeRow("ada", "01_fits_files", "1.2", 3, 3, "correct")]))
    totals = {t["student"]: t for t in report.course_totals(book)}
    assert totals["ada"]["points"] == 6 and totals["ada"]["max_points"] == 10


def test_lessons_in_teaching_order_then_the_course_s_own():
    book = GradeBook(lessons={"zz_extra": Lesson("zz_extra"), **COURSE})
    assert [lesson.name for lesson in report.course_lessons(book)] == [
        "00_getting_started", "01_fits_files", "02_statistics_display", "zz_extra"]

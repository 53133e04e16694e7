"""Feedback pages, one per student: their grades, hints, written answers and (optionally) the solutions they
missed; safe to e-mail: nobody else's data, no path of the instructor's machine, everything escaped."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ccdlab.classroom.authoring import make_student
from ccdlab.classroom.grading import GradeBook, Submission, load_solutions
from ccdlab.classroom.grading.feedback_pages import feedback_for, scrub_paths, write_feedback
from ccdlab.classroom.grading.manual import apply_manual, write_sheet
from ccdlab.classroom.grading.run import CellRecord, RunRecord, Submitted
from ccdlab.classroom.grading.score import grade_record

SCRIPT = "<script>alert('pwned')</script>"


def solution_notebook():
    nb = new_notebook(cells=[
        new_markdown_cell("# Lesson 01"),
        new_code_cell('# EXERCISE 1.1 (2 points): Size\n### BEGIN SOLUTION\nx_len = header["NAXIS1"]\n### END SOLUTION\n'
                      'check("1.1", x_len=x_len)'),
        new_markdown_cell("Why the median?\n<!-- BEGIN SOLUTION (2 points): Q1.1 why the median -->\n"
                          "It ignores outliers.\n<!-- END SOLUTION -->"),
        new_code_cell('# EXERCISE 1.2 (3 points): Time\n### BEGIN SOLUTION\nexptime = header["EXPTIME"]\n### END SOLUTION\n'
                      'check("1.2", exptime=exptime)'),
    ])
    nb.metadata["ccdlab"] = {"lesson": "01_demo"}
    return nb


@pytest.fixture()
def graded(tmp_path):
    """A batch of three students whose hand-ins live under an instructor's folder with a tell-tale path."""
    solutions = tmp_path / "secret-solutions"
    solutions.mkdir()
    nbformat.write(solution_notebook(), solutions / "01_demo.ipynb")
    lessons = load_solutions(solutions)
    returned = tmp_path / "instructor-home" / "returned"
    book = GradeBook(lessons=lessons, settings={"solutions": str(solutions), "data": str(tmp_path / "private-data")})
    people = {
        "ada": ("The median ignores outliers.", "correct", 1.0, "incorrect", 0.0,
                f"Look again: {tmp_path}/private-data/bias/b1.fits is the first frame."),
        "bob": (f"I think {SCRIPT} works.", "incorrect", 0.0, "correct", 1.0, "x_len is the height, not the width."),
        "carol": ("", "partial", 0.5, "incorrect", 0.0, "Half right."),
    }
    for name, (answer, s11, score11, s12, score12, hint) in people.items():
        nb = make_student(solution_notebook(), "01_demo")
        if answer:
            cell = next(c for c in nb.cells if "Why the median" in c.source)
            cell.source = cell.source.replace("*Write your answer here (2 points).*", answer)
        record = RunRecord("completed", cells=[CellRecord(1, "ok"), CellRecord(3, "ok")], submissions=[
            Submitted("1.1", 1, True, status=s11, score=score11, hint=hint if s11 != "correct" else ""),
            Submitted("1.2", 3, True, status=s12, score=score12, hint=hint if s12 != "correct" else "")])
        path = returned / name / "01_demo.ipynb"
        sub = Submission(path, name, "01_demo", "completed", rows=grade_record(record, nb, lessons["01_demo"], name, str(path)))
        sub.notes.append(f"the answers to exercise 1.2 match the night of {'bob' if name == 'ada' else 'ada'}")
        book.submissions.append(sub)
    return book, tmp_path


def pages_of(folder: Path) -> dict:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_one_page_and_a_markdown_twin_per_student(graded):
    book, tmp = graded
    paths = write_feedback(book, tmp / "feedback")
    assert sorted(p.name for p in paths) == ["ada.html", "ada.md", "bob.html", "bob.md", "carol.html", "carol.md"]
    ada = (tmp / "feedback" / "ada.md").read_text()
    assert ada.startswith("# Feedback for ada\n")
    assert "Course total so far: **2 of 7 points** (29%), with 2 points of written answers still to be graded." in ada
    assert "| 1.1 Size | 2/2 | correct |  |" in ada
    assert "| 1.2 Time | 0/3 | incorrect | Look again: …/bias/b1.fits is the first frame. |" in ada
    assert "### Written answer Q1.1 why the median: waiting for the instructor's points (out of 2)" in ada
    assert "The median ignores outliers." in ada
    html = (tmp / "feedback" / "ada.html").read_text()
    assert "<h1>Feedback for ada</h1>" in html and "Look again: …/bias/b1.fits is the first frame." in html


def test_pages_hold_no_other_student_and_no_instructor_path(graded):
    book, tmp = graded
    write_feedback(book, tmp / "feedback", solutions=True)
    for name, text in pages_of(tmp / "feedback").items():
        me = name.split(".")[0]
        for other in {"ada", "bob", "carol"} - {me}:
            assert not re.search(rf"\b{other}\b", text), (name, other)
        for secret in (str(tmp), "secret-solutions", "private-data", "instructor-home", "/tmp/", "returned/"):
            assert secret not in text, (name, secret)
        assert "match the night of" not in text  # the report's notes about copying stay with the instructor


def test_a_script_in_an_answer_is_inert(graded):
    book, tmp = graded
    write_feedback(book, tmp / "feedback")
    html = (tmp / "feedback" / "bob.html").read_text()
    assert SCRIPT not in html and "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    md = (tmp / "feedback" / "bob.md").read_text()
    block = md.split("Your answer:")[1]
    fence = block.split("\n")[2]
    assert fence == "```" and SCRIPT in block.split(fence)[1]  # in a fenced block: shown as text, never run
    outside = md.replace(block.split(fence)[1], "")
    assert "<script>" not in outside


def test_a_hostile_student_name_and_hint_are_escaped(graded):
    book, tmp = graded
    for row in book.submissions[0].rows:
        row.hint = f"{SCRIPT} [click](javascript:alert(1)) | broken"
    page = feedback_for(book, "ada")
    from ccdlab.classroom.grading.feedback_pages import page_html, page_markdown

    md, html = page_markdown(page), page_html(page)
    assert "<script>" not in md and "[click](javascript" not in md and "\\| broken" in md
    assert "<script>" not in html
    assert "<h1>Feedback for &lt;x&gt;</h1>" in page_html(feedback_for(book, "<x>"))


def test_solutions_of_what_was_missed(graded):
    book, tmp = graded
    write_feedback(book, tmp / "plain")
    assert "Solutions of the exercises" not in (tmp / "plain" / "ada.md").read_text()
    write_feedback(book, tmp / "with", solutions=True)
    ada = (tmp / "with" / "ada.md").read_text()
    assert "Exercise 1.2 Time:\n\n```python\nexptime = header[\"EXPTIME\"]\n```" in ada
    assert 'x_len = header["NAXIS1"]' not in ada  # 1.1 was right: no solution for it
    carol = (tmp / "with" / "carol.md").read_text()
    assert 'x_len = header["NAXIS1"]' in carol  # partial: not fully right
    assert "A model answer:" in carol and "It ignores outliers." in carol  # no written answer: the model answer
    assert "A model answer:" not in ada  # ungraded yet: no model answer before the points are in


def test_the_instructor_s_points_and_comment_reach_the_page(graded):
    book, tmp = graded
    import csv
    import io

    sheet = write_sheet(book, tmp / "grades-written.csv")
    rows = list(csv.DictReader(io.StringIO(sheet.read_text())))
    assert [row["student"] for row in rows] == ["ada", "bob", "carol"]
    rows[0]["points"], rows[0]["comment"] = "1", "Why does the mean suffer?"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    sheet.write_text(buffer.getvalue())
    assert apply_manual(book, sheet) == 1
    write_feedback(book, tmp / "feedback", solutions=True)
    ada = (tmp / "feedback" / "ada.md").read_text()
    assert "### Written answer Q1.1 why the median: 1/2" in ada and "Comment: Why does the mean suffer?" in ada
    assert "Course total so far: **3 of 7 points** (43%)." in ada
    assert "A model answer:" in ada  # graded below full points: now the model answer


def test_scrub_paths_keeps_what_the_notebook_saw():
    text = "FileNotFoundError: [Errno 2] No such file: '/srv/course data/flats/f1.fits' at /sandbox/data/flats, 3/4 done"
    assert scrub_paths(text, ["/srv/course data"]) == (
        "FileNotFoundError: [Errno 2] No such file: '…/flats/f1.fits' at /sandbox/data/flats, 3/4 done")
    assert scrub_paths("see ~/grading/tmp/x.json or /tmp/ccdlab-grade-abc/sub0001/job.json") == "see …/x.json or …/job.json"

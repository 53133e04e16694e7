"""The README's week of teaching, run exactly as written: release, hand-in, grade with feedback pages and the
LMS file, the instructor's points for the written answers, merged. On the tiny night, for one student who
hands in the solutions of lessons 00 and 01 and one who hands in the blank notebooks."""

from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ccdlab.classroom.grading import load_solutions

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ("00_getting_started", "01_fits_files")

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def readme_week() -> list:
    """The commands of the README's "A week of teaching" block, in order (comments left out)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### A week of teaching, command by command", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def fill_sheet(path: Path) -> None:
    """What the instructor does by hand: full points and a comment for ada, nothing for bob's blank answers."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        row["points"] = row["max_points"] if row["student"] == "ada" else "0"
        row["comment"] = "Clear and right." if row["student"] == "ada" else ""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["student", "lesson", "question", "points"])
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def week(tmp_path_factory, tiny_night):
    here = tmp_path_factory.mktemp("course-week")
    returned = here / "returned"
    returned.mkdir()
    for lesson in LESSONS:  # the hand-in: ada the solutions, bob the blank notebooks, carol nothing
        nbformat.write(nbformat.read(ROOT / "solutions" / f"{lesson}.ipynb", as_version=4), returned / f"ada_{lesson}.ipynb")
        nbformat.write(nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4), returned / f"bob_{lesson}.ipynb")
    (here / "roster.csv").write_text("name,lms_id,email,section\nada,40012,ada@example.edu,Lab A\n"
                                     "bob,40013,bob@example.edu,Lab B\ncarol,40014,carol@example.edu,Lab A\n",
                                     encoding="utf-8")
    env = {**os.environ, "CCDLAB_DATA": str(tiny_night)}
    ccdlab = str(Path(sys.executable).with_name("ccdlab"))
    runs = []
    for command in readme_week():
        argv = shlex.split(command)
        assert argv[0] == "ccdlab", command
        if "--manual" in argv:
            fill_sheet(here / argv[argv.index("--manual") + 1])
        done = subprocess.run([ccdlab, *argv[1:], "--no-progress"] if argv[1] == "grade" else [ccdlab, *argv[1:]],
                              cwd=here, env=env, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        runs.append((command, done))
    return here, runs


def test_the_readme_walks_the_whole_week():
    commands = readme_week()
    assert [shlex.split(c)[1] for c in commands] == ["release", "grade", "grade"]
    assert "--feedback" in commands[1] and "--lms" in commands[1] and "--manual" in commands[2]


def test_release_and_grades(week):
    here, runs = week
    assert (here / "handout" / "ccdlab-course.zip").is_file()
    for name in ("grades.csv", "grades.md", "grades.html", "grades-written.csv", "grades-canvas.csv"):
        assert (here / "grades" / name).is_file(), name
    grades = list(csv.DictReader((here / "grades" / "grades.csv").open(encoding="utf-8")))
    exercises = [row for row in grades if not row["exercise"].startswith("Q")]
    assert {row["status"] for row in exercises if row["student"] == "ada"} == {"correct"}
    assert {row["status"] for row in exercises if row["student"] == "bob"} == {"not attempted"}


def test_the_instructor_s_points_are_merged_everywhere(week):
    here, runs = week
    lessons = load_solutions(ROOT / "solutions")
    written = sum(len(lessons[name].written) for name in LESSONS)
    sheet = list(csv.DictReader((here / "grades" / "grades-written.csv").open(encoding="utf-8")))
    assert len(sheet) == 2 * written  # ada's and bob's answers to every written question
    assert all(row["points"] for row in sheet)  # merged, and written back with the points
    assert f"merged the points of {2 * written} written answer(s)" in runs[2][1].stdout
    grades = list(csv.DictReader((here / "grades" / "grades.csv").open(encoding="utf-8")))
    assert all(row["status"] == "graded" for row in grades if row["exercise"].startswith("Q"))
    table = list(csv.reader((here / "grades" / "grades-canvas.csv").open(encoding="utf-8")))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *LESSONS]
    full = [f"{lessons[name].total_points:g}" for name in LESSONS]
    assert table[1] == ["Points Possible", "", "", "", "", *full]
    assert table[2] == ["ada", "40012", "", "", "Lab A", *full]  # exercises and written answers, all of them
    assert table[3] == ["bob", "40013", "", "", "Lab B", "0", "0"]
    assert "handed in nothing for 01_fits_files" in runs[1][1].stderr and "carol" in runs[1][1].stderr
    md = (here / "grades" / "grades.md").read_text(encoding="utf-8")
    course = sum(lesson.total_points for lesson in lessons.values())
    earned = sum(lessons[name].total_points for name in LESSONS)
    assert f"| ada | {full[0]}/{full[0]} | {full[1]}/{full[1]} | " in md and f"| {earned:g}/{course:g} |" in md


def test_the_feedback_pages_are_safe_to_send(week):
    here, _ = week
    pages = sorted(p.name for p in (here / "feedback").iterdir())
    assert pages == ["ada.html", "ada.md", "bob.html", "bob.md"]
    ada = (here / "feedback" / "ada.md").read_text(encoding="utf-8")
    assert "| 1.2 What the header says | 3/3 | correct |" in ada
    bob = (here / "feedback" / "bob.md").read_text(encoding="utf-8")
    assert "| 1.1 The image size | 0/2 | not attempted | not attempted yet |" in bob
    for page in pages:
        text = (here / "feedback" / page).read_text(encoding="utf-8")
        other = "bob" if page.startswith("ada") else "ada"
        assert not re.search(rf"\b{other}\b", text), page
        for secret in (str(here), str(ROOT), "/tmp/", "solutions/", str(Path.home())):
            assert secret not in text, (page, secret)

"""The course notebooks: in sync, small, clean, consistent, and the student versions run.

- ``notebooks/`` is exactly what ``ccdlab student solutions --out notebooks`` makes;
- every notebook is under 2 MB, and no output shows a memory address, an object repr or a path
  of the machine that ran it;
- every exercise ID is declared once in the whole course, its cell calls ``check`` with that ID,
  and the answers it passes are ones a check of that lesson takes;

The notebooks are run once each: the solutions under nbval, the student notebooks by grading them
(``tests/test_course.py``).
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from ccdlab.classroom import authoring
from ccdlab.course.checks import LESSONS, find_check
from ccdlab.course.markers import EXERCISE_RE, cell_source, exercises_in

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
STUDENTS = ROOT / "notebooks"
SOLUTION_FILES = sorted(SOLUTIONS.glob("*.ipynb"))
STUDENT_FILES = sorted(STUDENTS.glob("*.ipynb"))
MAX_BYTES = 2_000_000

#: What must never be visible in an output.
FORBIDDEN = [
    (re.compile(r"0x[0-9a-fA-F]{6,}"), "a memory address"),
    (re.compile(r"<Figure size"), "a Figure repr (end the plotting line with ';')"),
    (re.compile(r"<matplotlib\."), "a matplotlib object repr (end the line with ';' or assign it)"),
    (re.compile(r"<[\w.]+ object at "), "an object repr"),
    (re.compile(r"(/tmp/|/home/|/Users/|/content/|[A-Z]:\\\\)"), "a path of the machine that ran it"),
    (re.compile(r"<a widget"), "a widget (clear it: it cannot show on a static page)"),
]
RICH = ("image/png", "image/jpeg", "image/svg+xml", "text/html", "text/markdown", "text/latex")


def test_the_course_has_every_lesson():
    assert [p.stem for p in SOLUTION_FILES] == list(LESSONS)
    assert [p.name for p in STUDENT_FILES] == [p.name for p in SOLUTION_FILES]


def test_student_notebooks_are_in_sync_with_the_solutions():
    report = authoring.generate(SOLUTIONS, STUDENTS, check=True)
    assert report["stale"] == [], "run 'make notebooks' (ccdlab student solutions --out notebooks)"
    assert report["extra"] == [], "notebooks/ holds notebooks that no solution makes"


@pytest.mark.parametrize("path", SOLUTION_FILES + STUDENT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_small(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB: display downsampled images"


def visible_texts(notebook):
    """The text a reader sees in the outputs: streams, errors, and plain text with no richer form."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                yield index, output.get("text", "")
            elif output.get("output_type") == "error":
                yield index, "\n".join(output.get("traceback", []))
            else:
                data = output.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    yield index, "<a widget: its output cannot show on a static page>"
                elif not any(kind in data for kind in RICH):
                    yield index, str(data.get("text/plain", ""))


@pytest.mark.parametrize("path", SOLUTION_FILES, ids=lambda p: p.name)
def test_outputs_show_no_reprs_addresses_or_local_paths(path):
    notebook = nbformat.read(path, as_version=4)
    for index, text in visible_texts(notebook):
        for pattern, what in FORBIDDEN:
            match = pattern.search(text)
            assert match is None, f"{path.name}, cell {index + 1} shows {what}: {match.group(0)!r}"
    errors = [c for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name} was saved with an error output"


@pytest.mark.parametrize("path", STUDENT_FILES, ids=lambda p: p.name)
def test_student_notebooks_have_no_outputs_and_know_their_lesson(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["ccdlab"]["lesson"] == path.stem
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        assert "BEGIN SOLUTION" not in cell_source(cell)


def test_every_exercise_id_is_declared_once_in_the_course():
    seen = {}
    for path in SOLUTION_FILES:
        for exercise in exercises_in(nbformat.read(path, as_version=4)):
            assert exercise.id not in seen, f"exercise {exercise.id} is declared in {seen.get(exercise.id)} and {path.name}"
            seen[exercise.id] = path.name
    assert len(seen) >= 8


def _check_calls(source: str):
    """(exercise id, [answer names]) of every check(...) call in a cell."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
            exercise = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            calls.append((exercise, [kw.arg for kw in node.keywords]))
    return calls


@pytest.mark.parametrize("path", SOLUTION_FILES, ids=lambda p: p.name)
def test_each_exercise_cell_checks_its_own_id_with_answers_the_lesson_knows(path):
    notebook = nbformat.read(path, as_version=4)
    lesson = path.stem
    number = str(int(lesson.split("_")[0]))
    declared = [e.id for e in exercises_in(notebook)]
    checked = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = cell_source(cell)
        markers = [m["id"] for m in EXERCISE_RE.finditer(source)]
        calls = _check_calls(source)
        for exercise, names in calls:
            assert markers == [exercise], f"{path.name}: check({exercise!r}) sits in a cell declaring {markers}"
            assert find_check(lesson, names) is not None, f"{path.name}: no check of {lesson} takes {names}"
            checked.append(exercise)
        if markers:
            assert calls, f"{path.name}: exercise {markers} has no check(...) call"
    assert sorted(checked) == sorted(declared)
    assert all(e.split(".")[0] == number for e in declared), f"{path.name}: exercise IDs should start with {number}."

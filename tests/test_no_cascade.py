"""One error costs one exercise: lesson 04 with its first exercise's cell raising still scores 4.2-4.4 in
full, in the student's kernel and when graded; and every form of 4.2's answer that gets ✔ works on the
notebook's next line and in 4.3 (a ✔ never breaks what follows)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat
import pytest
from catalogue import Context
from catalogue.lesson04 import CASES

from ccdlab.course import results
from ccdlab.course.exercises import check, set_lesson
from ccdlab.course.markers import exercises_in

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
LESSON = "04_master_flat"

#: An answer line of each exercise, and the same with a typo (flat_file for flat_files ...): the cell
#: then raises NameError before its check.
TYPOS = {
    "4.1": ("flat_medians = [float(np.median(read_frame(path)[0])) for path in flat_files]",
            "flat_medians = [float(np.median(read_frame(path)[0])) for path in flat_file]"),
    "4.2": ("bad_flat = Path(flat_files[int(np.argmax(flat_medians))]).name",
            "bad_flat = Path(flat_files[int(np.argmax(flat_median))]).name"),
}
EXERCISES = ("4.1", "4.2", "4.3", "4.4")


def solution() -> nbformat.NotebookNode:
    return nbformat.read(SOLUTIONS / f"{LESSON}.ipynb", as_version=4)


def index_of(nb, marker: str) -> int:
    return next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and marker in cell.source)


def raising(exercise: str = "4.1") -> nbformat.NotebookNode:
    """The solution as a student would hand it in, except that one exercise's cell raises (the
    instructor's own closing asserts, which a student's notebook does not have, left out)."""
    nb = copy.deepcopy(solution())
    cell = nb.cells[index_of(nb, f"EXERCISE {exercise}")]
    right, typo = TYPOS[exercise]
    assert right in cell.source
    cell.source = cell.source.replace(right, typo)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and c.source.startswith("### BEGIN SOLUTION"))]
    return nb


def night_copy(tiny_night, folder: Path) -> Path:
    for name in ("bias", "flats", "science"):
        shutil.copytree(tiny_night / name, folder / name)
    return folder


def texts(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        else:
            parts.append(output.get("text", "") or str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("broken", ["4.1", "4.2"])
def test_a_raising_cell_costs_only_its_exercise_in_the_notebook(broken, tiny_night, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    night = night_copy(tiny_night, tmp_path / "night")
    monkeypatch.setenv("CCDLAB_DATA", str(night))  # the kernel inherits it
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = raising(broken)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [(i, output["ename"]) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert errors == [(index_of(nb, f"EXERCISE {broken}"), "NameError")], errors  # no NameError further down
    raised = texts(nb.cells[index_of(nb, f"EXERCISE {broken}")])
    assert f"⚠ The cell of exercise {broken} raised NameError" in raised and "goes on with reference values" in raised
    for exercise in EXERCISES:
        if exercise != broken:
            feedback = texts(nb.cells[index_of(nb, f"EXERCISE {exercise}")])
            assert f"✔ Exercise {exercise}: correct" in feedback, feedback
    summary = texts(nb.cells[index_of(nb, "summary()")])
    assert f"{broken}   its cell raised NameError" in summary and "3 of 4 exercises correct" in summary, summary
    assert f"Fix the cell of exercise {broken}" in summary


@pytest.mark.notebooks
@pytest.mark.slow
def test_4_1_raising_costs_only_4_1_when_graded(tiny_night, tmp_path):
    from ccdlab.classroom.grading import grade

    returned = tmp_path / "returned"
    returned.mkdir()
    nbformat.write(raising("4.1"), returned / f"mallory_{LESSON}.ipynb")
    book = grade([returned], SOLUTIONS, tiny_night, timeout=900, cell_timeout=300, jobs=1, progress=False,
                 sandbox="require")
    rows = {row.exercise: row for row in book.rows if row.student == "mallory" and not row.exercise.startswith("Q")}
    assert {row.status for row in book.rows if row.exercise.startswith("Q")} == {"ungraded"}  # written answers wait for a person
    points = {e.id: e.points for e in exercises_in(solution())}
    assert set(rows) == set(points)
    assert rows["4.1"].status == "error" and rows["4.1"].points == 0 and "NameError" in rows["4.1"].hint
    for exercise in EXERCISES[1:]:
        assert (rows[exercise].status, rows[exercise].points) == ("correct", points[exercise]), rows[exercise]


# --- 4.2: every form that gets ✔ works on the next line, and 4.3 is right after it ---------------------


def _after_check(nb, exercise: str) -> str:
    """The notebook's code after an exercise's check line: the rest of its cell and the next code cell."""
    index = index_of(nb, f"EXERCISE {exercise}")
    rest = nb.cells[index].source.split(f'check("{exercise}"', 1)[1].split("\n", 1)
    following = next(cell.source for cell in nb.cells[index + 1:] if cell.cell_type == "code")
    return (rest[1] if len(rest) > 1 else "") + "\n" + following


def _solution_lines(nb, exercise: str) -> str:
    source = nb.cells[index_of(nb, f"EXERCISE {exercise}")].source
    return source.split("### BEGIN SOLUTION\n", 1)[1].split("### END SOLUTION", 1)[0]


@pytest.fixture
def notebook_04(tiny_night, monkeypatch):
    """The namespace of lesson 04's notebook up to Exercise 4.2, on the tiny night, checks judged here."""
    monkeypatch.setenv("CCDLAB_DATA", str(tiny_night))
    monkeypatch.delenv("CCDLAB_RESULTS", raising=False)
    results.clear()
    set_lesson(LESSON)
    nb = solution()
    namespace = {"data_dir": tiny_night}
    exec(nb.cells[index_of(nb, "from ccdlab import combine")].source, namespace)  # noqa: S102 - the imports, the masters
    exec(_solution_lines(nb, "4.1"), namespace)  # noqa: S102 - the notebook's own code
    exec(nb.cells[index_of(nb, "centre = illuminated_region")].source, namespace)  # noqa: S102 - the notebook's own code
    yield nb, namespace
    results.clear()
    set_lesson(None)


@pytest.mark.parametrize("answer", [a for a in CASES["4.2"] if a.ok], ids=lambda a: a.label)
def test_each_accepted_form_of_4_2_works_on_the_next_line_and_in_4_3(answer, notebook_04, tiny_night, capsys):
    nb, namespace = notebook_04
    namespace["bad_flat"] = check("4.2", **answer.make(Context(tiny_night)))
    exec(_after_check(nb, "4.2"), namespace)  # noqa: S102 - the notebook's own code
    unusable = next(Path(p).name for p in namespace["flat_files"] if p not in namespace["good_files"])
    assert len(namespace["good_files"]) == len(namespace["flat_files"]) - 1
    shown = capsys.readouterr().out
    assert "✔ Exercise 4.2: correct" in shown
    assert f"rejected {unusable}; {len(namespace['good_files'])} flats left" in shown, shown
    exec(_solution_lines(nb, "4.3"), namespace)  # noqa: S102 - the notebook's own code
    check("4.3", master_flat=namespace["master_flat"])
    assert "✔ Exercise 4.3: correct" in capsys.readouterr().out

"""Lesson 08 beyond its answer catalogue: the warm camera's night, a real night without darks or
flat pairs (the stand-in), and the whole notebook run end to end on such a night."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from catalogue import Context
from catalogue.lesson08 import CASES
from ccdlab.course.checks import Night, find_check
from ccdlab.course.checks.lesson08 import measured_night
from ccdlab.data.stand_in import detector_night, make_stand_in, stand_in_dir
from ccdlab.errors import DataNotFoundError

ROOT = Path(__file__).resolve().parents[1]


def real_night(tiny_night, folder) -> Path:
    """A night as an instructor might bring it: bias, one flat per level, science; no darks, no pairs, no manifest."""
    for name in ("bias", "flats", "science"):
        shutil.copytree(tiny_night / name, folder / name)
    return folder


@pytest.mark.parametrize("exercise", sorted(CASES))
def test_the_solution_is_right_on_the_warm_camera_too(exercise, warm_night):
    context = Context(warm_night)
    answer = next(a for a in CASES[exercise] if a.solution)
    answers = answer.make(context)
    parts = find_check("08_detector", list(answers)).function(context.night, **answers)
    assert all(part.ok for part in parts), [part.hint for part in parts if not part.ok]


def test_a_night_without_darks_or_pairs_uses_the_stand_in(tiny_night, tmp_path):
    night = real_night(tiny_night, tmp_path / "own")
    with pytest.raises(DataNotFoundError, match="stand-in night is not made yet"):
        measured_night(Night(night))
    folder, missing = detector_night(night)
    assert folder == stand_in_dir(night) and missing == ["no dark frames", "no pair of flats of equal exposure"]
    assert (folder / "detector" / "ptc").is_dir() and make_stand_in(night) == folder
    used, _, truth = measured_night(Night(night))
    assert used == folder and truth["camera"] == "cool"
    assert detector_night(tiny_night) == (tiny_night, [])


@pytest.mark.notebooks
@pytest.mark.slow
def test_lesson_08_runs_end_to_end_on_a_night_without_darks_or_pairs(tiny_night, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    night = real_night(tiny_night, tmp_path / "own")
    monkeypatch.setenv("CCDLAB_DATA", str(night))  # the kernels inherit it
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for kind in ("solutions", "notebooks"):
        notebook = nbformat.read(ROOT / kind / "08_detector.ipynb", as_version=4)
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        text = "\n".join(output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
                         for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", []))
        assert "This night has no dark frames and no pair of flats of equal exposure" in text
        marks = [line for line in text.splitlines() if line.lstrip().startswith(("✔ Exercise", "✘ Exercise", "… Exercise",
                                                                                  "⚠ Exercise"))]
        assert len(marks) == 7, marks
        expected = "✔" if kind == "solutions" else "…"
        assert all(line.lstrip().startswith(expected) for line in marks), marks
    assert (stand_in_dir(night) / "manifest.json").is_file()

"""Notebooks already handed out keep working: every ccdlab import of the 0.1 notebooks, and their setup cell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

DATA = Path(__file__).resolve().parent / "data"
IMPORTS = [line for line in (DATA / "imports_0.1.txt").read_text().splitlines() if line and not line.startswith("#")]


def _names(line: str) -> list[str]:
    if line.startswith("import "):
        return [line.split()[1].split(".")[0]]
    listed = line.split(" import ", 1)[1]
    return [part.split(" as ")[-1].strip() for part in listed.split(",")]


@pytest.mark.parametrize("line", IMPORTS)
def test_every_import_of_the_handed_out_notebooks_still_works(line):
    """Each in a fresh interpreter, as a student's kernel would run it."""
    names = _names(line)
    script = f"{line}\nprint({names!r} == [n for n in {names!r} if globals()[n] is not None])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


def test_old_module_paths_are_the_new_modules():
    import ccdlab.checks.lesson01
    import ccdlab.colab
    import ccdlab.course.checks.lesson01
    import ccdlab.course.exercises
    import ccdlab.course.setup
    import ccdlab.data.colab
    import ccdlab.exercises
    import ccdlab.setup_cell

    assert ccdlab.exercises is ccdlab.course.exercises
    assert ccdlab.setup_cell is ccdlab.course.setup
    assert ccdlab.colab is ccdlab.data.colab
    assert ccdlab.checks.lesson01 is ccdlab.course.checks.lesson01


def test_the_combine_of_old_notebooks_is_still_a_function():
    from ccdlab import combine
    import numpy as np

    frames = [np.full((2, 2), v, dtype=np.float32) for v in (1.0, 5.0, 2.0)]
    assert combine(frames, method="median", progress=False).tolist() == [[2.0, 2.0], [2.0, 2.0]]


@pytest.mark.parametrize("name", ["01_fits_files", "03_master_bias"])
def test_the_setup_cell_of_a_handed_out_notebook_runs(name, tiny_night, tmp_path):
    notebook = nbformat.read(DATA / "handed_out_0.1" / f"{name}.ipynb", as_version=4)
    setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "from ccdlab.setup_cell import start" in setup  # the 0.1 cell itself
    script = (f"{setup}\nimport json\nfrom ccdlab.exercises import current_lesson\n"
              "print(json.dumps([str(data_dir), current_lesson()]))")
    env = {**__import__("os").environ, "CCDLAB_DATA": str(tiny_night)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [str(tiny_night), name]

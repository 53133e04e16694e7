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


#: Runs each import line in a fork of one interpreter that holds the third-party packages but no
#: ccdlab module: every line meets ccdlab fresh, as a student's new kernel would, without paying
#: for numpy and astropy again each time.
FORKS = r"""
import json, os, sys, traceback
import numpy, scipy.ndimage, astropy.io.fits, astropy.table, astropy.stats, matplotlib.pyplot
assert not [name for name in sys.modules if name == "ccdlab" or name.startswith("ccdlab.")]
results = {}
for line, names in json.loads(sys.stdin.read()):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            scope = {}
            exec(line, scope)
            missing = [name for name in names if scope.get(name) is None]
            answer = [not missing, f"None or missing: {missing}" if missing else ""]
        except BaseException:
            answer = [False, traceback.format_exc()]
        os.write(write, json.dumps(answer).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    results[line] = json.loads(data) if data else [False, "the forked interpreter died"]
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def imported():
    """Each import line's outcome: [worked, what went wrong]."""
    lines = json.dumps([[line, _names(line)] for line in IMPORTS])
    result = subprocess.run([sys.executable, "-c", FORKS], input=lines, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("line", IMPORTS)
def test_every_import_of_the_handed_out_notebooks_still_works(line, imported):
    """Each in an interpreter without ccdlab, as a student's kernel would run it."""
    worked, problem = imported[line]
    assert worked, problem


def test_a_broken_import_line_is_caught():
    """The forks tell a failing line from a working one."""
    lines = json.dumps([["from ccdlab.io import no_such_function", ["no_such_function"]],
                        ["from ccdlab.io import read_frame", ["read_frame"]]])
    result = subprocess.run([sys.executable, "-c", FORKS], input=lines, capture_output=True, text=True, timeout=300,
                            check=False)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["from ccdlab.io import read_frame"] == [True, ""]
    worked, problem = outcome["from ccdlab.io import no_such_function"]
    assert not worked and "ImportError" in problem


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

"""Tests of ``ccdlab release``: the hand-out holds the student notebooks, a README and the package,
never solutions, truth files, grades or results."""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ccdlab import cli
from ccdlab.classroom import release
from ccdlab.commands import release as release_command
from ccdlab.classroom.release import ReleaseError, build_release, check_student_notebook, student_readme

SOLUTION = "# EXERCISE 1.1 (2 points): Sum\n### BEGIN SOLUTION\ntotal = 1 + 1\n### END SOLUTION\ncheck('1.1', total=total)"
STUDENT = "# EXERCISE 1.1 (2 points): Sum\ntotal = ...  # your code here\ncheck('1.1', total=total)"


def notebook(source, lesson="01_demo", output=False):
    cell = new_code_cell(source)
    if output:
        cell.outputs = [new_output("stream", name="stdout", text="the answer is 2\n")]
        cell.execution_count = 3
    nb = new_notebook(cells=[new_markdown_cell("# Demo"), cell])
    nb.metadata["ccdlab"] = {"lesson": lesson}
    return nb


@pytest.fixture
def project(tmp_path):
    """A small project checkout: package, solutions, student notebooks, tests, data and grades."""
    root = tmp_path / "project"
    (root / "src" / "ccdlab" / "__pycache__").mkdir(parents=True)
    (root / "src" / "ccdlab" / "__init__.py").write_text("__version__ = '0'\n")
    (root / "src" / "ccdlab" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (root / "src" / "ccdlab" / "night_truth.json").write_text("{}")
    (root / "src" / "ccdlab" / "classroom" / "grading").mkdir(parents=True)
    (root / "src" / "ccdlab" / "classroom" / "release.py").write_text("")
    (root / "src" / "ccdlab" / "classroom" / "grading" / "run.py").write_text("")
    (root / "src" / "ccdlab" / "course" / "checks").mkdir(parents=True)
    (root / "src" / "ccdlab" / "course" / "exercises.py").write_text("")
    (root / "src" / "ccdlab" / "course" / "checks" / "classroom.py").write_text("")  # not the subpackage: kept
    (root / "src" / "ccdlab.egg-info").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'ccdlab'\n")
    (root / "data_fetch.py").write_text("print('fetch')\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")
    (root / "data" / "bias").mkdir(parents=True)
    (root / "data" / "truth.json").write_text("{}")
    (root / "grades.csv").write_text("student\n")
    (root / "solutions").mkdir()
    nbformat.write(notebook(SOLUTION), root / "solutions" / "01_demo.ipynb")
    (root / "notebooks").mkdir()
    nbformat.write(notebook(STUDENT, output=True), root / "notebooks" / "01_demo.ipynb")
    return root


def test_build_release_contents(project, tmp_path):
    made = build_release(tmp_path / "out", project=project)
    folder = made["folder"]
    assert folder == tmp_path / "out" / "ccdlab-course" and made["notebooks"] == ["01_demo.ipynb"]
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == [".ccdlab-release", "README.md", "data_fetch.py", "notebooks/01_demo.ipynb", "pyproject.toml",
                     "src/ccdlab/__init__.py", "src/ccdlab/course/checks/classroom.py", "src/ccdlab/course/exercises.py"]
    handed = nbformat.read(folder / "notebooks" / "01_demo.ipynb", as_version=4)
    assert handed.cells[1].outputs == [] and handed.cells[1].execution_count is None
    assert handed.metadata["ccdlab"]["lesson"] == "01_demo"
    assert "| `notebooks/01_demo.ipynb` | 1 | 2 |" in (folder / "README.md").read_text()
    with zipfile.ZipFile(made["zip"]) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(f"ccdlab-course/{f}" for f in files if f != ".ccdlab-release")
    assert made["package"] == ["pyproject.toml", "data_fetch.py", "src/ccdlab"]


def test_release_again_replaces_the_previous_one(project, tmp_path):
    build_release(tmp_path / "out", project=project)
    (tmp_path / "out" / "ccdlab-course" / "leftover.txt").write_text("old")
    made = build_release(tmp_path / "out", project=project, include_package=False)
    assert not (made["folder"] / "leftover.txt").exists() and not (made["folder"] / "src").exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ccdlab-course", "ccdlab-course.zip"]


def test_release_refuses_a_notebook_with_a_solution(project, tmp_path):
    nbformat.write(notebook(SOLUTION), project / "notebooks" / "01_demo.ipynb")
    with pytest.raises(ReleaseError, match="still holds a solution"):
        build_release(tmp_path / "out", project=project)
    assert not (tmp_path / "out" / "ccdlab-course").exists()


def test_release_refuses_stale_notebooks(project, tmp_path):
    nbformat.write(notebook(STUDENT.replace("2 points", "3 points")), project / "notebooks" / "01_demo.ipynb")
    with pytest.raises(ReleaseError, match="out of date"):
        build_release(tmp_path / "out", project=project)


def test_release_bad_inputs(project, tmp_path):
    with pytest.raises(ReleaseError, match="No student notebooks"):
        build_release(tmp_path / "out", notebooks_dir=tmp_path / "none", project=project)
    (tmp_path / "taken" / "ccdlab-course").mkdir(parents=True)
    with pytest.raises(ReleaseError, match="not made by 'ccdlab release'"):
        build_release(tmp_path / "taken", project=project)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ReleaseError, match="is a file"):
        build_release(tmp_path / "afile", project=project)
    with pytest.raises(ReleaseError, match="overlaps"):
        build_release(project / "notebooks", project=project)
    (project / "notebooks" / "02_broken.ipynb").write_text("{")
    with pytest.raises(ReleaseError, match="02_broken.ipynb is not a readable notebook"):
        build_release(tmp_path / "out", project=project)


def test_check_student_notebook():
    check_student_notebook(notebook(STUDENT), notebook(SOLUTION), "01_demo.ipynb")
    with pytest.raises(ReleaseError, match="cell 2"):
        check_student_notebook(notebook(SOLUTION), None, "01_demo.ipynb")
    for leak in ("<!-- BEGIN SOLUTION -->answer<!-- END SOLUTION -->",
                 "Why?\n<!-- BEGIN SOLUTION (2 points): Q3.1 Hot pixels -->\nThe median keeps them.",
                 "the model answer\n<!--END SOLUTION-->", "x = 1\n###  end solution"):
        with pytest.raises(ReleaseError, match="still holds a solution"):
            check_student_notebook(new_notebook(cells=[new_markdown_cell(leak)]))


def test_student_readme():
    text = student_readme([("01_a.ipynb", 2, 3.0), ("02_b.ipynb", 1, 1.5)])
    assert "| `notebooks/02_b.ipynb` | 1 | 1.5 |" in text
    assert ".venv/bin/pip install -e '.[lab]'" in text and ".venv/bin/ccdlab lab" in text
    assert "MyDrive/ccdlab-course" in text
    assert "Handing in" in text and "File > Download" in text and "solution" not in text.lower()


def parse(*argv):
    parser = argparse.ArgumentParser()
    release_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_release(project, tmp_path, capsys):
    code = cli.run_command("release", parse(str(tmp_path / "out"), "--notebooks", str(project / "notebooks"),
                             "--solutions", str(project / "solutions"), "--no-package"))
    assert code == 0 and "Hand out" in capsys.readouterr().out
    assert (tmp_path / "out" / "ccdlab-course.zip").is_file()


def test_cli_release_bad_input(project, tmp_path, capsys):
    code = cli.run_command("release", parse(str(tmp_path / "out"), "--notebooks", str(tmp_path / "none")))
    err = capsys.readouterr().err
    assert code == 1 and "No student notebooks" in err and "Traceback" not in err
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "file").write_text("x")
    code = cli.run_command("release", parse(str(tmp_path / "ro" / "file" / "sub"), "--notebooks", str(project / "notebooks"),
                             "--solutions", str(project / "solutions"), "--no-package"))
    assert code == 1 and "could not use" in capsys.readouterr().err


def test_release_of_the_real_course(real_release):
    """The course's own notebooks, generated from solutions/, make a clean hand-out."""
    from ccdlab.paths import project_root

    made = real_release
    assert made["notebooks"] == sorted(p.name for p in (project_root() / "solutions").glob("*.ipynb"))
    with zipfile.ZipFile(made["zip"]) as archive:
        names = archive.namelist()
    assert "ccdlab-course/src/ccdlab/course/exercises.py" in names and "ccdlab-course/pyproject.toml" in names
    assert not [n for n in names if "/solutions/" in n or "/tests/" in n or n.endswith((".fits", ".jsonl", "truth.json"))]
    for name in made["notebooks"]:
        text = (made["folder"] / "notebooks" / name).read_text()
        assert "BEGIN SOLUTION" not in text and "output_type" not in text

@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_release_is_readable_by_others(project, tmp_path, umask_022):
    (project / "data_fetch.py").chmod(0o700)  # an executable kept private in the project
    (project / "pyproject.toml").chmod(0o600)
    made = build_release(tmp_path / "out", project=project)
    folder = made["folder"]
    modes = {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}
    assert modes.pop(".") == 0o755 and modes.pop("data_fetch.py") == 0o755
    assert {m for name, m in modes.items() if (folder / name).is_dir()} == {0o755}
    assert {m for name, m in modes.items() if (folder / name).is_file()} == {0o644}
    assert stat.S_IMODE(made["zip"].stat().st_mode) == 0o644
    with zipfile.ZipFile(made["zip"]) as archive:
        zipped = {info.filename: (info.external_attr >> 16) for info in archive.infolist()}
    assert zipped.pop("ccdlab-course/data_fetch.py") == 0o100755
    assert set(zipped.values()) == {0o100644}


def test_release_follows_a_stricter_umask(project, tmp_path):
    old = os.umask(0o077)
    try:
        made = build_release(tmp_path / "out", project=project)
    finally:
        os.umask(old)
    assert stat.S_IMODE((made["folder"] / "README.md").stat().st_mode) == 0o600
    assert stat.S_IMODE(made["zip"].stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def real_release(tmp_path_factory):
    """The hand-out of the course's own notebooks, generated from solutions/."""
    from ccdlab.classroom.authoring import generate
    from ccdlab.paths import project_root

    tmp = tmp_path_factory.mktemp("real")
    generate(project_root() / "solutions", tmp / "notebooks")
    return build_release(tmp / "out", notebooks_dir=tmp / "notebooks")


def test_release_leaves_out_the_instructor_modules(real_release):
    package = real_release["folder"] / "src" / "ccdlab"
    assert not (package / release.INSTRUCTOR_PACKAGE).exists()
    assert (package / "course" / "exercises.py").is_file() and (package / "course" / "setup.py").is_file()
    assert sorted(p.name for p in (package / "course" / "checks").glob("lesson*.py"))[:2] == ["lesson00.py", "lesson01.py"]
    with zipfile.ZipFile(real_release["zip"]) as archive:
        names = archive.namelist()
    assert not [n for n in names if "/ccdlab/classroom/" in n]
    assert [n for n in names if n.endswith("/ccdlab/commands/grade.py")]  # says it is an instructor's command


def test_released_package_imports_and_runs_the_setup_cell(real_release, tiny_night):
    """Without pip: PYTHONPATH=src of the hand-out; the first cell of a notebook runs as a student's would."""
    folder = real_release["folder"]
    first = real_release["notebooks"][1]
    script = f"""
import json, sys
import ccdlab, ccdlab.course.exercises, ccdlab.course.setup
assert ccdlab.__file__.startswith({str(folder / "src")!r}), ccdlab.__file__
try:
    import ccdlab.classroom.grading
except ModuleNotFoundError:
    pass
else:
    sys.exit("ccdlab.classroom.grading should not be in the hand-out")
notebook = json.load(open({str(folder / "notebooks" / first)!r}))
cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
namespace = {{}}
exec("".join(cell["source"]), namespace)
print(namespace["data_dir"])
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(folder / "src"), CCDLAB_DATA=str(tiny_night), MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, "-c", script], cwd=folder / "notebooks", env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tiny_night.resolve())

"""The hand-out: ``ccdlab release OUTDIR`` packs the student notebooks for a class.

``OUTDIR/ccdlab-course/`` (and ``OUTDIR/ccdlab-course.zip``) holds

- ``notebooks/``: the student notebooks, outputs cleared, checked to hold no solution;
- ``README.md``: for students -- set up, get the data, work, hand in;
- the helper package students need to run them (``pyproject.toml``, ``src/ccdlab/``,
  ``data_fetch.py``, ``environment.yml`` when present), so that the folder can be installed with
  ``pip install -e .`` or copied to Google Drive as ``MyDrive/ccdlab-course`` for the Colab setup cell.

Never included: ``solutions/``, ``tests/``, ``bench/``, ``docs/``, data, grades and results
files, truth files (see :data:`EXCLUDED`), or the instructor's subpackage ``ccdlab.classroom``
(authoring, release, grading: :data:`INSTRUCTOR_PACKAGE`); the answer checks stay, students need them.

With ``github_classroom=True`` (``ccdlab release OUTDIR --github-classroom``) the hand-out is a
GitHub Classroom template repository that grades itself on each push
(:mod:`ccdlab.classroom.github_classroom`): it also holds the grader
(``ccdlab/classroom/grading``: :data:`GRADER_PACKAGE`; still no authoring or release tools, no
solutions), the workflow, a points manifest made from the solutions, and a ``.gitignore``.
Files and folders are readable by others (the umask applies, e.g. 0644 / 0755), in the folder
and in the zip. Before anything is written the
student notebooks are checked against the solutions (same exercises, same points; no solution
marker left) so a stale or leaky hand-out cannot be made by mistake.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from ccdlab.course.markers import SOLUTION_MARKER_RE, cell_source, exercises_in
from ccdlab.errors import ReleaseError
from ccdlab.files import atomic_output, file_mode

__all__ = ["RELEASE_NAME", "STAMP", "EXCLUDED", "INSTRUCTOR_PACKAGE", "GRADER_PACKAGE", "ReleaseError",
           "check_student_notebook", "student_readme", "build_release"]

#: Name of the release folder and zip inside OUTDIR.
RELEASE_NAME = "ccdlab-course"

#: File marking a folder as made by ``ccdlab release`` (only such a folder is replaced on a re-run).
STAMP = ".ccdlab-release"

#: Names that must never be handed out: answers, grades, results, data.
EXCLUDED = ("solutions", "*truth*.json", "*truth*.csv", "*truth*.fits", "*.jsonl", "grades*.csv", "grades*.md",
            "grades*.html", "*.fits", "*.fits.gz", "*.fz")

#: The subpackage of ``src/ccdlab/`` that only instructors use, left out of the copied package
#: (``ccdlab grade``, ``student`` and ``release`` then say they are instructor's commands).
INSTRUCTOR_PACKAGE = "classroom"

#: The part of :data:`INSTRUCTOR_PACKAGE` a hand-out for GitHub Classroom carries: the grader, which
#: holds no answers (the checks it judges with are handed out anyway).
GRADER_PACKAGE = "grading"

#: Build leftovers skipped when copying the package.
_JUNK = ("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")

#: Package files copied beside the notebooks when they exist in the project.
PACKAGE_FILES = ("pyproject.toml", "data_fetch.py", "environment.yml", "LICENSE", "LICENSE.txt")


def _excluded(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in EXCLUDED)


def check_student_notebook(notebook, solution=None, name: str = "notebook") -> None:
    """Refuse a student notebook that leaks a solution or disagrees with its solution notebook.

    Parameters
    ----------
    notebook : NotebookNode
        The student notebook.
    solution : NotebookNode, optional
        Its solution notebook; when given, the exercises (IDs and points) must be the same.
    name : str
        The file name, for messages.

    Raises
    ------
    ReleaseError
        A solution marker is still there, or the exercises differ (the notebooks are stale).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = ...  # your code here")])
    >>> check_student_notebook(nb, name="01.ipynb")
    """
    for index, cell in enumerate(notebook.cells, start=1):
        text = cell_source(cell)
        if SOLUTION_MARKER_RE.search(text):
            raise ReleaseError(
                f"{name} still holds a solution (marker in cell {index}): regenerate the student notebooks "
                "with 'make notebooks' (ccdlab student solutions --out notebooks)."
            )
    if solution is not None:
        mine = [(e.id, e.points) for e in exercises_in(notebook)]
        theirs = [(e.id, e.points) for e in exercises_in(solution)]
        if mine != theirs:
            raise ReleaseError(
                f"{name} does not declare the same exercises as its solution notebook: it is out of date. "
                "Run 'make notebooks' and release again."
            )


def student_readme(lessons: list) -> str:
    """The students' README: what is inside, set up, data, working with checks, handing in.

    Parameters
    ----------
    lessons : list of (str, int, float)
        ``(notebook file name, number of exercises, points)`` per lesson.

    Examples
    --------
    >>> student_readme([("01_fits_files.ipynb", 3, 6.0)]).splitlines()[0]
    '# CCD image reduction: the course notebooks'
    """
    table = "\n".join(f"| `notebooks/{name}` | {count} | {points:g} |" for name, count, points in lessons)
    return f"""# CCD image reduction: the course notebooks

Welcome! This folder holds the course notebooks and the small `ccdlab` package they use. You learn
to turn raw telescope frames (bias, flats, science) into clean, calibrated images, one notebook
at a time. Each exercise checks your answer as soon as you run its cell.

| notebook | exercises | points |
| --- | --- | --- |
{table}

## Set up (once)

On your own computer, with Python 3.10 or newer, in this folder:

```
python -m venv .venv
.venv/bin/pip install -e '.[lab]'   # on Windows: .venv\\Scripts\\pip install -e .[lab]
.venv/bin/python data_fetch.py      # creates the course data in data/ (seconds, once)
.venv/bin/ccdlab lab                # opens lesson 00; the link it prints works from any browser
```

On Google Colab: copy this whole folder to your Google Drive as `MyDrive/ccdlab-course`, open a
notebook from `MyDrive/ccdlab-course/notebooks` with Colab, and run its first cell. It mounts your
Drive, installs `ccdlab` from that folder and creates the data in `MyDrive/ccdlab-data` the first
time.

## Working through a notebook

- Run the first cell (setup) first, then the cells in order.
- Replace each `...  # your code here` with your code, then run the cell. The check under it
  says ✔ (right), ✘ with a hint (not yet), or "not attempted yet".
- A wrong answer does not block you: the check hands back a reference value so the next cells
  still run (reference values earn no points).
- Do not delete or reorder the exercise cells (the ones starting with `# EXERCISE`) or their checks:
  without a check there is no result, and no points.

## Handing in

1. Run the whole notebook once more from the top (Kernel > Restart & Run All) and check it finishes.
2. Save it and download the `.ipynb` file (File > Download).
3. Name it `yourname_` followed by the notebook's name, e.g. `ada_lovelace_01_fits_files.ipynb`,
   and hand it in as your instructor asked.

Your instructor grades by running your notebook from the top in a fresh Python: what counts is what
the checks record when it runs, not the output saved in the file. A notebook that needs more than a
few minutes, or stops with an error, loses the exercises it does not reach.
"""


def _copy_package(project: Path, dest: Path, grader: bool = False) -> list:
    copied = []
    for name in PACKAGE_FILES:
        if (project / name).is_file():
            shutil.copy2(project / name, dest / name)
            copied.append(name)
    package = project / "src" / "ccdlab"

    def ignore(folder, names):
        top, instructor = Path(folder) == package, Path(folder) == package / INSTRUCTOR_PACKAGE
        return [n for n in names if _excluded(n) or any(fnmatch.fnmatch(n, j) for j in _JUNK)
                or (top and n == INSTRUCTOR_PACKAGE and not grader)
                or (instructor and n not in ("__init__.py", GRADER_PACKAGE))]

    if package.is_dir():
        shutil.copytree(package, dest / "src" / "ccdlab", ignore=ignore)
        copied.append("src/ccdlab")
    return copied


def _open_up(folder: Path) -> None:
    """Give the release the modes a plain ``mkdir``/``open`` would (temporary files are 0600)."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, file_mode(executable=bool(path.stat().st_mode & 0o111), directory=path.is_dir()))


def _zip_folder(folder: Path, target: Path) -> Path:
    with atomic_output(target) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.name != STAMP:
                    info = zipfile.ZipInfo.from_file(path, str(Path(folder.name) / path.relative_to(folder)))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    mode = 0o755 if path.stat().st_mode & 0o111 else 0o644  # readable by everyone who unzips it
                    info.external_attr = (0o100000 | mode) << 16
                    with open(path, "rb") as source, archive.open(info, "w") as member:
                        shutil.copyfileobj(source, member, 1024 * 1024)
    return target


def _grader_leaks(package: Path) -> list:
    """What of the instructor's subpackage a GitHub Classroom hand-out holds beyond the grader."""
    instructor = package / INSTRUCTOR_PACKAGE
    if not instructor.exists():
        return []
    return [p for p in instructor.iterdir() if p.name not in ("__init__.py", GRADER_PACKAGE)]


def _lessons_for_autograding(solutions_dir: Path, names: list) -> dict:
    """The lessons of the released notebooks, from their solutions (the points manifest's source)."""
    from ccdlab.classroom.grading.solutions import load_solutions
    from ccdlab.errors import GradingError

    try:
        lessons = load_solutions(solutions_dir)
    except GradingError as exc:
        raise ReleaseError(f"--github-classroom writes a points manifest from the solutions: {exc}") from None
    missing = [name for name in names if Path(name).stem not in lessons]
    if missing:
        raise ReleaseError(f"--github-classroom needs the solution of every released notebook for its points: "
                           f"{missing[0]} has none in {solutions_dir}. Pass --solutions DIR.")
    return {Path(name).stem: lessons[Path(name).stem] for name in names}


def build_release(outdir, notebooks_dir=None, solutions_dir=None, project=None, include_package: bool = True,
                  github_classroom: bool = False, python: str | None = None) -> dict:
    """Make the hand-out folder and zip.

    Parameters
    ----------
    outdir : path-like
        Where ``ccdlab-course/`` and ``ccdlab-course.zip`` go (created if needed). A previous
        release there is replaced; any other folder of that name is left alone (an error).
    notebooks_dir : path-like, optional
        The student notebooks (default: the project's ``notebooks/``).
    solutions_dir : path-like, optional
        The solution notebooks, to check the student notebooks are in step (default: the project's
        ``solutions/``; skipped when the folder does not exist).
    project : path-like, optional
        The project checkout the package is copied from (default: this checkout).
    include_package : bool
        Copy the ``ccdlab`` package and ``data_fetch.py`` beside the notebooks.
    github_classroom : bool
        Make a GitHub Classroom template repository that grades itself on each push (see
        :mod:`ccdlab.classroom.github_classroom`): needs the package and the solutions.
    python : str, optional
        With ``github_classroom``: the Python version of the workflow (default: this one's).

    Returns
    -------
    dict
        ``folder``, ``zip`` (paths), ``notebooks`` (file names), ``package`` (files copied), and
        with ``github_classroom`` ``autograding`` (``workflow``, ``manifest``, ``sha256``, ``max_score``).

    Raises
    ------
    ReleaseError
        No student notebooks, a notebook leaks a solution or is stale, or the output folder holds
        something that is not a previous release.

    Examples
    --------
    >>> build_release("handout")["zip"].name  # doctest: +SKIP
    'ccdlab-course.zip'
    """
    import nbformat

    from ccdlab.paths import project_root

    project = Path(project) if project is not None else (project_root() or Path.cwd())
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else project / "notebooks"
    solutions_dir = Path(solutions_dir) if solutions_dir is not None else project / "solutions"
    sources = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith(".")) if notebooks_dir.is_dir() else []
    if not sources:
        raise ReleaseError(
            f"No student notebooks in {notebooks_dir}: generate them first with 'make notebooks' "
            "(ccdlab student solutions --out notebooks)."
        )
    outdir = Path(outdir)
    folder, archive = outdir / RELEASE_NAME, outdir / f"{RELEASE_NAME}.zip"
    if outdir.exists() and not outdir.is_dir():
        raise ReleaseError(f"{outdir} is a file, not a folder: choose another OUTDIR.")
    if notebooks_dir.resolve() in [folder.resolve(), *folder.resolve().parents] or folder.resolve() in notebooks_dir.resolve().parents:
        raise ReleaseError(f"OUTDIR {outdir} overlaps the notebooks folder {notebooks_dir}: choose another OUTDIR.")
    if folder.exists() and not (folder / STAMP).is_file():
        raise ReleaseError(f"{folder} exists and was not made by 'ccdlab release': move it away or choose another OUTDIR.")
    if github_classroom and not include_package:
        raise ReleaseError("--github-classroom needs the package in the hand-out (the workflow installs it to grade): "
                           "leave out --no-package.")

    notebooks, lessons = [], []
    for path in sources:
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception as exc:  # noqa: BLE001 - name the file
            raise ReleaseError(f"{path} is not a readable notebook ({exc}): regenerate it with 'make notebooks'.") from exc
        solution_path = solutions_dir / path.name
        solution = nbformat.read(solution_path, as_version=4) if solution_path.is_file() else None
        check_student_notebook(notebook, solution, str(path))
        for cell in notebook.cells:
            if cell.get("cell_type") == "code":
                cell.outputs, cell.execution_count = [], None
        exercises = exercises_in(notebook)
        notebooks.append((path.name, notebook))
        lessons.append((path.name, len(exercises), sum(e.points for e in exercises)))
    graded = _lessons_for_autograding(solutions_dir, [name for name, _ in notebooks]) if github_classroom else None

    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{RELEASE_NAME}.", dir=outdir)) / RELEASE_NAME
    try:
        (staging / "notebooks").mkdir(parents=True)
        for name, notebook in notebooks:
            nbformat.write(notebook, staging / "notebooks" / name)
        readme = student_readme(lessons)
        package = _copy_package(project, staging, grader=github_classroom) if include_package else []
        autograding = None
        if github_classroom:
            from ccdlab.classroom.github_classroom import add_autograding, readme_section

            autograding = add_autograding(staging, graded, python)
            readme += readme_section(autograding["max_score"])
        (staging / "README.md").write_text(readme, encoding="utf-8")
        (staging / STAMP).write_text("made by ccdlab release; replaced by the next one\n", encoding="utf-8")
        leaks = [p for p in staging.rglob("*") if _excluded(p.name)]
        if github_classroom:
            leaks += _grader_leaks(staging / "src" / "ccdlab")
        else:
            leaks += [p for p in [staging / "src" / "ccdlab" / INSTRUCTOR_PACKAGE] if p.exists()]
        if leaks:  # pragma: no cover - the copy above never takes such files
            raise ReleaseError(f"{leaks[0]} must not be handed out; remove it from the project and release again.")
        _open_up(staging)
        _zip_folder(staging, archive)
        if folder.exists():
            old = folder.with_name(f".{RELEASE_NAME}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    made = {"folder": folder, "zip": archive, "notebooks": [name for name, _ in notebooks], "package": package}
    if autograding:
        made["autograding"] = {key: (folder / Path(value).relative_to(staging) if isinstance(value, Path) else value)
                               for key, value in autograding.items()}
    return made

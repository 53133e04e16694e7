"""The first cell of every notebook: ready on a laptop, a workshop server, or Google Colab.

The cell has two halves. The first is plain Python that runs before ccdlab exists: on Colab it
mounts Google Drive, copies the course's package from Drive (``MyDrive/ccdlab-course``, the
hand-out's name, or ``MyDrive/ccdlab``) to the Colab machine's own disk and installs it from
there with pip (the core package only: no Jupyter server or test tools, which would replace
Colab's own), or from the course's repository when the instructor has set
:data:`COURSE_REPOSITORY`. Any failure is one sentence, not a traceback. The second half calls
:func:`start`, which tells the checks which lesson this is and finds the data, creating it on
Colab when the Drive holds none. On a laptop the cell shows nothing; when data is missing it
says, in one sentence, what to run.

:func:`cell_source` gives the cell's exact text; the solution notebooks carry it verbatim (a test
keeps them in step; ``ccdlab student --refresh-setup`` rewrites them).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from ccdlab import paths
from ccdlab.course.exercises import after_cell, set_lesson
from ccdlab.errors import SetupError

__all__ = ["COURSE_REPOSITORY", "STUDENT_NIGHTS", "NAME_FILE", "DRIVE_COURSES", "LOCAL_COURSE", "SetupError",
           "cell_source", "student_name", "start"]

#: Where pip installs ccdlab from on Colab when the Drive holds no copy of the course, e.g.
#: ``"git+https://example.org/your-course/ccdlab"``. None (the default): students copy the course
#: folder, or the hand-out made by ``ccdlab release``, to their Drive. An instructor who
#: publishes the course sets this, then runs ``ccdlab student solutions --out notebooks --refresh-setup``.
COURSE_REPOSITORY: str | None = None

#: True when each student works on a night of their own (``ccdlab grade --student-nights``): the
#: setup cell asks the student's name once, remembers it beside the data, and makes their night.
#: An instructor sets it before ``ccdlab release``.
STUDENT_NIGHTS = False

#: The file beside the data that remembers whose night it is.
NAME_FILE = "student.json"

#: Copies of the course folder on Google Drive, in the order they are looked for.
DRIVE_COURSES = ("/content/drive/MyDrive/ccdlab-course", "/content/drive/MyDrive/ccdlab")

#: Where the package is copied on the Colab machine before pip installs it (pip writes build/ and
#: egg-info beside the sources, which must not land in the student's Drive).
LOCAL_COURSE = "/content/ccdlab-course"

_NO_COPY = ("Copy the course folder (or the ccdlab-course hand-out) to your Google Drive as MyDrive/ccdlab-course, "
            "then run this cell again.")

_TEMPLATE = '''\
# Setup: run this cell first. On Google Colab it mounts your Drive, installs ccdlab and finds
# (or creates) the course data. On your own computer it does nothing visible.
import importlib, importlib.util, os, shutil, subprocess, sys
if "google.colab" in sys.modules and importlib.util.find_spec("ccdlab") is None:
    class SetupFailed(Exception):
        def _render_traceback_(self):
            return [str(self)]
    from google.colab import drive
    drive.mount("/content/drive")
    copies = [c for c in {drive_courses} if os.path.isfile(c + "/pyproject.toml")]
    {source_line}
    if copies:  # pip builds beside the sources: install from a copy on this machine's disk, not in your Drive
        shutil.rmtree("{local_course}", ignore_errors=True)
        shutil.copytree(copies[0], "{local_course}", ignore=lambda folder, names: [n for n in names if folder == copies[0] and n not in ("pyproject.toml", "README.md", "src")])
        source = "{local_course}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], capture_output=True, text=True)
    if pip.returncode != 0:
        raise SetupFailed("Installing ccdlab failed (" + ((pip.stderr or pip.stdout).strip().splitlines() or ["no message"])[-1] + "). Check the course folder on your Drive, then run this cell again.")
    importlib.invalidate_caches()
from ccdlab.course.setup import start
data_dir = start("{lesson}")'''


def cell_source(lesson: str) -> str:
    """Return the exact text of the setup cell for a lesson.

    Parameters
    ----------
    lesson : str
        The lesson (notebook stem), e.g. ``"01_fits_files"``.

    Examples
    --------
    >>> cell_source("01_fits_files").splitlines()[-1]
    'data_dir = start("01_fits_files")'
    """
    if COURSE_REPOSITORY:
        source_line = f'source = "{COURSE_REPOSITORY}"'
    else:
        source_line = (f'if not copies:\n'
                       f'        raise SetupFailed("{_NO_COPY}")')
    return _TEMPLATE.format(lesson=lesson, drive_courses=tuple(DRIVE_COURSES), local_course=LOCAL_COURSE,
                            source_line=source_line)


def _colab_data(size: str | None, student: str | None = None) -> Path:
    """Mount Drive, create the data there if it holds none, and return the local working copy."""
    colab = importlib.import_module("ccdlab.data.colab")
    return Path(colab.prepare_colab_data(size=size, progress=True, student=student))


def student_name(folder, ask=None) -> str:
    """The student whose night lives in ``folder``: remembered in ``student.json``, or asked once.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = student_name(tmp, ask=lambda prompt: "Ada Lovelace")
    ...     again = student_name(tmp, ask=lambda prompt: "someone else")
    >>> first, again
    ('Ada Lovelace', 'Ada Lovelace')
    """
    import json

    from ccdlab.files import atomic_write_text

    path = Path(folder) / NAME_FILE
    try:
        name = str(json.loads(path.read_text(encoding="utf-8")).get("name", "")).strip()
    except (OSError, ValueError, AttributeError):
        name = ""
    ask = ask or input
    while not name:
        name = " ".join(str(ask("Your name, written as on the notebooks you hand in: ")).split())
    atomic_write_text(path, json.dumps({"name": name}) + "\n")
    return name


def _student_night(size: str | None) -> Path:
    """The data folder holding this student's own night (made the first time)."""
    from ccdlab.data.fetch import ensure_default

    if paths.on_colab():
        colab = importlib.import_module("ccdlab.data.colab")
        colab.mount_drive()
        paths.DRIVE_DATA.mkdir(parents=True, exist_ok=True)
        return _colab_data(size, student_name(paths.DRIVE_DATA))
    folder = paths.find_data_dir(must_exist=False)
    folder.mkdir(parents=True, exist_ok=True)
    name = student_name(folder)
    report = ensure_default(folder, size=size, progress=True, student=name)
    if report.status == "created":
        print(f"Your own night is ready in {folder} ({name}).")
    return folder


def _keep_going_after_errors() -> None:
    """Register :func:`ccdlab.course.exercises.after_cell` with IPython (once), when running in IPython."""
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and after_cell not in shell.events.callbacks.get("post_run_cell", []):
        shell.events.register("post_run_cell", after_cell)


def start(lesson: str, size: str | None = None) -> Path:
    """Prepare a notebook: set its lesson for the checks and find the data folder.

    On Colab, also mount Google Drive, create the course data on it when it holds none
    (``MyDrive/ccdlab-data``) and work on a fast local copy (:func:`ccdlab.data.colab.prepare_colab_data`);
    a line says where the data is. Elsewhere nothing is printed.

    Parameters
    ----------
    lesson : str
        The lesson (notebook stem), e.g. ``"01_fits_files"``.
    size : str, optional
        On Colab, the synthetic night wanted. None (default) uses whatever Drive holds, and
        creates the ``workshop`` night when it holds nothing.

    Returns
    -------
    pathlib.Path
        The data folder in use.

    Raises
    ------
    SetupError
        No data was found (not on Colab), or Drive could not be used (on Colab): the message,
        one sentence without a traceback, says what to do.

    Examples
    --------
    >>> data_dir = start("01_fits_files")  # doctest: +SKIP
    >>> data_dir.name  # doctest: +SKIP
    'data'
    """
    set_lesson(lesson)
    _keep_going_after_errors()
    return _keep_lacosmic_results(_data_dir(size))


def _data_dir(size: str | None) -> Path:
    if STUDENT_NIGHTS and not os.environ.get("CCDLAB_GRADING"):
        try:
            return _student_night(size)
        except Exception as exc:  # noqa: BLE001 - one sentence, not a traceback
            raise SetupError(f"Your night could not be prepared ({exc}). Check the data folder, then run this "
                             "cell again.") from None
    if paths.on_colab():
        try:
            found = _colab_data(size)
        except Exception as exc:
            raise SetupError(
                f"The course data could not be prepared on Colab ({exc}). Check that Google Drive "
                f"is mounted and has space, then run this cell again."
            ) from None
        print(f"ccdlab is ready; the data is in {found}, a working copy of {paths.DRIVE_DATA}.\n"
              "To keep your outputs (reduced/) after the session ends, run: "
              "from ccdlab.data.colab import save_to_drive; save_to_drive()")
        return found
    try:
        return paths.find_data_dir()
    except paths.DataNotFoundError:
        looked = ", ".join(str(place) for _, place in paths.candidate_data_dirs())
        raise SetupError(
            f"No course data found (looked in {looked}). Create it from the course folder with "
            f"'{paths.FETCH_COMMAND}' (or 'make data'), or set CCDLAB_DATA to a folder with "
            "bias/, flats/ and science/, then run this cell again."
        ) from None


#: Where the course keeps L.A.Cosmic's results, inside the data folder's reduced/ (a few kB per frame).
LACOSMIC_RESULTS = ".lacosmic"


def _keep_lacosmic_results(data_dir: Path) -> Path:
    """Keep L.A.Cosmic's results in ``data_dir/reduced/.lacosmic`` (:func:`ccdlab.cosmics.keep_results_in`).

    Lesson 07's reduction then reads the hits of the frames lesson 06 cleaned with exactly the
    same inputs, instead of running L.A.Cosmic on them again. Never while grading: each
    notebook computes its own.
    """
    from ccdlab.cosmics import keep_results_in

    if not os.environ.get("CCDLAB_GRADING"):
        keep_results_in(paths.reduced_dir(data_dir, create=False) / LACOSMIC_RESULTS)
    return data_dir

"""The first cell of every notebook: ready on a laptop, a workshop server, or Google Colab.

The cell has two halves. The first is plain Python that runs before ccdlab exists: on Colab it
mounts Google Drive and installs ccdlab from a copy of the course on Drive (``MyDrive/ccdlab``),
or from the course's repository when the instructor has set :data:`COURSE_REPOSITORY`. The second half calls
:func:`start`, which tells the checks which lesson this is and finds the data, creating it on
Colab when the Drive holds none. On a laptop the cell shows nothing; when data is missing it
says, in one sentence, what to run.

:func:`cell_source` gives the cell's exact text; the solution notebooks carry it verbatim (a test
keeps them in step).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from . import paths
from .exercises import set_lesson

__all__ = ["COURSE_REPOSITORY", "DRIVE_COURSE", "SetupError", "cell_source", "refresh_setup_cell", "start"]

#: Where pip installs ccdlab from on Colab when the Drive holds no copy of the course, e.g.
#: ``"git+https://example.org/your-course/ccdlab"``. None (the default): students copy the course
#: folder, or the hand-out made by ``ccdlab release``, to ``MyDrive/ccdlab``. An instructor who
#: publishes the course sets this, then runs :func:`refresh_setup_cell` and ``make notebooks``.
COURSE_REPOSITORY: str | None = None

_NO_COPY = "Copy the course folder (or the ccdlab-course hand-out) to your Drive as MyDrive/ccdlab, then run this cell again."

#: A copy of the course folder on Google Drive (optional); installed from when present.
DRIVE_COURSE = "/content/drive/MyDrive/ccdlab"

_TEMPLATE = '''\
# Setup: run this cell first. On Google Colab it mounts your Drive, installs ccdlab and finds
# (or creates) the course data. On your own computer it does nothing visible.
import importlib, importlib.util, os, subprocess, sys
if "google.colab" in sys.modules and importlib.util.find_spec("ccdlab") is None:
    from google.colab import drive
    drive.mount("/content/drive")
    course_copy = "{drive_course}"  # the course folder, copied to your Drive
    {source_line}
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()
from ccdlab.setup_cell import start
data_dir = start("{lesson}")'''


class SetupError(RuntimeError):
    """The setup cell could not find or create the data; the message says what to do.

    In a notebook it shows as its message alone, without a traceback.

    Examples
    --------
    >>> SetupError("No data.")._render_traceback_()
    ['No data.']
    """

    def _render_traceback_(self):  # IPython shows this instead of the traceback
        return [str(self)]


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
        source_line = f'source = course_copy if os.path.isfile(course_copy + "/pyproject.toml") else "{COURSE_REPOSITORY}"'
    else:
        source_line = (f'if not os.path.isfile(course_copy + "/pyproject.toml"):\n'
                       f'        sys.exit("{_NO_COPY}")\n'
                       f'    source = course_copy')
    return _TEMPLATE.format(lesson=lesson, drive_course=DRIVE_COURSE, source_line=source_line)


def refresh_setup_cell(notebook_path) -> bool:
    """Make a notebook's first code cell the current setup cell (e.g. after COURSE_REPOSITORY changed).

    Parameters
    ----------
    notebook_path : path-like
        A solution notebook; its lesson is its file stem.

    Returns
    -------
    bool
        True when the cell was changed (and the notebook rewritten).

    Raises
    ------
    ValueError
        The notebook has no code cell, or its first code cell is not a setup cell (it does not
        call ``start(``): nothing is overwritten.

    Examples
    --------
    >>> refresh_setup_cell("solutions/01_fits_files.ipynb")  # doctest: +SKIP
    False
    """
    import nbformat

    path = Path(notebook_path)
    notebook = nbformat.read(path, as_version=4)
    cell = next((c for c in notebook.cells if c.cell_type == "code"), None)
    if cell is None or "from ccdlab.setup_cell import start" not in cell.source:
        raise ValueError(f"{path}: the first code cell is not a setup cell; add one with cell_source({path.stem!r}).")
    wanted = cell_source(path.stem)
    if cell.source == wanted:
        return False
    cell.source = wanted
    nbformat.write(notebook, path)
    return True


def _colab_data(size: str | None) -> Path:
    """Mount Drive, create the data there if it holds none, and return the local working copy."""
    colab = importlib.import_module("ccdlab.colab")
    return Path(colab.prepare_colab_data(size=size, progress=True))


def start(lesson: str, size: str | None = None) -> Path:
    """Prepare a notebook: set its lesson for the checks and find the data folder.

    On Colab, also mount Google Drive, create the course data on it when it holds none
    (``MyDrive/ccdlab-data``) and work on a fast local copy (:func:`ccdlab.colab.prepare_colab_data`);
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
              "from ccdlab.colab import save_to_drive; save_to_drive()")
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

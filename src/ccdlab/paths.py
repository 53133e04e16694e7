"""Where the course data lives, and where outputs go.

The data folder is found in this order:

1. an explicit argument,
2. the ``CCDLAB_DATA`` environment variable,
3. on Google Colab, the working copy of the Drive folder ``MyDrive/ccdlab-data``,
4. ``data/`` in the project checkout (or, when ccdlab is installed from a wheel, in the current
   folder or one of its two parents: notebooks run in ``notebooks/`` beside ``data/``).

A data folder holds the raw frames in ``bias/``, ``flats/`` and ``science/``; the reduction writes
into ``reduced/`` beside them. Nothing in ccdlab writes into the raw folders.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ccdlab.errors import DataNotFoundError, InputError, NotAFolderError

__all__ = [
    "RAW_FOLDERS",
    "RAW_FOLDER_NAMES",
    "DataNotFoundError",
    "DRIVE_DATA",
    "COLAB_LOCAL_DATA",
    "FETCH_COMMAND",
    "project_root",
    "on_colab",
    "candidate_data_dirs",
    "find_data_dir",
    "raw_dir",
    "reduced_dir",
    "pipeline_dir",
    "ensure_dir",
    "is_raw_folder",
]

#: The three raw-data folders of a night, in the order a reduction uses them.
RAW_FOLDERS = ("bias", "flats", "science")

#: Folder names that hold raw frames: ccdlab never writes into a folder with one of these names.
RAW_FOLDER_NAMES = frozenset(
    {"bias", "biases", "zero", "zeros", "dark", "darks", "flat", "flats", "science", "raw", "object"}
)

#: The course data folder on a mounted Google Drive.
DRIVE_DATA = Path("/content/drive/MyDrive/ccdlab-data")

#: The fast local working copy of the Drive data on a Colab machine.
COLAB_LOCAL_DATA = Path("/content/ccdlab-data")

#: What a student types to create the default dataset.
FETCH_COMMAND = "python data_fetch.py"


def project_root() -> Path | None:
    """Return the project checkout that holds this package, or None when installed elsewhere.

    Returns
    -------
    pathlib.Path or None
        The folder with ``pyproject.toml`` two levels above ``src/ccdlab``.

    Examples
    --------
    >>> root = project_root()
    >>> root is None or (root / "pyproject.toml").exists()
    True
    """
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "ccdlab").is_dir():
        return root
    return None


def on_colab() -> bool:
    """Return True when running inside Google Colab (the ``google.colab`` module exists).

    Examples
    --------
    >>> isinstance(on_colab(), bool)
    True
    """
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def candidate_data_dirs() -> list[tuple[str, Path]]:
    """List the places ccdlab looks for data, in order, each with a short label.

    Returns
    -------
    list of (str, pathlib.Path)
        ``(label, folder)`` pairs; the first existing folder wins in :func:`find_data_dir`.

    Examples
    --------
    >>> labels = [label for label, _ in candidate_data_dirs()]
    >>> labels[-1]
    'project data/ folder'
    """
    places: list[tuple[str, Path]] = []
    env = os.environ.get("CCDLAB_DATA")
    if env:
        places.append(("CCDLAB_DATA environment variable", Path(env).expanduser()))
    if on_colab():
        places.append(("Colab working copy of Google Drive data", COLAB_LOCAL_DATA))
        places.append(("Google Drive (MyDrive/ccdlab-data)", DRIVE_DATA))
    root = project_root()
    if root is not None:
        places.append(("project data/ folder", root / "data"))
    else:  # installed from a wheel: notebooks run in notebooks/, the data sits in ../data
        here = Path.cwd()
        nearby = [folder / "data" for folder in (here, *list(here.parents)[:2])]
        found = next((folder for folder in nearby if folder.is_dir()), nearby[0])
        places.append(("project data/ folder", found))
    return places


def find_data_dir(data_dir: str | os.PathLike | None = None, must_exist: bool = True) -> Path:
    """Find the course data folder.

    Parameters
    ----------
    data_dir : str or path-like, optional
        An explicit folder; it wins over every other place.
    must_exist : bool
        When True (default) raise :class:`DataNotFoundError` if no folder exists. When False,
        return the first candidate (where data *would* be created).

    Returns
    -------
    pathlib.Path
        The data folder (absolute).

    Raises
    ------
    DataNotFoundError
        Nothing was found; the message names every place searched and the fetch command.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     find_data_dir(tmp) == Path(tmp).resolve()
    True
    """
    if data_dir is not None:
        path = Path(data_dir).expanduser().resolve()
        if must_exist and not path.is_dir():
            raise DataNotFoundError(
                f"The data folder {path} does not exist. Check the path, or create the default "
                f"dataset there with: {FETCH_COMMAND} --dest {path}"
            )
        return path
    env = os.environ.get("CCDLAB_DATA")
    if env:  # said explicitly: never fall back silently to another folder
        path = Path(env).expanduser().resolve()
        if must_exist and not path.is_dir():
            raise DataNotFoundError(
                f"CCDLAB_DATA points to {path}, which does not exist. Create the data there with: "
                f"{FETCH_COMMAND} --dest {path}   (or unset CCDLAB_DATA to use the default folder)."
            )
        return path
    places = candidate_data_dirs()
    for _, path in places:
        if path.is_dir():
            return path.resolve()
    if not must_exist:
        return places[0][1].resolve()
    looked = "\n".join(f"  - {label}: {path}" for label, path in places)
    raise DataNotFoundError(
        "No course data found. ccdlab looked in:\n"
        f"{looked}\n"
        f"Create the default dataset with: {FETCH_COMMAND}   (from the course folder), "
        "or point CCDLAB_DATA at a folder holding bias/, flats/ and science/."
    )


def raw_dir(kind: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Return the raw folder of one kind of frame (``"bias"``, ``"flats"`` or ``"science"``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     raw_dir("bias", tmp).name
    'bias'
    """
    if kind not in RAW_FOLDERS:
        raise InputError(f"Unknown raw folder {kind!r}: use one of {', '.join(RAW_FOLDERS)}.")
    return find_data_dir(data_dir) / kind


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create a folder (and its parents) if needed; safe to call again.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ensure_dir(Path(tmp) / "a" / "b").is_dir()
    True
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotAFolderError(f"{path} exists and is a file, not a folder: move it away or choose another output folder.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NotAFolderError(f"The folder {path} could not be created ({exc.strerror or exc}): check that its parent "
                              "exists and is writable, or choose another output folder.") from None
    return path


def reduced_dir(data_dir: str | os.PathLike | None = None, create: bool = True) -> Path:
    """Return (and by default create) the ``reduced/`` output folder beside the raw folders.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     reduced_dir(tmp).name
    'reduced'
    """
    path = find_data_dir(data_dir) / "reduced"
    return ensure_dir(path) if create else path


def pipeline_dir(data_dir: str | os.PathLike | None = None, create: bool = True) -> Path:
    """Return (and by default create) ``reduced/ccdlab/``: a reduction made by ccdlab itself.

    Lessons that need frames they can trust (the stacking lesson) keep ccdlab's own reduction
    here, apart from the student's files in ``reduced/``, so a slip in an earlier lesson neither
    spoils the later one nor is overwritten by it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     pipeline_dir(tmp).relative_to(Path(tmp).resolve()).as_posix()
    'reduced/ccdlab'
    """
    path = reduced_dir(data_dir, create=False) / "ccdlab"
    return ensure_dir(path) if create else path


def is_raw_folder(folder: str | os.PathLike) -> bool:
    """Return True when ``folder`` is a raw-data folder that ccdlab must never write into.

    Examples
    --------
    >>> is_raw_folder("data/bias"), is_raw_folder("data/reduced")
    (True, False)
    """
    return Path(folder).name.lower() in RAW_FOLDER_NAMES

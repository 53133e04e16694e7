"""Google Colab: the data lives on Google Drive, the notebooks read a copy on the local disk.

On Colab (detected by the ``google.colab`` module) the course keeps its data in
``MyDrive/ccdlab-data`` so that it survives the end of a session, and works on a copy in
``/content/ccdlab-data`` because reading Drive is slow. :func:`prepare_colab_data` mounts Drive
if needed, creates the synthetic night there if Drive holds no data yet (built on the fast local
disk, then copied up), and refreshes the local working copy from Drive, checking it against the
manifest. :mod:`ccdlab.paths` lists the working copy first, so every notebook finds it.
:func:`save_to_drive` copies results (``reduced/``) back to Drive before the session ends.

The Drive and local folders are module attributes (:data:`DRIVE_MOUNT`, :data:`DRIVE_DATA`,
:data:`LOCAL_DATA`) and arguments, so they can be pointed elsewhere (the tests use temporary
folders and a stand-in ``google.colab`` module).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ccdlab import paths
from ccdlab.data.fetch import DatasetExistsError, ensure_default
from ccdlab.data.manifest import (
    DATASET_FOLDERS,
    MANIFEST_NAME,
    ManifestError,
    read_manifest,
    verify_manifest,
)
from ccdlab.data.simulate.night import DEFAULT_SEED, DEFAULT_SIZE
from ccdlab.errors import ColabError, MissingFileError

__all__ = [
    "DRIVE_MOUNT",
    "DRIVE_DATA",
    "LOCAL_DATA",
    "ColabError",
    "mount_drive",
    "sync_folder",
    "prepare_colab_data",
    "save_to_drive",
]

#: Where Colab mounts Google Drive.
DRIVE_MOUNT = Path("/content/drive")

#: The course data on Drive (kept between sessions).
DRIVE_DATA = paths.DRIVE_DATA

#: The working copy on the Colab machine's local disk (fast; lost when the session ends).
LOCAL_DATA = paths.COLAB_LOCAL_DATA


def mount_drive(mount_point: str | os.PathLike | None = None) -> Path:
    """Mount Google Drive (Colab asks for permission once), unless it is mounted already.

    Parameters
    ----------
    mount_point : path-like, optional
        Where to mount; default :data:`DRIVE_MOUNT` (``/content/drive``).

    Returns
    -------
    pathlib.Path
        The mount point; ``MyDrive`` is inside it.

    Raises
    ------
    ColabError
        Not on Colab, or Drive did not appear (permission refused).

    Examples
    --------
    >>> mount_drive()  # doctest: +SKIP
    PosixPath('/content/drive')
    """
    mount_point = Path(mount_point) if mount_point is not None else DRIVE_MOUNT
    if (mount_point / "MyDrive").is_dir():
        return mount_point
    try:
        from google.colab import drive
    except ImportError as exc:
        raise ColabError(
            "Google Drive can only be mounted inside Google Colab. On your own machine run "
            "'python data_fetch.py' instead."
        ) from exc
    drive.mount(str(mount_point))
    if not (mount_point / "MyDrive").is_dir():
        raise ColabError(
            f"Google Drive did not appear at {mount_point}/MyDrive. Run the cell again and allow "
            "Colab to access your Drive."
        )
    return mount_point


def _files(root: Path, names) -> list[Path]:
    found = []
    for name in names:
        top = root / name
        if top.is_file():
            found.append(top)
        elif top.is_dir():
            for dirpath, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(dirpath) / f for f in sorted(files) if not f.startswith("."))
    return found


def _same(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.copying")
    try:
        shutil.copyfile(source, tmp)
        shutil.copystat(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sync_folder(
    source: str | os.PathLike,
    target: str | os.PathLike,
    names=(*DATASET_FOLDERS, MANIFEST_NAME),
    mirror: bool = False,
    progress: bool = True,
) -> int:
    """Copy the files of ``names`` from ``source`` to ``target`` that are missing or differ.

    Files are compared by size and modification time (copies keep the time), each is copied to
    a temporary name and renamed, and ``manifest.json`` is copied last, so an interrupted copy
    is never mistaken for a complete one.

    Parameters
    ----------
    source, target : path-like
        Folders; ``target`` is created if needed.
    names : iterable of str
        Top-level folders and files to copy (by default a dataset's parts; never ``reduced/``
        unless named).
    mirror : bool
        Also delete files under ``target``'s ``names`` that ``source`` lacks (for a working copy).
    progress : bool
        Show a progress bar.

    Returns
    -------
    int
        How many files were copied.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "a" / "bias").mkdir(parents=True)
    ...     _ = (Path(tmp) / "a" / "bias" / "b.fits").write_bytes(b"x")
    ...     first = sync_folder(Path(tmp) / "a", Path(tmp) / "b", progress=False)
    ...     first, sync_folder(Path(tmp) / "a", Path(tmp) / "b", progress=False)
    (1, 0)
    """
    from tqdm.auto import tqdm

    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise MissingFileError(f"{source} is not a folder: nothing to copy from.")
    names = list(names)
    files = _files(source, [n for n in names if n != MANIFEST_NAME])
    last = [source / MANIFEST_NAME] if MANIFEST_NAME in names and (source / MANIFEST_NAME).is_file() else []
    target.mkdir(parents=True, exist_ok=True)
    todo = [f for f in files + last if not _same(f, target / f.relative_to(source))]
    if mirror:
        wanted = {f.relative_to(source) for f in files + last}
        for extra in _files(target, names):
            if extra.relative_to(target) not in wanted:
                extra.unlink()
    for path in tqdm(todo, desc=f"Copying to {target}", unit="file", disable=not progress or not todo):
        _copy(path, target / path.relative_to(source))
    return len(todo)


def _holds_data(folder: Path) -> bool:
    if (folder / MANIFEST_NAME).is_file():
        return True
    return any(p.is_file() for name in DATASET_FOLDERS for p in (folder / name).rglob("*") if (folder / name).is_dir())


def _clear_dataset(folder: Path) -> None:
    for name in (MANIFEST_NAME, *DATASET_FOLDERS):
        part = folder / name
        if part.is_dir():
            shutil.rmtree(part)
        elif part.exists():
            part.unlink()


def prepare_colab_data(
    size: str | None = None,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    progress: bool = True,
    drive_data: str | os.PathLike | None = None,
    local_data: str | os.PathLike | None = None,
    mount_point: str | os.PathLike | None = None,
    student: str | None = None,
    camera: str = "cool",
) -> Path:
    """Make the course data ready on Colab: on Drive, with a checked working copy on local disk.

    Parameters
    ----------
    size : str, optional
        Synthetic night to create when Drive holds no data (default ``'workshop'``). When given,
        Drive must hold that size (or use ``force``); when None, any dataset on Drive is used.
    seed : int
        Seed of the synthetic night.
    force : bool
        Rebuild the synthetic night and replace the dataset on Drive (``reduced/`` is kept).
    progress : bool
        Show progress bars.
    drive_data, local_data, mount_point : path-like, optional
        Override :data:`DRIVE_DATA`, :data:`LOCAL_DATA` and :data:`DRIVE_MOUNT`.
    student : str, optional
        Make (or check) the student's own night instead of the default one.
    camera : str
        The synthetic night's camera when one is created: ``'cool'`` (default) or ``'warm'``.

    Returns
    -------
    pathlib.Path
        The local working copy, which :func:`ccdlab.paths.find_data_dir` returns on Colab. Off
        Colab this is the same as :func:`ccdlab.data.fetch.fetch_default` and returns its folder.

    Raises
    ------
    ColabError
        Drive could not be mounted.
    DatasetExistsError
        Drive holds a different synthetic night than ``size``/``seed`` asked for.
    ManifestError
        The data on Drive does not match its own manifest.

    Examples
    --------
    >>> data = prepare_colab_data()  # doctest: +SKIP
    >>> data  # doctest: +SKIP
    PosixPath('/content/ccdlab-data')
    """
    if not paths.on_colab():
        from ccdlab.data.fetch import fetch_default

        if student:
            return ensure_default(None, size=size, force=force, progress=progress, student=student).dest
        return fetch_default(size=size or DEFAULT_SIZE, seed=seed, force=force, progress=progress, camera=camera)
    drive = Path(drive_data) if drive_data is not None else DRIVE_DATA
    local = Path(local_data) if local_data is not None else LOCAL_DATA
    if not drive.parent.is_dir():
        mount_drive(mount_point)
    if not drive.parent.is_dir():
        raise ColabError(f"{drive.parent} does not exist after mounting Drive: check the Drive folder name.")
    new_night = bool(student) and not _holds_night_of(drive, student)
    if force or new_night or not _holds_data(drive):
        try:
            ensure_default(local, size=size or DEFAULT_SIZE, seed=seed, force=force, progress=progress, student=student,
                           camera=camera)
        except (DatasetExistsError, ManifestError):
            _clear_dataset(local)  # the working copy is only a cache: rebuild it
            ensure_default(local, size=size or DEFAULT_SIZE, seed=seed, progress=progress, student=student, camera=camera)
        if force or new_night:
            _clear_dataset(drive)
        sync_folder(local, drive, mirror=True, progress=progress)
        return local
    if size is not None and not student and (drive / MANIFEST_NAME).is_file():
        meta = read_manifest(drive).get("meta", {})
        if meta.get("kind") == "synthetic" and (meta.get("size"), meta.get("seed")) != (size, int(seed)):
            raise DatasetExistsError(
                f"Your Drive folder {drive} holds the {meta.get('size')} synthetic night (seed {meta.get('seed')}), "
                f"not the {size} one (seed {seed}); nothing was changed. Add --force to replace it."
            )
    drive_manifest = drive / MANIFEST_NAME
    local_manifest = local / MANIFEST_NAME
    if drive_manifest.is_file() and not (
        local_manifest.is_file() and local_manifest.read_bytes() == drive_manifest.read_bytes()
    ):
        _clear_dataset(local)  # another dataset: start the working copy afresh
    sync_folder(drive, local, mirror=True, progress=progress)
    if local_manifest.is_file():
        problems = verify_manifest(local)
        if problems:
            _clear_dataset(local)
            sync_folder(drive, local, mirror=True, progress=progress)
            problems = verify_manifest(local)
        if problems:
            raise ManifestError(
                f"The data on your Drive ({drive}) does not match its manifest ({'; '.join(problems[:3])}). "
                "Rebuild it with: python data_fetch.py --force"
            )
    return local


def _holds_night_of(folder: Path, student: str) -> bool:
    """True when ``folder``'s manifest is the night of ``student``."""
    from ccdlab.data.simulate.students import normalise_name

    try:
        meta = read_manifest(folder).get("meta", {})
        return normalise_name(meta.get("student") or "-") == normalise_name(student)
    except Exception:  # noqa: BLE001 - no or bad manifest: not theirs
        return False


def save_to_drive(
    folder: str = "reduced",
    local_data: str | os.PathLike | None = None,
    drive_data: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Copy a results folder (default ``reduced/``) from the working copy back to Drive.

    Only new or changed files are copied; nothing on Drive is deleted.

    Parameters
    ----------
    folder : str
        The folder inside the data folder to save.
    local_data, drive_data : path-like, optional
        Override :data:`LOCAL_DATA` and :data:`DRIVE_DATA`.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The folder on Drive.

    Raises
    ------
    FileNotFoundError
        There is no such folder in the working copy.
    ColabError
        Drive is not mounted.

    Examples
    --------
    >>> save_to_drive()  # doctest: +SKIP
    PosixPath('/content/drive/MyDrive/ccdlab-data/reduced')
    """
    local = Path(local_data) if local_data is not None else LOCAL_DATA
    drive = Path(drive_data) if drive_data is not None else DRIVE_DATA
    if not (local / folder).is_dir():
        raise MissingFileError(f"{local / folder} does not exist: nothing to save. Run the reduction first.")
    if not drive.parent.is_dir():
        raise ColabError(f"Google Drive is not mounted ({drive.parent} is missing): run prepare_colab_data() first.")
    sync_folder(local, drive, names=[folder], progress=progress)
    return drive / folder

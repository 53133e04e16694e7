"""Checksum manifests, and installing a dataset so that it is either whole or absent.

A manifest is a small JSON file, ``manifest.json``, at the top of a data folder. It lists every
file of the dataset (paths relative to the folder, with ``/`` separators), each with its size and
SHA-256 checksum, plus a few facts about where the data came from (``meta``: the generator and its
seed for the synthetic night, the source URL and archive checksum for a download). Files that the
course writes later (``reduced/``) are not listed and never checked.

The manifest is written with sorted keys and no timestamps, so the same dataset always gives the
same manifest bytes.

A dataset is built in a hidden staging folder inside the data folder and its parts are then
renamed into place, the manifest last (:func:`staging_folder`, :func:`move_into_place`): a run
that fails or is interrupted leaves the data folder as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping

from ccdlab.errors import ManifestError, MissingFileError, OutputExistsError
from ccdlab.files import atomic_write_text, file_hash

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_FORMAT",
    "ManifestError",
    "sha256_file",
    "build_manifest",
    "write_manifest",
    "read_manifest",
    "verify_manifest",
    "DATASET_FOLDERS",
    "INSTALLING_MARKER",
    "remove_stale_staging",
    "staging_folder",
    "move_into_place",
]

#: File name of the manifest at the top of a data folder.
MANIFEST_NAME = "manifest.json"

#: Format tag written into every manifest.
MANIFEST_FORMAT = "ccdlab-manifest/1"



def sha256_file(path: str | os.PathLike) -> str:
    """Return the SHA-256 checksum of a file as 64 lowercase hex digits (:func:`ccdlab.files.file_hash`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = Path(tmp) / "a.txt"
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    return file_hash(path)


def _relative(folder: Path, path: Path) -> str:
    return path.resolve().relative_to(folder.resolve()).as_posix()


def build_manifest(folder: str | os.PathLike, files: Iterable[str | os.PathLike], meta: Mapping | None = None) -> dict:
    """Compute the manifest of ``files`` inside ``folder`` (without writing it).

    Parameters
    ----------
    folder : str or path-like
        The data folder; listed paths are relative to it.
    files : iterable of path-like
        The files to list: absolute, or relative to ``folder``. Folders are walked (hidden
        entries skipped).
    meta : mapping, optional
        Facts about the dataset (JSON-serialisable), stored under ``"meta"``.

    Returns
    -------
    dict
        ``{"format": ..., "meta": {...}, "files": {relpath: {"bytes": n, "sha256": hex}}}``.

    Raises
    ------
    ManifestError
        A listed file is outside ``folder`` or does not exist.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.txt").write_bytes(b"abc")
    ...     build_manifest(tmp, ["a.txt"])["files"]["a.txt"]["bytes"]
    3
    """
    folder = Path(folder)
    entries: dict[str, dict] = {}
    for item in files:
        path = Path(item)
        if not path.is_absolute():
            path = folder / path
        if path.is_dir():
            candidates = sorted(
                p for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            candidates = [path]
        else:
            raise ManifestError(f"{path} does not exist, so it cannot be listed in the manifest of {folder}.")
        for candidate in candidates:
            try:
                rel = _relative(folder, candidate)
            except ValueError as exc:
                raise ManifestError(f"{candidate} is outside {folder}; a manifest lists only files inside its folder.") from exc
            entries[rel] = {"bytes": candidate.stat().st_size, "sha256": sha256_file(candidate)}
    return {
        "format": MANIFEST_FORMAT,
        "meta": dict(meta or {}),
        "files": dict(sorted(entries.items())),
    }


def write_manifest(folder: str | os.PathLike, files: Iterable[str | os.PathLike], meta: Mapping | None = None) -> Path:
    """Write ``manifest.json`` into ``folder`` atomically, listing ``files`` with their checksums.

    Parameters
    ----------
    folder : str or path-like
        The data folder.
    files : iterable of path-like
        Files or folders to list (see :func:`build_manifest`).
    meta : mapping, optional
        Facts about the dataset, e.g. ``{"kind": "synthetic", "seed": 1}``.

    Returns
    -------
    pathlib.Path
        The manifest written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.txt").write_bytes(b"abc")
    ...     write_manifest(tmp, ["a.txt"], {"kind": "demo"}).name
    'manifest.json'
    """
    folder = Path(folder)
    manifest = build_manifest(folder, files, meta)
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    return atomic_write_text(folder / MANIFEST_NAME, text)


def read_manifest(folder: str | os.PathLike) -> dict:
    """Read the manifest of a data folder.

    Parameters
    ----------
    folder : str or path-like
        The data folder (holding ``manifest.json``).

    Returns
    -------
    dict
        The manifest (see :func:`build_manifest`).

    Raises
    ------
    FileNotFoundError
        There is no manifest in ``folder``.
    ManifestError
        The manifest is not valid JSON or lacks its ``files`` table.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_manifest(tmp, [], {"kind": "demo"})
    ...     read_manifest(tmp)["meta"]
    {'kind': 'demo'}
    """
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise MissingFileError(f"{path} does not exist: this folder holds no ccdlab dataset manifest.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(
            f"{path} is damaged ({exc}). Recreate the dataset with: python data_fetch.py --force --dest {Path(folder)}"
        ) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ManifestError(
            f"{path} is not a ccdlab manifest (no 'files' table). Move it away, or recreate the dataset with --force."
        )
    return manifest


def verify_manifest(folder: str | os.PathLike, checksums: bool = True) -> list[str]:
    """Check every file listed in a folder's manifest; return the problems found.

    Parameters
    ----------
    folder : str or path-like
        The data folder (holding ``manifest.json``).
    checksums : bool
        Compare SHA-256 checksums (default). When False only presence and sizes are checked,
        which is instant even on a slow disk.

    Returns
    -------
    list of str
        One sentence per missing, resized or changed file; empty when everything matches.

    Raises
    ------
    FileNotFoundError, ManifestError
        As :func:`read_manifest`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.txt").write_bytes(b"abc")
    ...     _ = write_manifest(tmp, ["a.txt"])
    ...     ok = verify_manifest(tmp)
    ...     _ = (Path(tmp) / "a.txt").write_bytes(b"abd")
    ...     ok, len(verify_manifest(tmp))
    ([], 1)
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    problems = []
    for rel, entry in manifest["files"].items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
            continue
        size = path.stat().st_size
        if size != entry.get("bytes"):
            problems.append(f"{rel} has {size} bytes, expected {entry.get('bytes')}")
            continue
        if checksums and sha256_file(path) != entry.get("sha256"):
            problems.append(f"{rel} has changed (its SHA-256 checksum differs)")
    return problems


#: Every folder a dataset made by ccdlab may have (synthetic or downloaded); ``reduced/`` is not one.
DATASET_FOLDERS = ("bias", "flats", "science", "darks", "detector", "unsorted", "catalog", "truth")

#: Marker left in a data folder while a new dataset is being moved into it.
INSTALLING_MARKER = ".ccdlab-installing"

_STAGING_PREFIX = ".ccdlab-staging-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_staging(dest: str | os.PathLike) -> list[Path]:
    """Remove staging folders left in ``dest`` by a run that was killed (its process is gone).

    Returns
    -------
    list of pathlib.Path
        The folders removed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     remove_stale_staging(tmp)
    []
    """
    dest = Path(dest)
    removed = []
    if not dest.is_dir():
        return removed
    for entry in sorted(dest.glob(f"{_STAGING_PREFIX}*")):
        pid_text = entry.name[len(_STAGING_PREFIX):].split("-", 1)[0]
        if entry.is_dir() and pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def staging_folder(dest: str | os.PathLike):
    """Give a temporary hidden folder inside ``dest`` to build a dataset in; always cleaned up.

    Building in a staging folder on the same disk, then renaming its parts into place with
    :func:`move_into_place`, means an interrupted or failed run leaves nothing half-written in
    ``dest``. If ``dest`` did not exist and nothing was moved into it, it is removed again.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with staging_folder(Path(tmp) / "data") as stage:
    ...         stage.parent.name, stage.name.startswith(".ccdlab-staging-")
    ('data', True)
    """
    dest = Path(dest)
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(dest)
    stage = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=dest))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created:
            try:
                dest.rmdir()  # only succeeds when nothing was moved in
            except OSError:
                pass


def move_into_place(
    stage: str | os.PathLike, dest: str | os.PathLike, names, replace: bool = False, discard=()
) -> list[Path]:
    """Move the finished parts of a dataset from ``stage`` into ``dest``, the manifest last.

    Each part (a folder such as ``bias/`` or a file such as ``manifest.json``) is renamed, which
    is instant and atomic on one disk. While parts move, a marker file in ``dest`` says an
    install is under way, so a run killed in the middle is recognised as incomplete next time.

    Parameters
    ----------
    stage : path-like
        The staging folder (from :func:`staging_folder`).
    dest : path-like
        The data folder.
    names : iterable of str
        The parts to move, e.g. ``["bias", "flats", "science", "truth", "manifest.json"]``.
    replace : bool
        Replace parts that already exist in ``dest`` (the old ones are discarded with the
        staging folder). When False an existing part raises ``FileExistsError``.
    discard : iterable of str
        With ``replace``, other parts of an older dataset to remove from ``dest`` (e.g. a
        ``truth/`` folder that the new dataset does not have); moved out with the old parts.

    Returns
    -------
    list of pathlib.Path
        The paths now in ``dest``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with staging_folder(tmp) as stage:
    ...         (stage / "bias").mkdir()
    ...         [p.name for p in move_into_place(stage, tmp, ["bias"])]
    ['bias']
    """
    stage, dest = Path(stage), Path(dest)
    names = [str(n) for n in names]
    names.sort(key=lambda n: n == MANIFEST_NAME)  # the manifest moves last
    missing = [n for n in names if not (stage / n).exists()]
    if missing:
        raise MissingFileError(f"Nothing to install for {', '.join(missing)}: the staging folder {stage} lacks them.")
    clashes = [n for n in names if (dest / n).exists() or (dest / n).is_symlink()]
    if clashes and not replace:
        raise OutputExistsError(
            f"{dest} already holds {', '.join(clashes)}; nothing was changed. Pass --force (replace=True) "
            "to replace them, or choose another folder."
        )
    marker = dest / INSTALLING_MARKER
    marker.write_text("\n".join(names) + "\n", encoding="utf-8")
    old = stage / ".replaced"
    old.mkdir(exist_ok=True)
    if (dest / MANIFEST_NAME).exists() and replace:
        os.replace(dest / MANIFEST_NAME, old / MANIFEST_NAME)  # the old dataset stops verifying first
    if replace:
        for name in discard:
            if name not in names and ((dest / name).exists() or (dest / name).is_symlink()):
                os.replace(dest / name, old / name)
    placed = []
    for name in names:
        target = dest / name
        if target.exists() or target.is_symlink():
            os.replace(target, old / name)
        os.replace(stage / name, target)
        placed.append(target)
    marker.unlink()
    return placed

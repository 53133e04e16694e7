"""Getting a night's data: the synthetic default, or real frames downloaded safely.

Two ways to fill a data folder, both behind ``python data_fetch.py`` and ``ccdlab fetch``:

- :func:`fetch_default` writes the seeded synthetic night (:mod:`ccdlab.simulate`) offline. If
  the folder already holds it and its checksums verify, nothing is done.
- :func:`fetch_url` downloads a zip/tar/tar.gz archive or single FITS files with pooch (progress
  bar, cache, SHA-256 check), extracts it refusing absolute paths, ``..`` and links out of the
  folder, and sorts the frames into ``bias/``, ``flats/`` and ``science/`` (``darks/`` too)
  using the inventory's frame typing. Frames it cannot type go to ``unsorted/``, named in the
  report, never guessed. :func:`fetch_named` does the same for a dataset of :data:`REGISTRY`.

Everything is built in a hidden staging folder inside the data folder and renamed into place
when complete, with a checksum manifest; an interrupted or failed run, a corrupt archive or a
wrong checksum leave the folder as it was. An existing dataset is replaced only with ``force``
(``--force``); ``reduced/`` and any other folder are never touched.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import re
import shutil
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence
from urllib.parse import unquote, urlparse

from .io import FrameError, is_fits_name, read_header
from .manifest import (
    DATASET_FOLDERS,
    INSTALLING_MARKER,
    MANIFEST_NAME,
    ManifestError,
    move_into_place,
    read_manifest,
    sha256_file,
    staging_folder,
    verify_manifest,
    write_manifest,
)
from .paths import DataNotFoundError, find_data_dir, on_colab
from .simulate import DEFAULT_SEED, DEFAULT_SIZE, SIZES, make_night

__all__ = [
    "REGISTRY",
    "CACHE_ENV",
    "FetchError",
    "DatasetExistsError",
    "FetchReport",
    "cache_dir",
    "register_dataset",
    "ensure_default",
    "fetch_default",
    "download",
    "safe_extract",
    "sort_frames",
    "fetch_url",
    "fetch_named",
    "add_arguments",
    "run",
]

#: Named real datasets: name -> {"url", "sha256", "description"}. Only entries whose SHA-256
#: has been pinned from a verified download belong here (see docs/data.md to add one).
REGISTRY: dict[str, dict] = {}

#: Environment variable naming the download cache (default: the system cache folder).
CACHE_ENV = "CCDLAB_CACHE"

#: Where each frame type goes in the data folder.
_FOLDER_OF = {"bias": "bias", "flat": "flats", "science": "science", "dark": "darks", "unknown": "unsorted"}
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class FetchError(RuntimeError):
    """A download or its extraction failed; the message says what happened and what to do."""


class DatasetExistsError(FileExistsError):
    """The data folder already holds a different dataset; nothing was changed."""


@dataclass
class FetchReport:
    """What a fetch did: where the data is and what went where.

    Attributes
    ----------
    dest : pathlib.Path
        The data folder.
    status : str
        ``'created'`` (synthetic night written), ``'verified'`` (already there, checksums
        match: nothing done), ``'kept'`` (the folder holds other data, left alone),
        ``'changed'`` (files differ from the manifest; left alone, ``message`` warns) or
        ``'downloaded'``.
    sources : list of str
        URLs downloaded (empty for the synthetic night).
    sha256 : list of str
        SHA-256 of each downloaded file.
    placed : dict
        Folder name -> list of file names put there.
    left_aside : list of (str, str)
        Files put in ``unsorted/`` (or skipped), each with the reason.
    message : str
        One sentence for the user.
    """

    dest: Path
    status: str
    sources: list = field(default_factory=list)
    sha256: list = field(default_factory=list)
    placed: dict = field(default_factory=dict)
    left_aside: list = field(default_factory=list)
    message: str = ""

    def summary(self) -> str:
        """Return a short, readable account of the fetch (what went where).

        Examples
        --------
        >>> print(FetchReport(Path("data"), "verified", message="Nothing to do.").summary())
        Nothing to do.
        """
        lines = [self.message] if self.message else []
        for folder in sorted(self.placed):
            count = len(self.placed[folder])
            lines.append(f"  {folder + '/':<10} {count} file{'s' if count != 1 else ''}")
        if self.left_aside:
            lines.append(f"  Left aside in unsorted/ (not typed, not guessed): {len(self.left_aside)}")
            for name, reason in self.left_aside:
                lines.append(f"    {name}: {reason}")
        return "\n".join(lines)


def cache_dir() -> Path:
    """Return the download cache: ``$CCDLAB_CACHE`` or the system cache folder for ccdlab.

    Examples
    --------
    >>> cache_dir().name in ("ccdlab", os.environ.get(CACHE_ENV, "ccdlab").rstrip("/").split("/")[-1])
    True
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("ccdlab"))


def register_dataset(name: str, url: str, sha256: str, description: str = "") -> None:
    """Add a named dataset with a pinned SHA-256 to :data:`REGISTRY`.

    Parameters
    ----------
    name : str
        Short name used with ``--name``.
    url : str
        Where the archive or FITS file is downloaded from.
    sha256 : str
        Its SHA-256 (64 hex digits), from a verified download.
    description : str
        One line shown in ``--help``.

    Examples
    --------
    >>> register_dataset("demo", "https://example.org/night.zip", "0" * 64, "a demo night")
    >>> REGISTRY.pop("demo")["url"]
    'https://example.org/night.zip'
    """
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", name or ""):
        raise ValueError(f"Dataset name {name!r} must be letters, digits, '.', '_' or '-'.")
    if not _HEX64.match(sha256 or ""):
        raise ValueError(f"The SHA-256 of {name!r} must be 64 hex digits; got {sha256!r}.")
    if urlparse(url).scheme not in ("http", "https", "ftp"):
        raise ValueError(f"The URL of {name!r} must start with http://, https:// or ftp://; got {url!r}.")
    REGISTRY[name] = {"url": url, "sha256": sha256.lower(), "description": description}


# --- the synthetic default --------------------------------------------------------------------


def _has_files(path: Path) -> bool:
    return path.is_dir() and any(p.is_file() for p in path.rglob("*"))


def _existing_parts(dest: Path) -> list[str]:
    return [n for n in (*DATASET_FOLDERS, MANIFEST_NAME) if (dest / n).exists()]


def _problems_text(problems: list[str]) -> str:
    shown = "; ".join(problems[:3])
    return shown + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")


def _held(meta: dict) -> str:
    if meta.get("kind") == "synthetic":
        return f"the {meta.get('size')} synthetic night (seed {meta.get('seed')})"
    return f"data downloaded from {', '.join(meta.get('sources', [])) or 'elsewhere'}"


def _restore_command(meta: dict, dest: Path) -> str:
    if meta.get("kind") == "synthetic" and meta.get("size") in SIZES:
        seed = meta.get("seed", DEFAULT_SEED)
        extra = "" if seed == DEFAULT_SEED else f" --seed {seed}"
        return f"python data_fetch.py --force --size {meta['size']}{extra} --dest {dest}"
    urls = " ".join(f"--url {u}" for u in meta.get("sources", []))
    hashes = " ".join(f"--sha256 {h}" for h in meta.get("sha256", []))
    return " ".join(p for p in ("python data_fetch.py --force", urls, hashes, f"--dest {dest}") if p)


def ensure_default(
    dest: str | os.PathLike | None = None,
    size: str | None = None,
    force: bool = False,
    progress: bool = True,
    seed: int = DEFAULT_SEED,
) -> FetchReport:
    """Make sure ``dest`` holds a verified synthetic night; say what was done.

    Parameters
    ----------
    dest : str or path-like, optional
        The data folder (default: the one :func:`ccdlab.paths.find_data_dir` resolves).
    size : str, optional
        ``'tiny'``, ``'workshop'`` or ``'full'``: that night is required, strictly (another
        dataset, or files that no longer match the manifest, are an error). None (default,
        what ``make lab`` asks for): whatever verified synthetic night or download is there is
        kept; when there is none the ``workshop`` night is created; when files no longer match
        the manifest a warning names them and the command that restores them, and nothing is
        changed (``status`` ``'changed'``).
    force : bool
        Replace whatever dataset is there (``reduced/`` is kept) with the night of ``size``
        (``workshop`` when None) and ``seed``.
    progress : bool
        Show a progress bar while writing.
    seed : int
        The night's seed.

    Returns
    -------
    FetchReport
        ``status`` is ``'created'``, ``'verified'``, ``'kept'`` (your own frames without a ccdlab
        manifest, or a download, left alone) or ``'changed'`` (only when ``size`` is None: some
        files differ from the manifest; ``message`` is the warning).

    Raises
    ------
    FetchError
        Unknown ``size``.
    DatasetExistsError
        ``size`` was given and the folder holds another dataset.
    ManifestError
        ``size`` was given and the folder's files no longer match their manifest.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     first = ensure_default(tmp, size="tiny", progress=False).status
    ...     second = ensure_default(tmp, size="tiny", progress=False).status
    ...     any_size = ensure_default(tmp, progress=False).message.split(" holds ")[1][:24]
    ...     first, second, any_size
    ('created', 'verified', 'the tiny synthetic night')
    """
    if size is not None and size not in SIZES:
        raise FetchError(f"Unknown size {size!r}: use one of {', '.join(SIZES)}.")
    dest = find_data_dir(must_exist=False) if dest is None else Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} is a file, not a folder: choose another --dest.")
    strict = size is not None
    size = size or DEFAULT_SIZE
    wanted = f"the {size} synthetic night (seed {seed})"
    if (dest / INSTALLING_MARKER).exists():
        make_night(dest, size=size, seed=seed, progress=progress, overwrite=True)
        return FetchReport(dest, "created", message=f"An earlier run was interrupted; wrote {wanted} into {dest}.")
    if (dest / MANIFEST_NAME).exists():
        if force:
            make_night(dest, size=size, seed=seed, progress=progress, overwrite=True)
            return FetchReport(dest, "created", message=f"Replaced the dataset in {dest} with {wanted}.")
        manifest = read_manifest(dest)
        meta = manifest.get("meta", {})
        held = _held(meta)
        same = meta.get("kind") == "synthetic" and meta.get("size") == size and meta.get("seed") == int(seed)
        problems = verify_manifest(dest)
        if problems and strict:
            raise ManifestError(
                f"The dataset in {dest} does not match its manifest ({_problems_text(problems)}). "
                f"Rebuild it with: {_restore_command(meta, dest)}"
            )
        if problems:
            return FetchReport(
                dest, "changed",
                message=f"Warning: {dest} holds {held}, but {len(problems)} file(s) no longer match its manifest "
                f"({_problems_text(problems)}); left as it is. To restore the original frames (reduced/ is kept), "
                f"run: {_restore_command(meta, dest)}",
            )
        if same or (not strict and meta.get("kind") == "synthetic"):
            return FetchReport(dest, "verified", message=f"{dest} holds {held}; checksums verified, nothing to do.")
        if meta.get("kind") != "synthetic" and (not strict or (size == DEFAULT_SIZE and int(seed) == DEFAULT_SEED)):
            return FetchReport(dest, "kept", message=f"{dest} holds {held} (checksums verified); left as it is.")
        raise DatasetExistsError(
            f"{dest} already holds {held}, not {wanted}; nothing was changed. Add --force to replace "
            "it, or choose another folder with --dest."
        )
    parts = _existing_parts(dest)
    if any(_has_files(dest / p) for p in parts):
        if force:
            make_night(dest, size=size, seed=seed, progress=progress, overwrite=True)
            return FetchReport(dest, "created", message=f"Replaced the frames in {dest} with {wanted}.")
        return FetchReport(
            dest, "kept",
            message=f"{dest} already holds frames not made by ccdlab ({', '.join(p + '/' for p in parts)}); "
            "left alone. Use --force to replace them with the synthetic night, or --dest for another folder.",
        )
    make_night(dest, size=size, seed=seed, progress=progress, overwrite=bool(parts))
    return FetchReport(dest, "created", message=f"Wrote {wanted} into {dest}.")


def fetch_default(
    dest: str | os.PathLike | None = None,
    size: str = DEFAULT_SIZE,
    force: bool = False,
    progress: bool = True,
    seed: int = DEFAULT_SEED,
) -> Path:
    """Create the default synthetic night in the data folder, or verify that it is there.

    Parameters
    ----------
    dest : str or path-like, optional
        The data folder; by default the one :func:`ccdlab.paths.find_data_dir` resolves
        (``data/`` in the course folder, ``CCDLAB_DATA`` if set).
    size : str
        ``'tiny'``, ``'workshop'`` (default) or ``'full'``.
    force : bool
        Replace whatever dataset is there (``reduced/`` is kept).
    progress : bool
        Show a progress bar while writing.
    seed : int
        The night's seed.

    Returns
    -------
    pathlib.Path
        The data folder. When it already holds this night and every checksum matches, nothing
        is written (a second run takes a second or two). A folder holding your own frames (no
        ccdlab manifest) is left alone.

    Raises
    ------
    DatasetExistsError
        The folder holds a different ccdlab dataset (another size or seed, or a download).
    ManifestError
        The folder's dataset no longer matches its manifest (a file was changed or deleted).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     fetch_default(tmp, size="tiny", progress=False) == Path(tmp)
    True
    """
    return ensure_default(dest, size=size, force=force, progress=progress, seed=seed).dest


# --- downloads --------------------------------------------------------------------------------


def download(url: str, sha256: str | None = None, progress: bool = True, cache: str | os.PathLike | None = None) -> Path:
    """Download ``url`` into the cache with pooch (or reuse the cached copy) and check its SHA-256.

    Parameters
    ----------
    url : str
        An http(s) or ftp URL.
    sha256 : str, optional
        The expected SHA-256 (64 hex digits). A mismatch deletes the download.
    progress : bool
        Show a progress bar.
    cache : path-like, optional
        The cache folder (default :func:`cache_dir`).

    Returns
    -------
    pathlib.Path
        The cached file. pooch writes to a temporary name and renames on success, so the cache
        never holds half a download.

    Raises
    ------
    FetchError
        Bad URL or checksum, connection failure, or a checksum mismatch.

    Examples
    --------
    >>> download("https://example.org/night.zip", sha256="abc")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ccdlab.fetch.FetchError: The SHA-256 'abc' is not 64 hex digits...
    """
    import pooch
    import requests

    if urlparse(url).scheme not in ("http", "https", "ftp", "sftp", "doi"):
        raise FetchError(f"{url!r} is not a URL ccdlab can download (it must start with http:// or https://).")
    if sha256 is not None and not _HEX64.match(sha256):
        raise FetchError(f"The SHA-256 {sha256!r} is not 64 hex digits: copy it again from where the data is published.")
    cache = Path(cache) if cache is not None else cache_dir()
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        path = pooch.retrieve(
            url, known_hash=f"sha256:{sha256.lower()}" if sha256 else None, path=cache, progressbar=progress
        )
    except ValueError as exc:
        raise FetchError(
            f"The file downloaded from {url} does not match the expected SHA-256 {sha256}; it was deleted and "
            "nothing was written. Check the --sha256 value and the URL (the file may have changed on the server)."
        ) from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise FetchError(
            f"Downloading {url} failed ({reason}); nothing was written. Check the URL and your network "
            "connection, then run the command again."
        ) from exc
    finally:
        logger.setLevel(level)
    return Path(path)


def _kind_of(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(2880)
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            return "zip"
        if head.startswith(b"SIMPLE  ="):
            return "fits"
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                inner = handle.read(512)
            if inner.startswith(b"SIMPLE  ="):
                return "fits.gz"
        if tarfile.is_tarfile(path):
            return "tar"
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        raise FetchError(f"{path.name} is damaged ({exc}).") from exc
    raise FetchError(
        f"{path.name} is neither a zip or tar archive nor a FITS file (it may be damaged, or an HTML error "
        "page): check the URL."
    )


def _safe_member(name: str, archive: str) -> PurePosixPath:
    cleaned = name.replace("\\", "/")
    if cleaned.startswith("/") or re.match(r"^[A-Za-z]:", cleaned):
        raise FetchError(f"{archive} holds an absolute path ({name!r}); refusing to extract it. Nothing was written.")
    parts = PurePosixPath(cleaned).parts
    if ".." in parts:
        raise FetchError(f"{archive} holds a path that climbs out of its folder ({name!r}); refusing to extract it. Nothing was written.")
    return PurePosixPath(*[p for p in parts if p not in ("", ".")]) if parts else PurePosixPath(".")


def _check_zip_member(member: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    """The one place zip members are judged: return where it goes, or refuse the archive."""
    rel = _safe_member(member.filename, archive)
    if (member.external_attr >> 16) & 0o170000 == 0o120000:
        raise FetchError(
            f"{archive} holds a symbolic link ({member.filename!r}); refusing to extract it. Nothing was written."
        )
    return rel


def _check_tar_member(member: tarfile.TarInfo, archive: str) -> PurePosixPath | None:
    """The one place tar members are judged: where it goes, None to skip it, or refuse the archive.

    Absolute paths, ``..``, links pointing out of the folder and special files (devices, pipes)
    refuse the whole archive; links that stay inside are skipped (frames never need them).
    """
    rel = _safe_member(member.name, archive)
    if member.issym() or member.islnk():
        link = member.linkname.replace("\\", "/")
        base = rel.parent if member.issym() else PurePosixPath(".")
        resolved = os.path.normpath(str(base / link)) if not link.startswith("/") else link
        if link.startswith("/") or re.match(r"^[A-Za-z]:", link) or resolved == ".." or resolved.startswith("../"):
            raise FetchError(
                f"{archive} holds a link pointing out of its folder ({member.name!r} -> "
                f"{member.linkname!r}); refusing to extract it. Nothing was written."
            )
        return None
    if not (member.isfile() or member.isdir()):
        raise FetchError(f"{archive} holds a special file ({member.name!r}); refusing to extract it. Nothing was written.")
    return rel


def _write_member(source, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with source as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    return out


def _check_space(total: int, target: Path, archive: str) -> None:
    free = shutil.disk_usage(target).free
    if total > free:
        raise FetchError(
            f"{archive} needs {total / 1e6:.0f} MB but only {free / 1e6:.0f} MB are free at {target}; free some "
            "space or choose another --dest."
        )


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Extract a zip or tar archive into ``target``, refusing anything that would land outside it.

    Absolute paths, ``..`` components, links pointing out of ``target`` and special files (devices,
    pipes) make the whole archive be refused before anything is written. Links inside the archive
    are not extracted. Where Python's tar ``data`` filter exists (3.10.12+, 3.11.4+, 3.12+) it
    is applied too; on older patch releases the same member checks guard a plain file-by-file copy.

    Parameters
    ----------
    archive : path-like
        A ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2`` or ``.tar.xz`` file.
    target : path-like
        An empty folder to extract into (created if needed).

    Returns
    -------
    list of pathlib.Path
        The files extracted.

    Raises
    ------
    FetchError
        The archive is unsafe or damaged, or the disk is too full.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with zipfile.ZipFile(Path(tmp) / "a.zip", "w") as zf:
    ...         zf.writestr("bias/b1.txt", "x")
    ...     [p.name for p in safe_extract(Path(tmp) / "a.zip", Path(tmp) / "out")]
    ['b1.txt']
    """
    archive, target = Path(archive), Path(target)
    kind = _kind_of(archive)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                chosen = [(member, _check_zip_member(member, archive.name)) for member in zf.infolist()]
                _check_space(sum(m.file_size for m, _ in chosen), target, archive.name)
                for member, rel in chosen:
                    if member.is_dir():
                        (target / rel).mkdir(parents=True, exist_ok=True)
                    else:
                        written.append(_write_member(zf.open(member), target / rel))
        elif kind == "tar":
            with tarfile.open(archive) as tf:
                checked = [(member, _check_tar_member(member, archive.name)) for member in tf.getmembers()]
                chosen = [(member, rel) for member, rel in checked if rel is not None]
                _check_space(sum(m.size for m, _ in chosen), target, archive.name)
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(target, members=[m for m, _ in chosen], filter="data")
                    written = [target / rel for m, rel in chosen if m.isfile()]
                else:  # Python < 3.10.12 / 3.11.4: no extraction filter; the checks above stand alone
                    for member, rel in chosen:
                        if member.isdir():
                            (target / rel).mkdir(parents=True, exist_ok=True)
                        else:
                            written.append(_write_member(tf.extractfile(member), target / rel))
        else:
            raise FetchError(f"{archive.name} is a single FITS file, not an archive: nothing to extract.")
    except FetchError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise FetchError(
            f"{archive.name} is damaged ({exc}); nothing was written. Run the command again to download it afresh."
        ) from exc
    return sorted(written)


def _unique_name(folder: Path, source: Path, root: Path) -> str:
    name = source.name
    if not (folder / name).exists():
        return name
    prefix = "_".join(source.relative_to(root).parent.parts[1:]) or "dup"
    candidate = f"{prefix}_{name}"
    counter = 2
    while (folder / candidate).exists():
        candidate = f"{prefix}_{counter}_{name}"
        counter += 1
    return candidate


def sort_frames(extracted: str | os.PathLike, stage: str | os.PathLike) -> tuple[dict, list]:
    """Move every file under ``extracted`` into ``bias/``, ``flats/``, ``science/``, ``darks/`` or ``unsorted/``.

    Frames are typed by :func:`ccdlab.inventory.classify` from their header, with the folder
    they came in as a hint. Frames it cannot type, unreadable FITS files and other files go to
    ``unsorted/`` and are reported, never guessed.

    Parameters
    ----------
    extracted : path-like
        The folder the archive was extracted into.
    stage : path-like
        The folder that receives ``bias/``, ``flats/``, ... (the staging folder).

    Returns
    -------
    placed : dict
        Folder name -> sorted list of file names.
    left_aside : list of (str, str)
        ``(file, reason)`` for everything put in ``unsorted/``.

    Examples
    --------
    >>> import tempfile
    >>> from astropy.io import fits
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "in").mkdir()
    ...     hdr = fits.Header({"IMAGETYP": "dark", "EXPTIME": 0.001})
    ...     fits.writeto(Path(tmp) / "in" / "b.fits", np.zeros((4, 4)), hdr)
    ...     sort_frames(Path(tmp) / "in", Path(tmp) / "out")
    ({'bias': ['b.fits']}, [])
    """
    from .inventory import classify

    extracted, stage = Path(extracted), Path(stage)
    placed: dict[str, list[str]] = {}
    left_aside: list[tuple[str, str]] = []
    files = []
    for root, dirs, names in os.walk(extracted):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    for path in sorted(files):
        if path.is_symlink():
            continue
        if is_fits_name(path):
            try:
                frame_type, note = classify(read_header(path), path, root=extracted)
            except (FrameError, OSError) as exc:
                frame_type, note = "unknown", f"unreadable: {exc}"
        else:
            frame_type, note = "unknown", "not a FITS frame"
        folder = stage / _FOLDER_OF.get(frame_type, "unsorted")
        folder.mkdir(parents=True, exist_ok=True)
        name = _unique_name(folder, path, extracted)
        os.replace(path, folder / name)
        placed.setdefault(folder.name, []).append(name)
        if frame_type == "unknown":
            left_aside.append((name, note))
    placed = {k: sorted(v) for k, v in sorted(placed.items()) if k != "unsorted"}
    return placed, left_aside


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)


def _file_name_from_url(url: str, index: int) -> str:
    name = PurePosixPath(unquote(urlparse(url).path)).name
    return name or f"download-{index}.fits"


def fetch_url(
    url: str | Sequence[str],
    dest: str | os.PathLike | None = None,
    sha256: str | Sequence[str] | None = None,
    force: bool = False,
    progress: bool = True,
    cache: str | os.PathLike | None = None,
) -> FetchReport:
    """Download a night (an archive, or single FITS files) and lay it out in a data folder.

    Parameters
    ----------
    url : str or sequence of str
        A zip/tar/tar.gz archive, or one or more FITS files (``.fits``, ``.fits.gz``, ``.fz``).
    dest : path-like, optional
        The data folder (default: the one :func:`ccdlab.paths.find_data_dir` resolves).
    sha256 : str or sequence of str, optional
        Expected SHA-256 of each URL, in order. Without it the file is downloaded unchecked and
        its checksum is reported, so you can pin it next time.
    force : bool
        Replace a dataset already in ``dest`` (``reduced/`` is kept).
    progress : bool
        Show progress bars.
    cache : path-like, optional
        Download cache (default :func:`cache_dir`).

    Returns
    -------
    FetchReport
        Status ``'downloaded'`` with what went where, or ``'verified'`` when ``dest`` already
        holds this download and its checksums match (nothing is fetched again).

    Raises
    ------
    FetchError
        The download failed, the checksum differs, or the archive is damaged or unsafe. The data
        folder is left as it was; a damaged download is removed from the cache.
    DatasetExistsError
        ``dest`` already holds data and ``force`` is False.

    Examples
    --------
    >>> report = fetch_url("https://example.org/night.zip", "data")  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    Downloaded https://example.org/night.zip into data.
      bias/      5 files
    """
    urls = [str(u) for u in _as_list(url)]
    if not urls:
        raise FetchError("No URL given: pass --url URL (an archive or a FITS file).")
    hashes = [str(h).strip() for h in _as_list(sha256)]
    if hashes and len(hashes) != len(urls):
        raise FetchError(f"Give one --sha256 per --url: got {len(urls)} URL(s) and {len(hashes)} checksum(s).")
    for value in hashes:
        if not _HEX64.match(value):
            raise FetchError(f"The SHA-256 {value!r} is not 64 hex digits: copy it again from where the data is published.")
    hashes = [h.lower() for h in hashes] or [None] * len(urls)
    dest = find_data_dir(must_exist=False) if dest is None else Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"{dest} is a file, not a folder: choose another --dest.")
    if (dest / MANIFEST_NAME).exists() and not force:
        meta = read_manifest(dest).get("meta", {})
        if meta.get("kind") == "download" and meta.get("sources") == urls:
            if not any(hashes) or [h for h in hashes] == meta.get("sha256"):
                problems = verify_manifest(dest)
                if not problems:
                    return FetchReport(
                        dest, "verified", sources=urls, sha256=meta.get("sha256", []),
                        message=f"{dest} already holds this download; checksums verified, nothing to do.",
                    )
                raise ManifestError(
                    f"The download in {dest} no longer matches its manifest ({_problems_text(problems)}). "
                    "Fetch it again with --force."
                )
    parts = _existing_parts(dest)
    if parts and not force and (MANIFEST_NAME in parts or any(_has_files(dest / p) for p in parts)):
        raise DatasetExistsError(
            f"{dest} already holds a dataset ({', '.join(parts)}); nothing was downloaded. Add --force to replace "
            "it, or choose an empty folder with --dest."
        )
    with staging_folder(dest) as stage:
        extracted = stage / ".extracted"
        digests = []
        for index, (source, expected) in enumerate(zip(urls, hashes)):
            cached = download(source, expected, progress=progress, cache=cache)
            digests.append(expected or sha256_file(cached))
            target = extracted / f"{index:02d}"
            try:
                kind = _kind_of(cached)
                if kind in ("fits", "fits.gz"):
                    target.mkdir(parents=True, exist_ok=True)
                    name = _file_name_from_url(source, index)
                    if kind == "fits.gz" and not name.lower().endswith(".gz"):
                        name += ".gz"
                    if not is_fits_name(name):
                        name += ".fits.gz" if kind == "fits.gz" else ".fits"
                    shutil.copyfile(cached, target / name)
                else:
                    safe_extract(cached, target)
            except FetchError as exc:
                cached.unlink(missing_ok=True)  # never reuse a damaged or unsafe download
                text = str(exc).replace(cached.name, _file_name_from_url(source, index))
                raise FetchError(f"{text} (downloaded from {source})") from exc
        placed, left_aside = sort_frames(extracted, stage)
        shutil.rmtree(extracted, ignore_errors=True)
        if not placed and not left_aside:
            raise FetchError(f"{', '.join(urls)} held no files; nothing was written. Check the URL.")
        if not placed:
            raise FetchError(
                f"{', '.join(urls)} held no frames ccdlab could type as bias, flat or science (all "
                f"{len(left_aside)} file(s) would be left aside); nothing was written. Check that this is the right data."
            )
        folders = sorted({*placed, *(["unsorted"] if left_aside else [])})
        meta = {
            "kind": "download",
            "sources": urls,
            "sha256": digests,
            "placed": placed,
            "left_aside": [list(item) for item in left_aside],
        }
        write_manifest(stage, folders, meta)
        move_into_place(stage, dest, [*folders, MANIFEST_NAME], replace=force, discard=DATASET_FOLDERS)
    pin = ""
    if not any(hashes):
        pin = " To pin it next time, add: " + " ".join(f"--sha256 {d}" for d in digests)
    report = FetchReport(
        dest, "downloaded", sources=urls, sha256=digests, placed=placed, left_aside=left_aside,
        message=f"Downloaded {', '.join(urls)} into {dest}.{pin}",
    )
    return report


def fetch_named(
    name: str,
    dest: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool = True,
    cache: str | os.PathLike | None = None,
) -> FetchReport:
    """Download a dataset of :data:`REGISTRY` by name, checking its pinned SHA-256.

    Examples
    --------
    >>> fetch_named("no-such-night")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ccdlab.fetch.FetchError: Unknown dataset 'no-such-night'...
    """
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY)) or "none registered yet"
        raise FetchError(
            f"Unknown dataset {name!r} (known: {known}). Use --url URL --sha256 HEX for other data, "
            "or run without --name for the synthetic night."
        )
    entry = REGISTRY[name]
    return fetch_url(entry["url"], dest, sha256=entry["sha256"], force=force, progress=progress, cache=cache)


# --- command line -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the data options to ``parser`` (used by ``data_fetch.py`` and ``ccdlab fetch``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["--size", "tiny"]).size
    'tiny'
    >>> parser.parse_args([]).size is None  # the default night, or on Colab whatever Drive holds
    True
    """
    registered = ", ".join(sorted(REGISTRY)) or "none registered yet"
    parser.add_argument(
        "--size", choices=list(SIZES), default=None,
        help="synthetic night (NAXIS1 x NAXIS2): tiny (512 x 514, ~11 MB), workshop (2048 x 2054, ~180 MB) "
        "or full (4096 x 4108, ~710 MB); without it any verified night already there is kept, else workshop "
        "is created",
    )
    parser.add_argument(
        "--dest", metavar="DIR", default=None,
        help="data folder (default: the one ccdlab finds: CCDLAB_DATA, Google Drive on Colab, or data/)",
    )
    parser.add_argument(
        "--url", metavar="URL", action="append", default=None,
        help="download real data instead: a zip/tar/tar.gz archive or a FITS file (repeat for several files)",
    )
    parser.add_argument(
        "--sha256", metavar="HEX", action="append", default=None,
        help="expected SHA-256 of each --url, in the same order (the download is refused if it differs)",
    )
    parser.add_argument("--name", metavar="NAME", default=None, help=f"download a registered dataset ({registered})")
    parser.add_argument(
        "--force", action="store_true",
        help="replace a dataset already in the folder (bias/, flats/, science/, truth/; reduced/ is kept)",
    )
    parser.add_argument("--seed", type=int, default=None, help=f"seed of the synthetic night (default {DEFAULT_SEED})")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Carry out ``data_fetch.py`` / ``ccdlab fetch``; print what was done; return the exit code.

    Expected problems (a bad checksum, a damaged archive, an existing dataset, ...) print one
    sentence on stderr and return 1, never a traceback. Without ``--size`` (and ``--seed``) any
    verified dataset already in the folder is kept, and files changed since it was made are only
    a warning (exit 0), so ``make lab`` always starts; ``--size`` asks for that night strictly.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> run(parser.parse_args(["--name", "nothing-here"]))  # doctest: +SKIP
    1
    """
    progress = getattr(args, "progress", True)
    urls = getattr(args, "url", None) or []
    hashes = getattr(args, "sha256", None) or []
    name = getattr(args, "name", None)
    seed = getattr(args, "seed", None)
    dest = getattr(args, "dest", None)
    size = getattr(args, "size", None)
    try:
        if urls and name:
            raise FetchError("Use either --url or --name, not both.")
        if hashes and not urls:
            raise FetchError("--sha256 checks a download: give it together with --url.")
        if (urls or name) and seed is not None:
            raise FetchError("--seed applies to the synthetic night only, not to downloads.")
        if seed is not None and seed < 0:
            raise FetchError(f"--seed must be zero or a positive integer; got {seed}.")
        if urls:
            report = fetch_url(urls, dest, sha256=hashes or None, force=getattr(args, "force", False), progress=progress)
        elif name:
            report = fetch_named(name, dest, force=getattr(args, "force", False), progress=progress)
        elif dest is None and on_colab():
            from .colab import prepare_colab_data

            local = prepare_colab_data(
                size=size, seed=DEFAULT_SEED if seed is None else seed, force=getattr(args, "force", False), progress=progress
            )
            report = FetchReport(local, "verified", message=f"Data ready in {local} (a working copy of your Google Drive folder).")
        else:
            # No --size (what `make lab` runs): keep any verified night, warn about changed files.
            # --size or --seed ask for one night exactly: anything else is an error.
            report = ensure_default(
                dest, size=size or (DEFAULT_SIZE if seed is not None else None), force=getattr(args, "force", False),
                progress=progress, seed=DEFAULT_SEED if seed is None else seed,
            )
    except (FetchError, DatasetExistsError, ManifestError, DataNotFoundError, NotADirectoryError, PermissionError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"Error: could not write the data{where}: {exc.strerror or exc}. Check the folder and free disk space.", file=sys.stderr)
        return 1
    if report.status == "changed":
        print(report.summary(), file=sys.stderr)
    else:
        print(report.summary())
    return 0

"""Getting a night's data: the synthetic default, or real frames downloaded safely.

Two ways to fill a data folder, both behind ``python data_fetch.py`` and ``ccdlab fetch``:

- :func:`fetch_default` writes the seeded synthetic night (:mod:`ccdlab.data.simulate`) offline. If
  the folder already holds it and its checksums verify, nothing is done.
- :func:`fetch_url` gets a zip/tar/tar.gz archive or single FITS files, from the web or the local
  disk (:mod:`ccdlab.data.download`), extracts it safely (:mod:`ccdlab.data.archive`) and sorts
  the frames into ``bias/``, ``flats/`` and ``science/`` (``darks/`` too) by their headers
  (:mod:`ccdlab.data.sorting`). Frames it cannot type go to ``unsorted/``, named in the report,
  never guessed.

Everything is built in a hidden staging folder inside the data folder and renamed into place
when complete, with a checksum manifest; an interrupted or failed run, a corrupt archive or a
wrong checksum leave the folder as it was. An existing dataset is replaced only with ``force``
(``--force``); ``reduced/`` and any other folder are never touched.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence
from urllib.parse import unquote, urlparse

from ccdlab.data.archive import safe_extract
from ccdlab.data.download import HEX64, download, file_kind, local_file
from ccdlab.data.manifest import (
    DATASET_FOLDERS,
    INSTALLING_MARKER,
    MANIFEST_NAME,
    move_into_place,
    read_manifest,
    sha256_file,
    staging_folder,
    verify_manifest,
    write_manifest,
)
from ccdlab.data.simulate.night import CAMERAS, DATASET_ITEMS, DEFAULT_CAMERA, DEFAULT_SEED, DEFAULT_SIZE, SIZES, make_night
from ccdlab.data.sorting import sort_frames
from ccdlab.errors import DatasetExistsError, FetchError, ManifestError, NotAFolderError
from ccdlab.io import is_fits_name
from ccdlab.paths import find_data_dir

__all__ = ["FetchReport", "ensure_default", "fetch_default", "fetch_url"]


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


# --- the synthetic default --------------------------------------------------------------------


def _has_files(path: Path) -> bool:
    return path.is_dir() and any(p.is_file() for p in path.rglob("*"))


def _existing_parts(dest: Path) -> list[str]:
    return [n for n in (*DATASET_FOLDERS, MANIFEST_NAME) if (dest / n).exists()]


def _parts_lacking(manifest: dict) -> list[str]:
    """The parts every synthetic night of this version has (:data:`DATASET_ITEMS`) that ``manifest`` lists no file of.

    ``darks/`` is left out: only some cameras take darks, and a night's camera never changes.
    """
    listed = {name.split("/", 1)[0] for name in manifest.get("files", {})}
    return [part for part in DATASET_ITEMS if part not in listed and part != "darks"]


def _after_rebuild(dest: Path, old_manifest: dict) -> str:
    """After an older night was rebuilt: say whether its frames kept their bytes; if not, move ``reduced/`` aside.

    A newer simulator may draw the frames differently (e.g. the bias pattern added for lesson 03): then
    what the lessons wrote from the old frames no longer matches them, and is kept, renamed, rather
    than mixed with new results.
    """
    new_files = read_manifest(dest).get("files", {})
    changed = [name for name, entry in old_manifest.get("files", {}).items()
               if name.split("/", 1)[0] in ("bias", "flats", "science") and new_files.get(name, {}).get("sha256") != entry.get("sha256")]
    if not changed:
        return "Its other frames are the same bytes; reduced/ is kept."
    reduced = dest / "reduced"
    if not reduced.exists():
        return f"{len(changed)} of its frames were redrawn by this version of the simulator."
    aside = dest / f"reduced-before-{_dt.date.today().isoformat()}"
    n = 1
    while aside.exists():
        n += 1
        aside = dest / f"reduced-before-{_dt.date.today().isoformat()}-{n}"
    reduced.rename(aside)
    return (f"{len(changed)} of its frames were redrawn by this version of the simulator, so what the lessons wrote "
            f"from the old ones was moved to {aside.name}/ (delete it when you no longer need it).")


def _problems_text(problems: list[str]) -> str:
    shown = "; ".join(problems[:3])
    return shown + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")


def _camera_words(camera: str) -> str:
    return "" if camera == DEFAULT_CAMERA else f", {camera} camera"


def _held(meta: dict) -> str:
    if meta.get("kind") == "synthetic" and meta.get("student"):
        return f"the {meta.get('size')} night of {meta['student']}"
    if meta.get("kind") == "synthetic":
        return f"the {meta.get('size')} synthetic night (seed {meta.get('seed')}{_camera_words(meta.get('camera', DEFAULT_CAMERA))})"
    return f"data downloaded from {', '.join(meta.get('sources', [])) or 'elsewhere'}"


def _restore_command(meta: dict, dest: Path) -> str:
    if meta.get("kind") == "synthetic" and meta.get("size") in SIZES and meta.get("student"):
        return f"python data_fetch.py --force --size {meta['size']} --student {json.dumps(meta['student'])} --dest {dest}"
    if meta.get("kind") == "synthetic" and meta.get("size") in SIZES:
        seed = meta.get("seed", DEFAULT_SEED)
        extra = "" if seed == DEFAULT_SEED else f" --seed {seed}"
        camera = meta.get("camera", DEFAULT_CAMERA)
        extra += "" if camera == DEFAULT_CAMERA else f" --camera {camera}"
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
    student: str | None = None,
    camera: str = DEFAULT_CAMERA,
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
    student : str, optional
        Make (or check) this student's own night (:mod:`ccdlab.data.simulate.students`) instead.
    camera : str
        ``'cool'`` (the course camera, default) or ``'warm'`` (-10 C: dark current that matters).
        A night made by a ccdlab older than lesson 08 (no ``camera`` in its manifest, no
        ``detector/``) that still verifies is rebuilt in place with the same size and seed: its
        frames come out the same bytes, and ``detector/`` is added (``reduced/`` is kept).

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
    if camera not in CAMERAS:
        raise FetchError(f"Unknown camera {camera!r}: use one of {', '.join(CAMERAS)}.")
    if student:
        return _ensure_student_night(dest, student, size or DEFAULT_SIZE, force, progress)
    dest = find_data_dir(must_exist=False) if dest is None else Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotAFolderError(f"{dest} is a file, not a folder: choose another --dest.")
    strict = size is not None
    size = size or DEFAULT_SIZE
    wanted = f"the {size} synthetic night (seed {seed}{_camera_words(camera)})"
    if (dest / INSTALLING_MARKER).exists():
        make_night(dest, size=size, seed=seed, progress=progress, overwrite=True, camera=camera)
        return FetchReport(dest, "created", message=f"An earlier run was interrupted; wrote {wanted} into {dest}.")
    if (dest / MANIFEST_NAME).exists():
        if force:
            make_night(dest, size=size, seed=seed, progress=progress, overwrite=True, camera=camera)
            return FetchReport(dest, "created", message=f"Replaced the dataset in {dest} with {wanted}.")
        manifest = read_manifest(dest)
        meta = manifest.get("meta", {})
        held = _held(meta)
        same = (meta.get("kind") == "synthetic" and meta.get("size") == size and meta.get("seed") == int(seed)
                and meta.get("camera", DEFAULT_CAMERA) == camera)
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
        older = meta.get("kind") == "synthetic" and "camera" not in meta and meta.get("size") in SIZES
        lacking = _parts_lacking(manifest) if meta.get("kind") == "synthetic" and meta.get("size") in SIZES else []
        if (older or lacking) and (same or not strict):  # made by an older ccdlab: rebuilt with the parts it lacks
            make_night(dest, size=meta["size"], seed=int(meta.get("seed", seed)), progress=progress, overwrite=True,
                       camera=meta.get("camera", DEFAULT_CAMERA))
            added = ", ".join(p + "/" for p in _parts_lacking(manifest)) or "what the newer lessons need"
            return FetchReport(dest, "created", message=f"{dest} held {held} made by an older ccdlab; rebuilt it with "
                               f"{added}. {_after_rebuild(dest, manifest)}")
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
            make_night(dest, size=size, seed=seed, progress=progress, overwrite=True, camera=camera)
            return FetchReport(dest, "created", message=f"Replaced the frames in {dest} with {wanted}.")
        return FetchReport(
            dest, "kept",
            message=f"{dest} already holds frames not made by ccdlab ({', '.join(p + '/' for p in parts)}); "
            "left alone. Use --force to replace them with the synthetic night, or --dest for another folder.",
        )
    make_night(dest, size=size, seed=seed, progress=progress, overwrite=bool(parts), camera=camera)
    return FetchReport(dest, "created", message=f"Wrote {wanted} into {dest}.")


def _ensure_student_night(dest, student: str, size: str, force: bool, progress: bool) -> FetchReport:
    """A student's own night (no truth/ folder: the grader makes its own copy to judge with)."""
    from ccdlab.data.simulate.students import normalise_name, student_seed

    dest = find_data_dir(must_exist=False) if dest is None else Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotAFolderError(f"{dest} is a file, not a folder: choose another --dest.")
    name = " ".join(str(student).split())
    seed = student_seed(name)
    wanted = f"the {size} night of {name}"
    if (dest / MANIFEST_NAME).exists() and not force and not (dest / INSTALLING_MARKER).exists():
        meta = read_manifest(dest).get("meta", {})
        mine = (meta.get("kind") == "synthetic" and meta.get("size") == size and meta.get("seed") == seed
                and normalise_name(meta.get("student") or "-") == normalise_name(name))
        if mine:
            problems = verify_manifest(dest)
            if problems:
                raise ManifestError(f"Your night in {dest} does not match its manifest ({_problems_text(problems)}). "
                                    f"Rebuild it with: {_restore_command(meta, dest)}")
            return FetchReport(dest, "verified", message=f"{dest} holds {wanted}; checksums verified, nothing to do.")
        if meta.get("kind") != "synthetic" or meta.get("student"):
            raise DatasetExistsError(f"{dest} already holds {_held(meta)}, not {wanted}; nothing was changed. Add "
                                     "--force to replace it, or choose another folder with --dest.")
    replace = force or any((dest / p).exists() for p in (*DATASET_FOLDERS, MANIFEST_NAME))
    make_night(dest, size=size, seed=seed, progress=progress, overwrite=replace, student=name, truth=False)
    return FetchReport(dest, "created", message=f"Wrote {wanted} into {dest}.")


def fetch_default(
    dest: str | os.PathLike | None = None,
    size: str = DEFAULT_SIZE,
    force: bool = False,
    progress: bool = True,
    seed: int = DEFAULT_SEED,
    camera: str = DEFAULT_CAMERA,
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
    camera : str
        ``'cool'`` (default) or ``'warm'`` (see :func:`ensure_default`).

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
    return ensure_default(dest, size=size, force=force, progress=progress, seed=seed, camera=camera).dest


# --- downloads --------------------------------------------------------------------------------


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
        A zip/tar/tar.gz archive, or one or more FITS files (``.fits``, ``.fits.gz``, ``.fz``):
        http(s) URLs, ``file://`` URLs or local paths (read in place, never changed).
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
        if not HEX64.match(value):
            raise FetchError(f"The SHA-256 {value!r} is not 64 hex digits: copy it again from where the data is published.")
    hashes = [h.lower() for h in hashes] or [None] * len(urls)
    dest = find_data_dir(must_exist=False) if dest is None else Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise NotAFolderError(f"{dest} is a file, not a folder: choose another --dest.")
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
                kind = file_kind(cached)
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
                if local_file(source) is None:  # never reuse a damaged or unsafe download; never delete yours
                    cached.unlink(missing_ok=True)
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



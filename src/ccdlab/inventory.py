"""What frames a night holds: a table of every FITS frame under a folder, typed.

Observatories spell the frame type differently (IMAGETYP 'BIAS', 'zero', 'Bias Frame', 'FLAT',
'SKYFLAT', 'Flat Field', 'OBJECT', 'Light Frame', ...). The GROWTH-India Telescope's RTS2 software
writes IMAGETYP 'dark' on its 0.001 s bias frames, because the shutter stays closed. The folder a
frame sits in (bias/, flats/, science/) is used as a hint when the header is silent, and wins when
the two disagree (sky flats are often typed 'object'), with a note saying so; the one exception is
a real dark (IMAGETYP 'dark', longer than a bias) misfiled among flats or science frames, which
stays a dark so that it is left out rather than used as something it is not. Every such
disagreement, and every IMAGETYP ccdlab does not recognise, is flagged in the ``conflict`` column
of :func:`scan`, and :func:`scan` warns once (:class:`InventoryWarning`) listing them, so that
it is seen rather than silently settled.

Only folders at or below the folder being scanned are hints: ``scan("data/bias")`` still reads
``bias`` as a hint, but a night kept in ``~/science/2018-10-13/`` is not typed science from the
name of a folder above it.

A night's ``detector/`` folder (its camera test: flat pairs for a photon transfer curve, and the
darks of a cooled camera that the reduction does not need) is left out of :func:`scan` by default,
like ``reduced/`` and ``truth/``: lamp flats there are not twilight flats.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from astropy.io import fits
from astropy.table import Table

from ccdlab.errors import InputError, InventoryWarning, MissingFileError
from ccdlab.files import regular_file_problem
from ccdlab.io import STAMP_KEY, FrameError, is_fits_name, read_header

__all__ = [
    "COLUMNS", "PROBLEMS", "FRAME_TYPES", "BIAS_MAX_EXPTIME", "NOTE_PREFIXES", "InventoryWarning", "FrameTyping", "type_frame", "classify",
    "header_value", "exposure_time", "image_type", "scan", "other_files", "frames_of_type", "conflicts", "describe_conflicts",
]

#: The frame types ccdlab knows.
FRAME_TYPES = ("bias", "dark", "flat", "science", "reduced", "unknown")

#: A 'dark' no longer than this (seconds) is a bias frame (the GROWTH-India convention).
BIAS_MAX_EXPTIME = 0.01

_IMAGETYP_WORDS = {
    "bias": "bias", "zero": "bias", "biasframe": "bias", "zeroframe": "bias", "offset": "bias",
    "dark": "dark", "darkframe": "dark", "darkcurrent": "dark",
    "flat": "flat", "flatfield": "flat", "flatframe": "flat", "skyflat": "flat", "domeflat": "flat",
    "twilightflat": "flat", "twflat": "flat", "lampflat": "flat", "dflat": "flat", "sflat": "flat",
    "object": "science", "light": "science", "lightframe": "science", "science": "science",
    "sci": "science", "obj": "science", "target": "science",
}

_FOLDER_WORDS = {
    "bias": "bias", "biases": "bias", "zero": "bias", "zeros": "bias",
    "dark": "dark", "darks": "dark",
    "flat": "flat", "flats": "flat", "skyflats": "flat", "flatfield": "flat", "flatfields": "flat",
    "science": "science", "sci": "science", "object": "science", "objects": "science",
    "light": "science", "lights": "science", "targets": "science",
}

#: The columns of a :func:`scan` table, with their types.
COLUMNS = (
    ("path", str), ("name", str), ("frame_type", str), ("imagetyp", str), ("exptime", float),
    ("filter", str), ("naxis1", int), ("naxis2", int), ("date_obs", str), ("ccd_temp", float),
    ("object", str), ("note", str), ("conflict", bool), ("problem", str),
)

#: The ``problem`` column: why a file is no usable frame ("" for a good one).
PROBLEMS = {
    "damaged": "damaged or truncated: copy or download it again",
    "not_frame": "not a frame (not FITS, or no image in it): move it out of the data folder",
    "permission": "may not be read: check its permissions",
    "not_file": "not a file (a named pipe, a device or a broken link): remove it from the data folder",
}


_TEMPERATURE_KEYS = ("CCD-TEMP", "CCD_TEMP", "CCDTEMP", "DETTEMP", "TEMPERAT")
_FILTER_KEYS = ("FILTER", "FILTNAME", "FILTER1", "FILT")
_EXPTIME_KEYS = ("EXPTIME", "EXPOSURE", "ITIME")


def _squash(text: str) -> str:
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def header_value(header: fits.Header, keys, default=None):
    """Return the first of ``keys`` present (and not blank) in ``header``.

    Parameters
    ----------
    header : astropy.io.fits.Header
    keys : sequence of str
        Keywords in order of preference, e.g. ``("CCD-TEMP", "CCD_TEMP", "DETTEMP")``.
    default : object
        Returned when none is present.

    Examples
    --------
    >>> from astropy.io import fits
    >>> header_value(fits.Header({"CCD_TEMP": -60.1}), ("CCD-TEMP", "CCD_TEMP"))
    -60.1
    """
    for key in keys:
        if key in header:
            value = header[key]
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            return value
    return default


def _float(value) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return math.nan
    return result


def exposure_time(header: fits.Header) -> float:
    """The exposure time in seconds (EXPTIME, EXPOSURE or ITIME), NaN when the header has none.

    Examples
    --------
    >>> exposure_time(fits.Header({"EXPOSURE": 30})), exposure_time(fits.Header())
    (30.0, nan)
    """
    return _float(header_value(header, _EXPTIME_KEYS))


def image_type(header: fits.Header) -> str:
    """The header's own word for the frame type (IMAGETYP, else OBSTYPE), stripped; '' when none.

    Examples
    --------
    >>> image_type(fits.Header({"OBSTYPE": " zero "}))
    'zero'
    """
    return str(header.get("IMAGETYP", header.get("OBSTYPE", "")) or "").strip()


def _hint_folders(path: Path, root: Path | None) -> list[str]:
    """The folder names that may hint a frame's type, nearest first.

    With a ``root`` (the folder being scanned): the folders from the frame's own up to the root,
    the root included, never one above it. Without: the frame's folder and its two parents.
    """
    parent = Path(path).parent
    if root is None:
        return list(reversed(parent.parts[-3:]))
    parent, root = Path(os.path.abspath(parent)), Path(os.path.abspath(root))
    try:
        inner = parent.relative_to(root).parts
    except ValueError:  # not under the root: only the frame's own folder may hint
        return [parent.name]
    return list(reversed((root.name, *inner)))


def _folder_hint(path: Path | None, root: Path | None = None) -> tuple[str | None, str]:
    """``(frame type, folder name)`` of the nearest folder that hints a type, or ``(None, '')``."""
    if path is None:
        return None, ""
    for folder in _hint_folders(Path(path), root):
        kind = _FOLDER_WORDS.get(_squash(folder))
        if kind:
            return kind, folder
    return None, ""


class FrameTyping(NamedTuple):
    """How a frame was typed: its type, why, and whether header and folder disagree.

    Attributes
    ----------
    frame_type : str
        One of :data:`FRAME_TYPES`.
    note : str
        Which keyword or folder decided, and any disagreement.
    conflict : bool
        True when the header's type contradicts the folder the frame sits in, or when IMAGETYP
        is present but not a word ccdlab knows: such a frame deserves a look.

    Examples
    --------
    >>> FrameTyping("bias", "IMAGETYP 'BIAS'", False).conflict
    False
    """

    frame_type: str
    note: str
    conflict: bool


def _from_imagetyp(imagetyp: str) -> str | None:
    kind = _IMAGETYP_WORDS.get(_squash(imagetyp))
    if kind is None:
        squashed = _squash(imagetyp)
        for word in ("flat", "bias", "zero", "dark"):
            if word in squashed:
                return _IMAGETYP_WORDS[word]
    return kind


def type_frame(
    header: fits.Header, path: str | os.PathLike | None = None, root: str | os.PathLike | None = None
) -> FrameTyping:
    """Decide a frame's type from its header, with its folder as a hint, and flag disagreements.

    The rules: a frame ccdlab wrote (it has the ``CCDLAB`` keyword) is ``'reduced'``, an output;
    otherwise IMAGETYP (or OBSTYPE) decides when it is a known word; a ``'dark'`` no longer than
    :data:`BIAS_MAX_EXPTIME` is a bias (GROWTH-India convention); when IMAGETYP is absent or
    unknown, OBJECT may hint (``'twilight flat'``). The folder (``bias/``, ``flats/``,
    ``science/``, ``darks/``) is used when the header is silent and wins when the two disagree,
    except for a real dark misfiled among flats or science frames, which stays a dark.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The frame's header (IMAGETYP, EXPTIME and OBJECT are read).
    path : path-like, optional
        The frame's path; a parent folder named like bias/, flats/, science/ or darks/ is a hint
        (the nearest one wins, and the note names it).
    root : path-like, optional
        The folder being scanned (:func:`scan` passes it): only folders at or below it, itself
        included, are hints. Without it, the frame's folder and its two parents are.

    Returns
    -------
    FrameTyping
        ``(frame_type, note, conflict)``; ``conflict`` is True when the header's type
        contradicts the folder, or IMAGETYP is present but not recognised.

    Examples
    --------
    >>> from astropy.io import fits
    >>> type_frame(fits.Header({"IMAGETYP": "Flat Field"}), "night/bias/b1.fits")
    FrameTyping(frame_type='bias', note="IMAGETYP 'Flat Field' says flat, but the frame is in bias/: typed bias from the folder", conflict=True)
    >>> type_frame(fits.Header({"IMAGETYP": "comp"}), "night/science/arc.fits").note
    "IMAGETYP 'comp' not recognised: typed science from the folder science/"
    >>> type_frame(fits.Header({"IMAGETYP": "BIAS"}), "science/n1/b1.fits", root="science/n1").frame_type
    'bias'
    """
    if STAMP_KEY in header:  # written by ccdlab: an output among the raw frames, never one of them
        return FrameTyping("reduced", "written by ccdlab: an output, not a raw frame", False)
    imagetyp = image_type(header)
    exptime = exposure_time(header)
    from_header = _from_imagetyp(imagetyp) if imagetyp else None
    unrecognised = bool(imagetyp) and from_header is None
    note = f"IMAGETYP {imagetyp!r}" if from_header else ""
    if from_header == "dark" and exptime <= BIAS_MAX_EXPTIME:
        from_header = "bias"
        note = f"IMAGETYP {imagetyp!r} with EXPTIME {exptime:g} s: a bias (GROWTH-India convention)"
    if from_header is None:
        obj = _squash(header.get("OBJECT", ""))
        for word, kind in (("flat", "flat"), ("bias", "bias"), ("zero", "bias"), ("dark", "dark")):
            if word in obj:
                from_header, note = kind, f"OBJECT {header.get('OBJECT')!r}"
                break
    unknown_word = f"IMAGETYP {imagetyp!r} not recognised"
    if unrecognised and from_header:
        note = f"{unknown_word}; {note}"
    hint, folder = _folder_hint(Path(path) if path is not None else None, Path(root) if root is not None else None)
    if from_header == "dark" and hint in ("science", "flat") and note.startswith("IMAGETYP"):
        return FrameTyping("dark", f"{note} with EXPTIME {exptime:g} s: a dark frame, although it is in {folder}/", True)
    if hint and from_header and hint != from_header:
        return FrameTyping(hint, f"{note} says {from_header}, but the frame is in {folder}/: typed {hint} from the folder", True)
    if from_header:
        return FrameTyping(from_header, note, unrecognised)
    if hint:
        why = unknown_word if unrecognised else "no usable IMAGETYP"
        return FrameTyping(hint, f"{why}: typed {hint} from the folder {folder}/", unrecognised)
    if exptime <= BIAS_MAX_EXPTIME:
        why = f"{unknown_word} and no folder hint" if unrecognised else "no IMAGETYP or folder hint"
        return FrameTyping("bias", f"{why}; EXPTIME {exptime:g} s: typed bias", unrecognised)
    if unrecognised:
        return FrameTyping("unknown", f"{unknown_word}, and no OBJECT or folder hint: left aside, not guessed", True)
    return FrameTyping("unknown", "no IMAGETYP, OBJECT or folder hint: left aside, not guessed", False)


def classify(
    header: fits.Header, path: str | os.PathLike | None = None, root: str | os.PathLike | None = None
) -> tuple[str, str]:
    """Decide a frame's type from its header, with its folder as a hint.

    The same decision as :func:`type_frame`, without the ``conflict`` flag.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The frame's header (IMAGETYP, EXPTIME and OBJECT are read).
    path : path-like, optional
        The frame's path; a parent folder named like bias/, flats/, science/ or darks/ is a hint.
    root : path-like, optional
        The folder being scanned: only folders at or below it are hints (see :func:`type_frame`).

    Returns
    -------
    frame_type : str
        One of ``'bias'``, ``'dark'``, ``'flat'``, ``'science'``, ``'unknown'``.
    note : str
        Why: which keyword or folder decided, and any disagreement.

    Examples
    --------
    >>> from astropy.io import fits
    >>> classify(fits.Header({"IMAGETYP": "dark", "EXPTIME": 0.001}))
    ('bias', "IMAGETYP 'dark' with EXPTIME 0.001 s: a bias (GROWTH-India convention)")
    >>> classify(fits.Header({"IMAGETYP": "Light Frame"}))[0]
    'science'
    """
    frame_type, note, _ = type_frame(header, path, root)
    return frame_type, note


#: How a :func:`scan` note begins for a file that could not be read, by ``FrameError.kind``.
NOTE_PREFIXES = {"damaged": "unreadable:", "not_frame": "not a frame:", "permission": "no permission:",
                 "not_file": "not a file:"}


def _row(path: Path, root: Path | None = None) -> dict:
    row = {name: {str: "", float: math.nan, int: 0, bool: False}[dtype] for name, dtype in COLUMNS}
    row.update(path=str(path), name=path.name, frame_type="unknown")
    special = regular_file_problem(path)  # never open a FIFO (it blocks) or follow a link loop
    if special:
        row.update(note=f"{NOTE_PREFIXES['not_file']} {path} is {special}; it is skipped.", problem="not_file")
        return row
    try:
        header = read_header(path)
    except (FrameError, OSError) as exc:
        kind = getattr(exc, "kind", "") or "damaged"
        kind = kind if kind in PROBLEMS else "damaged"
        row.update(note=f"{NOTE_PREFIXES[kind]} {exc}", problem=kind)
        return row
    frame_type, note, conflict = type_frame(header, path, root)
    row.update(
        frame_type=frame_type,
        note=note,
        conflict=conflict,
        imagetyp=str(header.get("IMAGETYP", "") or ""),
        exptime=exposure_time(header),
        filter=str(header_value(header, _FILTER_KEYS, "")).strip(),
        naxis1=int(header.get("ZNAXIS1", header.get("NAXIS1", 0))),
        naxis2=int(header.get("ZNAXIS2", header.get("NAXIS2", 0))),
        date_obs=str(header.get("DATE-OBS", "") or ""),
        ccd_temp=_float(header_value(header, _TEMPERATURE_KEYS)),
        object=str(header.get("OBJECT", "") or ""),
    )
    return row


def _is_frame_name(name: str) -> bool:
    return is_fits_name(name) and not name.startswith(".")


def _files(folder: Path, recursive: bool, exclude) -> list[Path]:
    """Every file a scan looks at, sorted: sub-folders in ``exclude`` and hidden ones are skipped."""
    if not recursive:
        return sorted(p for p in folder.iterdir() if p.is_file())
    excluded = {name.lower() for name in exclude}
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d.lower() not in excluded and not d.startswith("."))
        paths.extend(Path(root) / name for name in files)
    return sorted(paths)


def _checked_folder(folder) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(
            f"{folder} is not a folder. Give the folder that holds bias/, flats/ and science/ "
            "(create the default one with: python data_fetch.py)."
        )
    return folder


def _warn_conflicts(table: Table, folder: Path) -> None:
    count = len(conflicts(table))
    if count:
        warnings.warn(
            f"{count} frame{'s' if count != 1 else ''} in {folder} typed from the folder, not the header "
            f"(if a header is right, move that frame into the folder of its type): {describe_conflicts(table)}",
            InventoryWarning,
            stacklevel=3,
        )


def scan(folder: str | os.PathLike, recursive: bool = True, exclude=("reduced", "truth", "detector"), warn: bool = True) -> Table:
    """List every FITS frame under a folder, with its type and key header values.

    Files that do not end like FITS (``notes.txt``) and hidden files (``.DS_Store``) are skipped:
    :func:`other_files` lists them. Only folders at or below ``folder`` are hints of a frame's
    type (see :func:`type_frame`).

    Parameters
    ----------
    folder : str or path-like
        A night's folder (e.g. ``data/``) or one raw folder (e.g. ``data/flats``).
    recursive : bool
        Look into sub-folders (default True).
    exclude : sequence of str
        Sub-folder names to skip: outputs (``reduced``), simulation truth (``truth``) and the
        camera test (``detector``: the dark frames and flat pairs that measure the camera, not
        part of the night's reduction; :func:`ccdlab.detector.find_detector_frames` reads them).
    warn : bool
        Warn (:class:`InventoryWarning`, once, listing them) when frames are typed against their
        header (default True). Callers that report the ``conflict`` column themselves pass False.

    Returns
    -------
    astropy.table.Table
        One row per frame, sorted by path, with columns ``path``, ``name``, ``frame_type``,
        ``imagetyp``, ``exptime``, ``filter``, ``naxis1``, ``naxis2``, ``date_obs``, ``ccd_temp``,
        ``object``, ``note`` (why the frame was typed so, or why it could not be read: such
        frames have type ``'unknown'`` and a note starting with one of :data:`NOTE_PREFIXES`,
        ``'unreadable:'`` for a damaged file, ``'not a frame:'`` for one that is not FITS or
        holds no image, ``'no permission:'`` for one that may not be read, ``'not a file:'`` for
        a named pipe or a broken link), ``conflict`` (True when the header's type contradicts the
        folder, or IMAGETYP is not a known word: see :func:`type_frame`) and ``problem`` (a key of
        :data:`PROBLEMS` when the file is no usable frame, else ``""``).

    Raises
    ------
    FileNotFoundError
        ``folder`` does not exist.

    Warns
    -----
    InventoryWarning
        Some frames' header disagrees with their folder (only when ``warn`` is True).

    Examples
    --------
    >>> table = scan("data")  # doctest: +SKIP
    >>> table.group_by("frame_type")  # doctest: +SKIP
    """
    folder = _checked_folder(folder)
    paths = [path for path in _files(folder, recursive, exclude) if _is_frame_name(path.name)]
    rows = [_row(path, folder) for path in paths]
    names = [name for name, _ in COLUMNS]
    dtypes = [dtype for _, dtype in COLUMNS]
    if not rows:
        return Table(names=names, dtype=dtypes)
    table = Table(rows=[[row[name] for name in names] for row in rows], names=names, dtype=dtypes)
    table["exptime"].unit = "s"
    table["ccd_temp"].unit = "deg_C"
    if warn:
        _warn_conflicts(table, folder)
    return table


def other_files(folder: str | os.PathLike, recursive: bool = True, exclude=("reduced", "truth", "detector")) -> list[Path]:
    """List the files :func:`scan` skips because they are not FITS frames (``.DS_Store``, ``notes.txt``).

    Parameters
    ----------
    folder, recursive, exclude
        As for :func:`scan`.

    Returns
    -------
    list of pathlib.Path
        The files whose name does not end like FITS, or is hidden, sorted by path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "notes.txt").write_text("seeing 1.2 arcsec")
    ...     [p.name for p in other_files(tmp)]
    ['notes.txt']
    """
    folder = _checked_folder(folder)
    return [path for path in _files(folder, recursive, exclude) if not _is_frame_name(path.name)]


def frames_of_type(table: Table, frame_type: str) -> list[str]:
    """Return the paths of one frame type from a :func:`scan` table.

    Examples
    --------
    >>> frames_of_type(scan("data"), "bias")[:1]  # doctest: +SKIP
    ['data/bias/C0_20181013-130440-460.fits']
    """
    if frame_type not in FRAME_TYPES:
        raise InputError(f"Unknown frame type {frame_type!r}: use one of {', '.join(FRAME_TYPES)}.")
    return [str(p) for p in table["path"][table["frame_type"] == frame_type]]


def conflicts(table: Table) -> Table:
    """Return the rows of a :func:`scan` table whose header and folder disagree.

    Frames that could not be typed at all (``'unknown'``) are left out: they are reported as
    such already.

    Parameters
    ----------
    table : astropy.table.Table
        A table from :func:`scan`.

    Returns
    -------
    astropy.table.Table
        The rows with ``conflict`` True and a known frame type, in the table's order.

    Examples
    --------
    >>> conflicts(scan("data"))["name", "note"]  # doctest: +SKIP
    """
    if len(table) == 0:
        return table[:0]
    keep = np.asarray(table["conflict"], dtype=bool) & (np.asarray(table["frame_type"]) != "unknown")
    return table[keep]


def describe_conflicts(table: Table, limit: int = 5) -> str:
    """One line listing the frames typed against their header: name (why), at most ``limit``.

    Parameters
    ----------
    table : astropy.table.Table
        A table from :func:`scan` (or its :func:`conflicts`).
    limit : int
        How many frames to name before "and N more".

    Returns
    -------
    str
        ``''`` when there is no conflict.

    Examples
    --------
    >>> from astropy.table import Table
    >>> rows = Table({"name": ["b1.fits"], "frame_type": ["bias"], "conflict": [True],
    ...               "note": ["IMAGETYP 'Flat Field' says flat, but the frame is in bias/: typed bias from the folder"]})
    >>> describe_conflicts(rows)
    "b1.fits (IMAGETYP 'Flat Field' says flat, but the frame is in bias/: typed bias from the folder)"
    """
    rows = conflicts(table)
    listed = "; ".join(f"{row['name']} ({row['note']})" for row in rows[:limit])
    if len(rows) > limit:
        listed += f"; and {len(rows) - limit} more"
    return listed

"""Sorting the files of a downloaded night into ``bias/``, ``flats/``, ``science/``, ``darks/``, ``unsorted/``."""

from __future__ import annotations

import os
from pathlib import Path

from ccdlab.errors import FrameError
from ccdlab.files import regular_file_problem
from ccdlab.io import is_fits_name, read_header

__all__ = ["FOLDER_OF", "sort_frames"]

#: Where each frame type goes in the data folder.
FOLDER_OF = {"bias": "bias", "flat": "flats", "science": "science", "dark": "darks", "unknown": "unsorted"}


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
    from ccdlab.inventory import classify

    extracted, stage = Path(extracted), Path(stage)
    placed: dict[str, list[str]] = {}
    left_aside: list[tuple[str, str]] = []
    files = []
    for root, dirs, names in os.walk(extracted):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    for path in sorted(files):
        if path.is_symlink() or regular_file_problem(path):
            continue
        if is_fits_name(path):
            try:
                frame_type, note = classify(read_header(path), path, root=extracted)
            except (FrameError, OSError) as exc:
                frame_type, note = "unknown", f"unreadable: {exc}"
        else:
            frame_type, note = "unknown", "not a FITS frame"
        folder = stage / FOLDER_OF.get(frame_type, "unsorted")
        folder.mkdir(parents=True, exist_ok=True)
        name = _unique_name(folder, path, extracted)
        os.replace(path, folder / name)
        placed.setdefault(folder.name, []).append(name)
        if frame_type == "unknown":
            left_aside.append((name, note))
    placed = {k: sorted(v) for k, v in sorted(placed.items()) if k != "unsorted"}
    return placed, left_aside

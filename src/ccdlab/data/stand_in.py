"""A stand-in for what a real night lacks: a small synthetic night, made beside the outputs.

Lesson 08 measures the camera from darks and from pairs of flats of equal exposure. A real night
often has neither (an instructor's own night with one twilight flat per level). The lesson then
says what is missing and runs those parts on the tiny synthetic night of the course camera,
made once in ``reduced/ccdlab/stand-in-night/`` (:func:`stand_in_dir`): never among the raw
frames, verified by its checksums on every later call, and the same bytes wherever it is made.
"""

from __future__ import annotations

import os
from pathlib import Path

from ccdlab.characterise import find_detector_frames
from ccdlab.data.fetch import ensure_default
from ccdlab.data.manifest import MANIFEST_NAME
from ccdlab.errors import DataNotFoundError
from ccdlab.paths import find_data_dir

__all__ = ["STAND_IN_SIZE", "stand_in_dir", "make_stand_in", "detector_night"]

#: The size of the stand-in night (it only needs to be measured, not looked at).
STAND_IN_SIZE = "tiny"


def stand_in_dir(data_dir=None) -> Path:
    """Where the stand-in night of ``data_dir`` lives (or would): ``reduced/ccdlab/stand-in-night``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     stand_in_dir(tmp).relative_to(Path(tmp).resolve()).as_posix()
    'reduced/ccdlab/stand-in-night'
    """
    return find_data_dir(data_dir) / "reduced" / "ccdlab" / "stand-in-night"


def make_stand_in(data_dir: str | os.PathLike | None = None, progress: bool = False) -> Path:
    """Make (once) and return the stand-in night of ``data_dir``: the tiny synthetic night, cool camera.

    Parameters
    ----------
    data_dir : path-like, optional
        The night in use (default: the course data folder).
    progress : bool
        Show a progress bar while it is made (about a second).

    Returns
    -------
    pathlib.Path
        The stand-in night's folder (with ``bias/``, ``flats/``, ``science/``, ``detector/``, ``truth/``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(p.name for p in make_stand_in(tmp).iterdir())[:3]
    ['bias', 'catalog', 'detector']
    """
    folder = stand_in_dir(data_dir)
    ensure_default(folder, size=STAND_IN_SIZE, progress=progress)
    return folder


def detector_night(data_dir=None, make: bool = True) -> tuple[Path, list[str]]:
    """The night lesson 08 measures: ``data_dir`` when it has darks and flat pairs, else the stand-in.

    One night serves both parts of the lesson, so that the gain measured from the pairs converts
    the darks of the same camera.

    Parameters
    ----------
    data_dir : path-like, optional
        The night in use (default: the course data folder).
    make : bool
        Make the stand-in night when it is needed and not there yet (True); False only looks,
        and raises when it is missing (the checks, which never write).

    Returns
    -------
    folder : pathlib.Path
        ``data_dir`` itself, or its stand-in night.
    missing : list of str
        What ``data_dir`` lacks (empty when it is used itself).

    Raises
    ------
    DataNotFoundError
        ``make`` is False and the stand-in night is needed but not made.

    Examples
    --------
    >>> folder, missing = detector_night("data")  # doctest: +SKIP
    >>> missing  # doctest: +SKIP
    []
    """
    data_dir = find_data_dir(data_dir)
    missing = find_detector_frames(data_dir).missing
    if not missing:
        return data_dir, []
    folder = stand_in_dir(data_dir)
    if make:
        make_stand_in(data_dir)
    elif not (folder / MANIFEST_NAME).is_file():
        raise DataNotFoundError(
            f"{data_dir} has {' and '.join(missing)}, and its stand-in night is not made yet: run the notebook's "
            "cell that makes it (ccdlab.data.stand_in.make_stand_in), then this check again."
        )
    return folder, missing

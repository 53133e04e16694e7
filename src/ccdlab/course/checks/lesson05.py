"""Checks for lesson 05, calibrating science frames: (raw - bias) / flat, and the *.fb.fits files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ccdlab.course.checks import (
    FramesToWrite,
    Part,
    answers,
    blank_part,
    image,
    is_blank,
)

LESSON = "05_calibration"


def fb_name(raw_path) -> str:
    """The name of a calibrated frame: ``C0_...wcs.fits`` -> ``C0_...wcs.fb.fits``.

    Examples
    --------
    >>> fb_name("data/science/C0_20181013-145210-144.wcs.fits")
    'C0_20181013-145210-144.wcs.fb.fits'
    """
    from ccdlab.reduce import output_name

    return output_name(str(raw_path), "fb")


@answers(LESSON, "calibrated")
def calibrated_by_hand(night, calibrated):
    """The first science frame, bias-subtracted, flat-fielded, vignetted pixels NaN.

    Examples
    --------
    >>> calibrated = check("5.1", calibrated=(raw - master_bias) / master_flat)  # doctest: +SKIP
    ✘ Exercise 5.1: not yet.
       - The numbers look right but no pixel is NaN: set the vignetted ones (the mask) to np.nan.
    """
    expected = night.calibrated(night.first("science"))[0]
    part = image("calibrated", calibrated, expected, rtol=1e-4, atol=1e-2, max_bad_fraction=1e-4,
                 hint="Look at each step in turn: what comes off the raw frame, what it is divided by, and what the "
                      "vignetted pixels become.",
                 reference=expected)
    if not part.ok and not part.blank:
        try:
            array = np.asarray(calibrated, dtype=np.float64)
            if array.shape == expected.shape and not np.isnan(array).any() and np.isnan(expected).any():
                part.hint = "The numbers look right but no pixel is NaN: set the vignetted ones (the mask) to np.nan."
        except (TypeError, ValueError):
            pass
    return [part]


def _reference_files(night) -> FramesToWrite:
    """The reference calibrated frames, to be written into ``reduced/reference/`` (never over the student's)."""
    return FramesToWrite({fb_name(path): night.calibrated(path) for path in night.files("science")},
                         history="reference calibration handed back by the lesson 05 check")


def _file_problem(night, path: Path, raw) -> str:
    from ccdlab.io import read_frame

    try:
        data, header = read_frame(path)
    except Exception as exc:
        return f"{path.name} could not be read back ({exc})."
    history = " ".join(str(line) for line in header.get("HISTORY", [])).lower()
    if "bias" not in history or "flat" not in history:
        return f"{path.name} has no HISTORY card saying that the bias was subtracted and the flat divided."
    expected = night.calibrated(raw)[0]
    if data.shape != expected.shape or not image("", data, expected, rtol=1e-4, atol=1e-2, max_bad_fraction=1e-4).ok:
        return f"The pixels of {path.name} are not the calibrated frame: write (raw - bias) / flat with NaN in the mask."
    return ""


@answers(LESSON, "fb_files")
def written_frames(night, fb_files):
    """The *.fb.fits files written into reduced/, one per science frame, with HISTORY.

    Examples
    --------
    >>> fb_files = check("5.2", fb_files=fb_files)  # doctest: +SKIP
    ✔ Exercise 5.2: correct. Well done!
    """
    name = "fb_files"
    raws = night.files("science")
    if is_blank(fb_files):
        return [blank_part(name, _reference_files(night))]
    try:
        paths = [Path(p) for p in ([fb_files] if isinstance(fb_files, (str, Path)) else fb_files)]
    except TypeError:
        return [Part(name, False, "fb_files should be the list of the files you wrote.",
                     _reference_files(night))]
    out = night.outputs_dir.resolve()
    by_name = {p.name: p for p in paths}
    problems = []
    for raw in raws:
        wanted = fb_name(raw)
        path = by_name.get(wanted)
        if path is None:
            problems.append(f"{wanted} is missing from fb_files: write one file per science frame, named like the raw one with .fb.fits.")
            break
        if not path.is_file() or path.resolve().parent != out:
            problems.append(f"{wanted} is not in the reduced/ folder {out}.")
            break
        problem = _file_problem(night, path, raw)
        if problem:
            problems.append(problem)
            break
    if problems:
        return [Part(name, False, problems[0], _reference_files(night))]
    return [Part(name, True, reference=[str(by_name[fb_name(r)]) for r in raws])]

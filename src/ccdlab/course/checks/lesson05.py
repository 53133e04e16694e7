"""Checks for lesson 05, calibrating science frames: (raw - bias) / flat, and the *.fb.fits files.

When a calibrated frame is wrong, the checks look for the slip behind it by redoing the
calibration *with* that slip (the bias left in, the flat subtracted, the division done first,
a flat that still holds the bias, another frame ...) and seeing whether the answer matches it,
so that the hint names the mistake. Frames written to disk get the same diagnosis.
"""

from __future__ import annotations

import math
import os
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

#: How closely a calibrated frame must match the reference (as :func:`ccdlab.course.checks.image`).
RTOL, ATOL, MAX_BAD = 1e-4, 1e-2, 1e-4


def fb_name(raw_path) -> str:
    """The name of a calibrated frame: ``C0_...wcs.fits`` -> ``C0_...wcs.fb.fits``.

    Examples
    --------
    >>> fb_name("data/science/C0_20181013-145210-144.wcs.fits")
    'C0_20181013-145210-144.wcs.fb.fits'
    """
    from ccdlab.reduce import output_name

    return output_name(str(raw_path), "fb")


# --- what a wrong calibrated frame says about the slip behind it --------------------------------------


_STEP = np.s_[::2, ::2]  # slips are told apart on every other pixel: as telling, a quarter of the memory


def _flat_with_bias(night) -> np.ndarray:
    """Every other pixel of a master flat made from flats whose bias was never subtracted (normalised like
    the right one)."""
    from ccdlab.calibrate import master_flat

    return night.memo("flat_with_bias", lambda: np.asarray(
        master_flat(night.files("flat"), np.zeros_like(night.master_bias()), progress=False).data)[_STEP].copy())


#: Slips of the calibration: ``(hint, how the slipped frame is made from raw, bias and flat)``.
_SLIPS = (
    ("The bias was not subtracted: take the master bias off the raw frame before dividing by the flat.",
     lambda night, raw, bias, flat: raw / flat),
    (("The bias was subtracted after dividing by the flat: subtract first, then divide (the bias was added after "
     "the light was scaled, see the equation)."), lambda night, raw, bias, flat: raw / flat - bias),
    ("The flat was subtracted: it is a factor (each pixel's sensitivity), so divide by it.",
     lambda night, raw, bias, flat: raw - bias - flat),
    ("The frame was multiplied by the flat: divide by it, so that less sensitive pixels are scaled up.",
     lambda night, raw, bias, flat: (raw - bias) * flat),
    ("The bias is off but the frame was never divided by the flat: the vignetting is still in it.",
     lambda night, raw, bias, flat: raw - bias),
    (("A single number was subtracted for the bias: subtract the master bias image, pixel by pixel (it has a "
     "pattern of its own)."), lambda night, raw, bias, flat: (raw - np.median(bias)) / flat),
    (("The master flat used still holds the bias (its flats were not bias-subtracted before normalising): divide "
     "by the normalised master flat made from bias-subtracted flats."),
     lambda night, raw, bias, flat: (raw - bias) / _flat_with_bias(night)),
)


def _distance(array, other, use) -> float:
    both = use & np.isfinite(array) & np.isfinite(other)
    return float(np.median(np.abs(array[both] - other[both]))) if both.any() else math.inf


def _other_frames(night, raw_path) -> list[str]:
    files = night.files("science")
    others = [path for path in files if str(path) != str(raw_path)]
    return list(dict.fromkeys(others[:1] + others[-1:]))  # the next one and the last: the usual slips


def calibration_slip(night, got, raw_path) -> str:
    """What is wrong with ``got``, a calibrated frame of ``raw_path`` that did not match the reference, or ''.

    Parameters
    ----------
    night : ccdlab.course.checks.Night
        The night in use (its master bias, master flat and mask are the right ones).
    got : array-like
        The student's frame, already known to differ from the reference.
    raw_path : path-like
        The raw science frame it should come from.

    Returns
    -------
    str
        A hint naming the slip (the bias left in, the mask inverted, 0 instead of NaN ...), or ''
        when none is recognised.

    Examples
    --------
    >>> hint = calibration_slip(night("data"), raw / master_flat, science_files[0])  # doctest: +SKIP
    >>> hint.startswith("The bias was not subtracted")  # doctest: +SKIP
    True
    """
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    expected = np.asarray(night.calibrated(raw_path)[0], dtype=np.float64)
    if array.shape != expected.shape:
        return ""
    mask = np.asarray(night.mask(), dtype=bool)
    nan_got = np.isnan(array)
    lit = ~mask & np.isfinite(expected)
    close = np.isclose(array, expected, rtol=RTOL, atol=ATOL)
    if lit.any() and float(np.mean(close[lit])) >= 1 - MAX_BAD:  # the light is right: the masked pixels are not
        if not nan_got.any():
            if mask.any() and float(np.mean(array[mask] == 0)) > 0.99:
                return ("The vignetted pixels are 0: set them to np.nan, which no later step can mistake for a "
                        "real (dark) value.")
            return "The numbers look right but no pixel is NaN: set the vignetted ones (the mask) to np.nan."
        return ""
    if mask.any() and lit.any() and float(np.mean(nan_got[lit])) > 0.99 and float(np.mean(nan_got[mask])) < 0.01:
        return ("The NaN pixels are the well-lit ones: the mask is inverted. Set the pixels where vignetted is True "
                "to np.nan (calibrated[vignetted] = np.nan).")
    sub = array[_STEP]
    use = lit[_STEP]
    right = _distance(sub, expected[_STEP], use)
    raw = night.frame(raw_path)[0][_STEP].astype(np.float64)
    bias = np.asarray(night.master_bias())[_STEP].astype(np.float64)
    flat = np.asarray(night.master_flat())[_STEP].astype(np.float64)
    best, hint = math.inf, ""
    with np.errstate(divide="ignore", invalid="ignore"):
        for slip_hint, make in _SLIPS:
            found = _distance(sub, make(night, raw, bias, flat), use)
            if found < best:
                best, hint = found, slip_hint
    if best < 0.5 * right:
        return hint
    for other in _other_frames(night, raw_path):
        if _distance(sub, np.asarray(night.calibrated(other)[0])[_STEP].astype(np.float64), use) < 0.5 * right:
            return (f"This is the calibrated {Path(other).name}, another frame: calibrate "
                    f"{Path(raw_path).name}.")
    finite = array[np.isfinite(array)]
    if finite.size and np.all(finite == np.round(finite)) and not np.all(expected[lit] == np.round(expected[lit])):
        return ("The pixels are whole numbers: an integer type (.astype(int) or uint16) dropped the fractions and "
                "cannot hold NaN. Keep the calibrated frame in floating point.")
    both = use & np.isfinite(sub) & (expected[_STEP] != 0)
    if both.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = sub[both] / expected[_STEP][both]
        level = float(np.median(ratio))
        spread = float(np.median(np.abs(ratio - level))) / abs(level) if level else math.inf
        if abs(level - 1) > 0.01 and spread < 0.02:
            return (f"The frame is {level:.3g} times the right level everywhere: divide by the normalised master "
                    "flat (1 in its centre), not by a raw or un-normalised flat.")
    return ""


# --- 5.1: one frame ------------------------------------------------------------------------------------


@answers(LESSON, "calibrated")
def calibrated_by_hand(night, calibrated):
    """The first science frame, bias-subtracted, flat-fielded, vignetted pixels NaN.

    Examples
    --------
    >>> calibrated = check("5.1", calibrated=(raw - master_bias) / master_flat)  # doctest: +SKIP
    ✘ Exercise 5.1: not yet.
       - The numbers look right but no pixel is NaN: set the vignetted ones (the mask) to np.nan.
    """
    raw_path = night.first("science")
    expected = night.calibrated(raw_path)[0]
    if not is_blank(calibrated):
        kind = getattr(calibrated, "dtype", None)
        if isinstance(kind, np.dtype) and (np.issubdtype(kind, np.integer) or kind == bool):
            return [Part("calibrated", False, f"calibrated is an array of {kind}: a calibrated frame needs fractions "
                         "and NaN, so keep it in floating point (no .astype(int) or uint16).", expected)]
    part = image("calibrated", calibrated, expected, rtol=RTOL, atol=ATOL, max_bad_fraction=MAX_BAD,
                 hint="Look at each step in turn: what comes off the raw frame, what it is divided by, and what the "
                      "vignetted pixels become.",
                 reference=expected)
    if not part.ok and not part.blank:
        slip = calibration_slip(night, calibrated, raw_path)
        if slip:
            part.hint = slip
    return [part]


# --- 5.2: every frame, written ---------------------------------------------------------------------------


def _reference_files(night) -> FramesToWrite:
    """The reference calibrated frames, to be written into ``reduced/reference/`` (never over the student's)."""
    return FramesToWrite({fb_name(path): night.calibrated(path) for path in night.files("science")},
                         history="reference calibration handed back by the lesson 05 check")


def _file_problem(night, path: Path, raw) -> str:
    from ccdlab.io import read_frame

    try:
        data, header = read_frame(path)
    except Exception as exc:  # noqa: BLE001 - whatever the file is, the student is told it cannot be read
        return f"{path.name} could not be read back ({exc})."
    history = " ".join(str(line) for line in header.get("HISTORY", [])).lower()
    if "bias" not in history or "flat" not in history:
        return (f"{path.name} has no HISTORY card saying that the bias was subtracted and the flat divided: pass "
                "them as history=[...] to write_frame.")
    expected = night.calibrated(raw)[0]
    if data.shape != expected.shape:
        return (f"{path.name} is {data.shape[1]} x {data.shape[0]} pixels, but {Path(raw).name} is "
                f"{expected.shape[1]} x {expected.shape[0]}: write the whole calibrated frame.")
    if not image("", data, expected, rtol=RTOL, atol=ATOL, max_bad_fraction=MAX_BAD).ok:
        slip = calibration_slip(night, data, raw)
        return (f"{path.name} does not hold the calibrated frame. "
                f"{slip or 'Write (raw - bias) / flat with NaN in the mask, as in Exercise 5.1.'}")
    return ""


def _as_paths(value) -> list | None:
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    try:
        items = list(value)
    except TypeError:
        return None
    if not all(isinstance(item, (str, os.PathLike)) for item in items):
        return None
    return [Path(item) for item in items]


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
    paths = _as_paths(fb_files)
    if paths is None:
        return [Part(name, False, "fb_files should be the list of the paths write_frame returned (not the images).",
                     _reference_files(night))]
    problem = _list_problem(night, paths, raws)
    if problem:
        return [Part(name, False, problem, _reference_files(night))]
    out = night.outputs_dir.resolve()
    by_name = {p.name: p for p in paths}
    for raw in raws:
        wanted = fb_name(raw)
        path = by_name[wanted]
        if not path.is_file() or path.resolve().parent != out:
            return [Part(name, False, f"{wanted} is not in the reduced/ folder {out}.", _reference_files(night))]
        problem = _file_problem(night, path, raw)
        if problem:
            return [Part(name, False, problem, _reference_files(night))]
    return [Part(name, True, reference=[str(by_name[fb_name(r)]) for r in raws])]


def _list_problem(night, paths: list, raws: list) -> str:
    """What is wrong with the list of files itself (before any file is read), or ''."""
    names = [p.name for p in paths]
    wanted = [fb_name(raw) for raw in raws]
    raw_names = {Path(raw).name for raw in raws}
    if names and all(n in raw_names for n in names):
        return ("fb_files lists the raw science frames: list the calibrated files you wrote (the paths "
                "write_frame returns).")
    if len(names) > 1 and len(set(names)) == 1:
        return (f"fb_files names the same file {len(names)} times: each frame was written over the one before. "
                "Name each file after its own raw frame: out / fb_name(path).")
    if len(names) == 1 and len(wanted) > 1:
        return (f"fb_files names one file, but there are {len(wanted)} science frames: collect the path of every "
                "file you write in a list.")
    for target in wanted:
        if target not in names:
            return (f"{target} is missing from fb_files: write one file per science frame, named like the raw one "
                    "with .fb.fits (fb_name(path)).")
    extra = [n for n in dict.fromkeys(names) if n not in wanted]
    if extra:
        return f"fb_files also lists {extra[0]}, which is not a calibrated science frame: list only the *.fb.fits files."
    return ""

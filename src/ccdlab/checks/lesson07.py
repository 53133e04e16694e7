"""Checks for lesson 07 (take-home), stacking: the aligned median stack and the gain in S/N."""

from __future__ import annotations

import math

import numpy as np

from . import Part, answers, blank_part, is_blank, number
from .lesson03 import _clipped_std
from .lesson06 import camera_of

LESSON = "07_stacking"


def proc_name(raw_path) -> str:
    """The name of a cleaned frame: ``C0_...wcs.fits`` -> ``C0_...wcs.proc.fits``.

    Examples
    --------
    >>> proc_name("data/science/C0_20181013-145210-144.wcs.fits")
    'C0_20181013-145210-144.wcs.proc.fits'
    """
    from ..reduce import output_name

    return output_name(str(raw_path), "proc")


def cleaned_frames_of(night) -> list:
    """``(data, header)`` of every cleaned science frame: from reduced/ when there, else computed.

    Not kept (four full-size frames are 270 MB): :func:`aligned_of` keeps what is needed.

    Examples
    --------
    >>> len(cleaned_frames_of(night("data")))  # doctest: +SKIP
    4
    """
    from ..cosmics import remove_cosmics
    from ..io import read_frame
    from ..paths import reduced_dir
    from .lesson04 import mask_of
    from .lesson05 import calibrated_of

    cam = camera_of(night)
    out = reduced_dir(night.data_dir, create=False)
    frames = []
    for raw in night.files("science"):
        path = out / proc_name(raw)
        if path.is_file():
            frames.append(read_frame(path))
            continue
        data, header = calibrated_of(night, raw)
        frames.append((remove_cosmics(data, cam.gain, cam.readnoise, cam.satlevel, mask=mask_of(night))[1], header))
    return frames


def aligned_of(night):
    """``(first, stack, coverage)``: the first cleaned frame (the alignment's reference, unchanged),
    and the median stack of all the cleaned frames aligned on its WCS (:func:`ccdlab.stack.align_frames`,
    bilinear; :func:`ccdlab.stack.stack_frames`) with its coverage.

    Examples
    --------
    >>> first, stack, coverage = aligned_of(night("data"))  # doctest: +SKIP
    """
    def compute():
        from ..stack import align_frames, stack_frames

        cube, _, _ = align_frames(cleaned_frames_of(night), reference=0, method="interp", progress=False)
        stack, coverage = stack_frames(cube, method="median")
        return cube[0].copy(), stack, coverage

    return night.memo("aligned", compute)


def stack_of(night) -> np.ndarray:
    """The reference median stack of the cleaned frames.

    Examples
    --------
    >>> stack_of(night("data")).shape  # doctest: +SKIP
    (2054, 2048)
    """
    return aligned_of(night)[1]


@answers(LESSON, "stack")
def median_stack(night, stack):
    """The median stack of the cleaned frames aligned on the first frame's WCS.

    Examples
    --------
    >>> stack = check("7.1", stack=np.nanmedian(aligned, axis=0))  # doctest: +SKIP
    ✔ Exercise 7.1: correct. Well done!
    """
    expected = stack_of(night)
    name = "stack"
    if is_blank(stack):
        return [blank_part(name, expected)]
    try:
        array = np.asarray(stack, dtype=np.float64)
    except (TypeError, ValueError):
        return [Part(name, False, "stack should be an image (a 2-D array).", expected)]
    if array.shape != expected.shape:
        return [Part(name, False, f"stack has shape {array.shape} but the first frame is {expected.shape}: reproject "
                     "every frame onto the first frame's WCS with shape_out=its shape, then combine along axis 0.", expected)]
    both = np.isfinite(array) & np.isfinite(expected)
    if both.sum() < 0.5 * np.isfinite(expected).sum():
        return [Part(name, False, "Most of stack is NaN where the reference has data: use np.nanmedian, "
                     "which ignores the NaN of the masked corners.", expected)]
    noise = _clipped_std(expected[np.isfinite(expected)])
    diff = np.abs(array[both] - expected[both])
    close = np.mean(diff <= 0.5 * noise + 1e-3 * np.abs(expected[both]))
    if close >= 0.98:
        return [Part(name, True, reference=stack)]
    single = np.asarray(aligned_of(night)[0], dtype=np.float64)
    same = np.isfinite(array) & np.isfinite(single) if single.shape == array.shape else None
    if same is not None and same.any() and np.mean(np.abs(array[same] - single[same]) <= 1e-3 * np.abs(single[same]) + 1e-3) > 0.9:
        return [Part(name, False, "stack is just the first frame: combine all the aligned frames.", expected)]
    return [Part(name, False, f"stack differs from the expected median stack in {1 - close:.0%} of the pixels. "
                 "Align every cleaned frame onto the first frame's WCS (reproject_interp), then take np.nanmedian "
                 "along axis 0.", expected)]


def snr_gain_of(night) -> float:
    """The median over the brightest unsaturated stars of S/N in the stack / S/N in the first frame.

    Computed with :func:`ccdlab.photometry.snr_gain` (CCD equation, background noise measured on
    empty sky) on the stars :func:`ccdlab.photometry.find_stars` finds in the stack.

    Examples
    --------
    >>> round(snr_gain_of(night("data")), 2)  # doctest: +SKIP
    1.82
    """
    def compute():
        from ..photometry import find_stars, snr_gain

        first, stack, coverage = aligned_of(night)
        cam = camera_of(night)
        stars = find_stars(stack)
        if len(stars) == 0:
            return math.nan
        table = snr_gain(first, stack, stars, n_frames=coverage, stack_method="median",
                         gain=cam.gain, readnoise=cam.readnoise)
        ratios = np.asarray(table["snr_gain"], dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        return float(np.median(ratios)) if ratios.size else math.nan

    return night.memo("snr_gain", compute)


@answers(LESSON, "snr_gain")
def snr_gain(night, snr_gain):
    """How much the stack improves the signal-to-noise ratio of the stars (a median ratio).

    Examples
    --------
    >>> check("7.2", snr_gain=1.9)  # doctest: +SKIP
    ✔ Exercise 7.2: correct. Well done!
    """
    expected = snr_gain_of(night)
    n = len(night.files("science"))
    if not math.isfinite(expected):
        return [Part("snr_gain", True, reference=snr_gain)]
    part = number("snr_gain", snr_gain, expected, rtol=0.25,
                  hint=f"Measure the same stars in the first frame and in the stack, divide their S/N, and take "
                       f"the median. With {n} frames expect a gain a little below sqrt({n}) = {math.sqrt(n):.1f}; in the "
                       f"stack the stars' own photons were collected {n} times (effective gain {n} x gain).",
                  reference=expected)
    return [part]

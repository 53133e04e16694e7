"""Checks for lesson 07 (take-home), stacking: the aligned median stack and the gain in S/N."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from . import Part, answers, blank_part, is_blank, number
from .lesson03 import _clipped_std
from .lesson06 import camera_of

LESSON = "07_stacking"


def proc_name(raw_path) -> str:
    """The name of a cleaned frame: ``C0_...wcs.fits`` -> ``C0_...wcs.proc.fits``."""
    from .lesson05 import fb_name

    return fb_name(raw_path)[: -len(".fb.fits")] + ".proc.fits"


def cleaned_frames_of(night) -> list:
    """``(data, header)`` of every cleaned science frame: from reduced/ when there, else computed."""
    from ..io import read_frame
    from ..paths import reduced_dir
    from .lesson05 import calibrated_of
    from .lesson04 import mask_of

    def compute():
        from ..cosmics import remove_cosmics

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

    return night.memo("cleaned_frames", compute)


def stack_of(night) -> np.ndarray:
    """The reference stack: every cleaned frame reprojected onto the first one's WCS, median-combined."""
    def compute():
        from astropy.wcs import WCS, FITSFixedWarning
        from reproject import reproject_interp

        frames = cleaned_frames_of(night)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            target = WCS(frames[0][1])
            aligned = [reproject_interp((data, WCS(header)), target, shape_out=data.shape, return_footprint=False)
                       for data, header in frames]
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels outside every frame
            return np.nanmedian(np.stack(aligned), axis=0).astype(np.float32)

    return night.memo("stack", compute)


@answers(LESSON, "stack")
def median_stack(night, stack):
    """The median stack of the cleaned frames aligned on the first frame's WCS."""
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
    single = np.asarray(cleaned_frames_of(night)[0][0], dtype=np.float64)
    if single.shape == array.shape and np.nanmean(np.abs(array - single) <= 1e-3 * np.abs(single) + 1e-3) > 0.9:
        return [Part(name, False, "stack is just the first frame: combine all the aligned frames.", expected)]
    return [Part(name, False, f"stack differs from the expected median stack in {1 - close:.0%} of the pixels. "
                 "Align every cleaned frame onto the first frame's WCS (reproject_interp), then take np.nanmedian "
                 "along axis 0.", expected)]


#: Aperture photometry settings the lesson uses (pixels).
APERTURE_RADIUS, ANNULUS = 6.0, (10.0, 15.0)


def find_stars(stack, satlevel_adu: float, n: int = 8) -> np.ndarray:
    """``(x, y)`` of up to ``n`` bright, unsaturated stars of the stack, away from NaN and edges."""
    from photutils.detection import DAOStarFinder

    finite = stack[np.isfinite(stack)]
    sky, noise = float(np.median(finite)), _clipped_std(finite)
    found = DAOStarFinder(fwhm=4.0, threshold=10 * noise, exclude_border=True)(np.nan_to_num(stack - sky, nan=0.0))
    if found is None or len(found) == 0:
        return np.empty((0, 2))
    found.sort("flux", reverse=True)
    xs = found["x_centroid"] if "x_centroid" in found.colnames else found["xcentroid"]
    ys = found["y_centroid"] if "y_centroid" in found.colnames else found["ycentroid"]
    chosen = []
    for x, y, peak in zip(xs, ys, found["peak"]):
        if peak + sky >= 0.5 * satlevel_adu:
            continue
        col, row = int(round(float(x))), int(round(float(y)))
        box = stack[max(0, row - 16):row + 17, max(0, col - 16):col + 17]
        if box.shape == (33, 33) and np.isfinite(box).all():
            chosen.append((float(x), float(y)))
        if len(chosen) == n:
            break
    return np.array(chosen).reshape(-1, 2)


def _local_sums(image, positions):
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry

    aperture = CircularAperture(positions, r=APERTURE_RADIUS)
    sky = ApertureStats(image, CircularAnnulus(positions, r_in=ANNULUS[0], r_out=ANNULUS[1])).median
    return np.asarray(aperture_photometry(image, aperture)["aperture_sum"]) - np.asarray(sky) * aperture.area


def aperture_noise(image, n: int = 400, seed: int = 1) -> float:
    """The noise of one aperture measurement: scatter of sky-subtracted sums on random patches of sky."""
    rng = np.random.default_rng(seed)
    ny, nx = image.shape
    margin = ANNULUS[1] + 2
    positions = np.column_stack([rng.uniform(margin, nx - margin, n), rng.uniform(margin, ny - margin, n)])
    sums = _local_sums(image, positions)
    return _clipped_std(sums[np.isfinite(sums)])


def snr_of(image, positions, effective_gain: float) -> np.ndarray:
    """S/N of the stars at ``positions``: F / sqrt(F / effective_gain + aperture_noise**2)."""
    flux = _local_sums(image, positions)
    return flux / np.sqrt(np.clip(flux, 0, None) / effective_gain + aperture_noise(image) ** 2)


def snr_gain_of(night) -> float:
    """The median, over a few unsaturated stars, of S/N in the stack over S/N in the first frame."""
    def compute():
        stack = stack_of(night)
        frames = cleaned_frames_of(night)
        cam = camera_of(night)
        positions = find_stars(stack, cam.satlevel_adu)
        if len(positions) == 0:
            return math.nan
        single = snr_of(np.asarray(frames[0][0], dtype=np.float64), positions, cam.gain)
        stacked = snr_of(stack, positions, len(frames) * cam.gain)
        ratios = (stacked / single)[np.isfinite(stacked / single)]
        return float(np.median(ratios)) if ratios.size else math.nan

    return night.memo("snr_gain", compute)


@answers(LESSON, "snr_gain")
def snr_gain(night, snr_gain):
    """How much the stack improves the signal-to-noise ratio of the stars (a median ratio)."""
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

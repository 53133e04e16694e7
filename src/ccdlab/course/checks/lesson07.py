"""Checks for lesson 07 (take-home), stacking: the aligned median stack and the gain in S/N."""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import Part, answers, blank_part, is_blank, number
from ccdlab.stats import clipped_std

LESSON = "07_stacking"


def proc_name(raw_path) -> str:
    """The name of a cleaned frame: ``C0_...wcs.fits`` -> ``C0_...wcs.proc.fits``.

    Examples
    --------
    >>> proc_name("data/science/C0_20181013-145210-144.wcs.fits")
    'C0_20181013-145210-144.wcs.proc.fits'
    """
    from ccdlab.reduce import output_name

    return output_name(str(raw_path), "proc")


def cleaned_frames_of(night) -> list:
    """``(data, header)`` of every cleaned science frame: from ccdlab's own reduction
    (:func:`ccdlab.paths.pipeline_dir`, what the lesson stacks) when there, else computed.

    Not kept (four full-size frames are 270 MB): :func:`aligned_of` keeps what is needed.

    Examples
    --------
    >>> len(cleaned_frames_of(night("data")))  # doctest: +SKIP
    4
    """
    from ccdlab.cosmics import remove_cosmics
    from ccdlab.io import read_frame
    from ccdlab.paths import pipeline_dir
    from ccdlab.reduce import calibrated_saturation

    cam = night.camera()
    out = pipeline_dir(night.data_dir, create=False)
    frames = []
    for raw in night.files("science"):
        path = out / proc_name(raw)
        if night.trust_outputs and path.is_file():
            frames.append(read_frame(path))
            continue
        data, header = night.calibrated(raw)
        satlevel = calibrated_saturation(cam.satlevel, night.master_flat())  # as ccdlab.reduce does
        frames.append((remove_cosmics(data, cam.gain, cam.readnoise, satlevel, mask=night.mask())[1], header))
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
        from ccdlab.stack import align_frames, stack_frames

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
    noise = clipped_std(expected[np.isfinite(expected)])
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
        from ccdlab.photometry import find_stars, snr_gain

        first, stack, coverage = aligned_of(night)
        cam = night.camera()
        stars = find_stars(stack)
        if len(stars) == 0:
            return math.nan
        table = snr_gain(first, stack, stars, n_frames=coverage, stack_method="median",
                         gain=cam.gain, readnoise=cam.readnoise)
        ratios = np.asarray(table["snr_gain"], dtype=float)
        ratios = ratios[np.isfinite(ratios)]
        return float(np.median(ratios)) if ratios.size else math.nan

    return night.memo("snr_gain", compute)


#: The notebook's photometry: the brightest stars of the stack, an aperture and a sky annulus (px).
N_STARS, APERTURE_RADIUS, ANNULUS = 8, 6.0, (10.0, 15.0)


def star_positions_of(night) -> np.ndarray:
    """``(x, y)`` of the stars the notebook measures: the brightest clean stars of the reference stack.

    Examples
    --------
    >>> star_positions_of(night("data")).shape  # doctest: +SKIP
    (8, 2)
    """
    def compute():
        from ccdlab.photometry import find_stars

        stars = find_stars(stack_of(night), n_brightest=N_STARS)
        return np.transpose([np.asarray(stars["x"], float), np.asarray(stars["y"], float)]).reshape(-1, 2)

    return night.memo("star_positions", compute)


def star_snr_function(positions, gain: float, subtract_sky: bool = True):
    """The notebook's ``star_snr(image, n_frames)`` for stars at ``positions`` (the reference answer).

    S/N = F / sqrt(F / (g n) + sigma_bg**2): F the aperture sum minus the annulus median times the
    aperture's area, n the (effective) number of frames, sigma_bg from
    :func:`ccdlab.photometry.empty_aperture_noise`. ``subtract_sky=False`` gives a common slip.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:200, :200]
    >>> image = 100.0 + 5000.0 * np.exp(-((xx - 100) ** 2 + (yy - 100) ** 2) / 8.0)
    >>> image += np.random.default_rng(1).normal(0.0, 5.0, image.shape)
    >>> snr = star_snr_function([(100.0, 100.0)], gain=1.6)(image, 1)
    >>> bool(snr[0] > 100)
    True
    """
    from photutils.aperture import (
        ApertureStats,
        CircularAnnulus,
        CircularAperture,
        aperture_photometry,
    )

    from ccdlab.photometry import empty_aperture_noise

    positions = np.asarray(positions, dtype=float).reshape(-1, 2)

    def star_snr(image, n_frames):
        """S/N of the stars at `positions` in `image`, an image worth `n_frames` frames."""
        aperture = CircularAperture(positions, r=APERTURE_RADIUS)
        flux = np.asarray(aperture_photometry(image, aperture)["aperture_sum"], dtype=float)
        if subtract_sky:
            annulus = CircularAnnulus(positions, r_in=ANNULUS[0], r_out=ANNULUS[1])
            flux = flux - np.asarray(ApertureStats(image, annulus).median, dtype=float) * aperture.area
        noise = np.sqrt(np.clip(flux, 0, None) / (gain * n_frames) + empty_aperture_noise(image) ** 2)
        return flux / noise

    return star_snr


def _median_of(values):
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None
    array = array[np.isfinite(array)]
    return float(np.median(array)) if array.size else None


def snr_values_of(night) -> dict:
    """Median S/N of the notebook's stars, in the first frame and in the stack, with common slips.

    Keys: ``single``, ``stack`` (with the effective number of frames), ``stack_n`` (with the plain
    number of frames), ``stack_one`` (n left out), ``single_nosky``, ``stack_nosky`` (sky not
    subtracted), ``gain`` (median of the per-star ratios), ``gain_n`` (with the plain number),
    ``n`` and ``n_effective``.

    Examples
    --------
    >>> round(snr_values_of(night("data"))["gain"], 2)  # doctest: +SKIP
    1.82
    """
    def compute():
        from ccdlab.photometry import effective_frames

        first, stack, _ = aligned_of(night)
        cam = night.camera()
        n = len(night.files("science"))
        n_eff = float(effective_frames(n, "median"))
        good = star_snr_function(star_positions_of(night), cam.gain)
        nosky = star_snr_function(star_positions_of(night), cam.gain, subtract_sky=False)
        single, many, many_n = good(first, 1), good(stack, n_eff), good(stack, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "single": _median_of(single), "stack": _median_of(many), "stack_n": _median_of(many_n),
                "stack_one": _median_of(good(stack, 1)),
                "single_nosky": _median_of(nosky(first, 1)), "stack_nosky": _median_of(nosky(stack, n_eff)),
                "gain": _median_of(many / single), "gain_n": _median_of(many_n / single),
                "n": n, "n_effective": n_eff,
            }

    return night.memo("snr_values", compute)


def _close(value, expected, rtol=0.05) -> bool:
    return value is not None and expected is not None and abs(value - expected) <= rtol * abs(expected)


def _star_snr_part(night, star_snr, values) -> Part:
    name = "star_snr"
    reference = star_snr_function(star_positions_of(night), night.camera().gain)
    if is_blank(star_snr):
        return blank_part(name, reference)
    if not callable(star_snr):
        return Part(name, False, "star_snr should be the function star_snr(image, n_frames).", reference)
    first, stack, _ = aligned_of(night)
    got = {}
    for key, image, n_frames in (("single", first, 1), ("stack", stack, values["n_effective"])):
        try:
            result = star_snr(image.copy(), n_frames)
        except Exception as exc:  # the student's code: report, never crash
            return Part(name, False, f"star_snr(image, {n_frames:.2f}) raised {type(exc).__name__}: {exc}. "
                        "Try it on frames[0][0] alone first.", reference)
        if is_blank(result) or result is None:
            return Part(name, False, "star_snr returns nothing yet: make it return the S/N of every star.",
                        reference, blank=is_blank(result))
        got[key] = _median_of(result)
        if got[key] is None:
            return Part(name, False, "star_snr should return an array of numbers, one S/N per star.", reference)
    single_ok, stack_ok = _close(got["single"], values["single"]), _close(got["stack"], values["stack"])
    if single_ok and stack_ok:
        return Part(name, True, reference=star_snr)
    if _close(got["single"], values["single_nosky"]) or _close(got["stack"], values["stack_nosky"]):
        hint = ("star_snr gives S/N that are too high: the aperture sum still contains the sky under the star. "
                "Look at what the annulus is for.")
    elif single_ok and _close(got["stack"], values["stack_one"]):
        hint = ("star_snr is right for one frame but not for the stack: it gives the same as with n_frames = 1. "
                "Where does n_frames enter the star's photon noise?")
    elif not single_ok:
        hint = (f"On the first frame (n_frames = 1) your stars have a median S/N of {got['single']:.1f}, not what the "
                "data gives. Compare each part of your code with the formula above: the sky-subtracted flux, "
                "the star's photon noise in ADU, and the measured background noise.")
    else:
        hint = (f"star_snr is right for one frame but on the stack (n_frames = {values['n_effective']:.2f}) it gives "
                f"a median S/N of {got['stack']:.1f}, not what the data gives: check how n_frames enters the formula.")
    return Part(name, False, hint, reference)


@answers(LESSON, "star_snr", "snr_gain")
def snr_gain(night, star_snr, snr_gain):
    """The stars' S/N function, and how much the median stack improves their S/N (a median ratio).

    Examples
    --------
    >>> star_snr, snr_gain = check("7.2", star_snr=star_snr, snr_gain=1.82)  # doctest: +SKIP
    ✔ Exercise 7.2: correct. Well done!
    """
    values = snr_values_of(night)
    expected = values["gain"]
    if expected is None or not math.isfinite(expected):
        return [Part("star_snr", True, reference=star_snr), Part("snr_gain", True, reference=snr_gain)]
    n = values["n"]
    part = number("snr_gain", snr_gain, expected, rtol=0.03,
                  hint="Divide each star's S/N in the stack by its S/N in the first frame, and take the median "
                       "over the stars.", reference=expected)
    value = None if part.ok or part.blank else _median_of(snr_gain)
    if value is not None:
        if math.isclose(value, math.sqrt(n), rel_tol=0.005):
            part.hint = (f"snr_gain = {value:.2f} is sqrt({n}), the theory for a mean of {n} frames: measure it with "
                         "star_snr on the stack and on the first frame.")
        elif _close(value, values["gain_n"], 0.01) and not _close(value, expected, 0.01):
            part.hint = (f"snr_gain = {value:.2f} treats the stack as {n} whole frames; a median of {n} frames is "
                         "worth fewer: pass n_effective (photometry.effective_frames) to star_snr for the stack.")
    return [_star_snr_part(night, star_snr, values), part]

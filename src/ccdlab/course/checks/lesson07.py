"""Checks for lesson 07 (take-home), stacking: the aligned median stack and the gain in S/N."""

from __future__ import annotations

import math
import warnings

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


def _aligned(night) -> dict:
    """The aligned cleaned frames, combined: ``first`` (the reference frame), ``stack`` (median) and ``coverage``."""
    def compute():
        from ccdlab.stack import align_frames, stack_frames

        cube, _, _ = align_frames(cleaned_frames_of(night), reference=0, method="interp", progress=False)
        stack, coverage = stack_frames(cube, method="median")
        return {"first": cube[0].copy(), "stack": stack, "coverage": coverage}

    return night.memo(("aligned",), compute)


def _slips(night) -> dict:
    """Two wrong stacks kept to name them, computed only for a stack that is wrong: ``mean`` (the mean
    of the aligned frames) and ``unaligned`` (the median of the frames as they are, not aligned)."""
    def compute():
        from ccdlab.stack import align_frames

        frames = cleaned_frames_of(night)
        cube, _, _ = align_frames(frames, reference=0, method="interp", progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN corners
            mean = np.nanmean(cube, axis=0).astype(np.float32)
            del cube
            unaligned = np.nanmedian(np.stack([np.asarray(data, dtype=np.float32) for data, _ in frames]), axis=0)
        return {"mean": mean, "unaligned": unaligned}

    return night.memo(("aligned", "slips"), compute)


def aligned_of(night):
    """``(first, stack, coverage)``: the first cleaned frame (the alignment's reference, unchanged),
    and the median stack of all the cleaned frames aligned on its WCS (:func:`ccdlab.stack.align_frames`,
    bilinear; :func:`ccdlab.stack.stack_frames`) with its coverage.

    Examples
    --------
    >>> first, stack, coverage = aligned_of(night("data"))  # doctest: +SKIP
    """
    found = _aligned(night)
    return found["first"], found["stack"], found["coverage"]


def stack_of(night) -> np.ndarray:
    """The reference median stack of the cleaned frames.

    Examples
    --------
    >>> stack_of(night("data")).shape  # doctest: +SKIP
    (2054, 2048)
    """
    return aligned_of(night)[1]


def _agreement(array, expected, noise) -> float:
    """The fraction of the pixels with data in both where ``array`` is within half the noise of ``expected``."""
    both = np.isfinite(array) & np.isfinite(expected)
    if not both.any():
        return 0.0
    diff = np.abs(array[both] - expected[both])
    return float(np.mean(diff <= 0.5 * noise + 1e-3 * np.abs(expected[both])))


def star_offset(array, reference, positions, box: int = 10):
    """The median shift (dx, dy), in pixels, of the stars at ``positions`` from ``reference`` to ``array``.

    Each star's centroid is measured in a box of ``2 box + 1`` pixels (sky-subtracted, negative
    values clipped) in both images. None when no star can be measured.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:60, :60]
    >>> star = lambda x, y: 1000.0 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / 8.0)
    >>> dx, dy = star_offset(star(33.0, 30.0), star(30.0, 30.0), [(30.0, 30.0)])
    >>> round(dx, 1), round(dy, 1)
    (3.0, 0.0)
    """
    shifts = []
    for x, y in np.asarray(positions, dtype=float).reshape(-1, 2):
        xi, yi = int(np.rint(x)), int(np.rint(y))
        cut = np.s_[max(yi - box, 0):yi + box + 1, max(xi - box, 0):xi + box + 1]
        centres = []
        for image in (array, reference):
            piece = np.asarray(image[cut], dtype=np.float64)
            if piece.size == 0 or not np.isfinite(piece).all():
                break
            piece = np.clip(piece - np.median(piece), 0, None)
            if piece.sum() <= 0:
                break
            gy, gx = np.mgrid[:piece.shape[0], :piece.shape[1]]
            centres.append((float((gx * piece).sum() / piece.sum()), float((gy * piece).sum() / piece.sum())))
        if len(centres) == 2:
            shifts.append((centres[0][0] - centres[1][0], centres[0][1] - centres[1][1]))
    if not shifts:
        return None
    dx, dy = np.median(np.asarray(shifts), axis=0)
    return float(dx), float(dy)


def _shape_part(name, shape, expected_shape, n_frames, expected) -> Part:
    shape, expected_shape = tuple(shape), tuple(expected_shape)
    if shape == expected_shape[::-1]:
        hint = (f"stack has shape {shape} but the first frame is {expected_shape}: it is transposed. reproject's "
                "shape_out is (ny, nx), rows first, as frames[0][0].shape gives it.")
    elif len(shape) == 3 and shape[1:] == expected_shape:
        hint = (f"stack has shape {shape}: still the {shape[0]} aligned frames. Take the median along axis 0, "
                "which leaves one image.")
    elif len(shape) == 2 and shape[0] == n_frames and shape[1] in expected_shape:
        hint = (f"stack has shape {shape}: the median was taken along a pixel axis. The frames are along axis 0: "
                "np.nanmedian(aligned, axis=0).")
    else:
        hint = (f"stack has shape {shape} but the first frame is {expected_shape}: reproject every frame onto the first "
                "frame's WCS with shape_out=its shape, then combine along axis 0.")
    return Part(name, False, hint, expected)


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
    n_frames = len(night.files("science"))
    if array.shape != expected.shape:
        return [_shape_part(name, array.shape, expected.shape, n_frames, expected)]
    has_data = np.isfinite(expected)
    both = np.isfinite(array) & has_data
    if both.sum() < 0.5 * has_data.sum():
        return [Part(name, False, "Most of stack is NaN where the reference has data: use np.nanmedian, "
                     "which ignores the NaN of the masked corners.", expected)]
    noise = clipped_std(expected[has_data])
    close = _agreement(array, expected, noise)
    # np.median gives NaN wherever one frame has none: on every pixel that not all the frames cover
    partial = has_data & (aligned_of(night)[2] < n_frames)
    lost = float(np.mean(~np.isfinite(array[partial]))) if partial.any() else 0.0
    if close >= 0.98 and lost <= 0.5:
        return [Part(name, True, reference=stack)]
    if close >= 0.98:
        return [Part(name, False, f"stack is NaN on {lost:.0%} of the pixels that only some of the frames cover (the "
                     "edges): np.median gives NaN as soon as one frame is NaN there; np.nanmedian ignores the NaN.",
                     expected)]
    return [Part(name, False, _stack_hint(night, array, expected, noise, close, n_frames), expected)]


def _stack_hint(night, array, expected, noise, close, n_frames) -> str:
    """What a wrong stack is most like: the first frame alone, a sum, a mean, frames not aligned, or shifted."""
    found = _aligned(night)
    single = np.asarray(found["first"], dtype=np.float64)
    same = np.isfinite(array) & np.isfinite(single)
    if same.any() and np.mean(np.abs(array[same] - single[same]) <= 1e-3 * np.abs(single[same]) + 1e-3) > 0.9:
        return "stack is just the first frame: combine all the aligned frames."
    both = np.isfinite(array) & np.isfinite(expected) & (np.abs(expected) > 1)
    ratio = float(np.median(array[both] / expected[both])) if both.any() else math.nan
    if math.isclose(ratio, n_frames, rel_tol=0.05):
        return (f"stack is about {n_frames} times the median stack: it is the sum of the frames. Take the per-pixel "
                "median (np.nanmedian), which keeps the level of one frame.")
    slips = {
        "mean": "stack is the mean of the aligned frames: take their median (np.nanmedian), which also rejects "
                "what is in one frame only.",
        "unaligned": "stack combines the frames as they are, not aligned: the same star falls on different pixels "
                     "in each. Reproject every frame onto the first frame's WCS first (reproject_interp), then "
                     "take the median.",
    }
    wrong = _slips(night)
    agreement = {key: _agreement(array, wrong[key], noise) for key in slips}
    best = max(agreement, key=agreement.get)
    if agreement[best] > max(close, 0.9):
        return slips[best]
    offset = star_offset(array, expected, star_positions_of(night))
    if offset is not None and math.hypot(*offset) > 1.0:
        return (f"The stars in stack are {offset[0]:+.1f} px in x and {offset[1]:+.1f} px in y from where they are in "
                "the first frame: the frames were not aligned onto the first one. Reproject every frame onto the first "
                "frame's WCS and shape (frames[0][1]) before combining them.")
    return (f"stack differs from the expected median stack in {1 - close:.0%} of the pixels. Align every cleaned "
            "frame onto the first frame's WCS (reproject_interp), then take np.nanmedian along axis 0.")


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


#: Slips in star_snr the check recognises, and what to say about each.
SNR_SLIPS = {
    "flux": "star_snr returns the stars' flux, not their S/N: divide the sky-subtracted flux by its noise.",
    "nosky": "star_snr gives S/N that are too high: the aperture sum still contains the sky under the star. "
             "Look at what the annulus is for.",
    "no_background": "star_snr leaves out the background noise: add photometry.empty_aperture_noise(image) ** 2 to "
                     "the star's photon noise, under the square root.",
    "times_gain": "star_snr multiplies the flux by the gain in the photon noise: in ADU the star's photon variance is "
                  "F / (g n) (F g electrons have a noise of sqrt(F g) electrons, that is sqrt(F / g) ADU).",
    "no_sqrt": "star_snr divides the flux by the variance: the noise is the square root of the sum of the variances.",
    "ignore_n": "star_snr is right for one frame but not for the stack: it gives the same as with n_frames = 1. "
                "Where does n_frames enter the star's photon noise?",
}


def photometry_parts(image, positions) -> dict:
    """What star_snr combines, measured once: the aperture sums, the sky per pixel, the aperture's
    area and the background noise (:func:`ccdlab.photometry.empty_aperture_noise`).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.random.default_rng(1).normal(100.0, 5.0, (200, 200))
    >>> parts = photometry_parts(image, [(100.0, 100.0)])
    >>> round(float(parts["sky"][0])), round(parts["area"], 1)
    (100, 113.1)
    """
    from photutils.aperture import (
        ApertureStats,
        CircularAnnulus,
        CircularAperture,
        aperture_photometry,
    )

    from ccdlab.photometry import empty_aperture_noise

    positions = np.asarray(positions, dtype=float).reshape(-1, 2)
    aperture = CircularAperture(positions, r=APERTURE_RADIUS)
    annulus = CircularAnnulus(positions, r_in=ANNULUS[0], r_out=ANNULUS[1])
    return {"sum": np.asarray(aperture_photometry(image, aperture)["aperture_sum"], dtype=float),
            "sky": np.asarray(ApertureStats(image, annulus).median, dtype=float),
            "area": float(aperture.area), "noise": float(empty_aperture_noise(image))}


def snr_from_parts(parts: dict, gain: float, n_frames: float, slip: str = "") -> np.ndarray:
    """S/N = F / sqrt(F / (g n) + sigma_bg**2) from :func:`photometry_parts`, or with one of :data:`SNR_SLIPS`.

    Examples
    --------
    >>> parts = {"sum": np.array([10100.0]), "sky": np.array([1.0]), "area": 100.0, "noise": 50.0}
    >>> round(float(snr_from_parts(parts, 1.0, 1)[0]), 1)  # 10000 / sqrt(10000 + 2500)
    89.4
    >>> float(snr_from_parts(parts, 1.0, 1, slip="flux")[0])
    10000.0
    """
    flux = parts["sum"] if slip == "nosky" else parts["sum"] - parts["sky"] * parts["area"]
    if slip == "flux":
        return flux
    n = 1.0 if slip == "ignore_n" else float(n_frames)
    photons = np.clip(flux, 0, None) * gain / n if slip == "times_gain" else np.clip(flux, 0, None) / (gain * n)
    variance = photons + (0.0 if slip == "no_background" else parts["noise"] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return flux / (variance if slip == "no_sqrt" else np.sqrt(variance))


def snr_values_of(night) -> dict:
    """Median S/N of the notebook's stars, in the first frame and in the stack, with common slips.

    Keys: ``single``, ``stack`` (with the effective number of frames), ``stack_n`` (with the plain
    number of frames), ``single_<slip>`` and ``stack_<slip>`` for each of :data:`SNR_SLIPS`,
    ``gain`` (median of the per-star ratios), the gains a slip gives (``gain_n``: the stack as
    ``n`` whole frames; ``gain_one``: as one frame; ``gain_inverse``: the first frame over the
    stack; ``gain_flux``: a ratio of fluxes), ``n`` and ``n_effective``.

    Examples
    --------
    >>> round(snr_values_of(night("data"))["gain"], 2)  # doctest: +SKIP
    1.82
    """
    def compute():
        from ccdlab.photometry import effective_frames

        first, stack, _ = aligned_of(night)
        gain = night.camera().gain
        n = len(night.files("science"))
        n_eff = float(effective_frames(n, "median"))
        positions = star_positions_of(night)
        one, many = photometry_parts(first, positions), photometry_parts(stack, positions)
        single, stacked, stacked_n = snr_from_parts(one, gain, 1), snr_from_parts(many, gain, n_eff), snr_from_parts(many, gain, n)
        values = {"single": _median_of(single), "stack": _median_of(stacked), "stack_n": _median_of(stacked_n),
                  "n": n, "n_effective": n_eff}
        for slip in SNR_SLIPS:
            values[f"single_{slip}"] = _median_of(snr_from_parts(one, gain, 1, slip))
            values[f"stack_{slip}"] = _median_of(snr_from_parts(many, gain, n_eff, slip))
        with np.errstate(invalid="ignore", divide="ignore"):
            values.update({
                "gain": _median_of(stacked / single), "gain_n": _median_of(stacked_n / single),
                "gain_one": _median_of(snr_from_parts(many, gain, 1) / single),
                "gain_inverse": _median_of(single / stacked),
                "gain_flux": _median_of(snr_from_parts(many, gain, n_eff, "flux") / snr_from_parts(one, gain, 1, "flux")),
            })
        return values

    return night.memo(("snr_values", "with slips"), compute)


def _close(value, expected, rtol=0.05) -> bool:
    return value is not None and expected is not None and abs(value - expected) <= rtol * abs(expected)


def _star_snr_part(night, star_snr, values):
    """``(part, their_gain)``: the verdict on star_snr, and the median ratio it gives (None if it cannot)."""
    name = "star_snr"
    reference = star_snr_function(star_positions_of(night), night.camera().gain)
    if is_blank(star_snr):
        return blank_part(name, reference), None
    if not callable(star_snr):
        return Part(name, False, "star_snr should be the function star_snr(image, n_frames).", reference), None
    first, stack, _ = aligned_of(night)
    got, results = {}, {}
    for key, image, n_frames in (("single", first, 1), ("stack", stack, values["n_effective"])):
        try:
            result = star_snr(image.copy(), n_frames)
        except Exception as exc:  # noqa: BLE001 - the student's code: report, never crash
            return Part(name, False, f"star_snr(image, {n_frames:.2f}) raised {type(exc).__name__}: {exc}. "
                        "Try it on frames[0][0] alone first.", reference), None
        if is_blank(result) or result is None:
            return Part(name, False, "star_snr returns nothing yet: make it return the S/N of every star.",
                        reference, blank=is_blank(result)), None
        got[key] = _median_of(result)
        if got[key] is None:
            return Part(name, False, "star_snr should return an array of numbers, one S/N per star.", reference), None
        results[key] = np.asarray(result, dtype=np.float64).ravel()
    their_gain = None
    if results["single"].size == results["stack"].size:
        with np.errstate(invalid="ignore", divide="ignore"):
            their_gain = _median_of(results["stack"] / results["single"])
    if results["single"].size < 2 <= len(star_positions_of(night)):
        return Part(name, False, "star_snr returns one number: return the S/N of every star, an array with one value "
                    "per position (the median over the stars comes later, in snr_gain).", reference), their_gain
    single_ok, stack_ok = _close(got["single"], values["single"]), _close(got["stack"], values["stack"])
    if single_ok and stack_ok:
        return Part(name, True, reference=star_snr), their_gain

    def distance(slip):
        a, b = values[f"single_{slip}"], values[f"stack_{slip}"]
        if a is None or b is None or not (_close(got["single"], a) and _close(got["stack"], b)):
            return math.inf
        return abs(got["single"] / a - 1) + abs(got["stack"] / b - 1)

    slip = min(SNR_SLIPS, key=distance)
    if math.isfinite(distance(slip)):
        hint = SNR_SLIPS[slip]
    elif not single_ok:
        hint = (f"On the first frame (n_frames = 1) your stars have a median S/N of {got['single']:.1f}, not what the "
                "data gives. Compare each part of your code with the formula above: the sky-subtracted flux, "
                "the star's photon noise in ADU, and the measured background noise.")
    else:
        hint = (f"star_snr is right for one frame but on the stack (n_frames = {values['n_effective']:.2f}) it gives "
                f"a median S/N of {got['stack']:.1f}, not what the data gives: check how n_frames enters the formula.")
    return Part(name, False, hint, reference), their_gain


#: Values of snr_gain that come from a slip, and what to say about each (``{n}``: the number of frames).
GAIN_SLIPS = {
    "gain_n": "snr_gain = {value:.2f} treats the stack as {n} whole frames; a median of {n} frames is worth fewer: "
              "pass n_effective (photometry.effective_frames) to star_snr for the stack.",
    "gain_one": "snr_gain = {value:.2f} treats the stack as one frame: star_snr(stack, ...) needs the number of frames "
                "the stack is worth, n_effective.",
    "gain_inverse": "snr_gain = {value:.2f} is below 1: that is the first frame's S/N over the stack's. Divide the "
                    "stack's S/N by the first frame's.",
    "gain_flux": "snr_gain = {value:.2f} is a ratio of the fluxes: a median stack has the flux of one frame. The gain "
                 "is in the S/N: divide star_snr on the stack by star_snr on the first frame.",
}


@answers(LESSON, "star_snr", "snr_gain")
def snr_gain(night, star_snr, snr_gain):
    """The stars' S/N function, and how much the median stack improves their S/N (a median ratio).

    A value of ``snr_gain`` within 3% of the measured one is right unless it is what a known slip gives
    (:data:`GAIN_SLIPS`, within 0.3%, when that lies apart from the measured value), what a wrong
    star_snr gives, or exactly the theory, sqrt(n_effective) or sqrt(n).

    Examples
    --------
    >>> star_snr, snr_gain = check("7.2", star_snr=star_snr, snr_gain=1.82)  # doctest: +SKIP
    ✔ Exercise 7.2: correct. Well done!
    """
    values = snr_values_of(night)
    expected = values["gain"]
    function_part, their_gain = _star_snr_part(night, star_snr, values)
    if expected is None or not math.isfinite(expected):
        return [Part("star_snr", True, reference=star_snr), Part("snr_gain", True, reference=snr_gain)]
    n, n_eff = values["n"], values["n_effective"]
    part = number("snr_gain", snr_gain, expected, rtol=0.03,
                  hint="Divide each star's S/N in the stack by its S/N in the first frame, and take the median "
                       "over the stars.", reference=expected)
    value = None if part.blank else _median_of(snr_gain) if _is_number(snr_gain) else None
    if value is None:
        return [function_part, part]
    # the slips whose value lies apart from the measured one (0.6%: valid ways differ by 0.3% at most)
    slips = {key: values[key] for key in GAIN_SLIPS
             if values.get(key) is not None and abs(values[key] / expected - 1) > 0.006}
    nearest = min(slips, key=lambda key: abs(value - slips[key]), default=None)
    wrong_hint = ""
    if math.isclose(value, math.sqrt(n), rel_tol=0.005) and not _close(expected, math.sqrt(n), 0.005):
        wrong_hint = (f"snr_gain = {value:.2f} is sqrt({n}), the theory for a mean of {n} frames: measure it with "
                      "star_snr on the stack and on the first frame.")
    elif math.isclose(value, math.sqrt(n_eff), rel_tol=1e-6) and not _close(expected, math.sqrt(n_eff), 0.002):
        wrong_hint = (f"snr_gain = {value:.2f} is sqrt(n_effective), the theory: measure the gain with star_snr on "
                      "the stack and on the first frame, star by star.")
    elif (not function_part.ok and not function_part.blank and their_gain is not None
          and _close(value, their_gain, 0.003) and not _close(value, expected, 0.003)):
        wrong_hint = (f"snr_gain = {value:.2f} follows from your star_snr, which is not right yet: put star_snr right "
                      "first.")
    elif nearest is not None and _close(value, slips[nearest], 0.003) and not _close(value, expected, 0.003):
        wrong_hint = GAIN_SLIPS[nearest].format(value=value, n=n)
    if wrong_hint:
        part = Part("snr_gain", False, wrong_hint, expected)
    return [function_part, part]


def _is_number(value) -> bool:
    return not isinstance(value, (bool, np.bool_, str)) and np.ndim(value) == 0 and _median_of(value) is not None

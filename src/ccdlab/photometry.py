"""Aperture photometry and signal-to-noise: how much a stack gains over a single frame.

A star's signal is the sum of the pixels in a circle around it minus the sky, estimated from an
annulus around the circle. Its noise follows the CCD equation: the variance, in electrons, is the
star's own photon count, plus, for each of the ``A`` pixels of the aperture, the sky's photon count
and the read noise squared, plus the uncertainty of the sky estimate (the factor
``1 + (pi/2) A / A_sky``: the sky is the median of ``A_sky`` annulus pixels, whose variance is
``pi/2`` times that of their mean)::

    S/N = F / sqrt(F + A (1 + (pi/2) A / A_sky) (B + RN^2))      (F, B and RN in electrons)

An image that is the mean of ``n`` aligned frames (in ADU per frame, as :mod:`ccdlab.stack`
makes it) has every variance divided by ``n``, so its S/N is ``sqrt(n)`` times a single frame's.
A median is noisier than a mean: it behaves like a mean of fewer frames, :func:`effective_frames`
(3.35 for 4 frames; ``2 n / pi`` for many), and its S/N gain is the square root of that.

The background part of the noise can also be *measured* instead of predicted: the scatter of
sky-subtracted aperture sums placed on empty sky (:func:`empty_aperture_noise`). That measurement
sees everything the CCD equation leaves out: the median's extra noise, the noise the resampling
correlates between neighbouring pixels, faint stars, flat-field errors.

Positions are 0-based pixel coordinates (``x`` = column, ``y`` = row), as numpy and photutils use.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import math
import warnings

import numpy as np
from astropy.stats import SigmaClip, sigma_clipped_stats
from astropy.table import Table

from ccdlab import validate
from ccdlab.errors import PhotometryError
from ccdlab.sources import positions_of

__all__ = [
    "DEFAULT_GAIN",
    "DEFAULT_READNOISE",
    "DEFAULT_SATURATION",
    "DEFAULT_RADIUS",
    "DEFAULT_ANNULUS",
    "SKY_MEDIAN_FACTOR",
    "PhotometryError",
    "effective_frames",
    "find_stars",
    "empty_aperture_noise",
    "aperture_snr",
    "snr_gain",
]

#: Gain of the course's camera (GROWTH-India Telescope, Andor iKon-XL), electrons per ADU.
DEFAULT_GAIN = 1.6
#: Read noise of the course's camera, electrons.
DEFAULT_READNOISE = 14.0
#: Stars whose brightest pixel reaches this many ADU are called saturated: 90% of the camera's
#: 96,000 e- full well at 1.6 e-/ADU, leaving room for the non-linearity just below it.
DEFAULT_SATURATION = 0.9 * 96_000.0 / DEFAULT_GAIN
#: Aperture radius in pixels: about 1.7 times the FWHM of the course's stars (3.3-3.9 pixels).
DEFAULT_RADIUS = 6.0
#: Inner and outer radius of the sky annulus, pixels.
DEFAULT_ANNULUS = (10.0, 15.0)

_STACK_METHODS = ("mean", "median")

#: Variance of the median of many Gaussian values over that of their mean (the sky annulus's median).
SKY_MEDIAN_FACTOR = math.pi / 2.0


# --------------------------------------------------------------------------------------------
# How much a median is worth
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _median_variance(n: int) -> float:
    """Variance of the median of ``n`` independent standard normal values (exact, by quadrature)."""
    from scipy.integrate import cumulative_trapezoid, trapezoid
    from scipy.special import gammaln, log_ndtr

    if n > 2000:  # asymptotic; relative error below 1e-3 here
        return math.pi / (2.0 * n)
    width = min(8.0, 12.0 * math.sqrt(math.pi / (2.0 * n)))
    x = np.linspace(-width, width, 20001)
    log_phi = -0.5 * x * x - 0.5 * math.log(2.0 * math.pi)
    log_below, log_above = log_ndtr(x), log_ndtr(-x)
    if n % 2:  # the middle order statistic
        k = (n - 1) // 2
        density = np.exp(gammaln(n + 1) - 2.0 * gammaln(k + 1) + k * log_below + k * log_above + log_phi)
        return float(trapezoid(x * x * density, x))
    # Even n: the mean of the two middle order statistics X_m and X_m+1 (mean zero by symmetry).
    m = n // 2
    density_m = np.exp(gammaln(n + 1) - gammaln(m) - gammaln(m + 1) + (m - 1) * log_below + m * log_above + log_phi)
    second_moment = trapezoid(x * x * density_m, x)
    inner = cumulative_trapezoid(x * np.exp((m - 1) * log_below + log_phi), x, initial=0.0)
    cross = math.exp(gammaln(n + 1) - 2.0 * gammaln(m)) * trapezoid(x * np.exp((m - 1) * log_above + log_phi) * inner, x)
    return float((second_moment + cross) / 2.0)


def effective_frames(n_frames, method: str = "mean"):
    """How many frames a combination is worth: its S/N gain over one frame is the square root.

    A mean of ``n`` frames is worth ``n``. A median of ``n`` frames with Gaussian noise is worth
    ``1 / var(median of n unit normals)``: 2.23 for 3 frames, 3.35 for 4, 7.2 for 10, tending to
    ``2 n / pi`` for many (a median of 2 is their mean).

    Parameters
    ----------
    n_frames : int or array-like of int
        Number of frames combined (e.g. a coverage map from :func:`ccdlab.stack.stack_frames`).
    method : {'mean', 'median'}
        How the frames were combined.

    Returns
    -------
    float or numpy.ndarray
        The effective number of frames (NaN where ``n_frames`` is 0).

    Raises
    ------
    PhotometryError
        Unknown method, or a negative or non-whole number of frames.

    Examples
    --------
    >>> effective_frames(4)
    4.0
    >>> round(effective_frames(4, "median"), 2), round(effective_frames(3, "median"), 2)
    (3.35, 2.23)
    """
    if method not in _STACK_METHODS:
        raise PhotometryError(f"Unknown stacking method {method!r}: use 'mean' or 'median'.")
    values = np.asarray(n_frames)
    if not np.issubdtype(values.dtype, np.number) or np.any(~np.isfinite(values)) or np.any(values < 0) \
            or np.any(values != np.round(values)):
        raise PhotometryError(f"n_frames must be whole numbers of frames (1, 2, ...); got {n_frames!r}.")
    counts = values.astype(int)
    out = counts.astype(float)
    if method == "median":
        for n in np.unique(counts):
            if n > 0:
                out[counts == n] = 1.0 / _median_variance(int(n))
    out[counts == 0] = np.nan
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

_image = functools.partial(validate.image, error=PhotometryError, need_finite=True,
                           hint="Check the calibration or the stack (min_frames too high?).")
_positive = functools.partial(validate.positive, error=PhotometryError)


def _positions(positions) -> np.ndarray:
    """Positions as an (n, 2) array of (x, y) (:func:`ccdlab.sources.positions_of`), at least one."""
    xy = positions_of(positions)
    if xy.size == 0:
        raise PhotometryError("No positions to measure: find stars first, e.g. with find_stars(image).")
    return xy


_radii = functools.partial(validate.aperture_radii, error=PhotometryError)


def _sky_stats(data: np.ndarray) -> tuple[float, float]:
    """Sigma-clipped median and standard deviation of an image (on a subsample when it is big)."""
    step = max(1, int(math.sqrt(data.size / 1_000_000)))
    sample = data[::step, ::step]
    sample = sample[np.isfinite(sample)]
    _, median, std = sigma_clipped_stats(sample, sigma=3.0, maxiters=10)
    return float(median), float(std)


# --------------------------------------------------------------------------------------------
# Finding stars
# --------------------------------------------------------------------------------------------


def find_stars(data, fwhm: float = 3.5, threshold_sigma: float = 5.0, n_brightest: int | None = 10,
               exclude_saturated: bool = True, saturation: float = DEFAULT_SATURATION,
               margin: float | None = None) -> Table:
    """Find the brightest clean stars of an image with DAOStarFinder, for aperture photometry.

    The sky is the sigma-clipped median of the image and its noise the sigma-clipped standard
    deviation; DAOStarFinder looks for star-shaped peaks ``threshold_sigma`` times that noise above
    the sky. Stars near the edge or near NaN pixels (the vignetted corners) and, by default,
    saturated stars are left out before the ``n_brightest`` are kept.

    Parameters
    ----------
    data : numpy.ndarray
        The image (ADU), NaN where there is no data.
    fwhm : float
        The stars' full width at half maximum, pixels.
    threshold_sigma : float
        Detection threshold in units of the sky noise.
    n_brightest : int or None
        Keep this many of the brightest stars (None: all).
    exclude_saturated : bool
        Leave out stars with a pixel at or above ``saturation`` (their flux is wrong).
    saturation : float
        Saturation level in the image's units (ADU): by default 90% of 96,000 e- at 1.6 e-/ADU.
    margin : float, optional
        Stars closer than this (pixels) to the edge or to a NaN pixel are left out; by default
        the outer radius of the default sky annulus plus one pixel.

    Returns
    -------
    astropy.table.Table
        Columns ``x``, ``y`` (0-based pixels), ``peak`` (sky-subtracted, ADU), ``flux``
        (DAOStarFinder's, sky-subtracted, ADU), brightest first; ``meta`` holds the sky level and
        noise used. Pass it to :func:`aperture_snr` as ``positions``.

    Raises
    ------
    PhotometryError
        Not an image, no valid pixels, a flat image (no noise), bad parameters, or no star found.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.normal(100.0, 5.0, (80, 80))
    >>> yy, xx = np.mgrid[:80, :80]
    >>> image += 2000.0 * np.exp(-((xx - 40.2) ** 2 + (yy - 35.7) ** 2) / (2 * 1.5 ** 2))
    >>> stars = find_stars(image)
    >>> len(stars), round(float(stars["x"][0]), 1), round(float(stars["y"][0]), 1)
    (1, 40.2, 35.7)
    """
    from photutils.detection import DAOStarFinder
    from scipy.ndimage import maximum_filter

    data = _image(data)
    fwhm = _positive(fwhm, "fwhm", "pixels")
    threshold_sigma = _positive(threshold_sigma, "threshold_sigma", "sky standard deviations")
    if n_brightest is not None and (isinstance(n_brightest, bool) or not isinstance(n_brightest, (int, np.integer)) or n_brightest < 1):
        raise PhotometryError(f"n_brightest must be a whole number of stars (e.g. 10) or None; got {n_brightest!r}.")
    saturation = float(saturation)
    margin = DEFAULT_ANNULUS[1] + 1.0 if margin is None else _positive(margin, "margin", "pixels", allow_zero=True)
    median, std = _sky_stats(data)
    if not np.isfinite(std) or std <= 0:
        raise PhotometryError(
            "The image has no noise (its sky standard deviation is 0): is it a real frame? Stars cannot "
            "be told from the sky."
        )
    bad = ~np.isfinite(data)
    sky_subtracted = np.where(bad, 0.0, data - median).astype(np.float32)
    finder = DAOStarFinder(threshold=threshold_sigma * std, fwhm=fwhm, exclude_border=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no sources found" is reported below, in words
        found = finder(sky_subtracted, mask=bad if bad.any() else None)
    if found is None or len(found) == 0:
        raise PhotometryError(
            f"No stars found {threshold_sigma:g} sigma above the sky: lower threshold_sigma, check fwhm "
            f"({fwhm:g} px), or look at the image (is it calibrated?)."
        )
    xname = "x_centroid" if "x_centroid" in found.colnames else "xcentroid"
    yname = "y_centroid" if "y_centroid" in found.colnames else "ycentroid"
    x = np.asarray(found[xname], float)
    y = np.asarray(found[yname], float)
    ny, nx = data.shape
    m = int(math.ceil(margin))
    keep = (x >= m) & (x <= nx - 1 - m) & (y >= m) & (y <= ny - 1 - m)
    if bad.any() and m > 0:
        near_bad = maximum_filter(bad.astype(np.uint8), size=2 * m + 1, mode="constant", cval=1).astype(bool)
    else:
        near_bad = np.zeros_like(bad)
    ix, iy = np.clip(np.round(x).astype(int), 0, nx - 1), np.clip(np.round(y).astype(int), 0, ny - 1)
    keep &= ~near_bad[iy, ix]
    if exclude_saturated:
        half = max(1, int(math.ceil(fwhm)))
        peak_raw = np.array([
            np.nanmax(data[max(0, j - half): j + half + 1, max(0, i - half): i + half + 1]) for i, j in zip(ix, iy)
        ])
        keep &= peak_raw < saturation
    found = found[keep]
    if len(found) == 0:
        what = "unsaturated " if exclude_saturated else ""
        raise PhotometryError(
            f"No {what}stars found {threshold_sigma:g} sigma above the sky at least {margin:g} px from the "
            "edges and NaN pixels: lower threshold_sigma or margin"
            + (", or raise saturation" if exclude_saturated else "") + "."
        )
    found.sort("flux", reverse=True)
    if n_brightest is not None:
        found = found[:n_brightest]
    stars = Table(
        {
            "x": np.asarray(found[xname], float),
            "y": np.asarray(found[yname], float),
            "peak": np.asarray(found["peak"], float),
            "flux": np.asarray(found["flux"], float),
        },
        meta={"sky": median, "sky_std": std, "fwhm": fwhm, "threshold_sigma": threshold_sigma},
    )
    return stars


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def _measure(data: np.ndarray, xy: np.ndarray, radius: float, r_in: float, r_out: float):
    """Aperture sums and sky levels: (sum, full area, sky per pixel, sky pixels, complete?)."""
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture

    bad = ~np.isfinite(data)
    filled = np.where(bad, 0.0, data) if bad.any() else data
    mask = bad if bad.any() else None
    aperture = CircularAperture(xy, r=radius)
    annulus = CircularAnnulus(xy, r_in=r_in, r_out=r_out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty annuli are reported as NaN below
        star = ApertureStats(filled, aperture, mask=mask, sum_method="exact")
        sky = ApertureStats(filled, annulus, mask=mask, sigma_clip=SigmaClip(sigma=3.0, maxiters=10))
        total = np.atleast_1d(np.asarray(star.sum, float))
        covered = np.atleast_1d(np.asarray(star.sum_aper_area.value, float))
        sky_level = np.atleast_1d(np.asarray(sky.median, float))
        sky_pixels = np.atleast_1d(np.asarray(sky.center_aper_area.value, float))
    area = math.pi * radius * radius
    complete = np.isfinite(total) & (covered >= area * (1.0 - 1e-6))
    enough_sky = np.isfinite(sky_level) & (sky_pixels >= min(area, 0.5 * math.pi * (r_out ** 2 - r_in ** 2)))
    return total, area, sky_level, sky_pixels, complete & enough_sky


def empty_aperture_noise(data, radius: float = DEFAULT_RADIUS, annulus=DEFAULT_ANNULUS, n_apertures: int = 500,
                         detect_sigma: float = 4.0, seed: int = 0, detect_on=None) -> float:
    """Measure the noise of a sky-subtracted aperture sum by placing apertures on empty sky.

    Apertures (with their sky annuli) are dropped at random places free of stars, edges and NaN
    pixels, and measured exactly as :func:`aperture_snr` measures a star. The sigma-clipped
    standard deviation of their sums is the background part of a star's noise, as it really is:
    read noise, sky photons, the median's extra noise, the correlation that resampling introduces
    between neighbouring pixels, and faint undetected stars are all in it.

    Parameters
    ----------
    data : numpy.ndarray
        The image (ADU), NaN where there is no data.
    radius, annulus : float, (float, float)
        Aperture radius and sky annulus (pixels), as for :func:`aperture_snr`.
    n_apertures : int
        How many empty apertures to measure (at least 30). They may overlap: the precision is set
        by the empty area, a few per cent on a 2048 x 2054 frame, 5-10% on a 512 x 514 one.
    detect_sigma : float
        Pixels of the lightly smoothed image this many standard deviations above the sky are taken
        as stars and kept away from.
    seed : int
        Seed of the random placement (the result is repeatable).
    detect_on : numpy.ndarray, optional
        Find the stars (and NaN) to avoid on this image instead, e.g. the deeper stack when
        comparing a single frame with it: with the same ``detect_on`` and ``seed`` two images are
        measured at the very same places.

    Returns
    -------
    float
        Standard deviation of a sky-subtracted aperture sum on empty sky, ADU.

    Raises
    ------
    PhotometryError
        Bad parameters, or too little empty sky for 30 apertures.

    Examples
    --------
    >>> import numpy as np
    >>> sky = np.random.default_rng(1).normal(100.0, 10.0, (200, 200))
    >>> noise = empty_aperture_noise(sky, radius=4.0, annulus=(6.0, 10.0))
    >>> bool(0.85 < noise / (10.0 * np.sqrt(np.pi * 16)) < 1.2)  # about sigma * sqrt(area)
    True
    """
    data = _image(data)
    radius, r_in, r_out = _radii(radius, annulus)
    if isinstance(n_apertures, bool) or not isinstance(n_apertures, (int, np.integer)) or n_apertures < 30:
        raise PhotometryError(f"n_apertures must be a whole number of at least 30; got {n_apertures!r}.")
    detect_sigma = _positive(detect_sigma, "detect_sigma", "standard deviations")
    detect = data
    if detect_on is not None:
        detect = _image(detect_on, "detect_on")
        if detect.shape != data.shape:
            raise PhotometryError(
                f"detect_on has shape {detect.shape} but the image has {data.shape}: pass an image on the same pixel grid."
            )
    key = _noise_key(data, detect if detect_on is not None else None, (radius, r_in, r_out, int(n_apertures),
                                                                       float(detect_sigma), repr(seed)))
    repeatable = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    if repeatable and key in _NOISE_MEMO:
        _NOISE_MEMO.move_to_end(key)
        return _NOISE_MEMO[key]
    noise = _empty_aperture_noise(data, detect, radius, r_in, r_out, int(n_apertures), detect_sigma, seed)
    if not repeatable:  # another draw each time: nothing to keep
        return noise
    _NOISE_MEMO[key] = noise
    while len(_NOISE_MEMO) > 64:
        _NOISE_MEMO.popitem(last=False)
    return noise


#: Noises measured in this process, by a digest of the image(s) and the parameters: the notebook
#: and its check measure the same image the same way (seconds each, the result repeatable), once.
_NOISE_MEMO: "collections.OrderedDict[bytes, float]" = collections.OrderedDict()


def _noise_key(data: np.ndarray, detect, numbers: tuple) -> bytes:
    digest = hashlib.blake2b(repr((data.shape, str(data.dtype), numbers)).encode(), digest_size=20)
    for image in (data,) if detect is None else (data, detect):
        digest.update(memoryview(np.ascontiguousarray(image)).cast("B"))
        digest.update(b"|")
    return digest.digest()


def _empty_aperture_noise(data, detect, radius, r_in, r_out, n_apertures, detect_sigma, seed) -> float:
    from scipy.ndimage import gaussian_filter, maximum_filter

    bad = ~np.isfinite(data) | ~np.isfinite(detect)
    median, _ = _sky_stats(detect)
    smooth = gaussian_filter(np.where(bad, median, detect).astype(np.float32), sigma=1.0)
    _, smooth_std = _sky_stats(smooth)
    stars = smooth > median + detect_sigma * max(smooth_std, np.finfo(np.float32).tiny)
    reach = int(math.ceil(r_out)) + 2
    blocked = maximum_filter((bad | stars).astype(np.uint8), size=2 * reach + 1, mode="constant", cval=1)
    rng = np.random.default_rng(seed)
    ny, nx = data.shape
    candidates = np.column_stack([rng.integers(0, nx, 50 * n_apertures), rng.integers(0, ny, 50 * n_apertures)])
    free = candidates[blocked[candidates[:, 1], candidates[:, 0]] == 0]
    _, first = np.unique(free[:, 1] * nx + free[:, 0], return_index=True)
    free = free[np.sort(first)]
    if len(free) < n_apertures:  # sparse sky: take every free place
        iy, ix = np.nonzero(blocked == 0)
        free = np.column_stack([ix, iy])
        if len(free) > n_apertures:
            free = free[rng.choice(len(free), n_apertures, replace=False)]
    free = free[:n_apertures]
    if len(free) < 30:
        raise PhotometryError(
            f"Too little empty sky to measure the noise ({len(free)} free places for an aperture of "
            f"{r_out:g} px): use a smaller annulus, or pass background_noise=None to use the CCD equation."
        )
    total, area, sky_level, _, ok = _measure(data, free.astype(float), radius, r_in, r_out)
    sums = (total - area * sky_level)[ok]
    if len(sums) < 30:
        raise PhotometryError("Too few empty apertures could be measured (NaN pixels around them?).")
    _, _, std = sigma_clipped_stats(sums, sigma=3.0, maxiters=10)
    return float(std)


def _frames_at(n_frames, xy: np.ndarray, shape) -> np.ndarray:
    values = np.asarray(n_frames)
    if values.ndim == 0:
        return np.full(len(xy), values)
    if values.shape != tuple(shape):
        raise PhotometryError(
            f"n_frames must be a number or a coverage map of the image's shape {tuple(shape)}; got shape "
            f"{values.shape}."
        )
    ix = np.clip(np.round(xy[:, 0]).astype(int), 0, shape[1] - 1)
    iy = np.clip(np.round(xy[:, 1]).astype(int), 0, shape[0] - 1)
    return values[iy, ix]


def aperture_snr(data, positions, radius: float = DEFAULT_RADIUS, annulus=DEFAULT_ANNULUS,
                 gain: float = DEFAULT_GAIN, readnoise: float = DEFAULT_READNOISE, n_frames=1,
                 stack_method: str = "mean", background_noise=None) -> Table:
    """Measure stars' fluxes in circular apertures and their S/N from the CCD equation.

    Parameters
    ----------
    data : numpy.ndarray
        The image in ADU (per frame, for a stack: the mean or median of aligned frames), with its
        sky still in it: the sky's photon noise is computed from its level.
    positions : table or array-like
        ``(x, y)`` pixel pairs, or a table with ``x``/``y`` columns (e.g. :func:`find_stars`).
    radius : float
        Aperture radius, pixels.
    annulus : (float, float)
        Inner and outer radius of the sky annulus, pixels; the sky is its sigma-clipped median.
    gain : float
        Electrons per ADU.
    readnoise : float
        Read noise of one frame, electrons.
    n_frames : int or numpy.ndarray
        How many frames the image combines, or the coverage map from
        :func:`ccdlab.stack.stack_frames` (the value at each star is used).
    stack_method : {'mean', 'median'}
        How they were combined: a median counts as :func:`effective_frames` frames.
    background_noise : None, float or 'measure'
        None: the sky and read-noise terms come from the CCD equation. A number: the measured
        noise of a sky-subtracted aperture sum on empty sky (ADU) replaces them. ``'measure'``:
        measure it with :func:`empty_aperture_noise`.

    Returns
    -------
    astropy.table.Table
        One row per position: ``x``, ``y``, ``flux`` (sky-subtracted sum, ADU), ``background``
        (sky per pixel, ADU), ``noise`` (ADU), ``snr``, ``n_frames`` (frames at the star). Flux
        and S/N are NaN for an aperture that runs off the image or over NaN pixels. ``meta``
        records the parameters.

    Raises
    ------
    PhotometryError
        Not an image, bad positions, radii, gain, read noise or n_frames.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.full((60, 60), 100.0)
    >>> image[30, 30] += 10000.0  # a (very sharp) star of 10,000 ADU on a sky of 100 ADU
    >>> row = aperture_snr(image, [(30, 30)], radius=3, annulus=(6, 9), gain=1.0, readnoise=0.0)[0]
    >>> round(float(row["flux"])), round(float(row["snr"]), 1)  # 10000 / sqrt(10000 + 28.3 * (1 + 1.57 * 28.3 / 144) * 100)
    (10000, 85.4)
    """
    data = _image(data)
    xy = _positions(positions)
    radius, r_in, r_out = _radii(radius, annulus)
    gain = _positive(gain, "gain", "electrons per ADU")
    readnoise = _positive(readnoise, "readnoise", "electrons", allow_zero=True)
    if stack_method not in _STACK_METHODS:
        raise PhotometryError(f"Unknown stack_method {stack_method!r}: use 'mean' or 'median'.")
    frames = _frames_at(n_frames, xy, data.shape)
    effective = np.atleast_1d(effective_frames(frames, stack_method))
    measured = None
    if isinstance(background_noise, str):
        if background_noise != "measure":
            raise PhotometryError(f"background_noise must be None, a number (ADU) or 'measure'; got {background_noise!r}.")
        measured = empty_aperture_noise(data, radius, (r_in, r_out))
    elif background_noise is not None:
        measured = _positive(background_noise, "background_noise", "ADU")

    total, area, sky, sky_pixels, ok = _measure(data, xy, radius, r_in, r_out)
    flux = np.where(ok, total - area * sky, np.nan)
    source_e = np.clip(flux, 0.0, None) * gain
    if measured is None:
        sky_e = np.clip(sky, 0.0, None) * gain
        # The sky is a median of the annulus: its variance is pi/2 times a mean's.
        variance = (source_e + area * (1.0 + SKY_MEDIAN_FACTOR * area / sky_pixels) * (sky_e + readnoise ** 2)) / effective
    else:
        variance = source_e / effective + (measured * gain) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        noise = np.sqrt(variance) / gain
        snr = flux / noise
    table = Table(
        {
            "x": xy[:, 0], "y": xy[:, 1], "flux": flux, "background": np.where(np.isfinite(sky), sky, np.nan),
            "noise": noise, "snr": snr, "n_frames": frames,
        },
        meta={
            "radius": radius, "annulus": (r_in, r_out), "gain": gain, "readnoise": readnoise,
            "stack_method": stack_method,
            "noise_model": "CCD equation" if measured is None else "CCD equation, measured background",
            "background_noise": measured,
        },
    )
    return table


def snr_gain(single, stack, positions, n_frames, stack_method: str = "median", radius: float = DEFAULT_RADIUS,
             annulus=DEFAULT_ANNULUS, gain: float = DEFAULT_GAIN, readnoise: float = DEFAULT_READNOISE,
             background_noise="measure") -> Table:
    """Compare stars' S/N in one frame and in the stack, with the gain expected from theory.

    Parameters
    ----------
    single : numpy.ndarray
        One frame on the stack's pixel grid: best the reference frame of the alignment (e.g.
        ``cube[0]``), which was not resampled.
    stack : numpy.ndarray
        The stack from :func:`ccdlab.stack.stack_frames`.
    positions : table or array-like
        Stars (``x``, ``y`` on the stack's grid), e.g. ``find_stars(stack)``.
    n_frames : int or numpy.ndarray
        Frames in the stack, or its coverage map.
    stack_method : {'median', 'mean'}
        How the stack was combined.
    radius, annulus, gain, readnoise
        As for :func:`aperture_snr`.
    background_noise : 'measure' or None
        ``'measure'`` (default): the background noise of each image is measured with empty
        apertures (:func:`empty_aperture_noise`) at the same places in both images, away from the
        stars found on the (deeper) stack, so the median's extra noise shows in the numbers rather
        than being assumed. None: the CCD equation alone.

    Returns
    -------
    astropy.table.Table
        ``x``, ``y``, ``flux_single``, ``flux_stack``, ``snr_single``, ``snr_stack``, ``snr_gain``
        (their ratio) and ``expected_gain`` (``sqrt(effective_frames)``); ``meta`` holds both images'
        background noise. A star is NaN where an aperture touches NaN in either image (e.g. a
        corner the reference frame does not cover): stack with ``min_frames`` equal to the number
        of frames, or summarise with ``np.nanmedian``.

    Raises
    ------
    PhotometryError
        The two images differ in shape, or any input :func:`aperture_snr` refuses.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> yy, xx = np.mgrid[:120, :120]
    >>> star = 3000.0 * np.exp(-((xx - 60) ** 2 + (yy - 60) ** 2) / (2 * 1.5 ** 2))
    >>> frames = [star + rng.normal(500.0, 20.0, (120, 120)) for _ in range(4)]
    >>> table = snr_gain(frames[0], np.mean(frames, axis=0), [(60, 60)], n_frames=4,
    ...                  stack_method="mean", background_noise=None)
    >>> float(table["expected_gain"][0]), 1.7 < float(table["snr_gain"][0]) < 2.3
    (2.0, True)
    """
    single = _image(single, "single")
    stack = _image(stack, "stack")
    if single.shape != stack.shape:
        raise PhotometryError(
            f"The single frame ({single.shape[1]} x {single.shape[0]}) and the stack ({stack.shape[1]} x "
            f"{stack.shape[0]}) must share one pixel grid: use a plane of the aligned cube, e.g. cube[0]."
        )
    if background_noise not in (None, "measure"):
        raise PhotometryError(f"background_noise must be 'measure' or None; got {background_noise!r}.")
    noise_single = noise_stack = None
    if background_noise == "measure":
        # The same empty places in both images: stars found on the deeper stack, NaN of either.
        places = np.where(np.isfinite(single), stack, np.nan)
        noise_single = empty_aperture_noise(single, radius, annulus, detect_on=places)
        noise_stack = empty_aperture_noise(stack, radius, annulus, detect_on=places)
    options = dict(radius=radius, annulus=annulus, gain=gain, readnoise=readnoise)
    one = aperture_snr(single, positions, n_frames=1, stack_method="mean", background_noise=noise_single, **options)
    many = aperture_snr(stack, positions, n_frames=n_frames, stack_method=stack_method,
                        background_noise=noise_stack, **options)
    expected = np.sqrt(np.atleast_1d(effective_frames(many["n_frames"], stack_method)))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.asarray(many["snr"]) / np.asarray(one["snr"])
    return Table(
        {
            "x": one["x"], "y": one["y"],
            "flux_single": one["flux"], "flux_stack": many["flux"],
            "snr_single": one["snr"], "snr_stack": many["snr"],
            "snr_gain": ratio, "expected_gain": expected,
        },
        meta={
            "stack_method": stack_method,
            "background_noise_single": one.meta["background_noise"],
            "background_noise_stack": many.meta["background_noise"],
            "noise_model": many.meta["noise_model"],
        },
    )

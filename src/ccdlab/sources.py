"""Finding the stars of a calibrated frame, and how sharp they are.

A star is a peak of the size of the seeing above the sky's noise. :func:`detect_stars` subtracts
the sky (:func:`ccdlab.background.estimate_background`) and runs DAOStarFinder (photutils), which
convolves the frame with a Gaussian of the stars' FWHM and keeps peaks ``threshold`` times the sky
noise high that are round and not too sharp (a cosmic ray left over is sharper than any star). It
keeps every detection, brightest first, and flags the ones photometry should not trust: saturated
stars, and stars too close to the frame's edge or its NaN corners for an aperture and its sky
annulus. :func:`measure_fwhm` fits the brightest clean stars to find the seeing when the header
does not say.

Positions are 0-based pixel coordinates (``x`` = column, ``y`` = row), as numpy and photutils use;
FITS and DS9 count from 1.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from astropy.table import Table

from ccdlab import validate
from ccdlab.errors import PhotometryError

__all__ = ["DEFAULT_FWHM", "DEFAULT_THRESHOLD", "DEFAULT_MARGIN", "detect_stars", "measure_fwhm", "positions_of",
           "within"]

#: A first guess of the seeing (pixels): the course's stars have 3.3-3.9 px.
DEFAULT_FWHM = 3.5
#: Detection threshold, in standard deviations of the sky.
DEFAULT_THRESHOLD = 5.0
#: Stars closer than this (pixels) to the edge or to a NaN pixel are flagged: the outer radius of
#: the default sky annulus (15 px) plus one.
DEFAULT_MARGIN = 16.0

_image = functools.partial(validate.image, error=PhotometryError, need_finite=True,
                           hint="Pass one calibrated frame (a 2-D array), e.g. read_frame(path)[0].")


def positions_of(stars) -> np.ndarray:
    """The ``(x, y)`` pixel positions of a star table or of pairs, as an ``(n, 2)`` array.

    Reads ``x``/``y``, ``x_centroid``/``y_centroid`` (photutils 2+), ``xcentroid``/``ycentroid``,
    ``x_fit``/``y_fit`` or ``x_init``/``y_init`` columns, or an array of pairs.

    Raises
    ------
    PhotometryError
        No such columns, not pairs, or non-finite positions.

    Examples
    --------
    >>> positions_of(Table({"x_centroid": [1.5], "y_centroid": [2.0]}))
    array([[1.5, 2. ]])
    >>> positions_of([(3, 4), (5, 6)]).shape
    (2, 2)
    """
    if isinstance(stars, Table):
        for xname, yname in (("x", "y"), ("x_centroid", "y_centroid"), ("xcentroid", "ycentroid"),
                             ("x_fit", "y_fit"), ("x_init", "y_init")):
            if xname in stars.colnames and yname in stars.colnames:
                xy = np.column_stack([np.asarray(stars[xname], float), np.asarray(stars[yname], float)])
                break
        else:
            raise PhotometryError(
                f"The star table has no x/y columns (it has {', '.join(stars.colnames)}): pass detect_stars() "
                "output or an (n, 2) array of (x, y) pairs.")
    else:
        try:
            xy = np.asarray(stars, dtype=float)
        except (TypeError, ValueError):
            raise PhotometryError(
                f"positions must be (x, y) pixel pairs or a table with x and y columns; got {type(stars).__name__}."
            ) from None
        if xy.ndim == 1 and xy.size == 2:
            xy = xy[np.newaxis]
        if xy.size == 0:
            xy = xy.reshape(0, 2)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise PhotometryError(f"positions must be (x, y) pixel pairs, shape (n, 2); got shape {xy.shape}.")
    if not np.all(np.isfinite(xy)):
        raise PhotometryError("Some positions are NaN or infinite: pass finite (x, y) pixel coordinates.")
    return xy


def within(flags: np.ndarray, xy: np.ndarray, radius: float) -> np.ndarray:
    """For each ``(x, y)``: is a True pixel of ``flags`` (e.g. NaN, saturated) within ``radius`` pixels?

    Only the pixels around each position are looked at, so it costs little on a large frame.

    Examples
    --------
    >>> flags = np.zeros((20, 20), bool); flags[10, 15] = True
    >>> within(flags, np.array([[12.0, 10.0], [3.0, 3.0]]), 3.5).tolist()
    [True, False]
    """
    flags = np.asarray(flags, bool)
    ny, nx = flags.shape
    out = np.zeros(len(xy), bool)
    if not flags.any():
        return out
    reach = int(math.ceil(radius))
    for k, (x, y) in enumerate(np.asarray(xy, float)):
        ix, iy = int(round(x)), int(round(y))
        x0, x1, y0, y1 = max(ix - reach, 0), min(ix + reach + 1, nx), max(iy - reach, 0), min(iy + reach + 1, ny)
        if x0 >= x1 or y0 >= y1:
            continue
        window = flags[y0:y1, x0:x1]
        if window.any():
            yy, xx = np.nonzero(window)
            out[k] = bool(np.any((xx + x0 - x) ** 2 + (yy + y0 - y) ** 2 <= radius ** 2))
    return out


def _near_bad(shape, bad: np.ndarray, xy: np.ndarray, margin: float) -> np.ndarray:
    """True for positions within ``margin`` pixels of the edge or of a bad pixel."""
    ny, nx = shape
    x, y = xy[:, 0], xy[:, 1]
    near = (x < margin) | (x > nx - 1 - margin) | (y < margin) | (y > ny - 1 - margin)
    return near | within(bad, xy, margin)


def measure_fwhm(data, positions=None, background=None, n_stars: int = 20, guess: float = DEFAULT_FWHM,
                 saturation: float | None = None) -> float:
    """Measure the seeing: the median FWHM (pixels) of Gaussian fits to the brightest clean stars.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU).
    positions : table or array-like, optional
        Stars to fit; by default the brightest clean stars :func:`detect_stars` finds at 20 sigma.
    background : ccdlab.background.Background, optional
        The sky; estimated when not given.
    n_stars : int
        How many stars to fit at most.
    guess : float
        First guess of the FWHM (pixels).
    saturation : float, optional
        Stars near pixels this bright (ADU) are not used; by default 80 % of the brightest pixel.

    Returns
    -------
    float
        The median FWHM of the fitted stars, pixels.

    Raises
    ------
    PhotometryError
        No star to fit.

    Examples
    --------
    >>> yy, xx = np.mgrid[:100, :100]
    >>> image = 100.0 + np.random.default_rng(3).normal(0, 2, (100, 100))
    >>> for x0, y0 in ((30, 30), (70, 60), (40, 75)):
    ...     image += 5000 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.7 ** 2))
    >>> abs(measure_fwhm(image, [(30, 30), (70, 60), (40, 75)]) - 2.3548 * 1.7) < 0.2
    True
    """
    from photutils.psf import fit_fwhm

    from ccdlab.background import estimate_background

    data = _image(data)
    background = estimate_background(data) if background is None else background
    if positions is None:  # the brightest clean stars; a flat-topped (saturated) star is no measure of the seeing
        saturation = 0.8 * float(np.nanmax(data)) if saturation is None else float(saturation)
        stars = detect_stars(data, fwhm=guess, threshold=20.0, background=background, saturation=saturation)
        stars = stars[stars["clean"]][:n_stars]
        xy = positions_of(stars)
    else:
        xy = positions_of(positions)[:n_stars]
    if len(xy) == 0:
        raise PhotometryError("No star to measure the FWHM on: pass fwhm= (pixels) instead, e.g. 3.5.")
    sub = background.subtract(data)
    shape = int(2 * math.ceil(guess) + 1)  # the core: a Gaussian fitted to the wings reads them as width
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fwhm = np.asarray(fit_fwhm(np.where(np.isfinite(sub), sub, 0.0), xypos=xy, fwhm=guess, fit_shape=shape,
                                   mask=~np.isfinite(sub)), dtype=float).ravel()
    fwhm = fwhm[np.isfinite(fwhm) & (fwhm > 0.5) & (fwhm < 10 * guess)]
    if fwhm.size == 0:
        raise PhotometryError("The stars' FWHM could not be fitted: pass fwhm= (pixels) instead, e.g. 3.5.")
    return float(np.median(fwhm))


def detect_stars(data, fwhm: float | None = DEFAULT_FWHM, threshold: float = DEFAULT_THRESHOLD, background=None,
                 saturation: float | None = None, margin: float = DEFAULT_MARGIN) -> Table:
    """Find the stars of a frame: DAOStarFinder on the sky-subtracted frame, every detection kept and flagged.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU), NaN where there is no data.
    fwhm : float or None
        The stars' FWHM (pixels); None measures it (:func:`measure_fwhm`).
    threshold : float
        Detection threshold in standard deviations of the sky (the median of the background's
        noise map).
    background : ccdlab.background.Background, optional
        The sky; estimated with :func:`ccdlab.background.estimate_background` when not given.
    saturation : float, optional
        Stars with a pixel at or above this (ADU, in ``data``) within 4 FWHM are flagged
        ``saturated``: their own core, or a saturated neighbour's wings and bleed trail.
    margin : float
        Stars within this many pixels of the edge or of a NaN pixel are flagged ``near_edge``.

    Returns
    -------
    astropy.table.Table
        One row per star, brightest first: ``id``, ``x``, ``y`` (0-based pixels), ``peak`` (ADU
        above the sky), ``flux`` (DAOStarFinder's, ADU), ``sharpness``, ``roundness``,
        ``saturated``, ``near_edge`` and ``clean`` (neither). ``meta`` holds the FWHM, the
        threshold in ADU, the sky level and noise.

    Raises
    ------
    PhotometryError
        Not an image, a bad fwhm or threshold, or a frame with no noise.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:120, :120]
    >>> image = rng.normal(100.0, 5.0, (120, 120))
    >>> for x0, y0 in ((40.2, 35.7), (80.0, 90.0)):
    ...     image += 2000.0 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * 1.5 ** 2))
    >>> stars = detect_stars(image, fwhm=3.5, margin=10)
    >>> len(stars), round(float(stars["x"][1]), 1), round(float(stars["y"][1]), 1), bool(stars["clean"].all())
    (2, 40.2, 35.7, True)
    """
    from photutils.detection import DAOStarFinder

    from ccdlab.background import estimate_background

    data = _image(data)
    threshold = validate.positive(threshold, "threshold", "sky standard deviations", error=PhotometryError)
    margin = validate.positive(margin, "margin", "pixels", error=PhotometryError, allow_zero=True)
    background = estimate_background(data) if background is None else background
    noise = float(background.rms_median)
    if not math.isfinite(noise) or noise <= 0:
        raise PhotometryError("The frame has no noise (its sky standard deviation is 0): stars cannot be told "
                              "from the sky. Is it a real frame?")
    if fwhm is None:
        fwhm = measure_fwhm(data, background=background)
    fwhm = validate.positive(fwhm, "fwhm", "pixels", error=PhotometryError)
    bad = ~np.isfinite(data)
    sub = np.where(bad, 0.0, background.subtract(data)).astype(np.float32)
    # Every local peak (photutils < 3): its newer default, 2.5 FWHM apart, merges neighbours into one star.
    finder = DAOStarFinder(threshold=threshold * noise, fwhm=fwhm, exclude_border=True, min_separation=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no sources found": an empty table below
        found = finder(sub, mask=bad if bad.any() else None)
    names = ("id", "x", "y", "peak", "flux", "sharpness", "roundness", "saturated", "near_edge", "clean")
    if found is None or len(found) == 0:
        table = Table({n: np.zeros(0, bool if n in names[-3:] else int if n == "id" else float) for n in names})
    else:
        found.sort("flux", reverse=True)
        xy = positions_of(found)
        ny, nx = data.shape
        ix = np.clip(np.round(xy[:, 0]).astype(int), 0, nx - 1)
        iy = np.clip(np.round(xy[:, 1]).astype(int), 0, ny - 1)
        if saturation is not None:  # its own core, or a saturated neighbour's wings and bleed trail
            saturated = within(np.nan_to_num(data, nan=0.0) >= float(saturation), xy, 4.0 * fwhm)
        else:
            saturated = np.zeros(len(xy), bool)
        near = _near_bad(data.shape, bad, xy, margin)
        table = Table({
            "id": np.arange(1, len(xy) + 1), "x": xy[:, 0], "y": xy[:, 1],
            "peak": np.asarray(found["peak"], float), "flux": np.asarray(found["flux"], float),
            "sharpness": np.asarray(found["sharpness"], float), "roundness": np.asarray(found["roundness1"], float),
            "saturated": saturated, "near_edge": near, "clean": ~saturated & ~near,
        })
    table.meta.update({"fwhm": float(fwhm), "threshold_sigma": float(threshold), "threshold_adu": threshold * noise,
                       "sky": float(background.median), "sky_rms": noise, "margin": float(margin)})
    return table

"""Magnitudes: instrumental, the zero point that calibrates them, and the limiting magnitude.

An instrumental magnitude is ``-2.5 log10(F / t)``: the flux in ADU per second, on the magnitude
scale (five magnitudes are a factor 100; brighter is smaller). It differs from a catalogue's
magnitude of the same star by one number for the whole frame, the **zero point**::

    m = ZP - 2.5 log10(F / t)

which folds in the telescope's area, the filter, the detector's efficiency and gain, and the
atmosphere of that night. Matched stars give one estimate each (catalogue minus instrumental); the
zero point is their sigma-clipped median, because some matches are wrong: a variable star, a
blend, a saturated star, a catalogue entry with nothing there. Its uncertainty is that of a median,
``1.2533 sigma / sqrt(n)``.

The **limiting magnitude** is the faintest star the frame detects at ``nsigma`` (5 by convention):
the one whose flux is ``nsigma`` times the noise of an aperture on empty sky.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ccdlab import validate
from ccdlab.errors import PhotometryError, PhotometryWarning

__all__ = ["MAG_PER_LN", "ZeroPoint", "instrumental_magnitude", "fit_zero_point", "limiting_magnitude"]

#: 2.5 / ln(10) = 1.0857: a relative flux error of x is x * 1.0857 magnitudes.
MAG_PER_LN = 2.5 / math.log(10.0)


def _array(values, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise PhotometryError(f"{name} must be numbers; got {type(values).__name__}.") from None
    return array


def instrumental_magnitude(flux, exptime: float = 1.0, flux_err=None):
    """Instrumental magnitudes ``-2.5 log10(flux / exptime)`` (and their errors, ``1.0857 flux_err / flux``).

    Parameters
    ----------
    flux : float or array-like
        Fluxes in ADU (sky-subtracted); zero or negative fluxes give NaN.
    exptime : float
        Exposure time, seconds.
    flux_err : float or array-like, optional
        Their uncertainties (ADU).

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        The magnitudes, or ``(mag, mag_err)`` when ``flux_err`` is given.

    Examples
    --------
    >>> float(instrumental_magnitude(1000.0, exptime=10.0))
    -5.0
    >>> mag, err = instrumental_magnitude([1000.0], 10.0, [10.0])
    >>> round(float(err[0]), 4)
    0.0109
    """
    exptime = validate.positive(exptime, "exptime", "seconds", error=PhotometryError)
    flux = _array(flux, "flux")
    with np.errstate(invalid="ignore", divide="ignore"):
        positive = np.where(flux > 0, flux, np.nan)
        mag = -2.5 * np.log10(positive / exptime)
        if flux_err is None:
            return mag
        err = MAG_PER_LN * _array(flux_err, "flux_err") / positive
    return mag, err


@dataclass
class ZeroPoint:
    """A fitted zero point: its value, uncertainty, and which stars it rests on.

    Attributes
    ----------
    value, error : float
        The zero point and its uncertainty (mag).
    scatter : float
        Sigma-clipped standard deviation of catalogue minus instrumental magnitude (mag).
    n_used, n_rejected : int
        Stars kept, and stars clipped as outliers.
    used : numpy.ndarray of bool
        For each input star: True when it was used.
    differences : numpy.ndarray
        Catalogue minus instrumental magnitude of every input star.

    Examples
    --------
    >>> zp = ZeroPoint(23.35, 0.004, 0.03, 60, 3)
    >>> f"{zp.value:.2f} +- {zp.error:.3f}"
    '23.35 +- 0.004'
    """

    value: float
    error: float
    scatter: float
    n_used: int
    n_rejected: int
    used: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    differences: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


def fit_zero_point(catalog_mag, instrumental_mag, sigma: float = 3.0, min_stars: int = 3,
                   errors=None) -> ZeroPoint:
    """The zero point: the sigma-clipped median of catalogue minus instrumental magnitude.

    Parameters
    ----------
    catalog_mag, instrumental_mag : array-like
        The matched stars' catalogue and instrumental magnitudes (NaN are left out).
    sigma : float
        Clipping threshold, in standard deviations (MAD-based).
    min_stars : int
        Fewest stars to fit; fewer is an error. Fewer than 10 give a :class:`PhotometryWarning`.
    errors : array-like, optional
        Each star's uncertainty of the difference (catalogue and instrumental errors combined).
        Given, the zero point is the weighted mean of the stars kept by the clipping (bright stars
        count more; its error is ``1 / sqrt(sum of weights)``, scaled up by the scatter when the
        errors are too small); stars without a finite positive error are left out.

    Returns
    -------
    ZeroPoint

    Raises
    ------
    PhotometryError
        Arrays of different lengths, or fewer than ``min_stars`` usable stars.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> catalog = rng.uniform(14, 19, 200)
    >>> instrumental = catalog - 23.35 + rng.normal(0, 0.02, 200)
    >>> instrumental[:10] += 1.0          # ten bad matches
    >>> zp = fit_zero_point(catalog, instrumental)
    >>> round(zp.value, 2), zp.n_rejected >= 10
    (23.35, True)
    >>> round(fit_zero_point(catalog, instrumental, errors=np.full(200, 0.02)).value, 2)   # weighted
    23.35
    """
    from astropy.stats import sigma_clip

    catalog = _array(catalog_mag, "catalog_mag").ravel()
    instrumental = _array(instrumental_mag, "instrumental_mag").ravel()
    if catalog.shape != instrumental.shape:
        raise PhotometryError(f"catalog_mag ({catalog.size}) and instrumental_mag ({instrumental.size}) must list "
                              "the same stars, one magnitude each.")
    sigma = validate.positive(sigma, "sigma", "standard deviations", error=PhotometryError)
    differences = catalog - instrumental
    finite = np.isfinite(differences)
    if errors is not None:
        errors = _array(errors, "errors").ravel()
        if errors.shape != differences.shape:
            raise PhotometryError(f"errors ({errors.size}) must give one uncertainty per star ({differences.size}).")
        finite &= np.isfinite(errors) & (errors > 0)
    if finite.sum() < min_stars:
        raise PhotometryError(
            f"Only {int(finite.sum())} matched star(s) with finite magnitudes: at least {min_stars} are needed for "
            "a zero point. Check the match radius and the frame's WCS, or the catalogue's field.")
    clipped = sigma_clip(differences[finite], sigma=sigma, maxiters=10, cenfunc="median", stdfunc="mad_std")
    kept = np.asarray(differences[finite])[~np.ma.getmaskarray(clipped)]
    used = np.zeros(differences.shape, bool)
    used[np.flatnonzero(finite)[~np.ma.getmaskarray(clipped)]] = True
    value = float(np.median(kept))
    scatter = float(np.std(kept, ddof=1)) if kept.size > 1 else 0.0
    if kept.size < 10:
        warnings.warn(f"The zero point rests on only {kept.size} stars: its uncertainty is itself uncertain.",
                      PhotometryWarning, stacklevel=2)
    error = 1.2533 * scatter / math.sqrt(kept.size)
    if errors is not None:
        weights = 1.0 / errors[used] ** 2
        value = float(np.sum(weights * differences[used]) / np.sum(weights))
        chi2 = float(np.sum(weights * (differences[used] - value) ** 2)) / max(1, kept.size - 1)
        error = math.sqrt(max(1.0, chi2) / float(np.sum(weights)))
    return ZeroPoint(value, float(error), scatter, int(kept.size), int(finite.sum() - kept.size), used, differences)


def limiting_magnitude(zero_point: float, noise: float, exptime: float = 1.0, nsigma: float = 5.0,
                       aperture_correction: float = 0.0) -> float:
    """The faintest star detected at ``nsigma``: ``ZP - 2.5 log10(nsigma * noise / exptime) + aperture_correction``.

    Parameters
    ----------
    zero_point : float
        The zero point of the magnitudes (for fluxes in ADU per second).
    noise : float
        The noise of a sky-subtracted aperture sum on empty sky (ADU), e.g.
        :func:`ccdlab.photometry.empty_aperture_noise`.
    exptime : float
        Exposure time, seconds.
    nsigma : float
        The detection level (5 by convention).
    aperture_correction : float
        Add this (mag, negative) when the zero point is for total magnitudes and ``noise`` for an
        aperture that holds only part of a star's light (:func:`ccdlab.aperture.aperture_correction`).

    Returns
    -------
    float

    Raises
    ------
    PhotometryError
        A noise, exposure time or nsigma that is not positive.

    Examples
    --------
    >>> round(limiting_magnitude(23.35, noise=150.0, exptime=180.0, nsigma=5.0), 2)
    21.8
    """
    noise = validate.positive(noise, "noise", "ADU", error=PhotometryError)
    exptime = validate.positive(exptime, "exptime", "seconds", error=PhotometryError)
    nsigma = validate.positive(nsigma, "nsigma", "standard deviations", error=PhotometryError)
    return float(zero_point - 2.5 * math.log10(nsigma * noise / exptime) + aperture_correction)

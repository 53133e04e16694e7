"""PSF photometry: a model of the stars' shape built from the frame itself, fitted to every star.

Every star of a frame has the same shape, the point-spread function (seeing, optics, tracking),
only scaled and shifted. An **effective PSF** (ePSF, Anderson & King 2000) is that shape measured
on the frame: bright, isolated, unsaturated stars are cut out, aligned to a finer grid than the
pixels, and averaged (photutils' ``EPSFBuilder``). Fitting the model to a star then measures its
flux (and position) with every pixel weighted by how much star light it should hold: the faint
wings count little, so a faint star's flux is less noisy than an aperture's, and two stars that
overlap are fitted together rather than summed into one aperture.

:func:`psf_stars` picks the stars to build from, :func:`build_psf` builds the model, and
:func:`psf_photometry` fits it (photutils' ``PSFPhotometry``) with a local sky per star.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
from astropy.table import Table

from ccdlab import validate
from ccdlab.errors import PhotometryError
from ccdlab.sources import positions_of

__all__ = ["DEFAULT_PSF_SIZE", "psf_stars", "build_psf", "psf_photometry"]

#: Side of the stamps the ePSF is built from (pixels): about six times the FWHM.
DEFAULT_PSF_SIZE = 21

_image = functools.partial(validate.image, error=PhotometryError, need_finite=True,
                           hint="Pass one calibrated frame (a 2-D array), e.g. read_frame(path)[0].")


def psf_stars(stars: Table, size: int = DEFAULT_PSF_SIZE, max_stars: int = 40, min_peak: float = 20.0) -> Table:
    """The stars to build a PSF from: the brightest clean ones with no detected neighbour in their stamp.

    Parameters
    ----------
    stars : astropy.table.Table
        Detections with ``x``, ``y`` and ``flux`` (and ``clean``), e.g.
        :func:`ccdlab.sources.detect_stars`, brightest first.
    size : int
        The stamp's side (pixels): a neighbour within ``size`` pixels disqualifies a star.
    max_stars : int
        How many to keep at most.
    min_peak : float
        Only stars whose peak is this many sky sigmas high (``peak`` over the table's
        ``meta["sky_rms"]``, when both are there): a faint star adds more noise than shape.

    Returns
    -------
    astropy.table.Table
        The chosen rows (``x``, ``y`` and the rest), brightest first.

    Examples
    --------
    >>> stars = Table({"x": [20.0, 24.0, 80.0], "y": [20.0, 22.0, 80.0], "flux": [9.0, 5.0, 3.0]})
    >>> psf_stars(stars)["x"].tolist()
    [80.0]
    """
    xy = positions_of(stars)
    keep = np.asarray(stars["clean"], bool) if "clean" in stars.colnames else np.ones(len(xy), bool)
    noise = stars.meta.get("sky_rms") if hasattr(stars, "meta") else None
    if noise and "peak" in stars.colnames:
        keep &= np.asarray(stars["peak"], float) >= min_peak * float(noise)
    if len(xy) > 1:
        from scipy.spatial import cKDTree

        distance, _ = cKDTree(xy).query(xy, k=2)
        keep &= distance[:, 1] > size
    chosen = stars[keep]
    if "flux" in chosen.colnames:
        chosen = chosen[np.argsort(-np.asarray(chosen["flux"], float), kind="stable")]
    return chosen[: int(max_stars)]


def build_psf(data, stars, background=None, size: int = DEFAULT_PSF_SIZE, oversampling: int = 2,
              maxiters: int = 5):
    """Build an effective PSF from bright isolated stars of the frame (photutils' EPSFBuilder).

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU).
    stars : table or array-like
        The stars to build from (at least 3), e.g. :func:`psf_stars`.
    background : ccdlab.background.Background, optional
        The sky, subtracted first (the model must be of the star alone); estimated when not given.
    size : int
        Stamp side, pixels (odd).
    oversampling : int
        The model's grid is this many times finer than the pixels.
    maxiters : int
        Iterations of the builder (recentre, average, smooth).

    Returns
    -------
    photutils.psf.ImagePSF
        The model, normalised to a total flux of 1: a fitted ``flux`` is the star's flux within
        the stamp (~99 % of all its light for the course's stars).

    Raises
    ------
    PhotometryError
        Fewer than 3 stars whose stamps lie inside the frame, or a bad size.

    Examples
    --------
    >>> from ccdlab.data.simulate.sky import add_stars
    >>> rng = np.random.default_rng(4)
    >>> image = rng.normal(100.0, 3.0, (160, 160)).astype(np.float32)
    >>> xs, ys = [30.3, 80.6, 130.1, 40.8, 120.4], [30.7, 50.2, 35.9, 120.5, 110.3]
    >>> _ = add_stars(image, xs, ys, [5e4] * 5, fwhm=3.5)
    >>> psf = build_psf(image, list(zip(xs, ys)))
    >>> round(float(psf.data.sum() / psf.oversampling[0] ** 2), 2)
    1.0
    """
    from astropy.nddata import NDData
    from photutils.psf import EPSFBuilder, extract_stars

    from ccdlab.background import estimate_background

    data = _image(data)
    xy = positions_of(stars)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 5 or size % 2 == 0:
        raise PhotometryError(f"size must be an odd whole number of pixels, at least 5 (e.g. 21); got {size!r}.")
    background = estimate_background(data) if background is None else background
    sub = background.subtract(data)
    half = size // 2
    ny, nx = data.shape
    inside = (xy[:, 0] >= half) & (xy[:, 0] < nx - half - 1) & (xy[:, 1] >= half) & (xy[:, 1] < ny - half - 1)
    xy = xy[inside]
    if len(xy):
        ix, iy = np.round(xy[:, 0]).astype(int), np.round(xy[:, 1]).astype(int)
        finite = np.array([np.isfinite(sub[j - half: j + half + 1, i - half: i + half + 1]).all() for i, j in zip(ix, iy)])
        xy = xy[finite]
    if len(xy) < 3:
        raise PhotometryError(
            f"Only {len(xy)} star(s) with a whole {size} x {size} stamp of data: a PSF needs at least 3 bright "
            "isolated stars (lower the detection threshold, or a smaller size).")
    cutouts = extract_stars(NDData(np.where(np.isfinite(sub), sub, 0.0).astype(float)),
                            Table({"x": xy[:, 0], "y": xy[:, 1]}), size=size)
    builder = EPSFBuilder(oversampling=int(oversampling), maxiters=int(maxiters), progress_bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes from the builder
        result = builder(cutouts)
    return result[0]


def psf_photometry(data, psf, positions, background=None, fit_shape: int = 7, gain: float = 1.6,
                   readnoise: float = 14.0, annulus=(10.0, 15.0)) -> Table:
    """Fit the PSF to stars at the given positions: their fluxes, uncertainties and refined positions.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU), sky still in it.
    psf : photutils model
        The PSF, e.g. :func:`build_psf`.
    positions : table or array-like
        First guesses of the positions, e.g. :func:`ccdlab.sources.detect_stars`.
    background : ccdlab.background.Background, optional
        The sky, subtracted before fitting (estimated when not given); the per-pixel errors follow
        the CCD equation from the sky and the stars.
    fit_shape : int
        Side of the box fitted around each star (odd, pixels): the core, where the S/N is.
    gain, readnoise : float
        Electrons per ADU and read noise (electrons), for the pixels' errors.
    annulus : (float, float) or None
        Each star's own sky, what is left of it after ``background``: the median of this annulus
        (pixels), as for apertures. It takes out a bright neighbour's wings. None: the
        background map alone.

    Returns
    -------
    astropy.table.Table
        One row per position, in order: ``x``, ``y`` (fitted), ``flux``, ``flux_err`` (ADU),
        ``snr``, ``qfit`` (fit quality: 0 is perfect) and ``flags`` (photutils' flags; 0 is clean).
        A position whose fit failed, or ran more than half the fit box away, keeps its first
        position and has NaN flux.

    Raises
    ------
    PhotometryError
        Bad positions or fit_shape.

    Examples
    --------
    >>> from ccdlab.data.simulate.sky import add_stars
    >>> rng = np.random.default_rng(4)
    >>> image = rng.normal(100.0, 3.0, (160, 160)).astype(np.float32)
    >>> xs, ys = [30.3, 80.6, 130.1, 40.8, 120.4], [30.7, 50.2, 35.9, 120.5, 110.3]
    >>> _ = add_stars(image, xs, ys, [5e4] * 5, fwhm=3.5)
    >>> psf = build_psf(image, list(zip(xs, ys)))
    >>> table = psf_photometry(image, psf, [(80.0, 50.0)], gain=1.0, readnoise=3.0)
    >>> round(float(table["x"][0]), 1), round(float(table["flux"][0]) / 5e4, 2)
    (80.6, 0.99)
    """
    from photutils.psf import PSFPhotometry

    from ccdlab.background import estimate_background

    data = _image(data)
    xy = positions_of(positions)
    if isinstance(fit_shape, bool) or not isinstance(fit_shape, (int, np.integer)) or fit_shape < 3 or fit_shape % 2 == 0:
        raise PhotometryError(f"fit_shape must be an odd whole number of pixels, at least 3 (e.g. 7); got {fit_shape!r}.")
    gain = validate.positive(gain, "gain", "electrons per ADU", error=PhotometryError)
    readnoise = validate.positive(readnoise, "readnoise", "electrons", error=PhotometryError, allow_zero=True)
    columns = ("x", "y", "flux", "flux_err", "snr", "qfit", "flags")
    if len(xy) == 0:
        return Table({name: np.zeros(0, int if name == "flags" else float) for name in columns})
    background = estimate_background(data) if background is None else background
    bad = ~np.isfinite(data)
    sub = np.where(bad, 0.0, background.subtract(data)).astype(float)
    electrons = np.clip(np.where(bad, 0.0, data), 0.0, None) * gain
    error = np.sqrt(electrons + readnoise ** 2) / gain
    ny, nx = data.shape
    half = fit_shape // 2
    inside = (xy[:, 0] >= half) & (xy[:, 0] <= nx - 1 - half) & (xy[:, 1] >= half) & (xy[:, 1] <= ny - 1 - half)
    guess = Table({"x": xy[inside, 0], "y": xy[inside, 1]})
    from photutils.aperture import CircularAperture, aperture_photometry

    radius = max(2.0, half + 0.5)
    guess["flux"] = np.asarray(aperture_photometry(sub, CircularAperture(xy[inside], r=radius))["aperture_sum"], float)
    local = None
    if annulus is not None:
        from photutils.background import LocalBackground

        local = LocalBackground(float(annulus[0]), float(annulus[1]))
    photometry = PSFPhotometry(psf, fit_shape=int(fit_shape), aperture_radius=radius, local_bkg_estimator=local)
    out = {name: np.full(len(xy), np.nan) for name in columns}
    out["flags"] = np.zeros(len(xy), int)
    out["x"], out["y"] = xy[:, 0].copy(), xy[:, 1].copy()
    if len(guess):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "fit may not have converged": in the flags column
            found = photometry(sub, mask=bad if bad.any() else None, error=error, init_params=guess)
        rows = np.flatnonzero(inside)
        out["x"][rows] = np.asarray(found["x_fit"], float)
        out["y"][rows] = np.asarray(found["y_fit"], float)
        out["flux"][rows] = np.asarray(found["flux_fit"], float)
        out["flux_err"][rows] = np.asarray(found["flux_err"], float) if "flux_err" in found.colnames else np.nan
        out["qfit"][rows] = np.asarray(found["qfit"], float)
        out["flags"][rows] = np.asarray(found["flags"], int)
    out["flags"][~inside] = -1
    with np.errstate(invalid="ignore", divide="ignore"):
        out["snr"] = out["flux"] / out["flux_err"]
    with np.errstate(invalid="ignore"):
        far = ~(np.hypot(out["x"] - xy[:, 0], out["y"] - xy[:, 1]) <= max(2.0, half))  # ran off, or failed
    out["flux"][far] = np.nan
    out["x"][far], out["y"][far] = xy[far, 0], xy[far, 1]
    return Table(out, meta={"fit_shape": int(fit_shape), "gain": gain, "readnoise": readnoise})

"""Aperture photometry with a local sky annulus, per-star uncertainties, and the aperture correction.

A star's flux is the sum of the pixels in a circle around it minus the sky under it. The sky is
measured right there, in an annulus around the circle (a sigma-clipped median, so a neighbour in
the annulus is ignored), because it changes across the field: a global sky level would leave
every star's flux off by the local difference times the aperture's area, which for a faint star
is more than its own light. The uncertainty follows the CCD equation, in electrons::

    sigma^2 = F + A (1 + (pi/2) A / A_sky) (B + RN^2)

with ``F`` the star's electrons, ``A`` the aperture's pixels, ``B`` the sky's electrons per pixel,
``RN`` the read noise, and ``(pi/2) A / A_sky`` the uncertainty of the annulus's median.

An aperture never holds all of a star's light: the seeing spreads it into wings that a 6-pixel
circle misses (8 % for the course's stars). :func:`aperture_correction` measures that loss on
bright isolated stars, with a much larger aperture, so magnitudes can be made total and compared
with a catalogue's, whatever aperture was used.
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

__all__ = ["DEFAULT_RADIUS", "DEFAULT_ANNULUS", "SKY_MEDIAN_FACTOR", "measure_apertures", "aperture_correction"]

#: Aperture radius in pixels: about 1.7 times the FWHM of the course's stars (3.3-3.9 pixels).
DEFAULT_RADIUS = 6.0
#: Inner and outer radius of the sky annulus, pixels.
DEFAULT_ANNULUS = (10.0, 15.0)
#: Variance of the median of many Gaussian values over that of their mean (the annulus's median).
SKY_MEDIAN_FACTOR = math.pi / 2.0

_image = functools.partial(validate.image, error=PhotometryError, need_finite=True,
                           hint="Pass one calibrated frame (a 2-D array), e.g. read_frame(path)[0].")


def _radii(radius, annulus) -> tuple[float, float, float]:
    try:
        radius = float(radius)
        r_in, r_out = (float(r) for r in annulus)
    except (TypeError, ValueError):
        raise PhotometryError(
            f"radius must be a number and annulus a pair (r_in, r_out) of pixels; got {radius!r} and {annulus!r}."
        ) from None
    if not (0 < radius <= r_in < r_out) or not math.isfinite(r_out):
        raise PhotometryError(
            f"Need 0 < radius <= r_in < r_out (pixels) so the sky annulus lies outside the star's aperture; got "
            f"radius={radius}, annulus=({r_in}, {r_out}).")
    return radius, r_in, r_out


def measure_apertures(data, positions, radius: float = DEFAULT_RADIUS, annulus=DEFAULT_ANNULUS,
                      gain: float = 1.6, readnoise: float = 14.0, sky_clip: float | None = 3.0) -> Table:
    """Measure stars in circular apertures, each with its own sky from an annulus, and their uncertainties.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame in ADU, with its sky still in it (the sky's photon noise is computed
        from its level), NaN where there is no data.
    positions : table or array-like
        ``(x, y)`` pixel pairs, or a table with ``x``/``y`` columns (e.g. from
        :func:`ccdlab.sources.detect_stars`).
    radius : float
        Aperture radius, pixels.
    annulus : (float, float)
        Inner and outer radius of the sky annulus, pixels.
    gain : float
        Electrons per ADU.
    readnoise : float
        Read noise, electrons.
    sky_clip : float or None
        The annulus's median is taken after clipping at this many standard deviations (None: the
        plain median).

    Returns
    -------
    astropy.table.Table
        One row per position: ``x``, ``y``, ``flux`` (sky-subtracted sum, ADU), ``flux_err`` (ADU),
        ``snr``, ``sky`` (per pixel, ADU), ``area`` (pixels) and ``crowded`` (another of the
        positions lies within the annulus's outer radius: its light may be in the aperture or the
        sky). Flux is NaN where the aperture runs off the frame or over NaN pixels, or the annulus
        holds too little sky. ``meta`` records the parameters.

    Raises
    ------
    PhotometryError
        Not an image, bad positions, radii, gain or read noise.

    Examples
    --------
    >>> image = np.full((60, 60), 100.0)
    >>> image[30, 30] += 10000.0  # a (very sharp) star of 10,000 ADU on a sky of 100 ADU
    >>> row = measure_apertures(image, [(30, 30)], radius=3, annulus=(6, 9), gain=1.0, readnoise=0.0)[0]
    >>> round(float(row["flux"])), round(float(row["sky"])), round(float(row["snr"]), 1)
    (10000, 100, 85.4)
    """
    from astropy.stats import SigmaClip
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry

    data = _image(data)
    xy = positions_of(positions)
    radius, r_in, r_out = _radii(radius, annulus)
    gain = validate.positive(gain, "gain", "electrons per ADU", error=PhotometryError)
    readnoise = validate.positive(readnoise, "readnoise", "electrons", error=PhotometryError, allow_zero=True)
    columns = ("x", "y", "flux", "flux_err", "snr", "sky", "area", "crowded")
    meta = {"radius": radius, "annulus": (r_in, r_out), "gain": gain, "readnoise": readnoise, "sky_clip": sky_clip}
    if len(xy) == 0:
        return Table({name: np.zeros(0) for name in columns}, meta=meta)
    bad = ~np.isfinite(data)
    clean = np.where(bad, 0.0, data)
    aperture = CircularAperture(xy, r=radius)
    sky_ring = CircularAnnulus(xy, r_in=r_in, r_out=r_out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # apertures partly off the frame: flagged below
        total = np.asarray(aperture_photometry(clean, aperture)["aperture_sum"], dtype=float)
        lost = np.asarray(aperture_photometry(bad.astype(float), aperture)["aperture_sum"], dtype=float)
        clip = SigmaClip(sigma=float(sky_clip), maxiters=10) if sky_clip else None
        ring = ApertureStats(clean, sky_ring, mask=bad, sigma_clip=clip)
        sky = np.atleast_1d(np.asarray(ring.median, dtype=float))
        sky_pixels = np.atleast_1d(np.asarray(ring.sum_aper_area.value, dtype=float))
    area = math.pi * radius ** 2
    ny, nx = data.shape
    inside = (xy[:, 0] - radius >= -0.5) & (xy[:, 0] + radius <= nx - 0.5) & \
             (xy[:, 1] - radius >= -0.5) & (xy[:, 1] + radius <= ny - 0.5)
    ok = inside & (lost < 1e-6) & np.isfinite(sky) & (sky_pixels >= 0.5 * math.pi * (r_out ** 2 - r_in ** 2))
    flux = np.where(ok, total - area * sky, np.nan)
    source_e = np.clip(flux, 0.0, None) * gain
    sky_e = np.clip(sky, 0.0, None) * gain
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = source_e + area * (1.0 + SKY_MEDIAN_FACTOR * area / sky_pixels) * (sky_e + readnoise ** 2)
        flux_err = np.where(ok, np.sqrt(variance) / gain, np.nan)
        snr = flux / flux_err
    crowded = np.zeros(len(xy), bool)
    if len(xy) > 1:
        from scipy.spatial import cKDTree

        distance, _ = cKDTree(xy).query(xy, k=2)
        crowded = distance[:, 1] <= r_out
    return Table({"x": xy[:, 0], "y": xy[:, 1], "flux": flux, "flux_err": flux_err, "snr": snr,
                  "sky": np.where(ok, sky, np.nan), "area": np.full(len(xy), area), "crowded": crowded}, meta=meta)


def aperture_correction(data, stars, radius: float = DEFAULT_RADIUS, large_radius: float | None = None,
                        min_snr: float = 50.0, max_stars: int = 50, gain: float = 1.6,
                        readnoise: float = 14.0) -> tuple[float, float, int]:
    """Measure how many magnitudes an aperture loses to the stars' wings, on bright isolated stars.

    The correction is ``-2.5 log10(F_large / F_radius)`` (a negative number): add it to an
    instrumental magnitude measured in ``radius`` to get the star's total magnitude. It is the
    sigma-clipped median over clean stars (unsaturated, away from edges) with S/N above
    ``min_snr`` and no other star within the large aperture's sky annulus.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU).
    stars : table or array-like
        The frame's stars, brightest first (e.g. :func:`ccdlab.sources.detect_stars`; its ``clean``
        column is used when present). Every star counts when judging isolation.
    radius : float
        The aperture to correct, pixels.
    large_radius : float, optional
        The aperture that holds (nearly) all the light; default 2.5 times ``radius`` (larger ones
        gain little light and much noise, and meet neighbours). Its sky annulus runs from
        ``large_radius + 4`` to ``large_radius + 12``.
    min_snr, max_stars : float, int
        Which stars to use: at least this S/N in ``radius``, at most this many (brightest first).
    gain, readnoise : float
        For the S/N.

    Returns
    -------
    (float, float, int)
        The correction (mag), its uncertainty (mag) and the number of stars used.

    Raises
    ------
    PhotometryError
        No bright isolated star to measure it on.

    Examples
    --------
    >>> from ccdlab.data.simulate.sky import add_stars
    >>> image = np.full((200, 200), 100.0, dtype=np.float32)
    >>> _ = add_stars(image, [60.0, 140.0, 100.0], [60.0, 140.0, 150.0], [2e5, 2e5, 2e5], fwhm=3.5)
    >>> correction, error, n = aperture_correction(image, [(60, 60), (140, 140), (100, 150)], radius=6.0)
    >>> round(correction, 3), n     # 2.5 log10(0.939 / 0.995): 6.1 % beyond 6 px, 0.5 % beyond 15
    (-0.066, 3)
    """
    from astropy.stats import sigma_clipped_stats

    data = _image(data)
    xy = positions_of(stars)
    radius = validate.positive(radius, "radius", "pixels", error=PhotometryError)
    large = 2.5 * radius if large_radius is None else float(large_radius)
    if not large > radius:
        raise PhotometryError(f"large_radius ({large}) must be larger than radius ({radius}).")
    annulus = (large + 4.0, large + 12.0)
    clean = np.asarray(stars["clean"], bool) if isinstance(stars, Table) and "clean" in stars.colnames \
        else np.ones(len(xy), bool)
    if len(xy) > 1:
        from scipy.spatial import cKDTree

        distance, _ = cKDTree(xy).query(xy, k=2)
        clean &= distance[:, 1] > annulus[1]
    candidates = np.flatnonzero(clean)[: 3 * int(max_stars)]  # the stars come brightest first
    if candidates.size == 0:
        raise PhotometryError("No isolated clean star to measure the aperture correction on: pass "
                              "large_radius smaller, or use a frame with more stars.")
    small = measure_apertures(data, xy[candidates], radius, (large + 4.0, large + 12.0), gain, readnoise)
    big = measure_apertures(data, xy[candidates], large, annulus, gain, readnoise)
    f_small, f_big = np.asarray(small["flux"]), np.asarray(big["flux"])
    good = np.isfinite(f_small) & np.isfinite(f_big) & (np.asarray(small["snr"]) >= min_snr) & (f_big > 0) & (f_small > 0)
    order = np.argsort(-np.where(good, f_small, -np.inf))[: int(max_stars)]
    order = order[good[order]]
    if order.size == 0:
        raise PhotometryError(
            f"No isolated star has S/N >= {min_snr:g} in a {radius:g}-pixel aperture with room for a "
            f"{large:g}-pixel one: lower min_snr or large_radius.")
    values = -2.5 * np.log10(f_big[order] / f_small[order])
    if values.size == 1:
        return float(values[0]), float(np.asarray(big["flux_err"])[order][0] / f_big[order][0] * 1.0857), 1
    _, median, std = sigma_clipped_stats(values, sigma=3.0, maxiters=10)
    return float(median), float(1.2533 * std / math.sqrt(values.size)), int(values.size)

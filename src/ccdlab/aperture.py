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
from ccdlab.sources import positions_of, within

__all__ = ["DEFAULT_RADIUS", "DEFAULT_ANNULUS", "SKY_MEDIAN_FACTOR", "measure_apertures", "aperture_correction",
           "empty_sky_noise"]

#: Aperture radius in pixels: about 1.7 times the FWHM of the course's stars (3.3-3.9 pixels).
DEFAULT_RADIUS = 6.0
#: Inner and outer radius of the sky annulus, pixels.
DEFAULT_ANNULUS = (10.0, 15.0)
#: Variance of the median of many Gaussian values over that of their mean (the annulus's median).
SKY_MEDIAN_FACTOR = math.pi / 2.0

_image = functools.partial(validate.image, error=PhotometryError, need_finite=True,
                           hint="Pass one calibrated frame (a 2-D array), e.g. read_frame(path)[0].")


_radii = functools.partial(validate.aperture_radii, error=PhotometryError)


def _annulus_median(image: np.ndarray, xy: np.ndarray, r_in: float, r_out: float, clip: float | None):
    """Per position: the (sigma-clipped) median of the pixels whose centres lie in the annulus, and their number.

    NaN pixels do not count. All annuli at once, as one array of cutouts: photutils' ApertureStats
    does the same one aperture at a time, ten times slower for hundreds of stars.
    """
    reach = int(math.ceil(r_out)) + 1
    padded = np.pad(np.asarray(image, dtype=np.float32), reach, constant_values=np.nan)
    offsets = np.arange(-reach, reach + 1)
    ix = np.round(xy[:, 0]).astype(int)
    iy = np.round(xy[:, 1]).astype(int)
    rows = (iy + reach)[:, None, None] + offsets[None, :, None]
    cols = (ix + reach)[:, None, None] + offsets[None, None, :]
    rows = np.clip(rows, 0, padded.shape[0] - 1)
    cols = np.clip(cols, 0, padded.shape[1] - 1)
    cut = padded[rows, cols]
    dy = (iy[:, None, None] + offsets[None, :, None]) - xy[:, 1][:, None, None]
    dx = (ix[:, None, None] + offsets[None, None, :]) - xy[:, 0][:, None, None]
    distance = np.hypot(dx, dy)
    values = np.where((distance >= r_in) & (distance <= r_out), cut, np.nan).reshape(len(xy), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an annulus all NaN: NaN
        if clip:
            for _ in range(10):
                center = np.nanmedian(values, axis=1)
                spread = np.nanstd(values, axis=1)
                out = np.abs(values - center[:, None]) > clip * spread[:, None]
                if not out.any():
                    break
                values = np.where(out, np.nan, values)
        return np.nanmedian(values, axis=1), np.sum(np.isfinite(values), axis=1).astype(float)


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
    from photutils.aperture import CircularAperture, aperture_photometry

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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # apertures partly off the frame: flagged below
        total = np.asarray(aperture_photometry(clean, aperture)["aperture_sum"], dtype=float)
    lost = within(bad, xy, radius + 0.5).astype(float)  # an aperture over NaN pixels
    sky, sky_pixels = _annulus_median(data, xy, r_in, r_out, float(sky_clip) if sky_clip else None)
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
    from photutils.aperture import CircularAperture, aperture_photometry

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
    ny, nx = data.shape
    bad = ~np.isfinite(data)
    clean &= (xy[:, 0] >= annulus[1]) & (xy[:, 0] <= nx - 1 - annulus[1]) & (xy[:, 1] >= annulus[1]) \
        & (xy[:, 1] <= ny - 1 - annulus[1])
    candidates = np.flatnonzero(clean)[: 2 * int(max_stars)]  # the stars come brightest first
    candidates = candidates[~within(bad, xy[candidates], annulus[1])]
    if candidates.size == 0:
        raise PhotometryError("No isolated clean star to measure the aperture correction on: pass "
                              "large_radius smaller, or use a frame with more stars.")
    where = xy[candidates]
    values = np.where(bad, 0.0, data)
    sky, _ = _annulus_median(data, where, annulus[0], annulus[1], 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f_small = np.asarray(aperture_photometry(values, CircularAperture(where, r=radius))["aperture_sum"], float)
        f_big = np.asarray(aperture_photometry(values, CircularAperture(where, r=large))["aperture_sum"], float)
    f_small = f_small - sky * math.pi * radius ** 2
    f_big = f_big - sky * math.pi * large ** 2
    gain = validate.positive(gain, "gain", "electrons per ADU", error=PhotometryError)
    with np.errstate(invalid="ignore", divide="ignore"):
        noise = np.sqrt(np.clip(f_small, 0, None) * gain + math.pi * radius ** 2 * (np.clip(sky, 0, None) * gain
                                                                                    + readnoise ** 2)) / gain
        good = np.isfinite(f_small) & np.isfinite(f_big) & (f_small > 0) & (f_big > 0) & (f_small / noise >= min_snr)
    order = np.flatnonzero(good)[: int(max_stars)]
    if order.size == 0:
        raise PhotometryError(
            f"No isolated star has S/N >= {min_snr:g} in a {radius:g}-pixel aperture with room for a "
            f"{large:g}-pixel one: lower min_snr or large_radius.")
    corrections = -2.5 * np.log10(f_big[order] / f_small[order])
    if corrections.size == 1:
        return float(corrections[0]), float(1.0857 * noise[order][0] / f_small[order][0]), 1
    _, median, std = sigma_clipped_stats(corrections, sigma=3.0, maxiters=10)
    return float(median), float(1.2533 * std / math.sqrt(corrections.size)), int(corrections.size)


def empty_sky_noise(data, stars, radius: float = DEFAULT_RADIUS, annulus=DEFAULT_ANNULUS, n_apertures: int = 400,
                    seed: int = 0, gain: float = 1.6, readnoise: float = 14.0, background=None) -> float:
    """The noise of a sky-subtracted aperture sum on empty sky (ADU): what a 5-sigma limit is 5 times.

    Apertures with their annuli are placed at random, away from the frame's edges, its NaN pixels,
    every star given and any bump 3 sigma above the sky on a lightly smoothed copy (a star too faint
    to be detected), and measured like stars (:func:`measure_apertures`); the answer is the
    sigma-clipped standard deviation of their fluxes. (:func:`ccdlab.photometry.empty_aperture_noise`
    does the same with its own sky estimate.)

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU).
    stars : table or array-like
        The frame's stars (:func:`ccdlab.sources.detect_stars`), kept away from.
    radius, annulus, gain, readnoise
        As for :func:`measure_apertures`.
    n_apertures : int
        How many empty apertures (at least 30).
    seed : int
        Seed of the random placement (repeatable).
    background : ccdlab.background.Background, optional
        The frame's sky, to find faint bumps; estimated when not given.

    Returns
    -------
    float

    Raises
    ------
    PhotometryError
        Fewer than 30 empty places.

    Examples
    --------
    >>> sky = np.random.default_rng(1).normal(100.0, 10.0, (300, 300))
    >>> noise = empty_sky_noise(sky, np.zeros((0, 2)), radius=4.0, annulus=(6.0, 10.0))
    >>> bool(0.85 < noise / (10.0 * np.sqrt(np.pi * 16 * (1 + np.pi / 2 * 16 / 64))) < 1.15)
    True
    """
    from astropy.stats import sigma_clipped_stats
    from scipy.ndimage import gaussian_filter
    from scipy.spatial import cKDTree

    from ccdlab.background import estimate_background

    data = _image(data)
    xy = positions_of(stars)
    radius, r_in, r_out = _radii(radius, annulus)
    background = estimate_background(data) if background is None else background
    if isinstance(n_apertures, bool) or not isinstance(n_apertures, (int, np.integer)) or n_apertures < 30:
        raise PhotometryError(f"n_apertures must be a whole number of at least 30; got {n_apertures!r}.")
    ny, nx = data.shape
    rng = np.random.default_rng(seed)
    places = rng.uniform([r_out, r_out], [nx - 1 - r_out, ny - 1 - r_out], (10 * n_apertures, 2))
    if len(xy):
        distance, _ = cKDTree(xy).query(places)
        places = places[distance > r_out + radius]
    places = places[~within(~np.isfinite(data), places, r_out + 1.0)]
    smooth = gaussian_filter(np.nan_to_num(background.subtract(data), nan=0.0), 1.0)
    sample = smooth[::4, ::4][np.isfinite(data[::4, ::4])]
    bumps = smooth > 3.0 * sigma_clipped_stats(sample, sigma=3.0, maxiters=5)[2]
    places = places[~within(bumps, places, radius + 2.0)][:n_apertures]
    if len(places) < 30:
        raise PhotometryError(f"Too little empty sky for the noise ({len(places)} places): use a smaller annulus.")
    flux = np.asarray(measure_apertures(data, places, radius, (r_in, r_out), gain, readnoise)["flux"], float)
    flux = flux[np.isfinite(flux)]
    if flux.size < 30:
        raise PhotometryError("Too few empty apertures could be measured (NaN around them?).")
    return float(sigma_clipped_stats(flux, sigma=3.0, maxiters=10)[2])

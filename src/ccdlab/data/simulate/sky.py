"""The sky part of the synthetic night: a star field, its point-spread function, and the WCS.

Stars are drawn once per night, in the pixel coordinates of the first science frame (0-based,
numpy convention: ``x`` is the column, ``y`` the row, and a pixel's centre is at an integer), with
magnitudes following the rising number counts of a field at moderate galactic latitude. Each
exposure renders them with a Moffat profile (beta = 3, the shape of a seeing-limited star with its
broad wings) as small stamps added in place, so a frame with thousands of stars costs a fraction of
a second. The telescope's dithers shift the stars by a few pixels between exposures; the WCS of
each frame (a TAN projection as astrometry.net writes it, with a CD matrix) moves with them, so a
star has the same RA and Dec in every frame.
"""

from __future__ import annotations

import math

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from ccdlab.errors import InputError

__all__ = [
    "PIXEL_SCALE",
    "MOFFAT_BETA",
    "moffat_alpha",
    "moffat_peak",
    "star_field",
    "add_stars",
    "sky_background",
    "tan_wcs_header",
    "star_sky_positions",
]

#: Pixel scale of the GROWTH-India Telescope with the iKon-XL camera (arcsec per pixel).
PIXEL_SCALE = 0.676

#: Moffat power index of the simulated stars.
MOFFAT_BETA = 3.0


def moffat_alpha(fwhm: float, beta: float = MOFFAT_BETA) -> float:
    """Return the Moffat core width ``alpha`` (pixels) that gives a star of the given FWHM.

    Parameters
    ----------
    fwhm : float
        Full width at half maximum in pixels; must be positive.
    beta : float
        Moffat power index (> 1).

    Examples
    --------
    >>> round(moffat_alpha(3.5), 3)
    3.433
    """
    if not fwhm > 0 or not beta > 1:
        raise InputError(f"A Moffat star needs fwhm > 0 and beta > 1; got fwhm={fwhm}, beta={beta}.")
    return fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))


def moffat_peak(flux: float, fwhm: float, beta: float = MOFFAT_BETA) -> float:
    """Return the central pixel value of a Moffat star of total ``flux`` (same unit as ``flux``).

    Examples
    --------
    >>> round(moffat_peak(1.0e6, 3.5))
    54031
    """
    alpha = moffat_alpha(fwhm, beta)
    return flux * (beta - 1.0) / (math.pi * alpha * alpha)


def star_field(
    shape: tuple[int, int],
    rng: np.random.Generator,
    density: float = 3.0,
    mag_range: tuple[float, float] = (12.5, 21.5),
    zero_point: float = 29.5,
    n_saturated: int = 2,
    margin: int = 12,
) -> Table:
    """Draw a night's stars: positions, magnitudes and fluxes.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the frames.
    rng : numpy.random.Generator
        The random stream (seeded by the caller).
    density : float
        Stars per square arcminute brighter than the faint end of ``mag_range``.
    mag_range : (float, float)
        Brightest and faintest magnitude; counts rise by a factor 2 per magnitude.
    zero_point : float
        Magnitude of a star that gives 1 electron in one exposure (sets the flux scale; 29.5 is
        a 0.7 m telescope in 180 s).
    n_saturated : int
        Extra bright stars (magnitude 12 to 13.5, which saturate) placed well inside the frame,
        so every size of the night has a few saturated stars to find.
    margin : int
        Stars are also drawn this many pixels beyond the edges (they show partially).

    Returns
    -------
    astropy.table.Table
        Columns ``x``, ``y`` (pixels, 0-based), ``mag`` and ``flux`` (electrons per exposure),
        sorted by ``y`` then ``x``.

    Examples
    --------
    >>> stars = star_field((514, 512), np.random.default_rng(1))
    >>> len(stars) > 50, bool(stars["flux"].max() > 1e6)
    (True, True)
    """
    ny, nx = int(shape[0]), int(shape[1])
    if ny < 8 or nx < 8:
        raise InputError(f"A star field needs frames of at least 8 x 8 pixels; got shape {shape}.")
    bright, faint = float(mag_range[0]), float(mag_range[1])
    if not faint > bright:
        raise InputError(f"mag_range must go from bright to faint, e.g. (11, 19.5); got {mag_range}.")
    area = (ny + 2 * margin) * (nx + 2 * margin) * (PIXEL_SCALE / 60.0) ** 2
    count = int(rng.poisson(density * area))
    # N(<m) proportional to 10**(0.3 m): invert the cumulative distribution.
    slope = 0.3 * math.log(10.0)
    u = rng.random(count)
    lo, hi = math.exp(slope * bright), math.exp(slope * faint)
    mags = np.log(lo + u * (hi - lo)) / slope
    x = rng.uniform(-margin, nx - 1 + margin, count)
    y = rng.uniform(-margin, ny - 1 + margin, count)
    inner = 0.15
    sat_x = rng.uniform(inner * nx, (1 - inner) * nx, n_saturated)
    sat_y = rng.uniform(inner * ny, (1 - inner) * ny, n_saturated)
    sat_m = rng.uniform(12.0, 13.5, n_saturated)
    x = np.concatenate([x, sat_x])
    y = np.concatenate([y, sat_y])
    mags = np.concatenate([mags, sat_m])
    flux = 10.0 ** (-0.4 * (mags - zero_point))
    order = np.lexsort((x, y))
    table = Table(
        {"x": x[order], "y": y[order], "mag": mags[order], "flux": flux[order]},
    )
    table["x"].unit = "pix"
    table["y"].unit = "pix"
    table["mag"].unit = "mag"
    table["flux"].unit = "electron"
    return table


def add_stars(
    image: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    flux: np.ndarray,
    fwhm: float,
    beta: float = MOFFAT_BETA,
) -> np.ndarray:
    """Add Moffat stars to ``image`` in place, each as a small stamp around its position.

    The stamp radius grows with brightness until the wing falls below a third of an electron,
    so faint stars cost little and bright ones keep their wings.

    Parameters
    ----------
    image : numpy.ndarray
        2-D float array (electrons), modified in place.
    x, y : array-like
        Star centres in 0-based pixel coordinates (may lie off the frame).
    flux : array-like
        Total flux of each star (electrons).
    fwhm : float
        Full width at half maximum (pixels).
    beta : float
        Moffat power index.

    Returns
    -------
    numpy.ndarray
        ``image`` itself.

    Examples
    --------
    >>> img = np.zeros((64, 64), dtype=np.float32)
    >>> _ = add_stars(img, [32.0], [30.0], [1.0e5], fwhm=3.5)
    >>> int(np.unravel_index(img.argmax(), img.shape)[0]), round(float(img.sum()) / 1e5, 2)
    (30, 1.0)
    """
    if image.ndim != 2:
        raise InputError(f"add_stars needs a 2-D image; got shape {image.shape}.")
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    flux = np.atleast_1d(np.asarray(flux, dtype=float))
    if not (x.shape == y.shape == flux.shape):
        raise InputError(f"x, y and flux must have the same length; got {x.shape}, {y.shape}, {flux.shape}.")
    ny, nx = image.shape
    alpha = moffat_alpha(fwhm, beta)
    inv_a2 = 1.0 / (alpha * alpha)
    norm = (beta - 1.0) / (math.pi * alpha * alpha)
    for xc, yc, f in zip(x, y, flux):
        peak = f * norm
        if peak <= 0:
            continue
        # radius where peak * (1 + r^2/alpha^2)^-beta = 0.3 electron
        ratio = max(peak / 0.3, 1.0)
        radius = int(math.ceil(alpha * math.sqrt(max(ratio ** (1.0 / beta) - 1.0, 1.0))))
        radius = min(max(radius, 6), 80)
        x0, x1 = int(math.floor(xc)) - radius, int(math.floor(xc)) + radius + 1
        y0, y1 = int(math.floor(yc)) - radius, int(math.floor(yc)) + radius + 1
        cx0, cx1, cy0, cy1 = max(x0, 0), min(x1, nx), max(y0, 0), min(y1, ny)
        if cx0 >= cx1 or cy0 >= cy1:
            continue
        dx = (np.arange(cx0, cx1, dtype=np.float32) - np.float32(xc)) ** 2
        dy = (np.arange(cy0, cy1, dtype=np.float32) - np.float32(yc)) ** 2
        t = 1.0 + (dy[:, None] + dx[None, :]) * np.float32(inv_a2)
        if beta == 3.0:
            stamp = np.float32(peak) / (t * t * t)
        else:
            stamp = np.float32(peak) * t ** np.float32(-beta)
        image[cy0:cy1, cx0:cx1] += stamp
    return image


def sky_background(shape: tuple[int, int], level: float, gradient: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Return a sky frame (float32): ``level`` with a gentle linear gradient (moonlight, twilight).

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    level : float
        Sky level at the frame centre (electrons per pixel).
    gradient : (float, float)
        Fractional change across the full width in x and in y, e.g. ``(0.03, -0.02)``.

    Examples
    --------
    >>> sky = sky_background((4, 4), 500.0, (0.1, 0.0))
    >>> sky.dtype, float(sky[0, -1]) > float(sky[0, 0])
    (dtype('float32'), True)
    """
    ny, nx = int(shape[0]), int(shape[1])
    if ny < 1 or nx < 1:
        raise InputError(f"A sky frame needs a positive shape; got {shape}.")
    gx = (np.arange(nx, dtype=np.float32) / max(nx - 1, 1) - 0.5) * np.float32(gradient[0])
    gy = (np.arange(ny, dtype=np.float32) / max(ny - 1, 1) - 0.5) * np.float32(gradient[1])
    return np.float32(level) * (1.0 + gy[:, None] + gx[None, :])


def tan_wcs_header(
    shape: tuple[int, int],
    ra: float,
    dec: float,
    scale: float = PIXEL_SCALE,
    rotation: float = 0.0,
    shift: tuple[float, float] = (0.0, 0.0),
) -> fits.Header:
    """Return an astrometry.net-style TAN WCS header for a frame (CD matrix, no distortion).

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the frame.
    ra, dec : float
        Sky position (degrees) of the frame centre of the undithered pointing.
    scale : float
        Pixel scale (arcsec per pixel).
    rotation : float
        Position angle of the y axis east of north (degrees); east is to the left (-x).
    shift : (float, float)
        Dither of this frame: how many pixels ``(dx, dy)`` the stars moved from the first frame.

    Returns
    -------
    astropy.io.fits.Header
        Cards ``WCSAXES``, ``CTYPE1/2``, ``EQUINOX``, ``CRVAL1/2``, ``CRPIX1/2``, ``CUNIT1/2``,
        ``CD1_1`` ... ``CD2_2``, ``IMAGEW``, ``IMAGEH``.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(tan_wcs_header((514, 512), 339.75, 33.9))
    >>> [round(float(v), 4) for v in w.pixel_to_world_values(255.5, 256.5)]
    [339.75, 33.9]
    """
    ny, nx = int(shape[0]), int(shape[1])
    if not (-90.0 <= dec <= 90.0):
        raise InputError(f"Declination must be within -90..90 degrees; got {dec}.")
    if not scale > 0:
        raise InputError(f"The pixel scale must be positive; got {scale}.")
    s = scale / 3600.0
    theta = math.radians(rotation)
    header = fits.Header()
    header["WCSAXES"] = (2, "no. of axes in WCS")
    header["CTYPE1"] = ("RA---TAN", "TAN (gnomic) projection")
    header["CTYPE2"] = ("DEC--TAN", "TAN (gnomic) projection")
    header["EQUINOX"] = (2000.0, "Equatorial coordinates definition (yr)")
    header["LONPOLE"] = (180.0, "no comment")
    header["LATPOLE"] = (0.0, "no comment")
    header["CRVAL1"] = (float(ra % 360.0), "RA  of reference point")
    header["CRVAL2"] = (float(dec), "DEC of reference point")
    # FITS pixels are 1-based: the centre of a 0-based frame of width nx is at (nx - 1) / 2 + 1.
    header["CRPIX1"] = ((nx - 1) / 2.0 + 1.0 + float(shift[0]), "X reference pixel")
    header["CRPIX2"] = ((ny - 1) / 2.0 + 1.0 + float(shift[1]), "Y reference pixel")
    header["CUNIT1"] = ("deg", "X pixel scale units")
    header["CUNIT2"] = ("deg", "Y pixel scale units")
    header["CD1_1"] = (-s * math.cos(theta), "Transformation matrix")
    header["CD1_2"] = (s * math.sin(theta), "no comment")
    header["CD2_1"] = (s * math.sin(theta), "no comment")
    header["CD2_2"] = (s * math.cos(theta), "no comment")
    header["IMAGEW"] = (nx, "Image width,  in pixels.")
    header["IMAGEH"] = (ny, "Image height, in pixels.")
    return header


def star_sky_positions(stars: Table, header: fits.Header) -> tuple[np.ndarray, np.ndarray]:
    """Return the RA and Dec (degrees) of stars at pixel ``x``, ``y`` of the frame with ``header``.

    Examples
    --------
    >>> t = Table({"x": [255.5], "y": [256.5]})
    >>> ra, dec = star_sky_positions(t, tan_wcs_header((514, 512), 339.75, 33.9))
    >>> round(float(ra[0]), 4), round(float(dec[0]), 4)
    (339.75, 33.9)
    """
    wcs = WCS(header)
    ra, dec = wcs.pixel_to_world_values(np.asarray(stars["x"], float), np.asarray(stars["y"], float))
    return np.asarray(ra, float), np.asarray(dec, float)

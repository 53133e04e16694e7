"""A small synthetic star field for the photometry and astrometry unit tests (no data folder needed)."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from astropy.wcs import WCS

from ccdlab.data.simulate.sky import add_stars

SHAPE = (300, 320)
GAIN, READNOISE, SKY_E, EXPTIME, ZP_E = 1.6, 14.0, 1500.0, 100.0, 28.0   # ZP_E: mag of 1 e- in EXPTIME


def wcs_for(shape=SHAPE, ra=150.0, dec=30.0, scale=0.676, rotation=20.0, mirrored=False) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [ra, dec]
    w.wcs.crpix = [(shape[1] - 1) / 2 + 1, (shape[0] - 1) / 2 + 1]
    s, t = scale / 3600.0, np.radians(rotation)
    cd = np.array([[-s * np.cos(t), s * np.sin(t)], [s * np.sin(t), s * np.cos(t)]])
    if mirrored:
        cd[:, 0] *= -1
    w.wcs.cd = cd
    return w


def scene(seed: int = 1, n: int = 60, fwhm: float = 3.5, shape=SHAPE, with_sky_stars: int = 400):
    """(image in ADU with sky, stars table with x, y, mag, flux_adu, ra, dec, catalog table)."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    mags = rng.uniform(14.0, 20.5, n)
    x, y = rng.uniform(5, nx - 6, n), rng.uniform(5, ny - 6, n)
    flux_e = 10 ** (-0.4 * (mags - ZP_E))
    image = np.full(shape, SKY_E, dtype=np.float32)
    add_stars(image, x, y, flux_e, fwhm)
    image = rng.normal(image, np.sqrt(image + READNOISE ** 2)).astype(np.float32) / GAIN
    wcs = wcs_for(shape)
    ra, dec = wcs.all_pix2world(x, y, 0)
    stars = Table({"x": x, "y": y, "mag": mags, "flux_adu": flux_e / GAIN, "ra": ra, "dec": dec})
    # a catalogue of the stars plus others around the field
    extra = rng.uniform(-600, 900, (with_sky_stars, 2))
    ex_ra, ex_dec = wcs.all_pix2world(extra[:, 0], extra[:, 1], 0)
    outside = (extra[:, 0] < -10) | (extra[:, 0] > nx + 10) | (extra[:, 1] < -10) | (extra[:, 1] > ny + 10)
    catalog = Table({"ra": np.concatenate([ra, ex_ra[outside]]), "dec": np.concatenate([dec, ex_dec[outside]]),
                     "mag": np.concatenate([mags + rng.normal(0, 0.01, n), rng.uniform(14, 20.5, outside.sum())])})
    catalog["mag_err"] = 0.01
    return image, stars, catalog


#: m = ZP - 2.5 log10(F_ADU / t)  <=>  ZP = ZP_E - 2.5 log10(GAIN * EXPTIME)
ZERO_POINT = ZP_E - 2.5 * np.log10(GAIN * EXPTIME)

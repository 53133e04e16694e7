"""A tiny generator of CCD frames with known truth, for the reduction tests.

Everything is small (256 x 256 by default) and seeded, so tests are fast and repeatable. The
camera is the course's: gain 1.6 e-/ADU, read noise 14 e-, bias ~270 ADU, frames stored as uint16
(BITPIX 16, BZERO 32768) with RTS2-like headers (IMAGETYP 'dark' and EXPTIME 0.001 on a bias, a
junk GAIN card).

Truth: the flat field (circular vignetting falling to ~0.3 in the corners, dust donuts, one dark
column), the bias level, the position of every star and every cosmic-ray pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

GAIN = 1.6  # e-/ADU
READNOISE = 14.0  # e-
BIAS_LEVEL = 270.0  # ADU
SATLEVEL = 96000.0  # e-
SHAPE = (256, 256)  # (ny, nx)
JUNK_GAIN = -9.1e-36


def vignetting(shape=SHAPE) -> np.ndarray:
    """Relative illumination: 1 inside 55% of the half-diagonal, falling to 0.3 in the corners."""
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    r = np.hypot((x - (nx - 1) / 2) / ((nx - 1) / 2), (y - (ny - 1) / 2) / ((ny - 1) / 2)) / np.sqrt(2)
    return 1.0 - 0.7 * np.clip((r - 0.55) / 0.45, 0.0, 1.0) ** 2


def unvignetted(shape=SHAPE) -> np.ndarray:
    """True inside the fully illuminated field (relative illumination exactly 1)."""
    return vignetting(shape) >= 1.0


def bad_column(shape=SHAPE) -> int:
    """The dark column, at the place x ~ 700 of 4096 has on the real camera."""
    return int(round(shape[1] * 700 / 4096))


def true_flat(shape=SHAPE, seed: int = 7) -> np.ndarray:
    """The known flat: vignetting x pixel response x dust donuts x a dark column, median 1 in the centre."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    flat = vignetting(shape) * (1.0 + 0.01 * rng.standard_normal(shape))  # 1% pixel-to-pixel response
    y, x = np.mgrid[0:ny, 0:nx]
    for cx, cy, radius in ((0.35 * nx, 0.40 * ny, 0.05 * nx), (0.62 * nx, 0.58 * ny, 0.04 * nx)):
        d = np.hypot(x - cx, y - cy)
        flat *= 1.0 - 0.04 * np.exp(-0.5 * ((d - radius) / 1.5) ** 2)  # a dust donut: a 4% dark ring
    flat[:, bad_column(shape)] *= 0.5
    centre = flat[ny // 4 : 3 * ny // 4, nx // 4 : 3 * nx // 4]
    return (flat / np.median(centre)).astype(np.float64)


def _to_adu(electrons: np.ndarray, rng) -> np.ndarray:
    adu = BIAS_LEVEL + (electrons + rng.normal(0.0, READNOISE, electrons.shape)) / GAIN
    return np.clip(np.round(adu), 0, 65535).astype(np.uint16)


def bias_frame(rng, shape=SHAPE) -> np.ndarray:
    """A raw bias: 270 ADU plus read noise, uint16."""
    return _to_adu(np.zeros(shape), rng)


def flat_frame(rng, flat: np.ndarray, level_adu: float) -> np.ndarray:
    """A raw twilight flat: ``level_adu`` above bias in the centre, with photon and read noise."""
    electrons = rng.poisson(level_adu * GAIN * flat).astype(np.float64)
    return _to_adu(electrons, rng)


def star_image(shape, stars, fwhm: float = 3.5) -> np.ndarray:
    """Gaussian stars: ``stars`` is a list of (x, y, total electrons)."""
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx]
    sigma = fwhm / 2.3548
    image = np.zeros(shape)
    for sx, sy, flux in stars:
        image += flux / (2 * np.pi * sigma**2) * np.exp(-0.5 * ((x - sx) ** 2 + (y - sy) ** 2) / sigma**2)
    return image


def random_stars(rng, shape=SHAPE, n: int = 12, margin: int = 12):
    """``n`` stars of 5,000-300,000 e- total, away from the edges."""
    ny, nx = shape
    xs = rng.uniform(margin, nx - margin, n)
    ys = rng.uniform(margin, ny - margin, n)
    fluxes = 10 ** rng.uniform(np.log10(5e3), np.log10(3e5), n)
    return [(float(a), float(b), float(f)) for a, b, f in zip(xs, ys, fluxes)]


def cosmic_rays(rng, shape, n: int, avoid=(), keep_out: float = 10.0, allowed=None) -> np.ndarray:
    """Electrons deposited by ``n`` cosmic rays: single hits and short tracks of 600-6000 e- a pixel.

    Hits land farther than ``keep_out`` pixels from every (x, y) in ``avoid`` (star centres),
    and, when ``allowed`` (a bool image) is given, only where it is True.
    """
    ny, nx = shape
    deposit = np.zeros(shape)
    placed = 0
    while placed < n:
        x0, y0 = int(rng.integers(3, nx - 3)), int(rng.integers(3, ny - 3))
        if any(np.hypot(x0 - ax, y0 - ay) < keep_out for ax, ay, *_ in avoid):
            continue
        length = int(rng.choice([1, 1, 2, 3, 4]))
        dx, dy = [(1, 0), (0, 1), (1, 1), (1, -1)][int(rng.integers(4))]
        pixels = [(y0 + k * dy, x0 + k * dx) for k in range(length)]
        if any(not (0 <= py < ny and 0 <= px < nx) for py, px in pixels):
            continue
        if allowed is not None and not all(allowed[py, px] for py, px in pixels):
            continue
        for py, px in pixels:
            deposit[py, px] += rng.uniform(600.0, 6000.0)
        placed += 1
    return deposit


@dataclass
class Scene:
    """A calibrated-looking frame in ADU with its truth."""

    image: np.ndarray
    cosmic_mask: np.ndarray
    stars: list
    sky_adu: float


def grow(mask: np.ndarray) -> np.ndarray:
    """The mask and its 8 neighbours (L.A.Cosmic flags the rim of a hit on purpose)."""
    padded = np.pad(mask, 1)
    out = np.zeros_like(mask)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out |= padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def science_scene(shape=SHAPE, seed: int = 1, n_cosmics: int = 40, n_stars: int = 12, sky_adu: float = 300.0) -> Scene:
    """A sky-limited frame in ADU (bias removed, flat-fielded): sky, stars, cosmic rays, noise."""
    rng = np.random.default_rng(seed)
    stars = random_stars(rng, shape, n_stars)
    light = sky_adu * GAIN + star_image(shape, stars)
    electrons = rng.poisson(light).astype(np.float64)
    deposit = cosmic_rays(rng, shape, n_cosmics, avoid=stars)
    electrons += deposit + rng.normal(0.0, READNOISE, shape)
    return Scene((electrons / GAIN).astype(np.float32), deposit > 0, stars, sky_adu)


@dataclass
class Night:
    """A small night on disk: bias/, flats/, science/ folders and the truth."""

    folder: Path
    flat: np.ndarray
    bias: list = field(default_factory=list)
    flats: list = field(default_factory=list)
    science: list = field(default_factory=list)
    cosmic_masks: dict = field(default_factory=dict)  # science file name -> bool mask
    stars: dict = field(default_factory=dict)  # science file name -> [(x, y, e-)]


def _header(imagetyp: str, exptime: float, filt: str, date: str) -> fits.Header:
    header = fits.Header()
    header["IMAGETYP"] = imagetyp
    header["EXPTIME"] = exptime
    header["FILTER"] = filt
    header["DATE-OBS"] = date
    header["CCD_TEMP"] = -60.0
    header["GAIN"] = JUNK_GAIN
    return header


def _write(path: Path, data: np.ndarray, header: fits.Header) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(data, header=header).writeto(path, overwrite=True)
    return path


def _wcs_cards(header: fits.Header, shape) -> None:
    ny, nx = shape
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["CRPIX1"], header["CRPIX2"] = nx / 2, ny / 2
    header["CRVAL1"], header["CRVAL2"] = 150.0, 32.0
    header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = -1.8e-4, 0.0, 0.0, 1.8e-4


def make_night(
    folder,
    shape=SHAPE,
    n_bias: int = 5,
    n_flats: int = 5,
    n_science: int = 2,
    filters=("R",),
    n_cosmics: int = 30,
    seed: int = 0,
) -> Night:
    """Write a night of raw frames under ``folder`` (bias/, flats/, science/) and return its truth.

    Flats are written for every filter in ``filters`` at 15,000-21,000 ADU; science frames use
    the first filter. Science frames carry a TAN WCS and are named ``*.wcs.fits``.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    flat = true_flat(shape)
    night = Night(folder=folder, flat=flat)
    for i in range(n_bias):
        name = f"C0_20181013-1304{i:02d}-460.fits"
        header = _header("dark", 0.001, "UNK", f"2018-10-13T13:04:{i:02d}")
        night.bias.append(_write(folder / "bias" / name, bias_frame(rng, shape), header))
    for filt in filters:
        for i in range(n_flats):
            level = float(rng.uniform(15000.0, 21000.0))
            name = f"C0_20181013-1310{i:02d}-{filt}.fits"
            header = _header("flat", 5.0, filt, f"2018-10-13T13:10:{i:02d}")
            night.flats.append(_write(folder / "flats" / name, flat_frame(rng, flat, level), header))
    illuminated = vignetting(shape) > 0.9
    for i in range(n_science):
        name = f"C0_20181013-1400{i:02d}-100.wcs.fits"
        stars = random_stars(rng, shape)
        light = (300.0 * GAIN + star_image(shape, stars)) * flat
        electrons = rng.poisson(light).astype(np.float64)
        deposit = cosmic_rays(rng, shape, n_cosmics, avoid=stars, allowed=illuminated)
        header = _header("object", 60.0, filters[0], f"2018-10-13T14:00:{i:02d}")
        header["OBJECT"] = "field"
        _wcs_cards(header, shape)
        night.science.append(_write(folder / "science" / name, _to_adu(electrons + deposit, rng), header))
        night.cosmic_masks[name] = deposit > 0
        night.stars[name] = stars
    return night

"""Cosmic rays for the synthetic night: real shapes at a realistic rate.

Charged particles leave three kinds of marks on a CCD:

- *spots* (about 45 %): a muon crossing nearly straight through the silicon, one to four pixels;
- *tracks* (about 40 %): a muon crossing at a slant, a straight line 2 to 16 pixels long;
- *worms* (about 15 %): a low-energy electron scattering as it slows, a curved trail 5 to 25
  pixels long that brightens toward its end.

At the telescope's altitude (4500 m) about 5 events per cm^2 per minute reach the detector; the
iKon-XL has 15 um pixels, and a frame collects events during its exposure and its readout. Each
hit pixel receives at least ``min_charge`` electrons: the truth mask lists exactly the pixels a
cosmic ray touched, with no invisible fringe, so detection can be measured fairly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ccdlab.errors import InputError

__all__ = [
    "PIXEL_SIZE_UM",
    "RATE_PER_CM2_MIN",
    "READOUT_S",
    "MIN_CHARGE",
    "CosmicRays",
    "expected_events",
    "cosmic_rays",
    "add_cosmic_rays",
    "cosmic_ray_mask",
]

#: Pixel size of the iKon-XL 230 (micrometres).
PIXEL_SIZE_UM = 15.0

#: Cosmic-ray events per cm^2 per minute at 4500 m altitude.
RATE_PER_CM2_MIN = 5.0

#: Seconds the detector is read out, collecting events, after each exposure.
READOUT_S = 8.0

#: Fewest electrons a hit pixel receives (6 sigma of the sky noise in a science frame).
MIN_CHARGE = 250.0

_KINDS = ("spot", "track", "worm")
_KIND_P = (0.45, 0.40, 0.15)


@dataclass(frozen=True)
class CosmicRays:
    """The cosmic-ray hits of one frame.

    Attributes
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the frame.
    index : numpy.ndarray
        Flat pixel indices (``y * nx + x``), sorted and unique.
    charge : numpy.ndarray
        Electrons deposited in each of those pixels (float32).
    kinds : dict
        How many events of each kind (``spot``, ``track``, ``worm``).
    """

    shape: tuple[int, int]
    index: np.ndarray
    charge: np.ndarray
    kinds: dict

    @property
    def n_events(self) -> int:
        """Number of events (some may have fallen off the frame)."""
        return int(sum(self.kinds.values()))

    @property
    def n_pixels(self) -> int:
        """Number of pixels hit."""
        return int(self.index.size)


def expected_events(shape: tuple[int, int], exposure: float, rate: float = RATE_PER_CM2_MIN) -> float:
    """Return the mean number of cosmic-ray events on a frame of ``shape`` during ``exposure`` s.

    The readout time (:data:`READOUT_S`) is added to the exposure.

    Examples
    --------
    >>> round(expected_events((4108, 4096), 180.0), 1)
    593.1
    """
    ny, nx = (int(v) for v in shape)
    if ny < 1 or nx < 1:
        raise InputError(f"shape must be positive; got {shape}.")
    if exposure < 0 or rate < 0:
        raise InputError(f"exposure and rate must not be negative; got exposure={exposure}, rate={rate}.")
    area_cm2 = ny * nx * (PIXEL_SIZE_UM * 1e-4) ** 2
    return area_cm2 * rate * (exposure + READOUT_S) / 60.0


def _event(kind: str, rng: np.random.Generator, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x0, y0 = rng.uniform(-0.5, nx - 0.5), rng.uniform(-0.5, ny - 0.5)
    if kind == "spot":
        total = rng.lognormal(math.log(2500.0), 0.5)
        m = 24
        x = x0 + rng.normal(0.0, 0.3, m)
        y = y0 + rng.normal(0.0, 0.3, m)
        q = np.full(m, total / m)
    elif kind == "track":
        length = rng.uniform(2.0, 16.0)
        angle = rng.uniform(0.0, math.pi)
        s = np.arange(0.0, length + 1e-9, 0.25)
        x = x0 + s * math.cos(angle)
        y = y0 + s * math.sin(angle)
        q = rng.lognormal(math.log(250.0), 0.45, s.size)
    else:  # worm
        length = rng.uniform(5.0, 25.0)
        n = int(length / 0.3) + 1
        heading = rng.uniform(0.0, 2.0 * math.pi) + np.cumsum(rng.normal(0.0, 0.3, n))
        x = x0 + np.cumsum(0.3 * np.cos(heading))
        y = y0 + np.cumsum(0.3 * np.sin(heading))
        q = rng.lognormal(math.log(250.0), 0.4, n) * (1.0 + 2.0 * (np.arange(n) / n) ** 3)
    return x, y, q


def cosmic_rays(
    shape: tuple[int, int],
    exposure: float,
    rng: np.random.Generator,
    rate: float = RATE_PER_CM2_MIN,
    min_charge: float = MIN_CHARGE,
) -> CosmicRays:
    """Draw the cosmic-ray hits of one exposure.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``.
    exposure : float
        Exposure time (s); the readout time is added.
    rng : numpy.random.Generator
        The random stream.
    rate : float
        Events per cm^2 per minute.
    min_charge : float
        Pixels that would receive fewer electrons than this are left untouched.

    Returns
    -------
    CosmicRays
        The hit pixels and their charges.

    Examples
    --------
    >>> hits = cosmic_rays((514, 512), 180.0, np.random.default_rng(3))
    >>> hits.n_events > 0, bool(hits.charge.min() >= 250.0)
    (True, True)
    """
    ny, nx = (int(v) for v in shape)
    if min_charge < 0:
        raise InputError(f"min_charge must not be negative; got {min_charge}.")
    n = int(rng.poisson(expected_events(shape, exposure, rate)))
    kinds = {kind: 0 for kind in _KINDS}
    xs, ys, qs = [], [], []
    for kind in rng.choice(len(_KINDS), size=n, p=_KIND_P):
        name = _KINDS[int(kind)]
        kinds[name] += 1
        x, y, q = _event(name, rng, nx, ny)
        xs.append(x)
        ys.append(y)
        qs.append(q)
    if not xs:
        return CosmicRays((ny, nx), np.zeros(0, np.int64), np.zeros(0, np.float32), kinds)
    ix = np.floor(np.concatenate(xs) + 0.5).astype(np.int64)
    iy = np.floor(np.concatenate(ys) + 0.5).astype(np.int64)
    q = np.concatenate(qs)
    inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
    flat = iy[inside] * nx + ix[inside]
    index, inverse = np.unique(flat, return_inverse=True)
    charge = np.bincount(inverse, weights=q[inside], minlength=index.size)
    keep = charge >= min_charge
    return CosmicRays((ny, nx), index[keep], charge[keep].astype(np.float32), kinds)


def add_cosmic_rays(image: np.ndarray, hits: CosmicRays) -> np.ndarray:
    """Add the charge of ``hits`` to ``image`` (electrons) in place and return it.

    Examples
    --------
    >>> img = np.zeros((514, 512), dtype=np.float32)
    >>> hits = cosmic_rays(img.shape, 180.0, np.random.default_rng(3))
    >>> bool(np.isclose(add_cosmic_rays(img, hits).sum(), hits.charge.sum()))
    True
    """
    if tuple(image.shape) != tuple(hits.shape):
        raise InputError(f"The hits were drawn for shape {hits.shape}, not {image.shape}.")
    rows, cols = np.divmod(hits.index, hits.shape[1])
    image[rows, cols] += hits.charge.astype(image.dtype, copy=False)
    return image


def cosmic_ray_mask(hits: CosmicRays) -> np.ndarray:
    """Return the truth mask of ``hits``: uint8, 1 where a cosmic ray deposited charge.

    Examples
    --------
    >>> hits = cosmic_rays((514, 512), 180.0, np.random.default_rng(3))
    >>> mask = cosmic_ray_mask(hits)
    >>> mask.dtype.name, int(mask.sum()) == hits.n_pixels
    ('uint8', True)
    """
    mask = np.zeros(hits.shape, dtype=np.uint8)
    mask.ravel()[hits.index] = 1
    return mask

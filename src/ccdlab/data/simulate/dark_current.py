"""Dark current for the synthetic camera: how it grows with temperature, and its hot pixels.

Thermal electrons leak into every pixel while it integrates, light or no light. Their rate, the
**dark current**, roughly doubles for every 6.5 degrees C the chip warms, which is why
astronomical CCDs are cooled:

- at the course camera's -60 C the median pixel collects 0.02 e-/s: 3.6 e- in a 180 s frame,
  whose noise (1.9 e-) vanishes beside the read noise (14 e-);
- at -10 C (the "warm camera", a thermoelectrically cooled camera on a hot night) it is about
  4 e-/s: ~750 e- in 180 s, a signal half the sky's and a noise (27 e-) twice the read noise.

Not every pixel is typical. The rate varies from pixel to pixel by about 10 % (lognormal), and a
small population of **hot pixels** (one in 2000) collects 25 to 2000 times the median rate: at
-60 C they are the only dark signal worth knowing about. Everything scales with the same
temperature law, so the hot pixels of the warm camera are the same pixels, 200 times hotter.
"""

from __future__ import annotations

import math

import numpy as np

from ccdlab.errors import InputError

__all__ = [
    "REFERENCE_TEMPERATURE",
    "DARK_CURRENT_AT_REFERENCE",
    "DOUBLING_TEMPERATURE",
    "DSNU",
    "HOT_FRACTION",
    "HOT_RANGE",
    "dark_current_at",
    "dark_current_map",
]

#: The temperature at which :data:`DARK_CURRENT_AT_REFERENCE` holds (degrees C): the course camera's set point.
REFERENCE_TEMPERATURE = -60.0

#: Median dark current at :data:`REFERENCE_TEMPERATURE` (electrons per second per pixel).
DARK_CURRENT_AT_REFERENCE = 0.02

#: The dark current doubles for every this many degrees C of warming.
DOUBLING_TEMPERATURE = 6.5

#: Pixel-to-pixel spread of the dark current (lognormal sigma): dark signal non-uniformity.
DSNU = 0.10

#: Fraction of pixels that are hot.
HOT_FRACTION = 5e-4

#: A hot pixel's dark current, as a multiple of the median (log-uniform between the two).
HOT_RANGE = (25.0, 2000.0)


def dark_current_at(temperature: float) -> float:
    """Return the median dark current (e-/s/pixel) of the synthetic camera at ``temperature`` (C).

    Parameters
    ----------
    temperature : float
        The CCD temperature in degrees C.

    Returns
    -------
    float
        ``0.02 * 2 ** ((temperature + 60) / 6.5)`` electrons per second per pixel.

    Examples
    --------
    >>> dark_current_at(-60.0)
    0.02
    >>> round(dark_current_at(-10.0), 2)
    4.14
    """
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        temperature = math.nan
    if not math.isfinite(temperature):
        raise InputError(f"The CCD temperature must be a number of degrees C; got {temperature!r}.")
    return DARK_CURRENT_AT_REFERENCE * 2.0 ** ((temperature - REFERENCE_TEMPERATURE) / DOUBLING_TEMPERATURE)


def dark_current_map(shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw the chip's dark current, relative to its median: the spread and the hot pixels.

    The map does not depend on temperature: multiply it by :func:`dark_current_at` to get the
    dark current (e-/s) at a temperature.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)`` of the chip.
    rng : numpy.random.Generator
        The random stream (the same stream gives the same chip).

    Returns
    -------
    relative : numpy.ndarray
        float32, median ~1: lognormal with sigma :data:`DSNU`, and the hot pixels at 25 to 2000.
    hot : numpy.ndarray
        bool, True on the hot pixels (at least five of them).

    Examples
    --------
    >>> relative, hot = dark_current_map((64, 64), np.random.default_rng(0))
    >>> round(float(np.median(relative)), 1), int(hot.sum()), bool(relative[hot].min() >= 25)
    (1.0, 5, True)
    """
    try:
        ny, nx = (int(v) for v in shape)
    except (TypeError, ValueError) as exc:
        raise InputError(f"shape must be (ny, nx); got {shape!r}.") from exc
    if ny < 4 or nx < 4:
        raise InputError(f"The chip must be at least 4 x 4 pixels; got shape {shape}.")
    relative = np.exp(np.float32(DSNU) * rng.standard_normal((ny, nx), dtype=np.float32))
    n_hot = max(5, int(round(HOT_FRACTION * ny * nx)))
    index = rng.choice(ny * nx, size=n_hot, replace=False)
    low, high = np.log(HOT_RANGE[0]), np.log(HOT_RANGE[1])
    relative.reshape(-1)[index] = np.exp(rng.uniform(low, high, n_hot)).astype(np.float32)
    hot = np.zeros((ny, nx), dtype=bool)
    hot.reshape(-1)[index] = True
    return relative, hot

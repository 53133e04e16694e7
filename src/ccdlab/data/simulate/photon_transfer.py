"""The camera test behind a photon transfer curve: pairs of lamp flats up to saturation.

To measure a camera's gain, read noise, full well and linearity, observers take *pairs* of
flats at the same exposure time, at levels from a few electrons to beyond saturation, with a
stable lamp (Janesick, *Photon Transfer*, 2007). The synthetic camera test is:

- two bias frames and 19 pairs of lamp flats, read out through a 512 x 512 window at the centre
  of the chip (a sub-frame readout: a camera test needs statistics, not the whole chip; the tiny
  night's window is its central quarter), with ``DETSEC`` saying where the window lies;
- a lamp giving 1000 e-/s to a pixel of the flat's central level, stable to 0.1 % from one
  exposure to the next;
- the camera's response: linear up to 60 % of full well, then gently compressed (3 % low at full
  well, the linearity limit of 1 % reached at 77,500 e-), and the charge of a pixel capped at
  the full well, 96,000 e-, so the variance of a pair collapses above it.

The frames of the night itself (bias, flats, science) were simulated linear up to the hard
saturation: the twilight flats stay below 35 % of full well, where the compression is nil.
"""

from __future__ import annotations

import numpy as np

from ccdlab.errors import InputError

__all__ = [
    "PTC_LEVELS",
    "LAMP_RATE",
    "LAMP_STABILITY",
    "WINDOW_SIDE",
    "LINEAR_UP_TO",
    "COMPRESSION_AT_FULL_WELL",
    "ptc_window",
    "compress",
    "linearity_limit",
]

#: Target signal of each flat pair, in electrons at the flat's central level.
PTC_LEVELS = (20.0, 60.0, 150.0, 400.0, 1000.0, 2500.0, 5000.0, 10000.0, 20000.0, 35000.0, 50000.0,
              62000.0, 72000.0, 80000.0, 86000.0, 91000.0, 93500.0, 96000.0, 110000.0)

#: Electrons per second the lamp gives a pixel of the flat's central level.
LAMP_RATE = 1000.0

#: Exposure-to-exposure stability of the lamp (relative standard deviation).
LAMP_STABILITY = 0.001

#: Side of the readout window of the camera test (pixels); smaller chips use their central quarter.
WINDOW_SIDE = 512

#: The response is exactly linear up to this fraction of the full well.
LINEAR_UP_TO = 0.6

#: How far below linear a pixel at full well reads (fraction of the full well).
COMPRESSION_AT_FULL_WELL = 0.03


def ptc_window(shape: tuple[int, int]) -> tuple[slice, slice]:
    """Return the readout window of the camera test: 512 x 512 at the centre (or the central quarter).

    Examples
    --------
    >>> ptc_window((514, 512))
    (slice(128, 385, None), slice(128, 384, None))
    >>> ptc_window((2054, 2048))
    (slice(771, 1283, None), slice(768, 1280, None))
    """
    try:
        ny, nx = (int(v) for v in shape)
    except (TypeError, ValueError) as exc:
        raise InputError(f"shape must be (ny, nx); got {shape!r}.") from exc
    if ny < 16 or nx < 16:
        raise InputError(f"The chip must be at least 16 x 16 pixels; got shape {shape}.")
    wy, wx = min(WINDOW_SIDE, ny // 2), min(WINDOW_SIDE, nx // 2)
    y0, x0 = (ny - wy) // 2, (nx - wx) // 2
    return slice(y0, y0 + wy), slice(x0, x0 + wx)


def compress(electrons: np.ndarray, full_well: float) -> np.ndarray:
    """Cap each pixel's charge at the full well and apply the readout's non-linearity, in place.

    Above ``LINEAR_UP_TO * full_well`` the output falls below the charge by
    ``COMPRESSION_AT_FULL_WELL * full_well * t**2``, where ``t`` goes from 0 there to 1 at full well.

    Parameters
    ----------
    electrons : numpy.ndarray
        Collected charge (float), modified in place.
    full_well : float
        The most electrons a pixel holds.

    Returns
    -------
    numpy.ndarray
        ``electrons`` itself, now what the readout reports (in electrons).

    Examples
    --------
    >>> compress(np.array([1000.0, 96000.0, 200000.0]), 96000.0).tolist()
    [1000.0, 93120.0, 93120.0]
    """
    if not full_well > 0:
        raise InputError(f"full_well must be positive; got {full_well}.")
    np.minimum(electrons, electrons.dtype.type(full_well), out=electrons)
    knee = LINEAR_UP_TO * full_well
    t = (electrons - electrons.dtype.type(knee)) / electrons.dtype.type(full_well - knee)
    np.maximum(t, 0, out=t)
    electrons -= electrons.dtype.type(COMPRESSION_AT_FULL_WELL * full_well) * t * t
    return electrons


def linearity_limit(full_well: float, deviation: float = 0.01) -> float:
    """The charge (e-) at which the readout falls ``deviation`` below linear (1 % by default).

    Examples
    --------
    >>> round(linearity_limit(96000.0))
    77523
    """
    if not 0 < deviation < COMPRESSION_AT_FULL_WELL:
        raise InputError(f"deviation must be between 0 and {COMPRESSION_AT_FULL_WELL}; got {deviation}.")
    # c * fw * ((e - k) / (fw - k))**2 = d * e, with k = LINEAR_UP_TO * fw: a quadratic in u = e / fw
    c, k = COMPRESSION_AT_FULL_WELL, LINEAR_UP_TO
    a = c / (1.0 - k) ** 2
    # a (u - k)^2 - d u = 0  ->  a u^2 - (2 a k + d) u + a k^2 = 0, larger root
    b = 2.0 * a * k + deviation
    u = (b + np.sqrt(b * b - 4.0 * a * a * k * k)) / (2.0 * a)
    return float(u * full_well)

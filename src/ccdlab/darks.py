"""Dark frames: the master dark, the dark current per second, and the hot pixels.

A dark frame is an exposure with the shutter closed. It holds the bias, the **dark current**
(thermal electrons, growing with exposure time and, steeply, with the CCD's temperature), read
noise and cosmic rays. Subtract the master bias and what is left scales with exposure time, so a
master dark of one exposure time serves any other: ``dark(t) = master_dark * t / t_dark``.

- :func:`master_dark`: the median of darks of one exposure time, bias-subtracted (ADU);
- :func:`scale_dark`: that master scaled to another exposure time;
- :func:`dark_current`: the median pixel's dark current per second, with its uncertainty,
  from a straight line through every dark's level against its exposure time (bias frames are
  darks of zero seconds): the slope is the dark current, the scatter of the frames (their bias
  levels wander by about an ADU) its uncertainty;
- :func:`dark_rate` and :func:`hot_pixels`: the dark current of every pixel, and the pixels far
  above the rest (ten times the median by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy.stats import mad_std

from ccdlab import validate
from ccdlab.combine import combine
from ccdlab.errors import DetectorError
from ccdlab.inventory import exposure_time
from ccdlab.io import frame_data, is_path, read_header

__all__ = [
    "HOT_FACTOR",
    "HOT_NSIGMA",
    "exposure_times",
    "group_by_exposure",
    "master_dark",
    "scale_dark",
    "DarkCurrent",
    "dark_current",
    "dark_rate",
    "hot_pixels",
]

#: A hot pixel's dark current is at least this many times the median pixel's ...
HOT_FACTOR = 10.0

#: ... and at least this many (robust) standard deviations above it, so noise is never "hot".
HOT_NSIGMA = 8.0


def exposure_times(files) -> list[float]:
    """The exposure time (EXPTIME, s) of each file.

    Examples
    --------
    >>> exposure_times(["darks/d1.fits", "darks/d2.fits"])  # doctest: +SKIP
    [300.0, 1200.0]
    """
    times = []
    for path in files:
        if not is_path(path):
            raise DetectorError("exposure_times needs files (their headers say EXPTIME); for arrays give the times yourself.")
        times.append(exposure_time(read_header(path)))
    return times


def group_by_exposure(files) -> dict[float, list[str]]:
    """Darks grouped by exposure time (rounded to a millisecond), shortest first.

    Examples
    --------
    >>> group_by_exposure(dark_files)  # doctest: +SKIP
    {300.0: ['.../d1.fits', ...], 1200.0: [...]}
    """
    groups: dict[float, list[str]] = {}
    for path, time in zip(files, exposure_times(files)):
        if not math.isfinite(time):
            raise DetectorError(f"{path} has no EXPTIME: a dark's exposure time must be known to scale it.")
        groups.setdefault(round(time, 3), []).append(str(path))
    return dict(sorted(groups.items()))


def master_dark(files, master_bias, method: str = "median", progress: bool | None = False) -> np.ndarray:
    """The bias-subtracted master dark (ADU): the median of darks of one exposure time, minus the master bias.

    Parameters
    ----------
    files : list of path-like or 2-D arrays
        Darks of the same exposure time (files are checked: mixing times is an error).
    master_bias : 2-D array or path-like
        The master bias (ADU).
    method : {'median', 'mean'}
        How to combine; the median ignores cosmic rays (a hit in one frame).
    progress : bool, optional
        Progress bar while combining.

    Returns
    -------
    numpy.ndarray
        float32, ADU: the dark signal of one exposure (plus what noise the combination left).

    Raises
    ------
    DetectorError
        No darks, darks of different exposure times, or a master bias of another shape.

    Examples
    --------
    >>> darks = [np.full((4, 4), 280.0), np.full((4, 4), 281.0), np.full((4, 4), 900.0)]
    >>> float(master_dark(darks, np.full((4, 4), 270.0))[0, 0])
    11.0
    """
    files = list(files)
    if not files:
        raise DetectorError("No dark frames to combine: give a list of darks of one exposure time.")
    if all(is_path(f) for f in files):
        times = {round(t, 3) for t in exposure_times(files)}
        if len(times) > 1:
            raise DetectorError(
                f"These darks have different exposure times ({', '.join(f'{t:g} s' for t in sorted(times))}): "
                "combine each exposure time on its own (group_by_exposure), then scale."
            )
    bias = frame_data(master_bias, "master bias", error=DetectorError)
    combined = combine(files, method=method, progress=progress)
    if combined.shape != bias.shape:
        raise DetectorError(
            f"The darks are {combined.shape[1]} x {combined.shape[0]} pixels but the master bias is "
            f"{bias.shape[1]} x {bias.shape[0]}: use a master bias of the same readout."
        )
    combined -= bias.astype(np.float32)
    return combined


def scale_dark(master, dark_exptime: float, exptime: float) -> np.ndarray:
    """A bias-subtracted master dark of ``dark_exptime`` seconds, scaled to ``exptime`` seconds.

    Parameters
    ----------
    master : 2-D array
        Bias-subtracted master dark (ADU). Scaling one that still holds the bias would scale the
        bias too: that is why the bias comes off first.
    dark_exptime, exptime : float
        The darks' exposure time and the one wanted (s).

    Examples
    --------
    >>> float(scale_dark(np.full((2, 2), 12.0), 1200.0, 300.0)[0, 0])
    3.0
    """
    dark = validate.image(master, "master dark", error=DetectorError)
    t_dark = validate.positive(dark_exptime, "dark_exptime", "s", error=DetectorError)
    t = validate.positive(exptime, "exptime", "s", error=DetectorError, allow_zero=True)
    return dark * np.float32(t / t_dark)


@dataclass
class DarkCurrent:
    """The dark current of the median pixel, with its uncertainty (see :func:`dark_current`).

    Attributes
    ----------
    adu_per_s, error_adu_per_s : float
        The dark current and its standard uncertainty, in ADU per second per pixel.
    gain : float or None
        The gain used for electrons (None: not converted).
    exptimes : list of float
        The exposure times measured (0 for bias frames).
    levels : list of float
        The median of each frame minus the master bias (ADU), in the same order.
    intercept_adu : float
        The line's level at zero seconds: the darks' bias offset against the master bias.

    Examples
    --------
    >>> round(DarkCurrent(0.0125, 0.0003, 1.6, [0.0, 1200.0], [0.0, 15.0], 0.0).e_per_s, 4)
    0.02
    """

    adu_per_s: float
    error_adu_per_s: float
    gain: float | None
    exptimes: list
    levels: list
    intercept_adu: float

    @property
    def e_per_s(self) -> float:
        """The dark current in electrons per second per pixel (NaN without a gain)."""
        return self.adu_per_s * self.gain if self.gain else math.nan

    @property
    def error_e_per_s(self) -> float:
        """Its uncertainty in electrons per second per pixel (NaN without a gain)."""
        return self.error_adu_per_s * self.gain if self.gain else math.nan


def _level(frame, bias: np.ndarray) -> float:
    data = frame_data(frame, "dark", error=DetectorError)
    if data.shape != bias.shape:
        raise DetectorError(
            f"A dark of {data.shape[1]} x {data.shape[0]} pixels does not match the master bias "
            f"({bias.shape[1]} x {bias.shape[0]}): use frames of the same readout."
        )
    return float(np.median(data.astype(np.float64) - bias))


def dark_current(darks, master_bias, bias_frames=(), exptimes=None, gain: float | None = None) -> DarkCurrent:
    """The median pixel's dark current: the slope of the frames' levels against exposure time.

    Each frame's level is its median minus the master bias (the median ignores hot pixels and
    cosmic rays). A straight line through the levels against exposure time, bias frames counting
    as zero seconds, has the dark current as its slope; the line's intercept takes up any offset
    of the bias level, and the scatter of the frames about the line (mostly their wandering bias
    level) gives the uncertainty. With a single exposure time and no bias frames, the slope
    is the mean level over the time, and the frames' scatter its uncertainty.

    Parameters
    ----------
    darks : list of path-like or 2-D arrays
        Dark frames (any exposure times).
    master_bias : 2-D array or path-like
        The master bias (ADU).
    bias_frames : list of path-like or 2-D arrays
        Bias frames, as darks of zero seconds (recommended: they tie the line down at zero).
    exptimes : list of float, optional
        The darks' exposure times (s), required for arrays; read from EXPTIME for files.
    gain : float, optional
        e-/ADU, to give the result in electrons too.

    Returns
    -------
    DarkCurrent

    Raises
    ------
    DetectorError
        No darks, unknown exposure times, frames of another size.

    Examples
    --------
    >>> bias = np.zeros((10, 10))
    >>> darks = [np.full((10, 10), 0.0125 * t + off) for t, off in ((300, 0.1), (1200, -0.1), (1200, 0.1))]
    >>> zero = [np.full((10, 10), off) for off in (0.1, -0.1)]
    >>> result = dark_current(darks, bias, bias_frames=zero, exptimes=[300, 1200, 1200], gain=1.6)
    >>> round(result.e_per_s, 3)
    0.02
    """
    darks = list(darks)
    if not darks:
        raise DetectorError("No dark frames: the dark current needs darks of at least one exposure time.")
    if exptimes is None:
        exptimes = exposure_times(darks)
    exptimes = [float(t) for t in exptimes]
    if len(exptimes) != len(darks) or not all(math.isfinite(t) and t > 0 for t in exptimes):
        raise DetectorError("Each dark needs a positive exposure time (EXPTIME); give exptimes= for arrays.")
    if gain is not None:
        gain = validate.positive(gain, "gain", "e-/ADU", error=DetectorError)
    bias = frame_data(master_bias, "master bias", error=DetectorError).astype(np.float64)
    times = [0.0] * len(list(bias_frames)) + exptimes
    levels = [_level(frame, bias) for frame in [*bias_frames, *darks]]
    t, y = np.array(times), np.array(levels)
    if len(set(times)) >= 2:
        design = np.vstack([t, np.ones_like(t)]).T
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        residual = y - design @ coef
        dof = len(y) - 2
        if dof > 0:
            cov = float(residual @ residual) / dof * np.linalg.inv(design.T @ design)
            error = math.sqrt(cov[0, 0])
        else:
            error = math.nan
        slope, intercept = float(coef[0]), float(coef[1])
    else:
        rates = y / t
        slope, intercept = float(rates.mean()), 0.0
        error = float(rates.std(ddof=1) / math.sqrt(len(rates))) if len(rates) > 1 else math.nan
    return DarkCurrent(slope, error, gain, times, levels, intercept)


def dark_rate(master, exptime: float, gain: float = 1.0) -> np.ndarray:
    """Every pixel's dark current per second: ``master * gain / exptime`` (e-/s with a gain, else ADU/s).

    Examples
    --------
    >>> round(float(dark_rate(np.full((2, 2), 15.0), 1200.0, gain=1.6)[0, 0]), 4)
    0.02
    """
    dark = validate.image(master, "master dark", error=DetectorError)
    t = validate.positive(exptime, "exptime", "s", error=DetectorError)
    g = validate.positive(gain, "gain", "e-/ADU", error=DetectorError)
    return dark * np.float32(g / t)


def hot_pixels(rate, factor: float = HOT_FACTOR, nsigma: float = HOT_NSIGMA) -> np.ndarray:
    """The hot pixels: dark current at least ``factor`` times the median and ``nsigma`` above it.

    Parameters
    ----------
    rate : 2-D array
        Dark current per pixel (:func:`dark_rate`), in any unit.
    factor : float
        Times the median pixel's dark current (default 10).
    nsigma : float
        Robust standard deviations above the median (default 8): on a camera with almost no dark
        current, ten times nearly nothing would be noise.

    Returns
    -------
    numpy.ndarray
        bool, True on the hot pixels.

    Examples
    --------
    >>> rate = np.full((50, 50), 0.02) + np.random.default_rng(0).normal(0, 0.005, (50, 50))
    >>> rate[3, 4] = 5.0
    >>> np.argwhere(hot_pixels(rate)).tolist()
    [[3, 4]]
    """
    data = validate.image(rate, "dark current image", error=DetectorError, dtype=np.float64)
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        raise DetectorError("The dark current image has no finite pixel.")
    median = float(np.median(finite))
    sigma = float(mad_std(finite))
    threshold = max(factor * median, median + nsigma * sigma)
    with np.errstate(invalid="ignore"):
        return data > threshold

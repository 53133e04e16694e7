"""The camera measured from its own frames: gain, read noise, full well, linearity.

Headers often lie about the camera (the GROWTH-India camera writes ``GAIN = -9.1e-36``). Pairs of
frames tell the truth (Janesick, *Photon Transfer*, 2007):

- **read noise**: two bias frames share their pattern; their difference holds only the noise of
  two frames, so ``read noise = std(bias1 - bias2) / sqrt(2)`` (ADU);
- **gain**: two flats of equal exposure share their pattern too (pixel response, dust,
  vignetting); their difference holds the shot noise of the light. Shot noise in electrons is
  ``sqrt(signal)``, so in ADU ``variance = signal / gain``: with signals bias-subtracted,
  ``gain = (mean(F1) + mean(F2) - mean(B1) - mean(B2)) / (var(F1 - F2) - var(B1 - B2))`` (e-/ADU);
- **the photon transfer curve** (PTC): the variance of pairs at many levels against their
  signal. A floor (the read noise), a line of slope ``1 / gain`` (shot noise), and a turnover
  where pixels fill up: the **full well**. The signal against exposure time shows where the
  camera stops being linear (:func:`photon_transfer`).

Differences are measured with a 5-sigma clip, which ignores a cosmic ray in either frame but keeps
the noise itself (a 3-sigma clip would cut the Gaussian's own tails: the variance comes out 2.7 %
low and the gain 2.7 % high). :func:`gain_from_unequal_flats` estimates the gain when no pair of
equal exposure exists, and says what it assumes. :mod:`ccdlab.characterise` finds what a night
offers for all this (and for the darks, :mod:`ccdlab.darks`) and measures what it can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from astropy.stats import sigma_clipped_stats

from ccdlab.errors import DetectorError
from ccdlab.inventory import exposure_time
from ccdlab.io import frame_data, is_path, read_header

__all__ = [
    "DetectorError",
    "CLIP_SIGMA",
    "LINEARITY_TOLERANCE",
    "difference_variance",
    "read_noise_from_pair",
    "PairGain",
    "gain_from_pair",
    "pair_near",
    "PhotonTransfer",
    "photon_transfer",
    "gain_from_unequal_flats",
]

#: Differences of frames are measured with a clip at this many standard deviations.
CLIP_SIGMA = 5.0

#: The linearity limit is where the signal falls this far (relative) below the linear fit.
LINEARITY_TOLERANCE = 0.01


def _data(frame, what: str, region=None) -> np.ndarray:
    data = frame_data(frame, what, error=DetectorError).astype(np.float64)
    return data[region] if region is not None else data


def _same_shape(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.shape != b.shape:
        raise DetectorError(
            f"The two {what} frames are {a.shape[1]} x {a.shape[0]} and {b.shape[1]} x {b.shape[0]} pixels: a pair "
            "must come from the same readout (window, binning)."
        )


def difference_variance(frame1, frame2, region=None, sigma: float = CLIP_SIGMA) -> float:
    """The variance (ADU^2) of ``frame1 - frame2``, clipped at ``sigma`` standard deviations.

    Parameters
    ----------
    frame1, frame2 : path-like or 2-D array
        Two frames of the same shape (ADU).
    region : tuple of slices, optional
        Measure only there, e.g. ``(slice(100, 400), slice(100, 400))``.
    sigma : float
        Clip (default 5: a cosmic ray is ignored, the noise is kept whole).

    Returns
    -------
    float
        The variance of the difference: twice the variance of one frame's noise.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(100, 3.0, (300, 300)), rng.normal(100, 3.0, (300, 300))
    >>> round(difference_variance(a, b) / 2)
    9
    """
    first, second = _data(frame1, "first frame", region), _data(frame2, "second frame", region)
    _same_shape(first, second, "paired")
    std = sigma_clipped_stats(first - second, sigma=sigma, maxiters=10)[2]
    return float(std) ** 2


def read_noise_from_pair(bias1, bias2, region=None) -> float:
    """The read noise in ADU from two bias frames: ``std(bias1 - bias2) / sqrt(2)``, clipped at 5 sigma.

    Parameters
    ----------
    bias1, bias2 : path-like or 2-D array
        Two bias frames of the same readout.
    region : tuple of slices, optional
        Where to measure (default: everywhere).

    Returns
    -------
    float
        Read noise in ADU (multiply by the gain for electrons).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> pattern = rng.normal(270, 5.0, (200, 200))
    >>> b1, b2 = pattern + rng.normal(0, 8.75, (200, 200)), pattern + rng.normal(0, 8.75, (200, 200))
    >>> round(read_noise_from_pair(b1, b2), 1)
    8.7
    """
    return math.sqrt(difference_variance(bias1, bias2, region) / 2.0)


@dataclass
class PairGain:
    """Gain and read noise from one bias pair and one flat pair (Janesick's method).

    Attributes
    ----------
    gain : float
        Electrons per ADU.
    gain_error : float
        Its statistical uncertainty (e-/ADU), from the number of pixels.
    read_noise_adu, read_noise_e : float
        Read noise from the bias pair, in ADU and in electrons (with this gain).
    signal_adu : float
        Mean bias-subtracted signal of the flat pair.
    variance_adu2 : float
        Shot-noise variance of one flat: ``var(F1 - F2) / 2 - read_noise**2`` (ADU^2).

    Examples
    --------
    >>> PairGain(1.6, 0.01, 8.75, 14.0, 1500.0, 937.5).gain
    1.6
    """

    gain: float
    gain_error: float
    read_noise_adu: float
    read_noise_e: float
    signal_adu: float
    variance_adu2: float


def gain_from_pair(bias1, bias2, flat1, flat2, region=None) -> PairGain:
    """Gain and read noise from two bias frames and two flats of equal exposure (Janesick).

    ``gain = (mean(F1) + mean(F2) - mean(B1) - mean(B2)) / (var(F1 - F2) - var(B1 - B2))``

    Parameters
    ----------
    bias1, bias2 : path-like or 2-D array
        Two bias frames of the flats' readout.
    flat1, flat2 : path-like or 2-D array
        Two flats of the same exposure time, well below saturation.
    region : tuple of slices, optional
        Where to measure (default: everywhere).

    Returns
    -------
    PairGain

    Raises
    ------
    DetectorError
        Frames of different shapes, or flats no brighter than the bias.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> def frame(electrons):  # 1.6 e-/ADU, 14 e- of read noise, on a bias of 270 ADU
    ...     return 270 + (electrons + rng.normal(0, np.sqrt(electrons + 14**2), (300, 300))) / 1.6
    >>> result = gain_from_pair(frame(0), frame(0), frame(4000), frame(4000))
    >>> round(result.gain, 1), round(result.read_noise_e)
    (1.6, 14)
    """
    b1, b2 = _data(bias1, "first bias", region), _data(bias2, "second bias", region)
    f1, f2 = _data(flat1, "first flat", region), _data(flat2, "second flat", region)
    _same_shape(b1, b2, "bias")
    _same_shape(f1, f2, "flat")
    _same_shape(b1, f1, "bias and flat")
    bias_var = difference_variance(b1, b2)
    flat_var = difference_variance(f1, f2)
    signal2 = float(f1.mean() + f2.mean() - b1.mean() - b2.mean())
    shot = flat_var - bias_var
    if not signal2 > 0 or not shot > 0:
        raise DetectorError(
            f"The flats are not brighter than the bias (signal {signal2 / 2:.1f} ADU, shot-noise variance "
            f"{shot / 2:.1f} ADU^2): use a pair of flats well above the bias level."
        )
    gain = signal2 / shot
    read_noise = math.sqrt(bias_var / 2.0)
    pixels = f1.size
    # variances measured on N pixels are uncertain by sqrt(2 / N) (relative)
    error = gain * math.sqrt(2.0 / pixels) * math.hypot(flat_var, bias_var) / shot
    return PairGain(gain, error, read_noise, read_noise * gain, signal2 / 2.0, shot / 2.0)


def pair_near(pairs, bias_pair, signal_adu: float):
    """The pair whose signal (median of its first flat minus the median of the first bias) is nearest ``signal_adu``.

    A quick look, not a measurement: it picks the pair to measure, e.g. one in the shot-noise regime
    well below saturation.

    Parameters
    ----------
    pairs : sequence
        ``(exptime, flat1, flat2)`` (or ``(flat1, flat2)``), files or arrays.
    bias_pair : (bias1, bias2)
        Bias frames of the same readout.
    signal_adu : float
        The signal wanted, above the bias (ADU).

    Returns
    -------
    tuple
        The pair, as given.

    Examples
    --------
    >>> bias = np.full((4, 4), 270.0)
    >>> pairs = [(1.0, bias + 600, bias + 600), (3.0, bias + 1900, bias + 1900), (9.0, bias + 5800, bias + 5800)]
    >>> pair_near(pairs, [bias, bias], 2000)[0]
    3.0
    """
    pairs = list(pairs)
    if not pairs:
        raise DetectorError("No flat pair to choose from.")
    level = float(np.median(_data(list(bias_pair)[0], "bias")))

    def distance(pair):
        return abs(float(np.median(_data(_pair_items(pair)[1], "flat"))) - level - float(signal_adu))

    return min(pairs, key=distance)


@dataclass
class PhotonTransfer:
    """A photon transfer curve and what it says about the camera (see :func:`photon_transfer`).

    Attributes
    ----------
    exptime : numpy.ndarray
        Exposure time of each pair (s), in increasing order.
    signal : numpy.ndarray
        Mean bias-subtracted signal of each pair (ADU).
    variance : numpy.ndarray
        ``var(F1 - F2) / 2`` of each pair (ADU^2): read noise and shot noise together.
    read_noise_adu, read_noise_error_adu : float
        From the bias pair.
    gain, gain_error : float
        From a straight line ``variance = signal / gain + read_noise**2`` through the pairs in the
        shot-noise regime, below the non-linearity (e-/ADU). NaN when fewer than two pairs qualify.
    fitted : numpy.ndarray
        bool, True for the pairs the gain was fitted on.
    full_well_adu, full_well_error_adu : float
        The signal where the variance turns over (its largest value) and half the gap to the
        farther neighbouring pair; NaN when the brightest pair is still below the turnover.
    linearity_limit_adu, linearity_limit_error_adu : float
        Where the signal falls 1 % below a straight line through the low pairs (signal against
        exposure time), interpolated between the pairs either side; NaN when not reached.
    deviation : numpy.ndarray
        Each pair's signal relative to that line, minus 1.
    notes : list of str
        What was assumed, and what could not be measured and why.

    Examples
    --------
    >>> ptc = photon_transfer(pairs, bias_pair)  # doctest: +SKIP
    >>> ptc.gain, ptc.full_well_e  # doctest: +SKIP
    """

    exptime: np.ndarray
    signal: np.ndarray
    variance: np.ndarray
    read_noise_adu: float
    read_noise_error_adu: float
    gain: float
    gain_error: float
    fitted: np.ndarray
    full_well_adu: float
    full_well_error_adu: float
    linearity_limit_adu: float
    linearity_limit_error_adu: float
    deviation: np.ndarray
    notes: list = field(default_factory=list)

    @property
    def read_noise_e(self) -> float:
        """Read noise in electrons (with the fitted gain)."""
        return self.read_noise_adu * self.gain

    @property
    def full_well_e(self) -> float:
        """Full well in electrons (with the fitted gain)."""
        return self.full_well_adu * self.gain

    @property
    def linearity_limit_e(self) -> float:
        """Linearity limit in electrons (with the fitted gain)."""
        return self.linearity_limit_adu * self.gain


def _exptime(item) -> float:
    if is_path(item):
        return exposure_time(read_header(item))
    return math.nan


def _pair_items(pair):
    try:
        items = list(pair)
    except TypeError:
        items = []
    if len(items) not in (2, 3):
        raise DetectorError(
            "Each pair must be (flat1, flat2) or (exptime, flat1, flat2), files or arrays; got "
            f"{type(pair).__name__} of {len(items)} item(s)."
        )
    if len(items) == 3:
        return float(items[0]), items[1], items[2]
    return _exptime(items[0]), items[0], items[1]


def _fit_gain(signal, variance, read_var, pixels, usable):
    """Weighted straight line ``variance = signal / gain + c`` through the usable pairs."""
    shot = variance - read_var
    # the shot-noise regime: shot noise at least ten times the read noise's variance
    chosen = usable & (shot > 10.0 * read_var) & (signal > 0)
    if chosen.sum() < 2:
        return math.nan, math.nan, chosen
    x, y = signal[chosen], variance[chosen]
    sigma = y * math.sqrt(2.0 / pixels)
    design = np.vstack([x, np.ones_like(x)]).T / sigma[:, None]
    coef, *_ = np.linalg.lstsq(design, y / sigma, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    residual = (y - np.vstack([x, np.ones_like(x)]).T @ coef) / sigma
    dof = max(int(chosen.sum()) - 2, 1)
    scale = max(1.0, math.sqrt(float(residual @ residual) / dof)) if chosen.sum() > 2 else 1.0
    slope, slope_error = float(coef[0]), math.sqrt(cov[0, 0]) * scale
    if not slope > 0:
        return math.nan, math.nan, chosen
    return 1.0 / slope, slope_error / slope**2, chosen


def photon_transfer(pairs, bias_pair, region=None) -> PhotonTransfer:
    """Measure a photon transfer curve and read the camera off it.

    For each pair of equal-exposure flats: the signal (mean of both, minus the mean of the bias
    pair) and the variance (``var(F1 - F2) / 2``, clipped at 5 sigma). Then:

    - **read noise** from the bias pair;
    - **full well**: the signal of the pair with the largest variance, if a brighter pair shows
      it falling (the turnover);
    - **linearity**: a straight line ``signal = a * t + b`` through the pairs below half the
      turnover (or half the brightest signal); the limit is where a pair falls 1 % below it,
      interpolated between the last pair within 1 % and the first beyond;
    - **gain**: a straight line ``variance = signal / gain + c`` through the pairs whose shot
      noise is at least ten times the read noise's variance and whose signal is within 1 % of
      linear and, when there is a turnover, below 60 % of it (the non-linearity lowers the
      variance first).

    Parameters
    ----------
    pairs : sequence
        Each ``(flat1, flat2)`` (files: the exposure time is read from EXPTIME) or
        ``(exptime, flat1, flat2)``. At least one pair.
    bias_pair : (bias1, bias2)
        Two bias frames of the same readout as the flats.
    region : tuple of slices, optional
        Where to measure (default: the whole frame).

    Returns
    -------
    PhotonTransfer

    Raises
    ------
    DetectorError
        No pair, a pair or bias of another shape, or fewer than two bias frames.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> def flat(electrons):  # 1.6 e-/ADU, 14 e- of read noise
    ...     return 270 + (electrons + rng.normal(0, np.sqrt(electrons + 196), (200, 200))) / 1.6
    >>> bias = [flat(0.0), flat(0.0)]
    >>> pairs = [(t, flat(1000.0 * t), flat(1000.0 * t)) for t in (1, 3, 10, 30)]
    >>> round(photon_transfer(pairs, bias).gain, 1)
    1.6
    """
    pairs = list(pairs)
    if not pairs:
        raise DetectorError("No flat pair to measure: a photon transfer curve needs pairs of flats of equal exposure.")
    try:
        bias1, bias2 = list(bias_pair)[:2]
    except (TypeError, ValueError):
        raise DetectorError("bias_pair must be two bias frames (files or arrays) of the flats' readout.") from None
    b1, b2 = _data(bias1, "first bias", region), _data(bias2, "second bias", region)
    _same_shape(b1, b2, "bias")
    bias_level = (b1.mean() + b2.mean()) / 2.0
    read_var = difference_variance(b1, b2) / 2.0
    pixels = b1.size
    rows = []
    for pair in pairs:
        time, first, second = _pair_items(pair)
        f1, f2 = _data(first, "first flat", region), _data(second, "second flat", region)
        _same_shape(f1, f2, "flat")
        _same_shape(b1, f1, "bias and flat")
        rows.append((time, (f1.mean() + f2.mean()) / 2.0 - bias_level, difference_variance(f1, f2) / 2.0))
    rows.sort(key=lambda row: (row[1] if math.isnan(row[0]) else row[0], row[1]))
    exptime = np.array([r[0] for r in rows], dtype=float)
    signal = np.array([r[1] for r in rows], dtype=float)
    variance = np.array([r[2] for r in rows], dtype=float)
    notes = []
    read_noise = math.sqrt(read_var)
    read_noise_error = read_noise / math.sqrt(2.0 * pixels)

    # full well: the turnover of the variance
    peak = int(np.argmax(variance))
    if peak < len(variance) - 1 and variance[peak + 1] < variance[peak]:
        gaps = [signal[peak] - signal[peak - 1] if peak > 0 else 0.0, signal[peak + 1] - signal[peak]]
        full_well, full_well_error = float(signal[peak]), float(max(gaps)) / 2.0
        top = full_well
    else:
        full_well = full_well_error = math.nan
        top = float(np.max(signal))
        notes.append(f"full well not measured: the variance still rises at the brightest pair ({top:.0f} ADU), "
                     "so no pair reaches the turnover")

    # linearity: signal against exposure time
    deviation = np.full(len(signal), np.nan)
    limit = limit_error = math.nan
    timed = np.isfinite(exptime) & (exptime > 0)
    low = timed & (signal > 0) & (signal <= 0.5 * top) & (np.arange(len(signal)) <= peak)
    if low.sum() >= 2:
        slope, intercept = np.polyfit(exptime[low], signal[low], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            deviation = np.where(timed, signal / (slope * exptime + intercept) - 1.0, np.nan)
        above = [i for i in range(len(signal)) if timed[i] and signal[i] > 0.5 * top and i <= peak
                 and abs(deviation[i]) > LINEARITY_TOLERANCE]
        if above:
            i = above[0]
            j = max(k for k in range(i) if timed[k] and abs(deviation[k]) <= LINEARITY_TOLERANCE)
            d0, d1 = abs(deviation[j]), abs(deviation[i])
            limit = float(signal[j] + (LINEARITY_TOLERANCE - d0) / (d1 - d0) * (signal[i] - signal[j]))
            limit_error = float(signal[i] - signal[j]) / 2.0
        else:
            notes.append(f"linearity limit not reached: every pair up to {top:.0f} ADU is within "
                         f"{100 * LINEARITY_TOLERANCE:g} % of a straight line")
    else:
        notes.append("linearity not measured: fewer than two pairs with exposure times below the turnover")

    linear = np.ones(len(signal), dtype=bool)
    if np.isfinite(deviation).any():
        linear = ~(np.abs(np.nan_to_num(deviation)) > LINEARITY_TOLERANCE)
    usable = linear.copy()
    if math.isfinite(full_well):  # the variance bends below the turnover first: stay well under it
        usable &= (signal <= 0.6 * full_well) & (np.arange(len(signal)) < peak)
    gain, gain_error, fitted = _fit_gain(signal, variance, read_var, pixels, usable)
    if not math.isfinite(gain):
        notes.append("gain not fitted: fewer than two pairs in the shot-noise regime below the non-linearity")
    return PhotonTransfer(exptime, signal, variance, read_noise, read_noise_error, gain, gain_error, fitted,
                          full_well, full_well_error, limit, limit_error, deviation, notes)


def gain_from_unequal_flats(flat_a, flat_b, master_bias, read_noise_adu: float, region=None) -> float:
    """Estimate the gain from two flats of *different* levels: an estimate, resting on an assumption.

    Each flat, bias-subtracted, is divided by its median; if both saw the same illumination
    pattern, the pattern cancels in the difference and what is left is noise:
    ``var(a/m_a - b/m_b) = (m_a/g + r^2)/m_a^2 + (m_b/g + r^2)/m_b^2`` with ``r`` the read noise.
    Twilight flats taken minutes apart seldom share the pattern exactly (the sky's gradient
    turns): any change adds variance, so the gain comes out *low*. Prefer a pair of equal
    exposures (:func:`gain_from_pair`).

    Parameters
    ----------
    flat_a, flat_b : path-like or 2-D array
        Two flats (raw ADU), of the same filter and shape.
    master_bias : 2-D array or path-like
        The master bias (ADU).
    read_noise_adu : float
        The read noise (ADU), e.g. from :func:`read_noise_from_pair`.
    region : tuple of slices, optional
        Where to measure: the evenly lit centre (default: the middle half of each axis).

    Returns
    -------
    float
        The gain estimate (e-/ADU).

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> pattern = 1 + 0.02 * rng.standard_normal((300, 300))
    >>> def flat(level):
    ...     electrons = level * 1.6 * pattern
    ...     return 270 + (electrons + rng.normal(0, np.sqrt(electrons + 196))) / 1.6
    >>> round(gain_from_unequal_flats(flat(15000), flat(17000), np.full((300, 300), 270.0), 8.75), 1)
    1.6
    """
    a, b = _data(flat_a, "first flat"), _data(flat_b, "second flat")
    bias = _data(master_bias, "master bias")
    _same_shape(a, b, "flat")
    _same_shape(a, bias, "flat and bias")
    if region is None:
        ny, nx = a.shape
        region = (slice(ny // 4, ny - ny // 4), slice(nx // 4, nx - nx // 4))
    a, b = (a - bias)[region], (b - bias)[region]
    m_a, m_b = float(np.median(a)), float(np.median(b))
    if not (m_a > 0 and m_b > 0):
        raise DetectorError("The flats are not above the bias: they cannot measure the gain.")
    ratio_var = difference_variance(a / m_a, b / m_b)
    read = float(read_noise_adu) ** 2 * (1.0 / m_a**2 + 1.0 / m_b**2)
    shot = ratio_var - read
    if not shot > 0:
        raise DetectorError("The flats' difference holds no more than read noise: they cannot measure the gain.")
    return (1.0 / m_a + 1.0 / m_b) / shot

"""Checks for lesson 03, the master bias: a median combine by hand, and the noise it leaves."""

from __future__ import annotations

import math

import numpy as np

from . import Part, answers, blank_part, image, is_blank, number

LESSON = "03_master_bias"


def reference_median_combine(frames):
    """The reference median combine (given when yours is not ready): the per-pixel median.

    Examples
    --------
    >>> import numpy as np
    >>> reference_median_combine([np.zeros((2, 2)), np.ones((2, 2)), np.full((2, 2), 9.0)]).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return np.median(np.stack([np.asarray(frame, dtype=np.float32) for frame in frames]), axis=0)


def _clipped_std(values) -> float:
    from astropy.stats import sigma_clipped_stats

    return float(sigma_clipped_stats(np.asarray(values, dtype=np.float64), sigma=3.0, maxiters=5)[2])


def master_bias_of(night):
    """The reference master bias of the night (median of every bias frame).

    Examples
    --------
    >>> master_bias_of(night("data")).shape  # doctest: +SKIP
    (2054, 2048)
    """
    from ..calibrate import master_bias

    return night.memo("master_bias", lambda: master_bias(night.files("bias"), progress=False))


def _bias_frames(night):
    return [night.frame(path)[0] for path in night.files("bias")]


def _try(function, frames):
    try:
        return function([frame.copy() for frame in frames]), None
    except Exception as exc:  # the student's code: report, never crash
        return None, f"calling median_combine(frames) raised {type(exc).__name__}: {exc}"


@answers(LESSON, "median_combine")
def median_by_hand(night, median_combine):
    """A function returning the per-pixel median of a list of 2-D frames.

    Examples
    --------
    >>> median_combine = check("3.1", median_combine=lambda frames: np.mean(frames, axis=0))  # doctest: +SKIP
    ✘ Exercise 3.1: not yet.
       - That is the mean: a single hot pixel drags it. Take the median.
    """
    name = "median_combine"
    if is_blank(median_combine):
        return [blank_part(name, reference_median_combine)]
    if not callable(median_combine):
        return [Part(name, False, "median_combine should be a function that takes a list of frames.", reference_median_combine)]
    rng = np.random.default_rng(2018)
    odd = [rng.normal(270.0, 9.0, (6, 7)).astype(np.float32) for _ in range(5)]
    odd[2][1, 1] = 60000.0  # a hot value in one frame: the median ignores it, the mean does not
    even = odd[:4]
    for frames in (odd, even):
        result, problem = _try(median_combine, frames)
        if problem:
            return [Part(name, False, problem + ". Test it on two or three small arrays first.", reference_median_combine)]
        if is_blank(result) or result is None:
            hint = "median_combine returns nothing yet: make it return the combined frame."
            return [Part(name, False, hint, reference_median_combine, blank=is_blank(result))]
        expected = np.median(np.stack(frames), axis=0)
        array = np.asarray(result, dtype=np.float64) if not isinstance(result, (str, bytes)) else np.array([])
        if array.shape != expected.shape:
            return [Part(name, False, f"median_combine gives an array of shape {array.shape} for frames of shape "
                         f"{expected.shape}: take the median along the stack axis (axis=0).", reference_median_combine)]
        if np.allclose(array, np.mean(np.stack(frames), axis=0), rtol=1e-5):
            return [Part(name, False, "That is the mean: a single hot pixel drags it. Take the median.", reference_median_combine)]
        if not np.allclose(array, expected, rtol=1e-5, atol=1e-3):
            hint = ("With an even number of frames the median is the mean of the two middle values."
                    if frames is even else "Sort each pixel's values across the frames and take the middle one.")
            return [Part(name, False, f"median_combine does not give the per-pixel median. {hint}", reference_median_combine)]
    return [Part(name, True, reference=median_combine)]


@answers(LESSON, "master_bias")
def master_bias_by_hand(night, master_bias):
    """The master bias: the per-pixel median of every bias frame.

    Examples
    --------
    >>> master_bias = check("3.2", master_bias=median_combine(bias_frames))  # doctest: +SKIP
    ✔ Exercise 3.2: correct. Well done!
    """
    expected = master_bias_of(night)
    return [image("master_bias", master_bias, expected, rtol=1e-5, atol=1e-3,
                  hint=f"Combine all {len(night.files('bias'))} bias frames (bias_files) with your median_combine.",
                  reference=expected)]


def read_noise_of(night) -> float:
    """The read noise in ADU: clipped std of the difference of the first two bias frames / sqrt(2).

    Examples
    --------
    >>> round(read_noise_of(night("data")), 1)  # doctest: +SKIP
    8.6
    """
    def compute():
        first, second = _bias_frames(night)[:2]
        return _clipped_std(first.astype(np.float64) - second) / math.sqrt(2.0)

    return night.memo("read_noise_adu", compute)


@answers(LESSON, "read_noise_adu")
def read_noise(night, read_noise_adu):
    """The read noise in ADU, from the difference of two bias frames.

    Examples
    --------
    >>> check("3.3", read_noise_adu=8.6)  # doctest: +SKIP
    ✔ Exercise 3.3: correct. Well done!
    """
    if len(night.files("bias")) < 2:
        return [Part("read_noise_adu", True, reference=read_noise_adu)]
    expected = read_noise_of(night)
    part = number("read_noise_adu", read_noise_adu, expected, rtol=0.05,
                  hint="Subtract the first two bias frames (the fixed pattern cancels), take the sigma-clipped "
                       "std of the difference, and divide by sqrt(2): the noise of two frames adds in quadrature.",
                  reference=expected)
    if not part.ok and not part.blank and isinstance(read_noise_adu, (int, float, np.floating)):
        if math.isclose(float(read_noise_adu), expected * math.sqrt(2.0), rel_tol=0.05):
            part.hint = "Almost: that is the noise of the difference of two frames. Divide it by sqrt(2)."
    return [part]


def half_noise_of(night) -> tuple[float, int]:
    """Noise (ADU) of a master made from half of the bias frames, and how many frames that is.

    Examples
    --------
    >>> half_noise_of(night("data"))  # doctest: +SKIP
    (6.09..., 2)
    """
    def compute():
        frames = _bias_frames(night)
        n = len(frames) // 2
        first = np.median(np.stack(frames[:n]), axis=0)
        second = np.median(np.stack(frames[n:2 * n]), axis=0)
        return _clipped_std(first.astype(np.float64) - second) / math.sqrt(2.0), n

    return night.memo("half_noise", compute)


@answers(LESSON, "half_noise_adu")
def half_noise(night, half_noise_adu):
    """The noise of a master made from half of the bias frames (two halves compared).

    Examples
    --------
    >>> check("3.4", half_noise_adu=6.1)  # doctest: +SKIP
    ✔ Exercise 3.4: correct. Well done!
    """
    if len(night.files("bias")) < 2:
        return [Part("half_noise_adu", True, reference=half_noise_adu)]
    expected, n = half_noise_of(night)
    return [number("half_noise_adu", half_noise_adu, expected, rtol=0.05,
                   hint=f"Median-combine frames 0..{n - 1} and {n}..{2 * n - 1} separately, subtract the two "
                        "masters, and measure the difference as you did for the read noise.",
                   reference=expected)]

"""Checks for lesson 03, the master bias: a median combine by hand, and the noise it leaves."""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import Part, answers, blank_part, image, is_blank, number
from ccdlab.stats import clipped_std

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
            if array.ndim == 0:
                hint = ("median_combine gives one number: without axis=, np.median takes the median of every pixel of "
                        "every frame. Give axis=0 to combine the frames pixel by pixel.")
            else:
                hint = (f"median_combine gives an array of shape {array.shape} for frames of shape {expected.shape}: "
                        "take the median along the stack axis (axis=0).")
            return [Part(name, False, hint, reference_median_combine)]
        if np.allclose(array, np.mean(np.stack(frames), axis=0), rtol=1e-5):
            return [Part(name, False, "That is the mean: a single hot pixel drags it. Take the median.", reference_median_combine)]
        if np.allclose(array, frames[0], rtol=1e-5) or np.allclose(array, frames[-1], rtol=1e-5):
            return [Part(name, False, "median_combine gives back one of the frames unchanged: combine all of them, "
                         "pixel by pixel.", reference_median_combine)]
        if not np.allclose(array, expected, rtol=1e-5, atol=1e-3):
            hint = ("With an even number of frames the median is the mean of the two middle values."
                    if frames is even else "Sort each pixel's values across the frames and take the middle one.")
            return [Part(name, False, f"median_combine does not give the per-pixel median. {hint}", reference_median_combine)]
    return [Part(name, True, reference=median_combine)]


@answers(LESSON, "master_bias")
def master_bias_by_hand(night, master_bias):
    """The master bias: the per-pixel median of every bias frame.

    A wrong master gets the hint of the slip behind it: the mean of the frames, one frame, some of
    the frames, the level taken out, the file names; a wrong shape says what it is (transposed,
    still a stack).

    Examples
    --------
    >>> master_bias = check("3.2", master_bias=median_combine(bias_frames))  # doctest: +SKIP
    ✔ Exercise 3.2: correct. Well done!
    """
    expected = night.master_bias()
    n = len(night.files("bias"))
    if isinstance(master_bias, (list, tuple)) and master_bias and all(isinstance(item, str) for item in master_bias):
        return [Part("master_bias", False, "master_bias is a list of file names: combine the arrays (bias_frames) with "
                     "your median_combine, not the file names (bias_files).", expected)]
    part = image("master_bias", master_bias, expected, rtol=1e-5, atol=1e-3,
                 hint=f"Combine all {n} bias frames (bias_frames) with your median_combine.", reference=expected)
    if part.ok or part.blank:
        return [part]
    try:
        array = np.asarray(master_bias, dtype=np.float64)
    except (TypeError, ValueError):
        return [part]
    if array.shape != expected.shape:
        return [part]
    specific = _master_slip(night, array, n)
    if specific:
        part.hint = f"master_bias differs from the expected image. {specific}"
    return [part]


def _master_slip(night, array: np.ndarray, n: int) -> str | None:
    """What a wrong master bias of the right shape is, when it is a recognisable slip."""
    def same(other) -> bool:
        return bool(np.allclose(array, other, rtol=1e-5, atol=1e-3))

    frames = _bias_frames(night)
    if same(np.mean(np.stack(frames), axis=0)):
        return ("That is the mean of the frames: a cosmic ray or a noise spike in one frame drags it. Take the "
                "per-pixel median (your median_combine).")
    if any(same(frame) for frame in frames):
        return f"That is a single bias frame: combine all {n} of them."
    for count in range(2, n):
        if same(np.median(np.stack(frames[:count]), axis=0)) or same(np.median(np.stack(frames[-count:]), axis=0)):
            return f"That is the median of only {count} frames: combine all {n} bias frames."
    expected = night.master_bias()
    offset = float(np.median(expected - array))
    if abs(offset) > 1.0 and np.allclose(array + offset, expected, rtol=1e-5, atol=1e-2):
        return (f"Its level is shifted: the master bias keeps the bias level (~{float(np.median(expected)):.0f} ADU), "
                "which is what later lessons subtract. Do not take the median level out.")
    return None


def read_noise_of(night) -> float:
    """The read noise in ADU: clipped std of the difference of the first two bias frames / sqrt(2).

    Examples
    --------
    >>> round(read_noise_of(night("data")), 1)  # doctest: +SKIP
    8.6
    """
    def compute():
        first, second = _bias_frames(night)[:2]
        return clipped_std(first.astype(np.float64) - second) / math.sqrt(2.0)

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
                  hint="Check which frames you subtract (the first two), that you measure their difference with "
                       "the sigma-clipped std, and how the noise of two frames adds up.",
                  reference=expected)
    if not part.ok and not part.blank and isinstance(read_noise_adu, (int, float, np.integer, np.floating)) \
            and not isinstance(read_noise_adu, (bool, np.bool_)):
        part.hint = _read_noise_slip(night, float(read_noise_adu), expected) or part.hint
    return [part]


def _one_frame_noise(night) -> list[float]:
    """The clipped and the plain std of each bias frame on its own (ADU)."""
    def compute():
        values = []
        for frame in _bias_frames(night):
            values += [clipped_std(frame), float(np.std(frame, dtype=np.float64))]
        return values

    return night.memo("one_bias_frame_noise", compute)


def _read_noise_slip(night, value: float, expected: float) -> str | None:
    """What a wrong read noise is, when it is a recognisable slip (None otherwise)."""
    def near(target, rtol=0.03) -> bool:
        return math.isclose(value, target, rel_tol=rtol)

    if value == 0:
        return "0 ADU: a frame minus itself. Subtract two different frames, the first two."
    if near(expected * math.sqrt(2.0)):
        return "Almost: that is the noise of the difference of two frames. Divide it by sqrt(2)."
    if near(2.0 * expected):
        return "That is the difference's noise multiplied by sqrt(2): divide by sqrt(2) instead."
    if near(expected / math.sqrt(2.0)):
        return "That is the difference's noise divided by 2: the noise of two frames adds in quadrature, divide by sqrt(2)."
    if near(expected**2):
        return "That is a variance: the read noise is a standard deviation, its square root."
    first, second = _bias_frames(night)[:2]
    if near(clipped_std(first.astype(np.float64) + second) / math.sqrt(2.0), 0.005):
        return "That is the sum of the two frames: the pattern adds up there. Subtract them, so that it cancels."
    if any(near(noise, 0.01) for noise in _one_frame_noise(night)):
        return ("That is the noise of one bias frame: one frame also holds the bias pattern (the same in every frame), "
                "so its std is too large. The difference of two frames cancels the pattern: use that.")
    try:
        gain = float(night.camera().gain)
    except Exception:  # noqa: BLE001 - a night without science frames: no gain to compare with
        gain = None
    if gain and not math.isclose(gain, 1.0) and near(expected * gain):
        return f"That is the read noise in electrons (times the gain, {gain:g} e-/ADU): give it in ADU."
    first, second = _bias_frames(night)[:2]
    if near(clipped_std(first.astype(np.float64) + second) / math.sqrt(2.0)):
        return "That is the sum of the two frames: the pattern adds up there. Subtract them, so that it cancels."
    return None


def master_noise_of(night) -> tuple[float, int]:
    """Measured noise (ADU) of a master of all bias frames but the last, and how many frames it has.

    The master minus the last (independent) frame holds the master's noise and the frame's read
    noise in quadrature: ``sqrt(std(difference)**2 - read_noise**2)``.

    Examples
    --------
    >>> master_noise_of(night("data"))  # doctest: +SKIP
    (4.7..., 4)
    """
    def compute():
        frames = _bias_frames(night)
        n = len(frames) - 1
        difference = np.median(np.stack(frames[:n]), axis=0).astype(np.float64) - frames[n]
        return math.sqrt(max(clipped_std(difference) ** 2 - read_noise_of(night) ** 2, 0.0)), n

    return night.memo("master_noise", compute)


@answers(LESSON, "master_noise_adu")
def master_noise(night, master_noise_adu):
    """The measured noise of a master bias of n frames, against an independent frame.

    Examples
    --------
    >>> check("3.4", master_noise_adu=4.7)  # doctest: +SKIP
    ✔ Exercise 3.4: correct. Well done!
    """
    name = "master_noise_adu"
    if len(night.files("bias")) < 4:  # a master of 3 or more frames and one frame more are needed
        return [Part(name, True, reference=master_noise_adu)]
    expected, n = master_noise_of(night)
    part = number(name, master_noise_adu, expected, rtol=0.03,
                  hint="Look at the difference of your master and the independent frame: which two noises does "
                       "its std contain, and how do they add up?", reference=expected)
    if part.ok or part.blank or not isinstance(master_noise_adu, (int, float, np.integer, np.floating)):
        return [part]
    value, read = float(master_noise_adu), read_noise_of(night)
    frames = _bias_frames(night)
    master = np.median(np.stack(frames[:n]), axis=0).astype(np.float64)
    difference = clipped_std(master - frames[n])

    def near(target, rtol=0.01) -> bool:
        return math.isclose(value, target, rel_tol=rtol)

    def noise_of(other_master, frame) -> float:
        return math.sqrt(max(clipped_std(other_master - frame) ** 2 - read**2, 0.0))

    if math.isnan(value):
        part.hint = (f"master_noise_adu is nan, the square root of a negative number: the difference's std came out "
                     f"below the read noise. That happens when the frame you subtract is in your master: combine the "
                     f"first {n} frames (bias_frames[:n]) and subtract the last, bias_frames[n].")
    elif near(read / math.sqrt(n)):
        part.hint = (f"{value:.2f} ADU is the theory for a mean of {n} frames (read noise / sqrt({n})), which a mean "
                     "master also measures. The exercise's master is a median (your median_combine): measure its "
                     "noise on the data.")
    elif near(difference):
        part.hint = ("That is the noise of the difference: it also holds the independent frame's own read noise. "
                     "Remove that in quadrature.")
    elif near(difference / math.sqrt(2.0)):
        part.hint = ("Dividing by sqrt(2) assumes both images are equally noisy; a master is less noisy than a frame. "
                     "Remove the frame's read noise in quadrature instead.")
    elif near(math.sqrt(difference**2 + read**2)):
        part.hint = ("The noises add in quadrature in the difference, so take the frame's read noise out: subtract "
                     "the squares, sqrt(std**2 - read_noise**2).")
    elif near(clipped_std(master)):
        part.hint = ("That is the std of the master itself: it holds the bias pattern, the same in every frame. "
                     "Subtract the independent frame (bias_frames[n]) so that the pattern cancels.")
    elif near(noise_of(np.mean(np.stack(frames[:n]), axis=0), frames[n])):
        part.hint = "That master is a mean of the frames: the exercise measures a median's noise (your median_combine)."
    elif near(noise_of(np.median(np.stack(frames), axis=0), frames[n]), 0.05) or \
            near(noise_of(master, frames[n - 1]), 0.05):
        part.hint = (f"The frame you subtract is in your master, so their noise is shared: combine the first {n} "
                     f"frames (bias_frames[:n]) and subtract the last, bias_frames[n].")
    return [part]

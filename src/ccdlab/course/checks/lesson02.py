"""Checks for lesson 02, statistics and display, all on the first bias frame."""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import Part, answers, blank_part, is_blank, number
from ccdlab.course.checks.compare import as_float

LESSON = "02_statistics_display"


def _stats(night):
    from ccdlab.stats import image_stats

    def compute():
        data = night.frame(night.first("bias"))[0]
        return image_stats(data)

    return night.memo("bias_stats", compute)


def _positions(night) -> tuple[int, int]:
    """Flat indices of the first bias frame's minimum and maximum (what argmin and argmax give)."""
    def compute():
        data = night.frame(night.first("bias"))[0]
        return int(np.argmin(data)), int(np.argmax(data))

    return night.memo("bias_argmin_argmax", compute)


def _close(value, expected, rtol=1e-3) -> bool:
    return value is not None and expected is not None and math.isclose(value, float(expected), rel_tol=rtol)


def _shape_hint(name: str, got) -> str | None:
    """A hint for an answer that is several numbers where one is wanted (an array, a tuple), or None."""
    if isinstance(got, (str, bytes)) or is_blank(got):
        return None
    try:
        array = np.asarray(got)
    except Exception:  # noqa: BLE001
        return None
    if array.dtype == object or array.size <= 1:
        return None
    if isinstance(got, tuple) and array.size == 3:
        return (f"{name} is a tuple of three numbers: sigma_clipped_stats returns (mean, median, std); "
                "unpack them, `a, b, c = sigma_clipped_stats(...)`.")
    return (f"{name} is an array of {array.size} values, not one number: without axis=, numpy reduces over "
            "every pixel of the frame.")


@answers(LESSON, "mean", "median", "std", "minimum", "maximum")
def plain_stats(night, mean, median, std, minimum, maximum):
    """Mean, median, standard deviation, minimum and maximum of the whole first bias frame.

    Examples
    --------
    >>> check("2.1", mean=np.mean(d), median=np.median(d), std=np.std(d), minimum=d.min(), maximum=d.max())  # doctest: +SKIP
    ✔ Exercise 2.1: correct. Well done!
    """
    s = _stats(night)
    whole = "Use every pixel of the first bias frame (bias_data)."
    got = {"mean": mean, "median": median, "std": std, "minimum": minimum, "maximum": maximum}
    parts = [
        number("mean", mean, s.mean, rtol=1e-4, hint=whole, reference=s.mean),
        number("median", median, s.median, rtol=1e-4, hint=whole, reference=s.median),
        number("std", std, s.std, rtol=1e-3, hint=whole + " np.std gives the standard deviation.", reference=s.std),
        number("minimum", minimum, s.min, rtol=1e-6, hint=whole, reference=s.min),
        number("maximum", maximum, s.max, rtol=1e-6, hint=whole, reference=s.max),
    ]
    value = {name: as_float(answer) for name, answer in got.items()}
    swapped = "mean and median seem swapped: which one is dragged by the few very bright pixels?"
    extremes = "minimum and maximum are swapped: the minimum is the smallest value."
    positions = dict(zip(("minimum", "maximum"), _positions(night)))
    for part in parts:
        if part.ok or part.blank:
            continue
        name, v = part.name, value[part.name]
        several = _shape_hint(name, got[name])
        if several:
            part.hint = several
        elif (name == "mean" and _close(v, s.median, 1e-4)) or (name == "median" and _close(v, s.mean, 1e-4)):
            part.hint = swapped
        elif name == "std" and _close(v, s.std**2):
            part.hint = "That is the variance (np.var): the standard deviation is its square root (np.std)."
        elif name == "std" and _close(v, s.clipped_std, 1e-3):
            part.hint = ("That is the sigma-clipped std (Exercise 2.2): here take the plain np.std of every pixel, "
                         "outliers included.")
        elif name == "minimum" and _close(v, s.max, 1e-6) or name == "maximum" and _close(v, s.min, 1e-6):
            part.hint = extremes
        elif name in positions and v is not None and v == positions[name] and v != (s.min if name == "minimum" else s.max):
            part.hint = (f"{name} = {v:.0f} is where the {name} is (np.argmin/np.argmax give its position in the "
                         "flattened image), not its value: use np.min/np.max.")
    return parts


@answers(LESSON, "clipped_mean", "clipped_median", "clipped_std")
def clipped_stats(night, clipped_mean, clipped_median, clipped_std):
    """Sigma-clipped mean, median and std of the first bias frame (3 sigma, 5 iterations).

    Examples
    --------
    >>> m, med, s = sigma_clipped_stats(bias_data)  # doctest: +SKIP
    >>> check("2.2", clipped_mean=m, clipped_median=med, clipped_std=s)  # doctest: +SKIP
    ✔ Exercise 2.2: correct. Well done!
    """
    s = _stats(night)
    how = "Clip at 3 sigma (sigma_clipped_stats does, by default)."
    got = {"clipped_mean": clipped_mean, "clipped_median": clipped_median, "clipped_std": clipped_std}
    parts = [
        number("clipped_mean", clipped_mean, s.clipped_mean, rtol=1e-3, hint=how, reference=s.clipped_mean),
        number("clipped_median", clipped_median, s.clipped_median, rtol=1e-3, hint=how, reference=s.clipped_median),
        number("clipped_std", clipped_std, s.clipped_std, rtol=1e-2,
               hint=how + " A clipped std is much smaller than the plain one when there are outliers.",
               reference=s.clipped_std),
    ]
    for part in parts:
        if part.ok or part.blank:
            continue
        v = as_float(got[part.name])
        several = _shape_hint(part.name, got[part.name])
        if several:
            part.hint = several
        elif part.name == "clipped_std" and _close(v, s.std, 1e-3):
            part.hint = ("That is the plain std, outliers included: clip first (sigma_clipped_stats, or sigma_clip "
                         "and then np.std).")
        elif part.name == "clipped_std" and _close(v, s.clipped_std**2, 1e-2):
            part.hint = "That is the clipped variance: the standard deviation is its square root."
    return parts


@answers(LESSON, "hist_low", "hist_high")
def histogram_range(night, hist_low, hist_high):
    """The histogram's range: the clipped median plus and minus 10 clipped standard deviations.

    Examples
    --------
    >>> check("2.3", hist_low=med - 10 * s, hist_high=med + 10 * s)  # doctest: +SKIP
    ✔ Exercise 2.3: correct. Well done!
    """
    s = _stats(night)
    low, high = s.clipped_median - 10 * s.clipped_std, s.clipped_median + 10 * s.clipped_std
    tolerance = max(0.05 * s.clipped_std, 1.0)  # 1 ADU: edges rounded outwards to whole counts are right too
    hint = "Go 10 standard deviations down and up from the median (use the clipped values)."
    parts = [
        number("hist_low", hist_low, low, atol=tolerance, hint=hint, reference=low),
        number("hist_high", hist_high, high, atol=tolerance, hint=hint, reference=high),
    ]
    a, b = as_float(hist_low), as_float(hist_high)
    if all(part.ok for part in parts) or a is None or b is None:
        return parts
    specific = None
    if math.isclose(a, high, abs_tol=tolerance) and math.isclose(b, low, abs_tol=tolerance):
        specific = "hist_low and hist_high are swapped: hist_low is the lower edge, below the median."
    elif math.isclose(a, s.min, abs_tol=1.0) and math.isclose(b, s.max, abs_tol=1.0):
        specific = ("That is the minimum and the maximum: the few outliers would squash the bell into one bar. "
                    "Go 10 standard deviations each way from the median instead.")
    elif math.isclose(b - a, 20.0, abs_tol=0.5):
        specific = "That is 10 ADU each way: go 10 standard deviations (10 * clipped_std) each way instead."
    elif math.isclose((b - a) / 20.0, s.std, rel_tol=0.01):
        specific = ("That is 10 *plain* standard deviations, widened by the outliers: use the clipped std from "
                    "Exercise 2.2.")
    elif b > a:
        k = (b - a) / 2.0 / s.clipped_std
        if not math.isclose(k, 10.0, rel_tol=0.01) and abs(k - round(k)) < 0.02:
            specific = f"That is {round(k)} standard deviations each way from the median; the histogram goes 10."
    if specific:
        for part in parts:
            if not part.ok:
                part.hint = specific
    return parts


def _reference_limits(night):
    from ccdlab.display.images import display_limits

    return night.memo("bias_limits", lambda: tuple(
        float(v) for v in display_limits(night.frame(night.first("bias"))[0], stretch="zscale")))


@answers(LESSON, "vmin", "vmax")
def display_range(night, vmin, vmax):
    """Display limits that show the bias frame's noise: around the median, a few sigma wide.

    Examples
    --------
    >>> vmin, vmax = check("2.4", vmin=med - 3 * s, vmax=med + 3 * s)  # doctest: +SKIP
    ✔ Exercise 2.4: correct. Well done!
    """
    s = _stats(night)
    ref_low, ref_high = _reference_limits(night)
    if is_blank(vmin) or is_blank(vmax):
        return [
            blank_part("vmin", ref_low) if is_blank(vmin) else Part("vmin", False, "Fill in vmax too.", ref_low),
            blank_part("vmax", ref_high) if is_blank(vmax) else Part("vmax", False, "Fill in vmin too.", ref_high),
        ]
    low, high = as_float(vmin), as_float(vmax)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        hint = "vmin and vmax should be numbers (counts in ADU)."
        return [Part("vmin", False, hint, ref_low), Part("vmax", False, hint, ref_high)]
    m, sd = s.clipped_median, s.clipped_std
    problems = []
    if not low < high:
        problems.append("vmin must be below vmax.")
    elif not low < m < high:
        problems.append("The median of the image should lie between vmin and vmax.")
    elif high - low > 40 * sd:
        problems.append("The range is so wide that the noise is lost: narrow it to a few standard deviations.")
    elif high - low < 1 * sd:
        problems.append("The range is narrower than the noise: widen it to a few standard deviations.")
    ok = not problems
    hint = "" if ok else problems[0] + " Look at the clipped statistics."
    return [Part("vmin", ok, hint, ref_low), Part("vmax", ok, "" if ok else hint, ref_high)]

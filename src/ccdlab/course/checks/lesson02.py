"""Checks for lesson 02, statistics and display, all on the first bias frame."""

from __future__ import annotations

from ccdlab.course.checks import Part, answers, blank_part, is_blank, number

LESSON = "02_statistics_display"


def _stats(night):
    from ccdlab.stats import image_stats

    def compute():
        data = night.frame(night.first("bias"))[0]
        return image_stats(data)

    return night.memo("bias_stats", compute)


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
    parts = [
        number("mean", mean, s.mean, rtol=1e-4, hint=whole, reference=s.mean),
        number("median", median, s.median, rtol=1e-4, hint=whole, reference=s.median),
        number("std", std, s.std, rtol=1e-3, hint=whole + " np.std gives the standard deviation.", reference=s.std),
        number("minimum", minimum, s.min, rtol=1e-6, hint=whole, reference=s.min),
        number("maximum", maximum, s.max, rtol=1e-6, hint=whole, reference=s.max),
    ]
    swapped = "mean and median seem swapped: which one is dragged by the few very bright pixels?"
    if not parts[0].ok and not parts[0].blank and number("mean", mean, s.median, rtol=1e-4).ok:
        parts[0].hint = swapped
    if not parts[1].ok and not parts[1].blank and number("median", median, s.mean, rtol=1e-4).ok:
        parts[1].hint = swapped
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
    return [
        number("clipped_mean", clipped_mean, s.clipped_mean, rtol=1e-3, hint=how, reference=s.clipped_mean),
        number("clipped_median", clipped_median, s.clipped_median, rtol=1e-3, hint=how, reference=s.clipped_median),
        number("clipped_std", clipped_std, s.clipped_std, rtol=1e-2,
               hint=how + " A clipped std is much smaller than the plain one when there are outliers.",
               reference=s.clipped_std),
    ]


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
    tolerance = 0.05 * s.clipped_std
    hint = "Go 10 standard deviations down and up from the median (use the clipped values)."
    return [
        number("hist_low", hist_low, low, atol=tolerance, hint=hint, reference=low),
        number("hist_high", hist_high, high, atol=tolerance, hint=hint, reference=high),
    ]


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
    try:
        low, high = float(vmin), float(vmax)
    except (TypeError, ValueError):
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

"""Answer catalogue of lesson 02: statistics, the histogram's range and display limits of the first bias frame."""

import numpy as np
from astropy.stats import sigma_clip, sigma_clipped_stats

from catalogue import mistake, solution, valid

LESSON = "02_statistics_display"


def d(c):
    """bias_data: the first bias frame (float32, as read_frame gives it)."""
    return c.bias_frames[0]


def plain(mean, median, std, minimum, maximum):
    return {"mean": mean, "median": median, "std": std, "minimum": minimum, "maximum": maximum}


def numpy_plain(c, **changes):
    x = d(c)
    answers = plain(np.mean(x), np.median(x), np.std(x), np.min(x), np.max(x))
    answers.update({name: change(x) for name, change in changes.items()})
    return answers


def clipped(mean, median, std):
    return {"clipped_mean": mean, "clipped_median": median, "clipped_std": std}


def clipped_of(c):
    return sigma_clipped_stats(d(c), sigma=3.0)


def stats_of(c):
    from ccdlab.stats import image_stats

    return image_stats(d(c))


def five(x):
    """The five plain statistics of x, with numpy's functions."""
    return plain(np.mean(x), np.median(x), np.std(x), np.min(x), np.max(x))


def by_methods(x):
    return plain(x.mean(), np.median(x), x.std(), x.min(), x.max())


def by_nan_functions(x):
    return plain(np.nanmean(x), np.percentile(x, 50), np.nanstd(x), np.nanmin(x), np.nanmax(x))


def masked(m):
    return clipped(m.mean(), np.ma.median(m), m.std())


def unmasked(m):
    return clipped(np.mean(m.data), np.median(m.data), np.std(m.data))


def with_std(c, change):
    m = clipped_of(c)
    return clipped(m[0], m[1], change(m[2]))


def hist(low, high):
    return {"hist_low": low, "hist_high": high}


def around(c, k, centre=None, spread=None):
    _, median, std = clipped_of(c)
    centre = median if centre is None else centre
    spread = std if spread is None else spread
    return centre - k * spread, centre + k * spread


def limits(low, high):
    return {"vmin": low, "vmax": high}


CASES = {
    "2.1": [
        solution("np.mean, np.median, np.std, np.min, np.max", lambda c: numpy_plain(c)),
        valid("array methods in float64", lambda c: by_methods(d(c).astype(np.float64))),
        valid("nan-functions and np.percentile(..., 50)",
              lambda c: by_nan_functions(d(c))),
        valid("the std with ddof=1", lambda c: numpy_plain(c, std=lambda x: np.std(x, ddof=1))),
        valid("plain Python floats from image_stats",
              lambda c: plain(stats_of(c).mean, stats_of(c).median, stats_of(c).std, stats_of(c).min, stats_of(c).max)),
        mistake("mean and median swapped", lambda c: numpy_plain(c, mean=np.median, median=np.mean), "swapped"),
        mistake("the variance for the std", lambda c: numpy_plain(c, std=np.var), "variance"),
        mistake("the sigma-clipped std (2.2's) for the plain one", lambda c: numpy_plain(c, std=lambda x: sigma_clipped_stats(x)[2]),
                "sigma-clipped std"),
        mistake("minimum and maximum swapped", lambda c: numpy_plain(c, minimum=np.max, maximum=np.min), "swapped"),
        mistake("np.argmax: where the maximum is", lambda c: numpy_plain(c, maximum=np.argmax), "position"),
        mistake("per-column means (axis=0)", lambda c: numpy_plain(c, mean=lambda x: np.mean(x, axis=0)), "without axis="),
        mistake("statistics of the first row only",
                lambda c: five(d(c)[0]), "every pixel"),
        mistake("numbers formatted as text", lambda c: numpy_plain(c, mean=lambda x: f"{np.mean(x):.2f}"), "should be a number"),
    ],
    "2.2": [
        solution("sigma_clipped_stats(bias_data, sigma=3.0)", lambda c: clipped(*clipped_of(c))),
        valid("sigma_clipped_stats with its defaults, in float64", lambda c: clipped(*sigma_clipped_stats(d(c).astype(np.float64)))),
        valid("sigma_clip, then masked-array mean, median and std",
              lambda c: masked(sigma_clip(d(c), sigma=3, maxiters=5))),
        valid("clipped until nothing changes (maxiters=None)", lambda c: clipped(*sigma_clipped_stats(d(c), maxiters=None))),
        valid("image_stats' clipped values", lambda c: clipped(stats_of(c).clipped_mean, stats_of(c).clipped_median,
                                                            stats_of(c).clipped_std)),
        valid("the centre and spread functions spelled out", lambda c: clipped(*sigma_clipped_stats(
            d(c), sigma_lower=3, sigma_upper=3, cenfunc="median", stdfunc="std", maxiters=5))),
        mistake("the plain statistics, not clipped", lambda c: clipped(np.mean(d(c)), np.median(d(c)), np.std(d(c))), "plain std"),
        mistake("the clipped variance", lambda c: with_std(c, lambda std: std ** 2), "variance"),
        mistake("the whole tuple as clipped_mean", lambda c: clipped(clipped_of(c), clipped_of(c)[1], clipped_of(c)[2]), "unpack"),
        mistake("clipped at 1 sigma", lambda c: clipped(*sigma_clipped_stats(d(c), sigma=1.0)), "3 sigma"),
        mistake("sigma_clip(...).data: the mask thrown away",
                lambda c: unmasked(sigma_clip(d(c))), "plain std"),
        mistake("numbers formatted as text", lambda c: with_std(c, lambda std: f"{std:.2f}"), "should be a number"),
    ],
    "2.3": [
        solution("clipped median -/+ 10 clipped std", lambda c: hist(*around(c, 10))),
        valid("centred on the clipped mean", lambda c: hist(*around(c, 10, centre=clipped_of(c)[0]))),
        valid("from image_stats, as Python floats",
              lambda c: hist(stats_of(c).clipped_median - 10 * stats_of(c).clipped_std,
                             stats_of(c).clipped_median + 10 * stats_of(c).clipped_std)),
        valid("numpy float64 in a list unpacked", lambda c: hist(*[np.float64(v) for v in around(c, 10)])),
        valid("rounded outwards to whole ADU", lambda c: hist(np.floor(around(c, 10)[0]), np.ceil(around(c, 10)[1]))),
        mistake("3 standard deviations (the display range's)", lambda c: hist(*around(c, 3)), "3 standard deviations"),
        mistake("the plain std, widened by the outliers", lambda c: hist(*around(c, 10, spread=np.std(d(c)))), "plain"),
        mistake("the minimum and the maximum", lambda c: hist(float(d(c).min()), float(d(c).max())), "minimum and the maximum"),
        mistake("low and high swapped", lambda c: hist(*around(c, 10)[::-1]), "swapped"),
        mistake("10 ADU each way", lambda c: hist(*around(c, 10, spread=1.0)), "10 ADU"),
        mistake("the range as text", lambda c: hist(*(f"{v:.1f}" for v in around(c, 10))), "should be a number"),
    ],
    "2.4": [
        solution("clipped median -/+ 3 clipped std", lambda c: limits(*around(c, 3))),
        valid("-/+ 5 clipped std", lambda c: limits(*around(c, 5))),
        valid("zscale's limits", lambda c: limits(*__import__("astropy.visualization").visualization.ZScaleInterval().get_limits(d(c)))),
        valid("the 1st and 99th percentiles", lambda c: limits(*np.percentile(d(c), [1, 99]))),
        valid("-/+ 2 plain std around the plain median", lambda c: limits(np.median(d(c)) - 2 * np.std(d(c)), np.median(d(c)) + 2 * np.std(d(c)))),
        mistake("the minimum and the maximum (what imshow does)", lambda c: limits(d(c).min(), d(c).max()), "so wide"),
        mistake("vmin and vmax swapped", lambda c: limits(*around(c, 3)[::-1]), "below vmax"),
        mistake("a tenth of a std each way", lambda c: limits(*around(c, 0.1)), "narrower than the noise"),
        mistake("around zero: -/+ 3 std", lambda c: limits(-3 * clipped_of(c)[2], 3 * clipped_of(c)[2]), "median of the image"),
        mistake("normalised limits 0 and 1", lambda c: limits(0, 1), "median of the image"),
        mistake("limits as text", lambda c: limits(*(f"{v:.0f}" for v in around(c, 3))), "should be numbers"),
        mistake("only vmin filled in", lambda c: limits(around(c, 3)[0], ...), "Fill in vmax"),
    ],
}

"""Answer catalogue of lesson 08: gain and read noise from a pair, the photon transfer curve, darks."""

from __future__ import annotations

import functools

import numpy as np
from astropy.stats import sigma_clip, sigma_clipped_stats

from catalogue import mistake, solution, valid

LESSON = "08_detector"


class Lesson08:
    """What the notebook has at hand on one night: the pair, the curve's arrays, the darks."""

    def __init__(self, data_dir):
        from ccdlab.characterise import find_detector_frames
        from ccdlab.detector import pair_near
        from ccdlab.io import read_frame

        self.read = lambda path: read_frame(path)[0]
        self.frames = find_detector_frames(data_dir)
        self.bias1, self.bias2 = (self.read(p) for p in self.frames.bias_pair)
        _, first, second = pair_near(self.frames.pairs, self.frames.bias_pair, 2000)
        self.flat1, self.flat2 = self.read(first), self.read(second)

    # 8.1 -------------------------------------------------------------------------------------

    @staticmethod
    def var5(difference):
        return sigma_clipped_stats(difference, sigma=5)[2] ** 2

    @functools.cached_property
    def janesick(self):
        signal_sum = self.flat1.mean() + self.flat2.mean() - self.bias1.mean() - self.bias2.mean()
        flat_var, bias_var = self.var5(self.flat1 - self.flat2), self.var5(self.bias1 - self.bias2)
        gain = signal_sum / (flat_var - bias_var)
        return {"signal_sum": signal_sum, "flat_var": flat_var, "bias_var": bias_var, "gain": gain,
                "read_adu": np.sqrt(bias_var / 2), "read_e": gain * np.sqrt(bias_var / 2)}

    # 8.2 -------------------------------------------------------------------------------------

    @functools.cached_property
    def pairs(self):
        return [(self.read(a), self.read(b)) for _, a, b in self.frames.pairs]

    @property
    def bias_level(self):
        return (self.bias1.mean() + self.bias2.mean()) / 2

    def curve(self, variance_of=None, signal_of=None):
        variance_of = variance_of or (lambda a, b: self.var5(a - b) / 2)
        signal_of = signal_of or (lambda a, b: (a.mean() + b.mean()) / 2 - self.bias_level)
        return (np.array([signal_of(a, b) for a, b in self.pairs]), np.array([variance_of(a, b) for a, b in self.pairs]))

    @functools.cached_property
    def solved_curve(self):
        return self.curve()

    # 8.3 -------------------------------------------------------------------------------------

    @functools.cached_property
    def reading(self):
        signal, variance = self.solved_curve
        read_var = self.janesick["read_adu"] ** 2
        peak = int(np.argmax(variance))
        use = (variance > 10 * read_var) & (signal < 0.5 * signal[peak])
        slope, _ = np.polyfit(signal[use], variance[use], 1)
        return {"signal": signal, "variance": variance, "use": use, "peak": peak, "slope": slope,
                "gain": 1 / slope, "full_well": signal[peak] / slope, "read_var": read_var}

    # darks -----------------------------------------------------------------------------------

    @functools.cached_property
    def master_bias(self):
        from ccdlab import combine

        return combine(self.frames.bias, method="median", progress=False)

    @property
    def t_dark(self):
        return max(self.frames.darks)

    @property
    def t_short(self):
        return min(self.frames.darks)

    @property
    def t_science(self):
        return self.frames.science_exptime

    @functools.cached_property
    def darks(self):
        return [self.read(p) for p in self.frames.darks[self.t_dark]]

    @functools.cached_property
    def raw_master(self):
        return np.median(self.darks, axis=0)

    @functools.cached_property
    def master_dark(self):
        return self.raw_master - self.master_bias

    @functools.cached_property
    def rate(self):
        return self.master_dark / self.t_dark * self.reading["gain"]


@functools.lru_cache(maxsize=None)
def _lesson(data_dir):
    return Lesson08(data_dir)


def L(c) -> Lesson08:
    return _lesson(str(c.data_dir))


# --- 8.1 --------------------------------------------------------------------------------------------


def pair(gain, read_noise_e):
    return {"gain": gain, "read_noise_e": read_noise_e}


def _j(c):
    return L(c).janesick


def janesick_with(c, variance):
    """Janesick's formula with another way of measuring a difference's variance."""
    x = L(c)
    flat_var, bias_var = variance(x.flat1 - x.flat2), variance(x.bias1 - x.bias2)
    gain = _j(c)["signal_sum"] / (flat_var - bias_var)
    return pair(gain, gain * np.sqrt(bias_var / 2))


def clipped_by_hand(difference, sigma=5.0):
    """The variance after cutting, again and again, the values beyond ``sigma`` std of the median."""
    values = np.asarray(difference, dtype=float).ravel()
    for _ in range(10):
        keep = np.abs(values - np.median(values)) <= sigma * values.std()
        if keep.all():
            break
        values = values[keep]
    return float(values.var())


def one_flat(c):
    x = L(c)
    signal = x.flat1.mean() - x.bias1.mean()
    return pair(signal / (x.var5(x.flat1 - x.flat1.mean()) - _j(c)["read_adu"] ** 2), _j(c)["read_e"])


def per_flat(c):
    """The mean signal of one flat and the variance of one frame: the same gain, written per frame."""
    x, j = L(c), _j(c)
    gain = (j["signal_sum"] / 2) / (j["flat_var"] / 2 - j["bias_var"] / 2)
    return pair(gain, gain * np.sqrt(j["bias_var"] / 2))


CASE_81 = [
    solution("Janesick with 5-sigma clipped variances", lambda c: pair(_j(c)["gain"], _j(c)["read_e"])),
    valid("the same, per frame: mean signal over var(F1 - F2) / 2 - read noise^2", per_flat),
    valid("sigma_clip(..., sigma=5).var()", lambda c: janesick_with(c, lambda d: float(sigma_clip(d, sigma=5, maxiters=None).var()))),
    valid("np.var after cutting outliers beyond 5 std by hand", lambda c: janesick_with(c, clipped_by_hand)),
    valid("float32 numbers", lambda c: pair(np.float32(_j(c)["gain"]), np.float32(_j(c)["read_e"]))),
    mistake("gain upside down (ADU per electron)", lambda c: pair(1 / _j(c)["gain"], _j(c)["read_e"]), "ADU per electron"),
    mistake("the variance of one flat instead of the pair's difference", one_flat, "variance of one flat"),
    mistake("the bias left in the signal",
            lambda c: pair((L(c).flat1.mean() + L(c).flat2.mean()) / (_j(c)["flat_var"] - _j(c)["bias_var"]), _j(c)["read_e"]),
            "Subtract the bias level"),
    mistake("the read noise left in the flats' variance",
            lambda c: pair(_j(c)["signal_sum"] / _j(c)["flat_var"], _j(c)["read_e"]), "read noise too"),
    mistake("a factor of 2: the mean signal of one flat over the variance of the difference",
            lambda c: pair((_j(c)["signal_sum"] / 2) / (_j(c)["flat_var"] - _j(c)["bias_var"]), _j(c)["read_e"]), "factor of 2"),
    mistake("read noise in ADU", lambda c: pair(_j(c)["gain"], _j(c)["read_adu"]), "read noise in ADU"),
    mistake("read noise divided by the gain", lambda c: pair(_j(c)["gain"], _j(c)["read_adu"] / _j(c)["gain"]), "do not divide"),
    mistake("read noise without the sqrt(2)",
            lambda c: pair(_j(c)["gain"], _j(c)["gain"] * np.sqrt(_j(c)["bias_var"])), "divide it by sqrt(2)"),
    mistake("read noise as a variance", lambda c: pair(_j(c)["gain"], _j(c)["read_e"] ** 2), "variance"),
    mistake("a cosmic ray in the bias pair not clipped",
            lambda c: pair(_j(c)["gain"], _j(c)["gain"] * np.std(L(c).bias1 - L(c).bias2) / np.sqrt(2)), "cosmic ray"),
]

# --- 8.2 --------------------------------------------------------------------------------------------


def curve(signal, variance):
    return {"signal": signal, "variance": variance}


def solved_curve(c):
    return curve(*L(c).solved_curve)


def curve_with(c, **how):
    return curve(*L(c).curve(**how))


CASE_82 = [
    solution("a loop over the pairs, 5-sigma clipped", solved_curve),
    valid("python lists", lambda c: curve(*(list(map(float, a)) for a in L(c).solved_curve))),
    valid("float32 arrays", lambda c: curve(*(a.astype(np.float32) for a in L(c).solved_curve))),
    valid("sigma_clip(..., sigma=5).var() / 2", lambda c: curve_with(
        c, variance_of=lambda a, b: float(sigma_clip(a - b, sigma=5, maxiters=None).var()) / 2)),
    valid("signal as the mean of both frames stacked", lambda c: curve_with(
        c, signal_of=lambda a, b: float(np.mean([a, b])) - L(c).bias_level)),
    mistake("var(F1 - F2) not halved", lambda c: curve(L(c).solved_curve[0], 2 * L(c).solved_curve[1]), "divide it by 2"),
    mistake("the standard deviation instead of the variance",
            lambda c: curve(L(c).solved_curve[0], np.sqrt(L(c).solved_curve[1])), "standard deviation"),
    mistake("the bias left in the signal", lambda c: curve(L(c).solved_curve[0] + L(c).bias_level, L(c).solved_curve[1]),
            "Subtract the bias level"),
    mistake("a 3-sigma clip", lambda c: curve_with(c, variance_of=lambda a, b: sigma_clipped_stats(a - b)[2] ** 2 / 2),
            "3-sigma"),
    mistake("np.var, cosmic rays and all", lambda c: curve_with(c, variance_of=lambda a, b: float(np.var(a - b)) / 2),
            "cosmic ray"),
    mistake("the variance of one flat", lambda c: curve_with(c, variance_of=lambda a, b: L(c).var5(a - a.mean())),
            "pixel pattern"),
    mistake("the pairs in reverse order", lambda c: curve(*(a[::-1] for a in L(c).solved_curve)), "order of pairs"),
]

# --- 8.3 --------------------------------------------------------------------------------------------


def reading(gain, well):
    return {"ptc_gain": gain, "full_well": well}


def _r(c):
    return L(c).reading


def linregress_gain(c):
    from scipy.stats import linregress

    r = _r(c)
    fit = linregress(r["signal"][r["use"]], r["variance"][r["use"]])
    return reading(1 / fit.slope, r["signal"][r["peak"]] / fit.slope)


def lstsq_gain(c):
    r = _r(c)
    x, y = r["signal"][r["use"]], r["variance"][r["use"]]
    slope, _ = np.linalg.lstsq(np.vstack([x, np.ones_like(x)]).T, y, rcond=None)[0]
    return reading(1 / slope, r["signal"][r["peak"]] / slope)


def ratio_gain(c):
    r = _r(c)
    gain = float(np.median(r["signal"][r["use"]] / (r["variance"][r["use"]] - r["read_var"])))
    return reading(gain, r["signal"][r["peak"]] * gain)


def all_pairs(c):
    r = _r(c)
    slope = np.polyfit(r["signal"], r["variance"], 1)[0]
    return reading(1 / slope, r["full_well"])


CASE_83 = [
    solution("np.polyfit over the shot-noise regime", lambda c: reading(_r(c)["gain"], _r(c)["full_well"])),
    valid("scipy.stats.linregress", linregress_gain),
    valid("np.linalg.lstsq", lstsq_gain),
    valid("each pair's signal / shot-noise variance, median", ratio_gain),
    valid("the full well with the gain of Exercise 8.1", lambda c: reading(_r(c)["gain"], _r(c)["signal"][_r(c)["peak"]] * _j(c)["gain"])),
    mistake("the slope taken for the gain", lambda c: reading(_r(c)["slope"], _r(c)["full_well"]), "1 / slope"),
    mistake("a fit through every pair, saturated ones included", all_pairs, "every pair"),
    mistake("the full well in ADU", lambda c: reading(_r(c)["gain"], _r(c)["signal"][_r(c)["peak"]]), "in ADU"),
    mistake("the full well divided by the gain",
            lambda c: reading(_r(c)["gain"], _r(c)["signal"][_r(c)["peak"]] / _r(c)["gain"]), "do not divide"),
    mistake("the largest variance instead of its signal",
            lambda c: reading(_r(c)["gain"], _r(c)["variance"][_r(c)["peak"]] * _r(c)["gain"]), "largest variance"),
    mistake("the gain upside down and the full well in ADU",
            lambda c: reading(_r(c)["slope"], _r(c)["signal"][_r(c)["peak"]]), "1 / slope"),
]

# --- 8.4 --------------------------------------------------------------------------------------------


def master(image):
    return {"master_dark": image}


def package_master(c):
    from ccdlab.darks import master_dark

    return master(master_dark(L(c).frames.darks[L(c).t_dark], L(c).master_bias))


def combine_offset(c):
    from ccdlab import combine

    return master(combine(L(c).frames.darks[L(c).t_dark], method="median", offset=L(c).master_bias, progress=False))


def every_dark(c):
    x = L(c)
    return master(np.median([x.read(p) for paths in x.frames.darks.values() for p in paths], axis=0) - x.master_bias)


def short_darks(c):
    x = L(c)
    return master(np.median([x.read(p) for p in x.frames.darks[x.t_short]], axis=0) - x.master_bias)


CASE_84 = [
    solution("np.median of the longest darks minus the master bias", lambda c: master(L(c).master_dark)),
    valid("ccdlab.darks.master_dark", package_master),
    valid("combine(..., offset=master_bias)", combine_offset),
    valid("np.nanmedian in float64", lambda c: master(
        np.nanmedian(np.stack(L(c).darks).astype(np.float64), axis=0) - L(c).master_bias.astype(np.float64))),
    mistake("the bias not subtracted", lambda c: master(L(c).raw_master), "still hold the bias"),
    mistake("the mean: cosmic rays stay", lambda c: master(np.mean(L(c).darks, axis=0) - L(c).master_bias), "not the mean"),
    mistake("one dark frame", lambda c: master(L(c).darks[0] - L(c).master_bias), "not the mean or one frame"),
    mistake("every dark, both exposure times", every_dark, "Use the darks of"),
    mistake("the short darks", short_darks, "Use the darks of"),
    mistake("already divided by the exposure time", lambda c: master(L(c).master_dark / L(c).t_dark), "already per second"),
]

# --- 8.5 --------------------------------------------------------------------------------------------


def scaled(image):
    return {"dark_for_science": image}


def package_scale(c):
    from ccdlab.darks import scale_dark

    return scaled(scale_dark(L(c).master_dark, L(c).t_dark, L(c).t_science))


CASE_85 = [
    solution("master_dark * t_science / t_dark", lambda c: scaled(L(c).master_dark * (L(c).t_science / L(c).t_dark))),
    valid("ccdlab.darks.scale_dark", package_scale),
    valid("divided first, then multiplied", lambda c: scaled(L(c).master_dark / L(c).t_dark * L(c).t_science)),
    valid("float64", lambda c: scaled(L(c).master_dark.astype(np.float64) * L(c).t_science / L(c).t_dark)),
    mistake("not scaled", lambda c: scaled(L(c).master_dark), "Not scaled"),
    mistake("scaled upside down", lambda c: scaled(L(c).master_dark * (L(c).t_dark / L(c).t_science)), "Upside down"),
    mistake("the raw darks scaled, the bias subtracted after",
            lambda c: scaled(L(c).raw_master * (L(c).t_science / L(c).t_dark) - L(c).master_bias), "bias was scaled"),
    mistake("scaled by the short darks' time",
            lambda c: scaled(L(c).master_dark * (L(c).t_science / L(c).t_short)), "exposure time of the darks you combined"),
    mistake("in electrons", lambda c: scaled(L(c).master_dark * (L(c).t_science / L(c).t_dark) * _r(c)["gain"]), "Stay in ADU"),
]

# --- 8.6 --------------------------------------------------------------------------------------------


def current(value):
    return {"dark_current": value}


def _median_rate_adu(c):
    return float(np.median(L(c).master_dark)) / L(c).t_dark


def package_current(c):
    from ccdlab.darks import dark_current

    x = L(c)
    darks = [p for paths in x.frames.darks.values() for p in paths]
    return current(dark_current(darks, x.master_bias, bias_frames=x.frames.bias, gain=_r(c)["gain"]).e_per_s)


CASE_86 = [
    solution("median / t_dark x ptc_gain", lambda c: current(_median_rate_adu(c) * _r(c)["gain"])),
    valid("with the gain of Exercise 8.1", lambda c: current(_median_rate_adu(c) * _j(c)["gain"])),
    valid("the slope of every dark's level (ccdlab.darks.dark_current)", package_current),
    valid("np.percentile(..., 50)", lambda c: current(float(np.percentile(L(c).master_dark, 50)) / L(c).t_dark * _r(c)["gain"])),
    valid("a float32", lambda c: current(np.float32(_median_rate_adu(c) * _r(c)["gain"]))),
    mistake("in ADU per second", lambda c: current(_median_rate_adu(c)), "ADU per second"),
    mistake("divided by the gain", lambda c: current(_median_rate_adu(c) / _r(c)["gain"]), "do not divide"),
    mistake("not divided by the exposure time",
            lambda c: current(float(np.median(L(c).master_dark)) * _r(c)["gain"]), "Divide by the darks' exposure time"),
    mistake("divided by the short darks' time",
            lambda c: current(float(np.median(L(c).master_dark)) / L(c).t_short * _r(c)["gain"]),
            "exposure time of the darks you combined"),
    mistake("the mean pixel", lambda c: current(float(np.mean(L(c).master_dark)) / L(c).t_dark * _r(c)["gain"]), "hot pixels"),
    mistake("the bias left in", lambda c: current(float(np.median(L(c).raw_master)) / L(c).t_dark * _r(c)["gain"]),
            "still holds the bias"),
]

# --- 8.7 --------------------------------------------------------------------------------------------


def hot(mask):
    return {"hot_pixels": mask}


CASE_87 = [
    solution("rate > 10 x the median", lambda c: hot(L(c).rate > 10 * np.median(L(c).rate))),
    valid("in ADU: the gain and time cancel", lambda c: hot(L(c).master_dark > 10 * np.median(L(c).master_dark))),
    valid("np.greater", lambda c: hot(np.greater(L(c).rate, 10 * np.median(L(c).rate)))),
    valid("np.where(..., True, False)", lambda c: hot(np.where(L(c).rate > 10 * np.median(L(c).rate), True, False))),
    valid(">= instead of >", lambda c: hot(L(c).rate >= 10 * np.median(L(c).rate))),
    mistake("below instead of above", lambda c: hot(L(c).rate < 10 * np.median(L(c).rate)), "above"),
    mistake("one dark frame: cosmic rays counted as hot", lambda c: hot(
        (L(c).darks[0] - L(c).master_bias) > 10 * np.median(L(c).darks[0] - L(c).master_bias)), "not one frame"),
    mistake("the bias left in the master", lambda c: hot(L(c).raw_master > 10 * np.median(L(c).raw_master)), "Too few"),
    mistake("a mask of 0 and 1 floats", lambda c: hot((L(c).rate > 10 * np.median(L(c).rate)).astype(float)), "boolean"),
    mistake("transposed", lambda c: hot((L(c).rate > 10 * np.median(L(c).rate)).T), "transpose"),
    mistake("ten electrons per second, not ten times the median", lambda c: hot(L(c).rate > 10), "Too few"),
]

CASES = {"8.1": CASE_81, "8.2": CASE_82, "8.3": CASE_83, "8.4": CASE_84, "8.5": CASE_85, "8.6": CASE_86, "8.7": CASE_87}

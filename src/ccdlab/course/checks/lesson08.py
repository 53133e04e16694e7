"""Checks for lesson 08, the detector: gain and read noise from a pair, the photon transfer curve,
the master dark and its scaling, the dark current, the hot pixels.

The lesson measures one night: the night in use when it has darks and flat pairs, else its
stand-in (:func:`ccdlab.data.stand_in.detector_night`, looked up, never made, by a check). Where
that night is synthetic its truth (:func:`ccdlab.data.simulate.camera_test.truth_of_night`, from
the manifest alone) is the yardstick: gain within 3 %, read noise within 5 %, dark current within
10 % (or three times the measurement's own uncertainty, if larger), full well within 10 % (the
turnover of a photon transfer curve sits a few per cent below the charge a pixel holds). On a real
night the yardstick is what the frames give the package's way. Images and arrays are compared
with the lesson's own recipe, computed here.
"""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import Part, answers, blank_part, boolean_mask, image, is_blank, number

LESSON = "08_detector"

#: Exercise 8.1 measures the pair whose signal is nearest this (ADU): shot noise, far from saturation.
PAIR_SIGNAL_ADU = 2000.0

#: A hot pixel's dark current is above this many times the median (the lesson's rule).
HOT_FACTOR = 10.0

#: The science exposure the master dark is scaled to when the night has no science frame (s).
DEFAULT_SCIENCE_EXPTIME = 180.0

GAIN_RTOL, READ_NOISE_RTOL, DARK_RTOL, FULL_WELL_RTOL = 0.03, 0.05, 0.10, 0.10


def _value(got):
    try:
        value = float(np.asarray(got, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _near(value, target, rtol) -> bool:
    return value is not None and target is not None and math.isfinite(target) and abs(value - target) <= rtol * abs(target)


# --- the night and its references ----------------------------------------------------------------


def measured_night(night):
    """``(folder, frames, truth)``: the night lesson 08 measures, its frames, and its truth (None when real).

    Examples
    --------
    >>> folder, frames, truth = measured_night(night("data"))  # doctest: +SKIP
    """
    def compute():
        from ccdlab.characterise import find_detector_frames
        from ccdlab.data.simulate.camera_test import truth_of_night
        from ccdlab.data.stand_in import detector_night

        folder, _ = detector_night(night.data_dir, make=False)
        return folder, find_detector_frames(folder), truth_of_night(folder)

    return night.memo(("lesson08", "night"), compute)


def _read(night, path) -> np.ndarray:
    return night.frame(path)[0].astype(np.float64)


def chosen_pair(night):
    """The flat pair of Exercise 8.1: signal nearest :data:`PAIR_SIGNAL_ADU` (:func:`ccdlab.detector.pair_near`).

    Examples
    --------
    >>> exptime, first, second = chosen_pair(night("data"))  # doctest: +SKIP
    """
    from ccdlab.detector import pair_near

    _, frames, _ = measured_night(night)
    return night.memo(("lesson08", "pair"), lambda: pair_near(frames.pairs, frames.bias_pair, PAIR_SIGNAL_ADU))


def pair_numbers(night) -> dict:
    """The reference gain and read noise of Exercise 8.1, and what common slips would give instead.

    Examples
    --------
    >>> round(pair_numbers(night("data"))["gain"], 2)  # doctest: +SKIP
    1.61
    """
    def compute():
        from astropy.stats import sigma_clipped_stats

        from ccdlab.detector import gain_from_pair

        _, frames, _ = measured_night(night)
        _, first, second = chosen_pair(night)
        b1, b2 = (_read(night, p) for p in frames.bias_pair)
        f1, f2 = _read(night, first), _read(night, second)
        result = gain_from_pair(b1, b2, f1, f2)
        signal = (f1.mean() + f2.mean() - b1.mean() - b2.mean()) / 2
        level = (b1.mean() + b2.mean()) / 2
        flat_var, bias_var = 2 * (result.variance_adu2 + result.read_noise_adu**2), 2 * result.read_noise_adu**2
        clipped3 = [sigma_clipped_stats(a - b)[2] ** 2 for a, b in ((f1, f2), (b1, b2))]
        one = sigma_clipped_stats(f1, sigma=5)[2] ** 2 - result.read_noise_adu**2
        return {
            "gain": result.gain, "read_noise_adu": result.read_noise_adu, "read_noise_e": result.read_noise_e,
            "signal": signal,
            "no_bias": (signal + level) / result.variance_adu2,
            "no_read_noise": signal / (flat_var / 2),
            "halves": (signal / (flat_var - bias_var), 4 * signal / (flat_var - bias_var)),
            "clip3": 2 * signal / (clipped3[0] - clipped3[1]),
            "one_flat": signal / one if one > 0 else math.nan,
            "unclipped_read_noise_adu": float(np.std(b1 - b2) / math.sqrt(2)),
        }

    return night.memo(("lesson08", "pair_numbers"), compute)


@answers(LESSON, "gain", "read_noise_e")
def gain_and_read_noise(night, gain, read_noise_e):
    """Gain (e-/ADU) and read noise (e-) from one bias pair and one flat pair (Janesick).

    Examples
    --------
    >>> check("8.1", gain=1.6, read_noise_e=8.75)  # doctest: +SKIP
    ✘ Exercise 8.1: not yet (1 of 2 right).
       - That is the read noise in ADU: multiply it by the gain to get electrons.
    """
    ref = pair_numbers(night)
    _, _, truth = measured_night(night)
    true_gain = truth["gain_e_per_adu"] if truth else ref["gain"]
    true_noise = truth["read_noise_e"] if truth else ref["read_noise_e"]
    parts = []
    g = _value(gain)
    if is_blank(gain):
        parts.append(blank_part("gain", ref["gain"]))
    elif _near(g, true_gain, GAIN_RTOL):
        parts.append(Part("gain", True, reference=gain))
    else:
        hint = ("Gain = (mean(F1) + mean(F2) - mean(B1) - mean(B2)) / (var(F1 - F2) - var(B1 - B2)): check each "
                "piece on the pair chosen above.")
        if g is not None and g > 0 and _near(1 / g, true_gain, GAIN_RTOL):
            hint = "That is ADU per electron: the gain counts electrons per ADU (turn it upside down)."
        elif _near(g, ref["one_flat"], 0.02):
            hint = ("The variance of one flat holds its pixel-to-pixel pattern too: use the difference of the two "
                    "flats, which cancels it.")
        elif _near(g, ref["no_bias"], 0.01):
            hint = "Subtract the bias level from the flats' mean signal: the bias holds no photons."
        elif _near(g, ref["no_read_noise"], 0.01):
            hint = "The flats' difference holds read noise too: remove the bias pair's variance from it."
        elif any(_near(g, value, 0.02) for value in ref["halves"]):
            hint = ("A factor of 2 is off: var(F1 - F2) holds the noise of two frames, and mean(F1) + mean(F2) "
                    "the signal of two.")
        elif _near(g, ref["clip3"], 0.005):
            hint = ("A 3-sigma clip cuts the noise's own tails (the variance comes out 2.7 % low): clip at 5 sigma, "
                    "which still removes cosmic rays.")
        parts.append(Part("gain", False, hint, ref["gain"]))
    r = _value(read_noise_e)
    if is_blank(read_noise_e):
        parts.append(blank_part("read_noise_e", ref["read_noise_e"]))
    elif _near(r, true_noise, READ_NOISE_RTOL):
        parts.append(Part("read_noise_e", True, reference=read_noise_e))
    else:
        hint = "Read noise = std(B1 - B2) / sqrt(2), clipped at 5 sigma, in ADU; times the gain for electrons."
        adu = ref["read_noise_adu"]
        if _near(r, adu, 0.02):
            hint = "That is the read noise in ADU: multiply it by the gain to get electrons."
        elif _near(r, adu / true_gain, 0.03):
            hint = "Electrons = ADU x gain (e-/ADU): multiply by the gain, do not divide."
        elif _near(r, true_noise * math.sqrt(2), 0.05):
            hint = "That is the noise of the difference of two frames: divide it by sqrt(2)."
        elif r is not None and (_near(r, true_noise**2, 0.1) or _near(r, adu**2, 0.1) or _near(r, adu**2 * true_gain, 0.1)):
            hint = "That looks like a variance: the read noise is a standard deviation (take the square root)."
        elif _near(r, ref["unclipped_read_noise_adu"] * true_gain, 0.05):
            hint = ("A cosmic ray hit a bias frame during its read-out and inflates the std: clip at 5 sigma "
                    "(sigma_clipped_stats).")
        parts.append(Part("read_noise_e", False, hint, ref["read_noise_e"]))
    return parts


def curve_of(night):
    """The reference photon transfer curve (:func:`ccdlab.detector.photon_transfer` of the night's pairs).

    Examples
    --------
    >>> curve_of(night("data")).signal[:2]  # doctest: +SKIP
    """
    from ccdlab.detector import photon_transfer

    _, frames, _ = measured_night(night)
    return night.memo(("lesson08", "ptc"), lambda: photon_transfer(frames.pairs, frames.bias_pair))


def _array(got):
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim == 1 else None


@answers(LESSON, "signal", "variance")
def transfer_curve(night, signal, variance):
    """Each pair's bias-subtracted mean signal (ADU) and ``var(F1 - F2) / 2`` (ADU^2), in the pairs' order.

    Examples
    --------
    >>> check("8.2", signal=signal, variance=variance)  # doctest: +SKIP
    ✔ Exercise 8.2: correct. Well done!
    """
    ptc = curve_of(night)
    expected_signal, expected_variance = ptc.signal, ptc.variance
    n = len(expected_signal)
    parts = []
    s = None if is_blank(signal) else _array(signal)
    if is_blank(signal):
        parts.append(blank_part("signal", expected_signal.copy()))
    elif s is None or s.shape != (n,):
        parts.append(Part("signal", False, f"signal should be a list or 1-D array of {n} numbers, one per pair "
                                           "(a loop over pairs).", expected_signal.copy()))
    elif np.allclose(s, expected_signal, rtol=0.01, atol=0.5):
        parts.append(Part("signal", True, reference=signal))
    else:
        bias_level = float(np.median(s - expected_signal))
        hint = "signal = (mean(F1) + mean(F2)) / 2 - (mean(B1) + mean(B2)) / 2 for each pair, in the order of pairs."
        if np.allclose(np.sort(s), np.sort(expected_signal), rtol=0.01, atol=0.5):
            hint = "Keep the order of pairs (by exposure time): the check compares pair by pair."
        elif bias_level > 100 and np.allclose(s - bias_level, expected_signal, rtol=0.01, atol=2.0):
            hint = "Subtract the bias level (the bias pair's mean) from each pair's signal."
        parts.append(Part("signal", False, hint, expected_signal.copy()))
    v = None if is_blank(variance) else _array(variance)
    if is_blank(variance):
        parts.append(blank_part("variance", expected_variance.copy()))
    elif v is None or v.shape != (n,):
        parts.append(Part("variance", False, f"variance should be a list or 1-D array of {n} numbers, one per pair.",
                          expected_variance.copy()))
    elif np.allclose(v, expected_variance, rtol=0.02, atol=0.5):
        parts.append(Part("variance", True, reference=variance))
    else:
        hint = "variance = var(F1 - F2) / 2 for each pair, clipped at 5 sigma (cosmic rays)."
        lit = (expected_variance > 0) & (expected_signal > 10 * ptc.read_noise_adu)
        ratio = float(np.median(v[lit] / expected_variance[lit])) if lit.any() else math.nan
        if math.isclose(ratio, 2.0, rel_tol=0.03):
            hint = "var(F1 - F2) holds the noise of two frames: divide it by 2."
        elif np.allclose(v**2, expected_variance, rtol=0.03, atol=1.0):
            hint = "That is a standard deviation: the photon transfer curve plots the variance (its square)."
        elif math.isclose(ratio, 0.973, abs_tol=0.01):
            hint = "A 3-sigma clip cuts the noise's own tails (2.7 % of the variance): clip at 5 sigma."
        elif ratio > 1.2:
            hint = ("Much more variance than the pair's noise: the variance of one flat holds its pixel pattern; use "
                    "the difference of the two flats.")
        elif np.allclose(v[lit], expected_variance[lit], rtol=0.02) and not np.allclose(v, expected_variance, rtol=0.02, atol=0.5):
            hint = ("The faint pairs' variance is off: a cosmic ray in one flat lands in the difference; clip at "
                    "5 sigma (sigma_clipped_stats(..., sigma=5)).")
        parts.append(Part("variance", False, hint, expected_variance.copy()))
    return parts


def curve_numbers(night) -> dict:
    """The lesson's reading of the reference curve: the gain of its shot-noise line, and the full well (e-).

    Examples
    --------
    >>> curve_numbers(night("data"))["full_well"]  # doctest: +SKIP
    """
    def compute():
        ptc = curve_of(night)
        signal, variance = ptc.signal, ptc.variance
        peak = int(np.argmax(variance))
        use = (variance > 10 * ptc.read_noise_adu**2) & (signal < 0.5 * signal[peak])
        slope, _ = np.polyfit(signal[use], variance[use], 1)
        gain = 1 / slope
        everything = np.polyfit(signal, variance, 1)[0]
        return {"gain": gain, "slope": slope, "all_pairs_gain": 1 / everything if everything else math.nan,
                "full_well": signal[peak] * gain, "full_well_adu": signal[peak], "peak_variance": variance[peak]}

    return night.memo(("lesson08", "curve_numbers"), compute)


@answers(LESSON, "ptc_gain", "full_well")
def reading_the_curve(night, ptc_gain, full_well):
    """The gain of the shot-noise line (e-/ADU) and the full well (e-) read off the photon transfer curve.

    Examples
    --------
    >>> check("8.3", ptc_gain=0.625, full_well=88500)  # doctest: +SKIP
    ✘ Exercise 8.3: not yet (1 of 2 right).
       - That is the slope of the line, ADU per electron: the gain is 1 / slope.
    """
    ref = curve_numbers(night)
    _, _, truth = measured_night(night)
    true_gain = truth["gain_e_per_adu"] if truth else ref["gain"]
    true_well = truth["full_well_e"] if truth else ref["full_well"]
    parts = []
    g = _value(ptc_gain)
    if is_blank(ptc_gain):
        parts.append(blank_part("ptc_gain", ref["gain"]))
    elif _near(g, true_gain, GAIN_RTOL):
        parts.append(Part("ptc_gain", True, reference=ptc_gain))
    else:
        hint = ("Fit variance = signal / gain + read noise^2 to the pairs in the shot-noise regime (np.polyfit of "
                "degree 1): the gain is 1 / slope.")
        if _near(g, ref["slope"], 0.02):
            hint = "That is the slope of the line, ADU per electron: the gain is 1 / slope."
        elif _near(g, ref["all_pairs_gain"], 0.05):
            hint = ("The fit took every pair, the saturated ones too: fit only the shot-noise regime (the pairs "
                    "selected by use).")
        parts.append(Part("ptc_gain", False, hint, ref["gain"]))
    w = _value(full_well)
    if is_blank(full_well):
        parts.append(blank_part("full_well", ref["full_well"]))
    elif _near(w, true_well, FULL_WELL_RTOL):
        parts.append(Part("full_well", True, reference=full_well))
    else:
        hint = "The full well is the signal where the variance turns over (its largest value), in electrons."
        if _near(w, ref["full_well_adu"], 0.05):
            hint = "That is the full well in ADU: multiply it by the gain to get electrons."
        elif _near(w, ref["full_well_adu"] / true_gain, 0.05):
            hint = "Electrons = ADU x gain: multiply by the gain, do not divide."
        elif _near(w, ref["peak_variance"], 0.05) or _near(w, ref["peak_variance"] * true_gain, 0.05):
            hint = "That is the largest variance: the full well is the *signal* where the variance is largest."
        parts.append(Part("full_well", False, hint, ref["full_well"]))
    return parts


def dark_numbers(night) -> dict:
    """The darks of the lesson: master bias, the longest darks, their master and exposure times.

    Examples
    --------
    >>> dark_numbers(night("data"))["t_dark"]  # doctest: +SKIP
    1200.0
    """
    def compute():
        from ccdlab.calibrate import master_bias
        from ccdlab.combine import combine

        _, frames, _ = measured_night(night)
        bias = master_bias(frames.bias, progress=False)
        t_dark = max(frames.darks)
        longest = frames.darks[t_dark]
        raw = combine(longest, method="median", progress=False)
        t_science = frames.science_exptime if math.isfinite(frames.science_exptime) else DEFAULT_SCIENCE_EXPTIME
        return {"bias": bias, "t_dark": t_dark, "files": longest, "raw": raw, "master": raw - bias,
                "t_science": t_science, "t_short": min(frames.darks)}

    return night.memo(("lesson08", "darks"), compute)


@answers(LESSON, "master_dark")
def master_dark_by_hand(night, master_dark):
    """The master dark: the median of the longest darks, minus the master bias (ADU).

    Examples
    --------
    >>> master_dark = check("8.4", master_dark=master_dark)  # doctest: +SKIP
    ✔ Exercise 8.4: correct. Well done!
    """
    ref = dark_numbers(night)
    expected = ref["master"]
    part = image("master_dark", master_dark, expected, rtol=1e-4, atol=0.05,
                 hint=f"Median-combine the {len(ref['files'])} darks of {ref['t_dark']:g} s, then subtract the master bias.",
                 reference=expected)
    if part.ok or part.blank:
        return [part]
    try:
        array = np.asarray(master_dark, dtype=np.float64)
    except (TypeError, ValueError):
        return [part]
    if array.shape != expected.shape:
        return [part]
    median = float(np.median(array))
    level = float(np.median(ref["bias"]))
    typical = max(abs(float(np.median(expected))), 1.0)
    if np.allclose(array, ref["raw"], rtol=1e-4, atol=0.05) or abs(median - float(np.median(ref["raw"]))) < 0.5 < level:
        part.hint = "The darks still hold the bias: subtract the master bias from the combined darks."
    elif abs(median * ref["t_dark"] - float(np.median(expected))) < 0.02 * typical:
        part.hint = "That is already per second: the master dark is one exposure's dark signal, in ADU."
    elif abs(median - float(np.median(expected))) > 0.1 * typical:
        part.hint = f"Use the darks of {ref['t_dark']:g} s only (the longest): darks of other exposures hold less dark signal."
    elif np.mean(np.abs(array - expected) > 5 * max(float(np.median(np.abs(expected - np.median(expected)))), 1)) > 1e-3:
        part.hint = (f"Many pixels stand out (cosmic rays, or a single frame's noise): take the median of all "
                     f"{len(ref['files'])} darks of {ref['t_dark']:g} s, not the mean or one frame.")
    return [part]


@answers(LESSON, "dark_for_science")
def scaled_dark(night, dark_for_science):
    """The master dark scaled to the science frames' exposure time (ADU).

    Examples
    --------
    >>> dark_for_science = check("8.5", dark_for_science=master_dark * t_science / t_dark)  # doctest: +SKIP
    ✔ Exercise 8.5: correct. Well done!
    """
    ref = dark_numbers(night)
    scale = ref["t_science"] / ref["t_dark"]
    expected = ref["master"] * np.float32(scale)
    part = image("dark_for_science", dark_for_science, expected, rtol=1e-4, atol=0.05,
                 hint=f"Scale the master dark by t_science / t_dark ({ref['t_science']:g} s / {ref['t_dark']:g} s).",
                 reference=expected)
    if part.ok or part.blank:
        return [part]
    try:
        array = np.asarray(dark_for_science, dtype=np.float64)
    except (TypeError, ValueError):
        return [part]
    if array.shape != expected.shape:
        return [part]
    master = ref["master"]
    tests = [
        (master, "Not scaled yet: the science frames are exposed for a different time than the darks."),
        (master / scale, "Upside down: multiply by t_science / t_dark, not t_dark / t_science."),
        (ref["raw"] * scale - ref["bias"], "The bias was scaled with the dark: subtract the master bias first, then "
                                           "scale (the bias does not grow with exposure time)."),
        (ref["raw"] * scale, "The bias was scaled with the dark: subtract the master bias first, then scale."),
        (master * ref["t_science"] / ref["t_short"], f"Scale by the exposure time of the darks you combined ({ref['t_dark']:g} s)."),
    ]
    for candidate, hint in tests:
        if np.allclose(array, candidate, rtol=1e-3, atol=0.1):
            part.hint = hint
            break
    else:
        usable = np.isfinite(expected) & np.isfinite(array) & (np.abs(expected) > 0.5)
        ratio = _value(np.median(array[usable] / expected[usable])) if usable.any() else None
        gain = curve_numbers(night)["gain"]
        if ratio is not None and (_near(ratio, gain, 0.05) or _near(ratio, 1 / gain, 0.05)):
            part.hint = "Stay in ADU: the dark is subtracted from frames in ADU (no gain here)."
    return [part]


def dark_current_of(night) -> float:
    """The reference dark current (e-/s/pixel): median of the master dark / its exposure time x the gain.

    Examples
    --------
    >>> dark_current_of(night("data"))  # doctest: +SKIP
    0.02
    """
    ref = dark_numbers(night)
    gain = curve_numbers(night)["gain"]
    return float(np.median(ref["master"])) / ref["t_dark"] * gain


@answers(LESSON, "dark_current")
def dark_current(night, dark_current):
    """The median pixel's dark current in electrons per second.

    Examples
    --------
    >>> check("8.6", dark_current=0.0125)  # doctest: +SKIP
    ✘ Exercise 8.6: not yet.
       - That is in ADU per second: multiply by the gain for electrons.
    """
    ref = dark_numbers(night)
    measured = dark_current_of(night)
    _, frames, truth = measured_night(night)
    if truth:
        expected, rtol = truth["dark_current_e_per_s"], DARK_RTOL
    else:
        expected, rtol = measured, DARK_RTOL
    value = _value(dark_current)
    if is_blank(dark_current):
        return [blank_part("dark_current", measured)]
    if _near(value, expected, rtol) or (not truth and _near(value, measured, rtol)):
        return [Part("dark_current", True, reference=dark_current)]
    gain = curve_numbers(night)["gain"]
    adu = measured / gain
    hint = "Dark current = median of the master dark / its exposure time x the gain (electrons per second)."
    if _near(value, adu, 0.03):
        hint = "That is in ADU per second: multiply by the gain for electrons."
    elif _near(value, adu / gain, 0.03):
        hint = "Electrons = ADU x gain: multiply by the gain, do not divide."
    elif _near(value, measured * ref["t_dark"], 0.03) or _near(value, adu * ref["t_dark"], 0.03):
        hint = f"Divide by the darks' exposure time ({ref['t_dark']:g} s): the dark current is per second."
    elif _near(value, measured * ref["t_dark"] / ref["t_short"], 0.03):
        hint = f"Divide by the exposure time of the darks you combined ({ref['t_dark']:g} s)."
    elif _near(value, float(np.mean(ref["master"])) / ref["t_dark"] * gain, 0.03):
        hint = "The mean is pulled up by the hot pixels: take the median pixel's dark current."
    elif value is not None and value > 10 * max(measured, 1e-6) and _near(value, float(np.median(ref["raw"])) / ref["t_dark"] * gain, 0.05):
        hint = "The master dark still holds the bias: subtract the master bias first."
    return [Part("dark_current", False, hint, measured)]


def hot_pixels_of(night) -> np.ndarray:
    """The lesson's hot pixels: dark current (e-/s) above :data:`HOT_FACTOR` times the median.

    Examples
    --------
    >>> int(hot_pixels_of(night("data")).sum())  # doctest: +SKIP
    132
    """
    def compute():
        ref = dark_numbers(night)
        rate = ref["master"] / ref["t_dark"] * curve_numbers(night)["gain"]
        return rate > HOT_FACTOR * np.median(rate)

    return night.memo(("lesson08", "hot"), compute)


@answers(LESSON, "hot_pixels")
def hot_pixel_map(night, hot_pixels):
    """A boolean map, True where the dark current is above ten times the median's.

    Examples
    --------
    >>> hot_pixels = check("8.7", hot_pixels=rate > 10 * np.median(rate))  # doctest: +SKIP
    ✔ Exercise 8.7: correct. Well done!
    """
    expected = hot_pixels_of(night)
    slack = max(2, int(0.01 * expected.sum())) / expected.size
    part = boolean_mask("hot_pixels", hot_pixels, expected, max_bad_fraction=slack,
                        hint="Compare the dark current of each pixel with ten times the median's: rate > 10 * np.median(rate).",
                        reference=expected)
    if part.ok or part.blank:
        return [part]
    array = np.asarray(hot_pixels)
    if array.dtype != bool or array.shape != expected.shape:
        if array.ndim == 2 and array.shape[::-1] == expected.shape:
            part.hint = f"hot_pixels is {array.shape}, the transpose of the frame's {expected.shape}: do not transpose it."
        return [part]
    if array.sum() > 0.5 * array.size:
        part.hint = "Almost every pixel is marked: a hot pixel's dark current is *above* the limit (>), not below."
    elif array.sum() > 2 * max(expected.sum(), 1):
        part.hint = ("Far more hot pixels than the master shows: use the master dark (a median of several darks), "
                     "where cosmic rays are gone, not one frame.")
    elif array.sum() < 0.8 * expected.sum():
        part.hint = ("Too few hot pixels: compare each pixel's dark current (bias subtracted, per second) with ten "
                     "times the median pixel's.")
    return [part]

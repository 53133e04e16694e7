"""What a night can tell about its camera: the frames it offers, and every measurement they allow.

:func:`find_detector_frames` looks for bias frames, darks and pairs of flats of equal exposure, in
the night and in its camera test (``detector/``, which :func:`ccdlab.inventory.scan` leaves out
of a night by default: its lamp flats are not twilight flats, and a cooled camera's darks are not
part of the night's reduction). :func:`characterise` measures what they allow, with
uncertainties, and says what it could not measure and why, and what it assumed; it never gives a
number the frames cannot support. ``ccdlab detector`` prints its :meth:`Characterisation.report`.

- gain, read noise, full well, linearity: a photon transfer curve of the flat pairs
  (:func:`ccdlab.detector.photon_transfer`); one pair gives the gain and read noise only
  (:func:`ccdlab.detector.gain_from_pair`); flats of unequal level only an *estimate* of the gain
  (:func:`ccdlab.detector.gain_from_unequal_flats`), labelled as such; bias frames alone the
  read noise in ADU;
- dark current and hot pixels: the darks (:mod:`ccdlab.darks`).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ccdlab.calibrate import master_bias, screen_flats
from ccdlab.camera import (
    DEFAULT_GAIN,
    DEFAULT_READNOISE,
    DEFAULT_SATLEVEL,
    GAIN_KEYS,
    READNOISE_KEYS,
    SATURATION_KEYS,
)
from ccdlab.darks import HOT_FACTOR, dark_current, dark_rate, hot_pixels, master_dark
from ccdlab.detector import (
    PhotonTransfer,
    gain_from_pair,
    gain_from_unequal_flats,
    photon_transfer,
    read_noise_from_pair,
)
from ccdlab.errors import CcdlabWarning, DetectorError
from ccdlab.inventory import scan
from ccdlab.io import frame_data, read_header

__all__ = [
    "DETECTOR_FOLDER",
    "DetectorFrames",
    "find_detector_frames",
    "Measurement",
    "Characterisation",
    "characterise",
    "format_uncertain",
]

#: The folder of a night that holds its camera test (flat pairs, and darks kept out of the reduction).
DETECTOR_FOLDER = "detector"


@dataclass
class DetectorFrames:
    """What a night offers to measure its camera (see :func:`find_detector_frames`).

    Attributes
    ----------
    folder : pathlib.Path
        The night's data folder.
    bias : list of str
        The night's bias frames (for the darks).
    darks : dict
        ``{exposure time (s): [dark frame paths]}``, in increasing exposure time.
    ptc_bias : list of str
        Bias frames of the flat pairs' readout (the camera test's own, else the night's).
    pairs : list of (float, str, str)
        ``(exposure time, flat1, flat2)``: flats of equal exposure, by exposure time.
    flats : list of str
        The night's flats (of unequal level when there is no pair).
    dark_temperature : float
        The median CCD temperature of the darks (C; NaN when unknown).
    science_exptime : float
        The median exposure time of the night's science frames (s; NaN when there are none).
    notes : list of str
        Where each kind came from, and what is missing.

    Examples
    --------
    >>> DetectorFrames(Path("data")).missing
    ['no dark frames', 'no pair of flats of equal exposure']
    """

    folder: Path
    bias: list = field(default_factory=list)
    darks: dict = field(default_factory=dict)
    ptc_bias: list = field(default_factory=list)
    pairs: list = field(default_factory=list)
    flats: list = field(default_factory=list)
    dark_temperature: float = math.nan
    science_exptime: float = math.nan
    notes: list = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """What the night lacks for lesson 08: ``'no dark frames'``, ``'no pair of flats of equal exposure'``."""
        gaps = []
        if not self.darks:
            gaps.append("no dark frames")
        if not self.pairs or len(self.ptc_bias) < 2:
            gaps.append("no pair of flats of equal exposure")
        return gaps

    @property
    def bias_pair(self) -> list[str]:
        """The first two bias frames of the pairs' readout."""
        return self.ptc_bias[:2]


def _shape(row) -> tuple[int, int]:
    return int(row["naxis2"]), int(row["naxis1"])


def _common_shape(rows) -> tuple[int, int] | None:
    shapes = Counter(_shape(row) for row in rows)
    return shapes.most_common(1)[0][0] if shapes else None


def _exptime_key(value: float) -> float:
    return round(float(value), 3)


def _equal_pairs(rows) -> list:
    """Flats grouped by exposure time: the first two of each exposure time with two or more."""
    groups: dict[float, list[str]] = {}
    for row in rows:
        if math.isfinite(float(row["exptime"])):
            groups.setdefault(_exptime_key(row["exptime"]), []).append(str(row["path"]))
    return [(time, paths[0], paths[1]) for time, paths in sorted(groups.items()) if len(paths) >= 2]


def find_detector_frames(data_dir) -> DetectorFrames:
    """Find the bias frames, darks and flat pairs a night offers for measuring its camera.

    - **darks**: every frame typed dark in the night (``darks/``) and in its camera test
      (``detector/``, which :func:`ccdlab.inventory.scan` leaves out of a night by default), of
      the bias frames' size, grouped by exposure time;
    - **flat pairs**: from the camera test ``detector/`` (flats of equal exposure time, and its own
      bias frames), else from the night's flats when two or more share an exposure time (their
      levels within 5 %: twilight fades between exposures);
    - **bias**: the night's bias frames, of their most common size.

    Parameters
    ----------
    data_dir : path-like
        The night's folder.

    Returns
    -------
    DetectorFrames
        With ``notes`` saying where each kind came from; ``missing`` lists what is not there.

    Examples
    --------
    >>> found = find_detector_frames("data")  # doctest: +SKIP
    >>> sorted(found.darks), len(found.pairs)  # doctest: +SKIP
    ([300.0, 1200.0], 19)
    """
    folder = Path(data_dir)
    night = scan(folder, warn=False)
    night = night[night["problem"] == ""] if len(night) else night
    found = DetectorFrames(folder)
    bias_rows = night[night["frame_type"] == "bias"] if len(night) else night
    shape = _common_shape(bias_rows)
    found.bias = [str(r["path"]) for r in bias_rows if _shape(r) == shape]
    if found.bias:
        where = sorted({Path(p).parent.relative_to(folder).as_posix() for p in found.bias})
        found.notes.append(f"bias: {len(found.bias)} frames in {', '.join(w + '/' for w in where)}")
    test_folder = folder / DETECTOR_FOLDER
    test = scan(test_folder, warn=False) if test_folder.is_dir() else None
    if test is not None and len(test):
        test = test[test["problem"] == ""]
    dark_rows = [r for table in (night, test) if table is not None and len(table) for r in table
                 if r["frame_type"] == "dark" and (shape is None or _shape(r) == shape)]
    for row in sorted(dark_rows, key=lambda r: (float(r["exptime"]), str(r["path"]))):
        found.darks.setdefault(_exptime_key(row["exptime"]), []).append(str(row["path"]))
    temperatures = [float(r["ccd_temp"]) for r in dark_rows if math.isfinite(float(r["ccd_temp"]))]
    found.dark_temperature = float(np.median(temperatures)) if temperatures else math.nan
    science = [float(r["exptime"]) for r in night if r["frame_type"] == "science" and math.isfinite(float(r["exptime"]))] \
        if len(night) else []
    found.science_exptime = float(np.median(science)) if science else math.nan
    if found.darks:
        where = sorted({Path(p).parent.relative_to(folder).as_posix() for paths in found.darks.values() for p in paths})
        listed = ", ".join(f"{len(p)} x {t:g} s" for t, p in found.darks.items())
        found.notes.append(f"darks: {listed}, in {', '.join(w + '/' for w in where)}")
    flat_rows = night[night["frame_type"] == "flat"] if len(night) else night
    found.flats = [str(r["path"]) for r in flat_rows]
    if test is not None and len(test):
        test_flats = [r for r in test if r["frame_type"] == "flat"]
        flat_shape = _common_shape(test_flats)
        found.pairs = _equal_pairs([r for r in test_flats if _shape(r) == flat_shape])
        found.ptc_bias = [str(r["path"]) for r in test if r["frame_type"] == "bias" and _shape(r) == flat_shape]
        if found.pairs:
            found.notes.append(f"flat pairs: {len(found.pairs)} in {DETECTOR_FOLDER}/, with "
                               f"{len(found.ptc_bias)} bias frames of their readout")
    if not found.pairs and len(flat_rows) >= 2:
        pairs = []
        for time, first, second in _equal_pairs(flat_rows):
            level = [float(np.median(frame_data(p, "flat", error=DetectorError)[::4, ::4])) for p in (first, second)]
            if abs(level[0] - level[1]) <= 0.05 * max(level):
                pairs.append((time, first, second))
        found.pairs = pairs
        found.ptc_bias = list(found.bias) if pairs else []
        if pairs:
            found.notes.append(f"flat pairs: {len(pairs)} among the night's flats (equal exposure, level within 5 %)")
    for gap in found.missing:
        found.notes.append(gap)
    return found



def format_uncertain(value: float, error: float, unit: str = "") -> str:
    """``value +/- error unit``, both rounded to the error's second significant digit.

    Examples
    --------
    >>> format_uncertain(1.59379, 0.00589, "e-/ADU")
    '1.5938 +/- 0.0059 e-/ADU'
    >>> format_uncertain(88456.8, 2207.9, "e-")
    '88,500 +/- 2,200 e-'
    >>> format_uncertain(14.2, math.nan)
    '14.2'
    """
    suffix = f" {unit}" if unit else ""
    if not math.isfinite(value):
        return "not measured"
    if not (math.isfinite(error) and error > 0):
        return f"{value:.3g}{suffix}"
    digits = 1 - int(math.floor(math.log10(error)))
    if digits > 0:
        return f"{value:.{digits}f} +/- {error:.{digits}f}{suffix}"
    step = 10.0 ** (-digits)
    return f"{round(value / step) * step:,.0f} +/- {round(error / step) * step:,.0f}{suffix}"


@dataclass
class Measurement:
    """One property of the camera: its value and uncertainty, or why it was not measured.

    Attributes
    ----------
    name : str
        E.g. ``"gain"``.
    value, error : float
        NaN when not measured.
    unit : str
        E.g. ``"e-/ADU"``.
    how : str
        How it was measured, or why it was not (``"not measured: ..."``).
    estimate : bool
        True when it rests on an assumption the frames cannot check (``how`` says which).

    Examples
    --------
    >>> Measurement("gain", 1.6, 0.01, "e-/ADU", "one flat pair").text()
    '1.600 +/- 0.010 e-/ADU'
    >>> Measurement("dark current", math.nan, math.nan, "e-/s", "not measured: no dark frames").measured
    False
    """

    name: str
    value: float
    error: float
    unit: str
    how: str
    estimate: bool = False

    @property
    def measured(self) -> bool:
        """True when there is a value."""
        return math.isfinite(self.value)

    def text(self) -> str:
        """The value with its uncertainty and unit, or ``'not measured'``."""
        return format_uncertain(self.value, self.error, self.unit)


def _missing(name: str, unit: str, why: str) -> Measurement:
    return Measurement(name, math.nan, math.nan, unit, f"not measured: {why}")


def _times(a: Measurement, gain: Measurement, name: str, unit: str, how: str) -> Measurement:
    """``a`` (ADU) times the gain, uncertainties added in quadrature; an estimate if either is one."""
    if not (a.measured and gain.measured):
        return _missing(name, unit, a.how.replace("not measured: ", "") if not a.measured else "no gain measured")
    value = a.value * gain.value
    error = math.hypot(a.error * gain.value, a.value * (gain.error if math.isfinite(gain.error) else 0.0))
    return Measurement(name, value, error, unit, how, a.estimate or gain.estimate)


@dataclass
class Characterisation:
    """Everything :func:`characterise` measured about a night's camera, and what it could not.

    Attributes
    ----------
    frames : DetectorFrames
        The frames used.
    gain, read_noise_adu, read_noise_e, full_well_adu, full_well_e, linearity_limit_e : Measurement
    dark_current : Measurement
        The median pixel's dark current (e-/s/pixel, or ADU/s without a gain).
    hot_pixels : Measurement
        How many pixels are hot (no uncertainty).
    ptc : ccdlab.detector.PhotonTransfer or None
        The photon transfer curve, when the night has flat pairs.
    header : dict
        ``{"gain" | "read noise" | "saturation": (keyword, value, verdict)}`` from a raw header.
    notes : list of str
        Assumptions and remarks.

    Examples
    --------
    >>> print(characterise("data").report())  # doctest: +SKIP
    """

    frames: DetectorFrames
    gain: Measurement
    read_noise_adu: Measurement
    read_noise_e: Measurement
    full_well_adu: Measurement
    full_well_e: Measurement
    linearity_limit_e: Measurement
    dark_current: Measurement
    hot_pixels: Measurement
    ptc: PhotonTransfer | None = None
    header: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def measurements(self) -> list[Measurement]:
        """Every measurement, in the order of the report."""
        return [self.gain, self.read_noise_adu, self.read_noise_e, self.full_well_adu, self.full_well_e,
                self.linearity_limit_e, self.dark_current, self.hot_pixels]

    def report(self) -> str:
        """The printed account: frames used, each value with its uncertainty, the header, lesson 06's values.

        Examples
        --------
        >>> print(characterise("data").report())  # doctest: +SKIP
        """
        f = self.frames
        lines = [f"ccdlab detector: {f.folder}", "", "Frames"]
        lines += [f"  {note}" for note in f.notes]
        lines += ["", f"{'':2}{'property':<18}{'measured':<40}how"]
        for m in self.measurements():
            shown = m.text() + (" (estimate)" if m.estimate and m.measured else "")
            if m.name == "hot pixels" and m.measured:
                shown = f"{m.value:.0f}"
            lines.append(f"  {m.name:<18}{shown:<40}{m.how}")
        if self.dark_current.measured and math.isfinite(f.science_exptime) and self.dark_current.unit.startswith("e-"):
            t = f.science_exptime
            signal = self.dark_current.value * t
            read = self.read_noise_e.value if self.read_noise_e.measured else DEFAULT_READNOISE
            lines += ["", f"In a {t:g} s science exposure the median pixel collects {signal:.3g} e- of dark signal, "
                          f"whose noise ({math.sqrt(max(signal, 0.0)):.2g} e-) is "
                          f"{'below' if math.sqrt(max(signal, 0.0)) < read else 'above'} the read noise ({read:.3g} e-)."]
        lines += ["", "Compared with the header, and with the course camera's defaults that lesson 06 used",
                  f"  {'property':<18}{'measured':<28}{'header':<34}lesson 06"]
        assumed = {"gain": f"{DEFAULT_GAIN:g} e-/ADU", "read noise": f"{DEFAULT_READNOISE:g} e-",
                   "saturation": f"{DEFAULT_SATLEVEL:g} e-"}
        measured = {"gain": self.gain, "read noise": self.read_noise_e, "saturation": self.full_well_e}
        for what in ("gain", "read noise", "saturation"):
            keyword, value, verdict = self.header.get(what, ("", None, "no keyword"))
            said = f"{keyword} = {value!r} ({verdict})" if keyword else f"({verdict})"
            lines.append(f"  {what:<18}{measured[what].text():<28}{said:<34}{assumed[what]}")
        if self.notes:
            lines += ["", "Notes"] + [f"  - {note}" for note in self.notes]
        return "\n".join(lines)


def _header_claims(header) -> dict:
    """What a raw header says about the camera, keyword by keyword, with a verdict on each value."""
    claims = {}
    for what, keys, low, high, unit in (("gain", GAIN_KEYS, 0.01, 100.0, "e-/ADU"),
                                        ("read noise", READNOISE_KEYS, 0.01, 1000.0, "e-"),
                                        ("saturation", SATURATION_KEYS, 100.0, 1.0e7, "ADU")):
        for key in keys:
            if key in header and header[key] not in (None, ""):
                raw = header[key]
                try:
                    value = float(raw)
                except (TypeError, ValueError):
                    value = math.nan
                plausible = math.isfinite(value) and low <= value <= high
                verdict = unit if plausible else "junk"
                claims[what] = (key, raw, verdict)
                break
    return claims


def _first_header(frames: DetectorFrames):
    for candidates in ([p for _, a, b in frames.pairs for p in (a, b)], frames.bias, frames.flats):
        for path in candidates:
            try:
                return read_header(path)
            except (OSError, ValueError):
                continue
    return None


def _gain_from_flats(frames: DetectorFrames, bias, read_noise: float, notes: list) -> Measurement:
    """An estimate of the gain from the night's usable flats of unequal level (consecutive in level)."""
    usable = [row for row in screen_flats(frames.flats, bias) if row["used"]] if len(frames.flats) >= 2 else []
    if len(usable) < 2:
        return _missing("gain", "e-/ADU", "no flat pair of equal exposure, and fewer than two usable flats")
    ordered = sorted(usable, key=lambda row: float(row["level"]))
    gains = []
    for first, second in zip(ordered, ordered[1:]):
        try:
            gains.append(gain_from_unequal_flats(first["path"], second["path"], bias, read_noise))
        except DetectorError:
            continue
    if not gains:
        return _missing("gain", "e-/ADU", "the flats of unequal level show no shot noise above the read noise")
    value = float(np.median(gains))
    error = float(np.std(gains, ddof=1) / math.sqrt(len(gains))) if len(gains) > 1 else math.nan
    notes.append("the gain is an estimate from flats of unequal level, each divided by its median: it assumes they "
                 "share one illumination pattern; a twilight sky whose gradient turned between them adds variance "
                 "and makes the gain come out low. Take pairs of flats of equal exposure to measure it.")
    return Measurement("gain", value, error, "e-/ADU",
                       f"estimate from {len(gains) + 1} flats of unequal level (consecutive pairs, normalised)", True)


def characterise(data_dir, gain: float | None = None) -> Characterisation:
    """Measure a night's camera from its frames: what they allow, with uncertainties, and no more.

    Parameters
    ----------
    data_dir : path-like
        The night's folder (bias/, flats/, darks/, and a camera test in detector/ if any).
    gain : float, optional
        A gain to use for electrons when the frames cannot measure one (stated in the notes).

    Returns
    -------
    Characterisation

    Raises
    ------
    DetectorError
        Fewer than two bias frames of one readout: nothing can be measured.

    Examples
    --------
    >>> result = characterise("data")  # doctest: +SKIP
    >>> result.gain.text()  # doctest: +SKIP
    '1.5938 +/- 0.0059 e-/ADU'
    """
    frames = find_detector_frames(data_dir)
    notes: list[str] = []
    pair_bias = frames.bias_pair if len(frames.ptc_bias) >= 2 else frames.bias[:2]
    if len(pair_bias) < 2:
        raise DetectorError(f"{data_dir} has fewer than two bias frames of one readout: the camera cannot be measured. "
                            "Put bias frames in bias/ (two at least).")
    ptc = None
    full_well_adu = _missing("full well", "ADU", "no flat pairs reaching saturation")
    linearity_adu = _missing("linearity limit", "ADU", "no flat pairs reaching the non-linearity")
    if frames.pairs and len(frames.ptc_bias) >= 2:
        ptc = photon_transfer(frames.pairs, frames.bias_pair)
        notes += ptc.notes
        read_noise = Measurement("read noise", ptc.read_noise_adu, ptc.read_noise_error_adu, "ADU",
                                 "std(bias1 - bias2) / sqrt(2) of the flat pairs' bias frames")
        if math.isfinite(ptc.gain):
            fitted = int(np.sum(ptc.fitted))
            measured_gain = Measurement("gain", ptc.gain, ptc.gain_error, "e-/ADU",
                                        f"photon transfer curve: {fitted} pairs in the shot-noise regime")
        else:
            usable = [p for p, s in zip(frames.pairs, ptc.signal) if s > 0]
            single = gain_from_pair(*frames.bias_pair, *usable[-1][1:]) if usable else None
            measured_gain = (Measurement("gain", single.gain, single.gain_error, "e-/ADU", "one flat pair (Janesick)")
                             if single else _missing("gain", "e-/ADU", "no flat pair above the bias"))
        if math.isfinite(ptc.full_well_adu):
            full_well_adu = Measurement("full well", ptc.full_well_adu, ptc.full_well_error_adu, "ADU",
                                        "signal where the variance turns over")
        else:
            full_well_adu = _missing("full well", "ADU", "no flat pair reaches the turnover")
        if math.isfinite(ptc.linearity_limit_adu):
            linearity_adu = Measurement("linearity limit", ptc.linearity_limit_adu, ptc.linearity_limit_error_adu, "ADU",
                                        "signal 1 % below a straight line in exposure time")
        else:
            linearity_adu = _missing("linearity limit", "ADU", "not reached by the flat pairs")
    else:
        value = read_noise_from_pair(*pair_bias)
        pixels = frame_data(pair_bias[0], "bias", error=DetectorError).size
        read_noise = Measurement("read noise", value, value / math.sqrt(2.0 * pixels), "ADU",
                                 "std(bias1 - bias2) / sqrt(2) of the first two bias frames")
        bias = master_bias(frames.bias, progress=False)
        measured_gain = _gain_from_flats(frames, bias, value, notes)
    if not measured_gain.measured and gain is not None:
        measured_gain = Measurement("gain", float(gain), math.nan, "e-/ADU", "given (--gain), not measured")
        notes.append(f"electrons use the gain given, {float(gain):g} e-/ADU: the frames could not measure one")
    g, g_err = measured_gain.value, measured_gain.error
    read_noise_e = _times(read_noise, measured_gain, "read noise", "e-", "read noise (ADU) x gain")
    full_well_e = _times(full_well_adu, measured_gain, "full well", "e-", "full well (ADU) x gain")
    linearity_e = _times(linearity_adu, measured_gain, "linearity limit", "e-", linearity_adu.how)
    dark, hot = _dark_measurements(frames, g if measured_gain.measured else None, g_err, notes)
    claims = {}
    header = _first_header(frames)
    if header is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CcdlabWarning)
            claims = _header_claims(header)
    return Characterisation(frames, measured_gain, read_noise, read_noise_e, full_well_adu, full_well_e, linearity_e,
                            dark, hot, ptc, claims, notes)


def _dark_measurements(frames: DetectorFrames, gain: float | None, gain_error: float,
                       notes: list) -> tuple[Measurement, Measurement]:
    """Dark current of the median pixel, and the number of hot pixels, from the darks (if any)."""
    if not frames.darks:
        return (_missing("dark current", "e-/s/pixel", "no dark frames"),
                _missing("hot pixels", "", "no dark frames"))
    if len(frames.bias) < 1:
        return (_missing("dark current", "e-/s/pixel", "no bias frames of the darks' size"),
                _missing("hot pixels", "", "no bias frames of the darks' size"))
    bias = master_bias(frames.bias, progress=False)
    every = [p for paths in frames.darks.values() for p in paths]
    current = dark_current(every, bias, bias_frames=frames.bias, gain=gain)
    temperature = frames.dark_temperature
    at = f" at {temperature:.1f} C" if math.isfinite(temperature) else ""
    listed = ", ".join(f"{len(p)} x {t:g} s" for t, p in frames.darks.items())
    how = f"slope of the darks' levels ({listed}) and the bias frames against exposure time{at}"
    if gain:
        relative = gain_error / gain if math.isfinite(gain_error) else 0.0
        error = math.hypot(current.error_e_per_s, current.e_per_s * relative)
        dark = Measurement("dark current", current.e_per_s, error, "e-/s/pixel", how)
    else:
        dark = Measurement("dark current", current.adu_per_s, current.error_adu_per_s, "ADU/s/pixel",
                           how + " (in ADU: no gain measured)")
    longest = max(frames.darks)
    rate = dark_rate(master_dark(frames.darks[longest], bias), longest, gain or 1.0)
    n_hot = int(hot_pixels(rate).sum())
    hot = Measurement("hot pixels", float(n_hot), math.nan, "",
                      f"dark current above {HOT_FACTOR:g} x the median, in the master of {len(frames.darks[longest])} "
                      f"darks of {longest:g} s")
    return dark, hot

"""The frames of lesson 08: dark frames and the photon-transfer flat pairs, with their truth.

A night made by :func:`ccdlab.data.simulate.make_night` holds, besides the frames of lessons
00-07, what an observer needs to measure the camera itself:

``detector/ptc/``
    two bias frames and 19 pairs of lamp flats (equal exposure within a pair) from a few electrons
    to beyond saturation, read out through a window (:mod:`.photon_transfer`);
``detector/darks/`` (the course's cooled camera) or ``darks/`` (the warm camera)
    dark frames at two exposure times: the bias, the dark current of the night's temperature
    (:mod:`.dark_current`) with its hot pixels, read noise and cosmic rays.

Why two places for darks: at -60 C the dark current is negligible in a science frame (3.6 e- in
180 s), so darks are not part of the night's reduction; they are a camera test, kept in
``detector/`` with the flat pairs. The inventory (:func:`ccdlab.inventory.scan`) leaves
``detector/`` out by default, so lessons 00-07 and ``ccdlab reduce`` see the night exactly as
before. The warm camera (-10 C) needs its darks every night: they sit in ``darks/``, where
``ccdlab reduce`` finds and subtracts them.

Every frame here is drawn from random streams of its own (seeded, no clock), so the frames of
lessons 00-07 are the same bytes with or without them.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from ccdlab.data.simulate.cosmic_rays import add_cosmic_rays, cosmic_rays
from ccdlab.data.simulate.dark_current import (
    DOUBLING_TEMPERATURE,
    DSNU,
    HOT_FRACTION,
    HOT_RANGE,
    dark_current_at,
    dark_current_map,
)
from ccdlab.data.simulate.detector import BIAS_LEVEL, FULL_WELL, bleed_saturation
from ccdlab.data.simulate.photon_transfer import (
    COMPRESSION_AT_FULL_WELL,
    LAMP_RATE,
    LAMP_STABILITY,
    LINEAR_UP_TO,
    PTC_LEVELS,
    compress,
    linearity_limit,
    ptc_window,
)
from ccdlab.data.simulate.readout import GAIN, READ_NOISE, add_noise, read_out
from ccdlab.data.simulate.rts2 import DEFAULT_SEED, NIGHT_DATE, file_name, iso_time
from ccdlab.errors import InputError

__all__ = [
    "Camera",
    "CAMERAS",
    "DEFAULT_CAMERA",
    "DETECTOR_FOLDER",
    "camera_of",
    "dark_rate",
    "camera_test_plan",
    "make_camera_test_frame",
    "detector_truth",
    "truth_of_night",
]

#: Where the camera test (flat pairs, and the cooled camera's darks) lives in a night.
DETECTOR_FOLDER = "detector"


@dataclass(frozen=True)
class Camera:
    """One way the synthetic camera can be run.

    Attributes
    ----------
    name : str
        ``'cool'`` (the course camera) or ``'warm'``.
    temperature : float
        The CCD set point (degrees C).
    darks_folder : str
        Where the night keeps its dark frames (relative to the data folder).
    dark_exptimes : tuple of float
        The exposure time of each dark, in the order taken.
    dark_in_night_frames : bool
        Whether the bias, flat and science frames carry the dark signal. False for the course
        camera, whose frames of lessons 00-07 were made before dark current was simulated and are
        kept byte for byte (their missing dark signal is 3.6 e- in 180 s at the median pixel).
    description : str
        One line for messages.

    Examples
    --------
    >>> CAMERAS["warm"].temperature
    -10.0
    """

    name: str
    temperature: float
    darks_folder: str
    dark_exptimes: tuple
    dark_in_night_frames: bool
    description: str


#: The two cameras a night can be made with.
CAMERAS = {
    "cool": Camera("cool", -60.0, f"{DETECTOR_FOLDER}/darks", (300.0,) * 3 + (1200.0,) * 5, False,
                   "the course camera, cooled to -60 C"),
    "warm": Camera("warm", -10.0, "darks", (60.0,) * 3 + (300.0,) * 5, True,
                   "a warm camera at -10 C, whose dark current matters"),
}

#: The camera of the default night.
DEFAULT_CAMERA = "cool"

_STREAMS = {"plan": 7, "dark_current": 8, "dark": 9, "ptc": 10}


def _rng(seed: int, stream: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(seed), _STREAMS[stream], int(index)])


def camera_of(name: str) -> Camera:
    """Return the :class:`Camera` called ``name`` (``'cool'`` or ``'warm'``).

    Examples
    --------
    >>> camera_of("cool").darks_folder
    'detector/darks'
    """
    if name not in CAMERAS:
        raise InputError(f"Unknown camera {name!r}: use one of {', '.join(CAMERAS)} (e.g. --camera warm).")
    return CAMERAS[name]


def dark_rate(shape: tuple[int, int], seed: int = DEFAULT_SEED, temperature: float = -60.0) -> tuple[np.ndarray, np.ndarray]:
    """The chip's dark current (e-/s per pixel, float32) at ``temperature``, and its hot pixels.

    The same seed gives the same chip: the warm camera's hot pixels are the cool one's.

    Examples
    --------
    >>> rate, hot = dark_rate((64, 64))
    >>> round(float(np.median(rate)), 3), int(hot.sum())
    (0.02, 5)
    """
    relative, hot = dark_current_map(shape, _rng(seed, "dark_current"))
    relative *= np.float32(dark_current_at(temperature))
    return relative, hot


def camera_test_plan(seed: int = DEFAULT_SEED, camera: str = DEFAULT_CAMERA) -> list[dict]:
    """List the frames of the camera test, in the order taken, without making any pixels.

    Parameters
    ----------
    seed : int
        The night's seed.
    camera : str
        ``'cool'`` or ``'warm'`` (:data:`CAMERAS`).

    Returns
    -------
    list of dict
        One per frame: ``kind`` (``'ptc_bias'``, ``'ptc_flat'`` or ``'dark'``), ``folder``,
        ``name``, ``date_obs``, ``exptime``, ``ccd_temp``, ``ccd_set``, ``bias_offset`` (ADU); flats
        add ``level`` (e-), ``pair`` (0, 1, ...) and ``lamp`` (the lamp's relative brightness).

    Examples
    --------
    >>> plan = camera_test_plan()
    >>> sum(f["kind"] == "ptc_flat" for f in plan), sorted({f["exptime"] for f in plan if f["kind"] == "dark"})
    (38, [300.0, 1200.0])
    """
    cam = camera_of(camera)
    rng = _rng(seed, "plan")
    frames = []

    def add(kind, folder, moment, exptime, **extra):
        frames.append({"kind": kind, "folder": folder, "name": file_name(moment, False), "date_obs": iso_time(moment),
                       "exptime": exptime, **extra})

    def jitter():
        return _dt.timedelta(milliseconds=int(rng.integers(0, 1000)))

    ptc_folder = f"{DETECTOR_FOLDER}/ptc"
    moment = NIGHT_DATE + _dt.timedelta(hours=8) + jitter()
    for _ in range(2):
        add("ptc_bias", ptc_folder, moment, 0.001)
        moment += _dt.timedelta(seconds=11.0 + float(rng.uniform(0, 2))) + jitter()
    for pair, level in enumerate(PTC_LEVELS):
        exptime = round(level / LAMP_RATE, 3)
        for _ in range(2):
            lamp = round(1.0 + float(rng.normal(0.0, LAMP_STABILITY)), 5)
            add("ptc_flat", ptc_folder, moment, exptime, level=level, pair=pair, lamp=lamp)
            moment += _dt.timedelta(seconds=exptime + 10.0 + float(rng.uniform(0, 2))) + jitter()
    moment = NIGHT_DATE + _dt.timedelta(hours=10, minutes=30) + jitter()
    for exptime in cam.dark_exptimes:
        add("dark", cam.darks_folder, moment, float(exptime))
        moment += _dt.timedelta(seconds=exptime + 12.0 + float(rng.uniform(0, 3))) + jitter()
    for frame in frames:
        frame["ccd_temp"] = round(cam.temperature + float(rng.normal(0.0, 0.05)), 2)
        frame["ccd_set"] = cam.temperature
        frame["bias_offset"] = round(float(rng.normal(0.0, 0.8)), 3)
    return frames


def _detsec(window: tuple[slice, slice]) -> str:
    rows, cols = window
    return f"[{cols.start + 1}:{cols.stop},{rows.start + 1}:{rows.stop}]"


def make_camera_test_frame(frame: dict, index: int, shape: tuple[int, int], seed: int, bias: np.ndarray,
                           flat: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Make the pixels (uint16) of one frame of :func:`camera_test_plan`.

    Parameters
    ----------
    frame : dict
        The plan's entry.
    index : int
        Its position in the plan (each frame has its own random stream).
    shape : (int, int)
        The chip's ``(ny, nx)``.
    seed : int
        The night's seed.
    bias, flat : numpy.ndarray
        The noiseless bias (ADU) and the true flat field of the chip.
    rate : numpy.ndarray
        The dark current (e-/s) of the chip at the camera's temperature (:func:`dark_rate`).

    Returns
    -------
    numpy.ndarray
        uint16: the whole chip for a dark; the window :func:`ccdlab.data.simulate.photon_transfer.ptc_window`
        for the flat pairs and their bias frames (``frame['detsec']`` is set to say where).

    Examples
    --------
    >>> from ccdlab.data.simulate.detector import bias_pattern
    >>> plan = camera_test_plan()
    >>> bias, _ = bias_pattern((64, 64), np.random.default_rng(0))
    >>> rate, _ = dark_rate((64, 64))
    >>> make_camera_test_frame(plan[2], 2, (64, 64), DEFAULT_SEED, bias, np.ones((64, 64), np.float32), rate).shape
    (32, 32)
    """
    time = float(frame["exptime"])
    if frame["kind"] == "dark":
        rng = _rng(seed, "dark", index)
        electrons = rate * np.float32(time)
        add_noise(electrons, rng)
        add_cosmic_rays(electrons, cosmic_rays(electrons.shape, time, rng))
        bleed_saturation(electrons, FULL_WELL)  # the hottest pixels of a warm camera fill up and bleed
        return read_out(electrons, bias, frame["bias_offset"])
    window = ptc_window(shape)
    frame["detsec"] = _detsec(window)
    rng = _rng(seed, "ptc", index)
    electrons = rate[window] * np.float32(time)
    if frame["kind"] == "ptc_flat":
        lamp = flat[window] / np.float32(np.median(flat[window]))
        electrons += lamp * np.float32(frame["level"] * frame["lamp"])
    add_noise(electrons, rng)
    add_cosmic_rays(electrons, cosmic_rays(electrons.shape, time, rng))
    compress(electrons, FULL_WELL)
    return read_out(electrons, np.ascontiguousarray(bias[window]), frame["bias_offset"])


def detector_truth(shape: tuple[int, int], seed: int = DEFAULT_SEED, camera: str = DEFAULT_CAMERA) -> dict:
    """What lesson 08 measures, as the simulator made it: gain, noise, full well, linearity, darks.

    Computed, not read from ``truth/``, so a night copied without its truth (a grading sandbox)
    still knows it from its manifest's size, seed and camera.

    Parameters
    ----------
    shape : (int, int)
        The chip's ``(ny, nx)``.
    seed : int
        The night's seed.
    camera : str
        ``'cool'`` or ``'warm'``.

    Returns
    -------
    dict
        ``camera``, ``temperature_c``, ``gain_e_per_adu``, ``read_noise_e``, ``read_noise_adu``,
        ``full_well_e`` (the charge a pixel holds), ``saturation_output_e`` (what a full pixel
        reads, after the non-linearity), ``linearity_limit_e`` (charge where the response is 1 %
        below linear) and ``linearity_limit_output_e``, ``linear_up_to_e``, ``dark_current_e_per_s``
        (the median pixel at the set point), ``dark_doubling_c``, ``dsnu``, ``hot_fraction``,
        ``hot_range``, ``n_hot_pixels``, ``hot_pixels`` (bool map: not JSON; dropped when saved),
        ``ptc_window`` (``[y0, y1, x0, x1]``), ``lamp_rate_e_per_s``, ``darks_folder``.

    Examples
    --------
    >>> truth = detector_truth((64, 64))
    >>> truth["gain_e_per_adu"], truth["dark_current_e_per_s"], truth["n_hot_pixels"]
    (1.6, 0.02, 5)
    """
    cam = camera_of(camera)
    _, hot = dark_rate(shape, seed, cam.temperature)
    limit = linearity_limit(FULL_WELL)
    limit_output = float(compress(np.array([limit]), FULL_WELL)[0])
    window = ptc_window(shape)
    return {
        "camera": cam.name,
        "camera_description": cam.description,
        "temperature_c": cam.temperature,
        "gain_e_per_adu": GAIN,
        "read_noise_e": READ_NOISE,
        "read_noise_adu": READ_NOISE / GAIN,
        "bias_level_adu": BIAS_LEVEL,
        "full_well_e": FULL_WELL,
        "saturation_output_e": FULL_WELL * (1.0 - COMPRESSION_AT_FULL_WELL),
        "linear_up_to_e": LINEAR_UP_TO * FULL_WELL,
        "linearity_limit_e": limit,
        "linearity_limit_output_e": limit_output,
        "dark_current_e_per_s": dark_current_at(cam.temperature),
        "dark_doubling_c": DOUBLING_TEMPERATURE,
        "dsnu": DSNU,
        "hot_fraction": HOT_FRACTION,
        "hot_range": list(HOT_RANGE),
        "n_hot_pixels": int(hot.sum()),
        "hot_pixels": hot,
        "ptc_window": [window[0].start, window[0].stop, window[1].start, window[1].stop],
        "lamp_rate_e_per_s": LAMP_RATE,
        "darks_folder": cam.darks_folder,
    }


def hot_pixel_header() -> fits.Header:
    """The header of ``truth/hot_pixels.fits``.

    Examples
    --------
    >>> "COMMENT" in hot_pixel_header()
    True
    """
    header = fits.Header()
    header["COMMENT"] = "1 on the pixels whose dark current is 25 to 2000 times the median (hot pixels)."
    header["COMMENT"] = "The bias's own bright pixels (truth.json hot_pixels_xy) are another thing."
    return header


def truth_of_night(folder) -> dict | None:
    """The :func:`detector_truth` of a synthetic night, from its manifest; None for any other data.

    Only the manifest is read (its size, seed and camera), so it works on a copy of a night
    without ``truth/``. A night made before lesson 08 (no camera in its manifest) has none.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     truth_of_night(tmp) is None
    True
    """
    from ccdlab.data.manifest import MANIFEST_NAME, read_manifest

    folder = Path(folder)
    if not (folder / MANIFEST_NAME).is_file():
        return None
    try:
        meta = read_manifest(folder).get("meta", {})
    except (OSError, ValueError):
        return None
    if meta.get("kind") != "synthetic" or meta.get("camera") not in CAMERAS or len(meta.get("shape", [])) != 2:
        return None
    return detector_truth(tuple(meta["shape"]), int(meta.get("seed", DEFAULT_SEED)), meta["camera"])

"""A realistic synthetic night at the GROWTH-India Telescope, with the truth beside it.

:func:`make_night` writes, into a data folder::

    bias/      5 bias frames      C0_20181013-130440-460.fits ...   (IMAGETYP 'dark', 0.001 s)
    flats/     6 twilight flats   C0_20181013-124905-...fits        (one saturated: unusable)
    science/   4 dithered frames  C0_20181013-145210-...wcs.fits    (180 s, TAN WCS)
    catalog/   reference_catalog.ecsv: the field as a survey lists it (:mod:`.catalog`)
    truth/     what the notebooks never need, and the tests measure against:
        true_flat.fits        the flat field (float32), median 1 in the illuminated centre
        master_bias.fits      the noiseless bias (float32, ADU), level ~270 ADU
        cosmics/<frame>.crmask.fits   per science frame: uint8, 1 where a cosmic ray hit
        stars.ecsv            x, y (first science frame, 0-based pixels), ra, dec, mag, flux (e-)
        truth.json            gain, read noise, saturation, bias level and offsets, flats' levels
                              and which is unusable, dithers, seeing, sky, seed, size, ...
        photometry.json, catalog_truth.ecsv   zero point, PSF, true WCS, limiting magnitude;
                              the catalogue's truth (:mod:`.catalog`)
    manifest.json  size and SHA-256 of every file above, with the size and seed

Frames are uint16 FITS (BITPIX 16, BZERO 32768) with RTS2-style headers and their real quirks
(IMAGETYP 'dark' on bias frames, CCD_TEMP with an underscore, a junk GAIN, FILTER 'UNK', no
BUNIT). Everything is drawn from ``numpy.random.default_rng`` streams derived from the seed, with
no clock time anywhere, so the same size and seed give the same bytes on every run.

Sizes, as NAXIS1 x NAXIS2 (:data:`SIZES` holds numpy's ``(ny, nx)``): ``tiny`` (512 x 514, for
tests), ``workshop`` (2048 x 2054, the default) and ``full`` (4096 x 4108, the real camera). The camera and optics scale with
the frame; stars, seeing and cosmic rays keep their size in pixels (the smaller frames are a
smaller chip at the same pixel scale).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
from astropy.io import fits

from ccdlab._version import __version__
from ccdlab.data.manifest import DATASET_FOLDERS, MANIFEST_NAME, move_into_place, staging_folder, write_manifest
from ccdlab.data.simulate.camera_test import (
    CAMERAS,
    DEFAULT_CAMERA,
    DETECTOR_FOLDER,
    camera_of,
    camera_test_plan,
    dark_rate,
    detector_truth,
    hot_pixel_header,
    make_camera_test_frame,
)
from ccdlab.data.simulate.catalog import write_catalog
from ccdlab.data.simulate.cosmic_rays import MIN_CHARGE as CR_MIN_CHARGE
from ccdlab.data.simulate.cosmic_rays import add_cosmic_rays, cosmic_ray_mask, cosmic_rays
from ccdlab.data.simulate.detector import BIAS_LEVEL, FULL_WELL, bias_pattern, flat_field
from ccdlab.data.simulate.readout import ADC_MAX, GAIN, READ_NOISE
from ccdlab.data.simulate.readout import add_noise as _add_noise
from ccdlab.data.simulate.readout import read_out as _readout
from ccdlab.data.simulate.readout import write_fits as _write_fits
from ccdlab.data.simulate.rts2 import DEFAULT_SEED, FIELD, SITE, rts2_header
from ccdlab.data.simulate.rts2 import NIGHT_DATE as _NIGHT
from ccdlab.data.simulate.rts2 import airmass as _airmass
from ccdlab.data.simulate.rts2 import file_name as _file_name
from ccdlab.data.simulate.rts2 import iso_time as _iso
from ccdlab.data.simulate.sky import (
    MOFFAT_BETA,
    PIXEL_SCALE,
    add_stars,
    moffat_peak,
    sky_background,
    star_field,
    star_sky_positions,
    tan_wcs_header,
)
from ccdlab.errors import InputError, NotAFolderError, OutputExistsError

__all__ = [
    "SIZES",
    "DEFAULT_SIZE",
    "CAMERAS",
    "DEFAULT_CAMERA",
    "DEFAULT_SEED",
    "GAIN",
    "READ_NOISE",
    "SATURATION",
    "ADC_MAX",
    "DATASET_ITEMS",
    "FIELD",
    "SITE",
    "night_plan",
    "rts2_header",
    "make_night",
]

#: Frame sizes ``(ny, nx)`` = (NAXIS2, NAXIS1) of each preset.
SIZES = {"tiny": (514, 512), "workshop": (2054, 2048), "full": (4108, 4096)}

#: The preset made when none is named.
DEFAULT_SIZE = "workshop"

#: Saturation: the full well (electrons).
SATURATION = FULL_WELL

#: The folders a synthetic night may consist of, besides its manifest (``darks/``: the warm camera only).
DATASET_ITEMS = ("bias", "flats", "science", "darks", DETECTOR_FOLDER, "catalog", "truth")

_N_BIAS = 5
#: Raw median levels (ADU) of the twilight flats, in the order taken; None is the saturated one.
_FLAT_LEVELS = (None, 21000.0, 19000.0, 17500.0, 16200.0, 15000.0)
_FLAT_EXPTIMES = (2.0, 3.0, 4.0, 5.0, 7.0, 10.0)
_N_SCIENCE = 4
_SCIENCE_EXPTIME = 180.0
_SKY_E = 1500.0
#: How far (C) the measured CCD temperature (CCD_TEMP) sits above the set point (CCD_SET) during the
#: night: the cooler does not quite hold it. Far enough that even a reading rounded to whole degrees
#: is told apart from the set point (lesson 01).
_CCD_ABOVE_SET = 0.7
_STREAMS = {"plan": 1, "detector": 2, "stars": 3, "bias": 4, "flat": 5, "science": 6, "flat order": 7}


def _night_of(seed: int) -> _dt.datetime:
    """The date of the night: the default night's, or for any other seed a night within the next 90."""
    if int(seed) == DEFAULT_SEED:
        return _NIGHT
    return _NIGHT + _dt.timedelta(days=int(_rng(seed, "flat order", 1).integers(1, 91)))


def _flats(seed: int) -> list:
    """``(level, exposure time)`` of the flats in the order taken: the default night's, or for any
    other seed (a student's night) another order and levels within +-15%, so that another flat is
    the unusable one."""
    pairs = list(zip(_FLAT_LEVELS, _FLAT_EXPTIMES))
    if int(seed) == DEFAULT_SEED:
        return pairs
    rng = _rng(seed, "flat order")
    order = rng.permutation(len(pairs))
    scale = float(rng.uniform(0.85, 1.15))
    return [(None if pairs[i][0] is None else round(pairs[i][0] * scale, 0), pairs[i][1]) for i in order]


def _rng(seed: int, stream: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([int(seed), _STREAMS[stream], int(index)])


def _check_size(size: str) -> tuple[int, int]:
    if size not in SIZES:
        raise InputError(f"Unknown size {size!r}: use one of {', '.join(SIZES)} (e.g. --size tiny).")
    return SIZES[size]


def night_plan(size: str = DEFAULT_SIZE, seed: int = DEFAULT_SEED, camera: str = DEFAULT_CAMERA) -> list[dict]:
    """List the frames of a night, in the order taken, without making any pixels.

    Parameters
    ----------
    size : str
        A key of :data:`SIZES`.
    seed : int
        The night's seed (times, dithers, seeing and sky depend on it).
    camera : str
        ``'cool'`` (the course camera, -60 C) or ``'warm'`` (-10 C): sets ``ccd_temp`` and ``ccd_set``.

    Returns
    -------
    list of dict
        One per frame: ``kind`` (``'bias'``, ``'flat'``, ``'science'``), ``folder``, ``name``,
        ``date_obs``, ``exptime``, ``ccd_temp``, ``ccd_set`` (C), ``bias_offset`` (ADU), and for flats ``level``
        (ADU, None for the saturated one) and ``usable``; for science frames ``dither``
        (``[dx, dy]`` pixels), ``fwhm`` (pixels), ``sky`` (electrons) and ``airmass``.

    Examples
    --------
    >>> plan = night_plan("tiny")
    >>> [f["name"] for f in plan if f["kind"] == "bias"][0]
    'C0_20181013-130440-460.fits'
    >>> sum(f["kind"] == "science" for f in plan)
    4
    """
    _check_size(size)
    cam = camera_of(camera)
    rng = _rng(seed, "plan")
    frames: list[dict] = []

    def ms_jitter() -> _dt.timedelta:
        return _dt.timedelta(milliseconds=int(rng.integers(0, 1000)))

    night = _night_of(seed)
    moment = night + _dt.timedelta(hours=12, minutes=49, seconds=5) + ms_jitter()
    for level, exptime in _flats(seed):
        frames.append(
            {
                "kind": "flat", "folder": "flats", "name": _file_name(moment, False), "date_obs": _iso(moment),
                "exptime": exptime, "level": level, "usable": level is not None,
            }
        )
        moment += _dt.timedelta(seconds=exptime + 95.0 + float(rng.uniform(0, 30))) + ms_jitter()
    moment = night + _dt.timedelta(hours=13, minutes=4, seconds=40, milliseconds=460)
    for _ in range(_N_BIAS):
        frames.append(
            {"kind": "bias", "folder": "bias", "name": _file_name(moment, False), "date_obs": _iso(moment), "exptime": 0.001}
        )
        moment += _dt.timedelta(seconds=11.0 + float(rng.uniform(0, 2))) + ms_jitter()
    moment = night + _dt.timedelta(hours=14, minutes=52, seconds=10) + ms_jitter()
    for k in range(_N_SCIENCE):
        if k == 0:
            dither = [0.0, 0.0]
        else:
            angle, step = rng.uniform(0, 2 * math.pi), rng.uniform(3.0, 8.0)
            dither = [round(step * math.cos(angle), 2), round(step * math.sin(angle), 2)]
        frames.append(
            {
                "kind": "science", "folder": "science", "name": _file_name(moment, True), "date_obs": _iso(moment),
                "exptime": _SCIENCE_EXPTIME, "dither": dither,
                "fwhm": round(float(rng.uniform(3.3, 3.9)), 2),
                "sky": round(_SKY_E * (1.0 - 0.012 * k) * float(rng.uniform(0.99, 1.01)), 1),
                "airmass": round(_airmass(moment + _dt.timedelta(seconds=_SCIENCE_EXPTIME / 2), FIELD["ra"], FIELD["dec"]), 4),
            }
        )
        moment += _dt.timedelta(seconds=_SCIENCE_EXPTIME + 16.0 + float(rng.uniform(0, 4))) + ms_jitter()
    for frame in frames:
        frame["ccd_temp"] = round(cam.temperature + _CCD_ABOVE_SET + float(rng.normal(0.0, 0.05)), 2)
        frame["ccd_set"] = cam.temperature
        frame["bias_offset"] = round(float(rng.normal(0.0, 0.8)), 3)
    return frames


def _add_dark(electrons, dark, exptime):
    """The dark signal of the exposure, when the camera's night frames carry it (None: they do not)."""
    if dark is not None:
        electrons += dark * np.float32(exptime)


def _make_bias(frame, index, shape, seed, bias, dark=None):
    rng = _rng(seed, "bias", index)
    electrons = np.zeros(shape, dtype=np.float32)
    _add_dark(electrons, dark, frame["exptime"])
    _add_noise(electrons, rng)
    add_cosmic_rays(electrons, cosmic_rays(shape, frame["exptime"], rng))
    return _readout(electrons, bias, frame["bias_offset"])


def _make_flat(frame, index, shape, seed, bias, flat, flat_median, dark=None):
    rng = _rng(seed, "flat", index)
    if frame["level"] is None:
        scale = 1.35 * SATURATION  # sky still too bright: the illuminated field saturates
    else:
        scale = (frame["level"] - BIAS_LEVEL) * GAIN / flat_median
    electrons = flat * np.float32(scale)
    _add_dark(electrons, dark, frame["exptime"])
    _add_noise(electrons, rng)
    add_cosmic_rays(electrons, cosmic_rays(shape, frame["exptime"], rng))
    np.minimum(electrons, np.float32(SATURATION), out=electrons)
    return _readout(electrons, bias, frame["bias_offset"])


def _make_science(frame, index, shape, seed, bias, flat, stars, dark=None):
    from ccdlab.data.simulate.detector import bleed_saturation

    rng = _rng(seed, "science", index)
    electrons = sky_background(shape, frame["sky"], gradient=(0.03, -0.02))
    dx, dy = frame["dither"]
    add_stars(electrons, np.asarray(stars["x"]) + dx, np.asarray(stars["y"]) + dy, np.asarray(stars["flux"]), frame["fwhm"])
    electrons *= flat
    _add_dark(electrons, dark, frame["exptime"])
    _add_noise(electrons, rng)
    hits = cosmic_rays(shape, frame["exptime"], rng)
    add_cosmic_rays(electrons, hits)
    bleed_saturation(electrons, SATURATION)
    return _readout(electrons, bias, frame["bias_offset"]), hits


def _write_night(stage: Path, size: str, seed: int, progress: bool, camera: str = DEFAULT_CAMERA) -> dict:
    from tqdm.auto import tqdm

    shape = _check_size(size)
    ny, nx = shape
    cam = camera_of(camera)
    plan = night_plan(size, seed, camera)
    test_plan = camera_test_plan(seed, camera)
    bias, hot = bias_pattern(shape, _rng(seed, "detector", 0))
    flat, flat_info = flat_field(shape, _rng(seed, "detector", 1))
    flat_median = float(np.median(flat))
    stars = star_field(shape, _rng(seed, "stars"), n_saturated=max(2, round(nx / 256)))
    reference = tan_wcs_header(shape, FIELD["ra"], FIELD["dec"], rotation=FIELD["rotation"])
    ra, dec = star_sky_positions(stars, reference)
    stars["ra"], stars["dec"] = ra, dec
    stars["ra"].unit = stars["dec"].unit = "deg"
    rate, dark_hot = dark_rate(shape, seed, cam.temperature)  # a stream of its own: the night's frames are unchanged
    dark = rate if cam.dark_in_night_frames else None
    counters = {"bias": 0, "flat": 0, "science": 0}
    truth_frames: dict[str, dict] = {}
    bar = tqdm(total=len(plan) + len(test_plan) + 1, desc=f"Simulating a {size} night", unit="frame",
               disable=not progress)
    try:
        for frame in plan:
            kind = frame["kind"]
            index = counters[kind]
            counters[kind] += 1
            header = rts2_header(frame, shape, seed)
            entry = {"kind": kind, "date_obs": frame["date_obs"], "exptime": frame["exptime"], "bias_offset_adu": frame["bias_offset"]}
            if kind == "bias":
                data = _make_bias(frame, index, shape, seed, bias, dark)
            elif kind == "flat":
                data = _make_flat(frame, index, shape, seed, bias, flat, flat_median, dark)
                entry.update(
                    level_adu=frame["level"], usable=frame["usable"],
                    note="usable twilight flat" if frame["usable"] else "saturated: taken while the sky was too bright; leave it out",
                )
            else:
                data, hits = _make_science(frame, index, shape, seed, bias, flat, stars, dark)
                mask_name = f"cosmics/{frame['name'].replace('.wcs.fits', '')}.crmask.fits"
                mask_header = fits.Header()
                mask_header["FRAME"] = (frame["name"], "science frame this mask belongs to")
                mask_header["COMMENT"] = "1 where a simulated cosmic ray deposited charge, 0 elsewhere."
                _write_fits(stage / "truth" / mask_name, cosmic_ray_mask(hits), mask_header)
                entry.update(
                    dither=frame["dither"], fwhm_pix=frame["fwhm"], sky_e=frame["sky"], airmass=frame["airmass"],
                    cosmic_ray_mask=mask_name, cosmic_ray_pixels=hits.n_pixels, cosmic_ray_events=hits.kinds,
                )
            _write_fits(stage / frame["folder"] / frame["name"], data, header)
            truth_frames[frame["name"]] = entry
            bar.update(1)
        test_frames = _write_camera_test(stage, test_plan, shape, seed, bias, flat, rate, bar)
        _write_truth(stage / "truth", size, seed, shape, bias, hot, flat, flat_info, stars, plan, truth_frames)
        _write_detector_truth(stage / "truth", shape, seed, camera, test_frames, dark_hot)
        write_catalog(stage)  # catalog/ and the photometric truth, from truth/ (a random stream of its own)
        bar.update(1)
    finally:
        bar.close()
    return truth_frames


def _write_camera_test(stage: Path, test_plan: list, shape, seed, bias, flat, rate, bar) -> dict:
    """Write the darks and the photon-transfer pairs; return their truth entries by file name."""
    entries = {}
    for index, frame in enumerate(test_plan):
        data = make_camera_test_frame(frame, index, shape, seed, bias, flat, rate)
        _write_fits(stage / frame["folder"] / frame["name"], data, rts2_header(frame, data.shape, seed))
        entry = {"kind": frame["kind"], "folder": frame["folder"], "date_obs": frame["date_obs"],
                 "exptime": frame["exptime"], "ccd_temp": frame["ccd_temp"], "bias_offset_adu": frame["bias_offset"]}
        if frame["kind"] == "ptc_flat":
            entry.update(level_e=frame["level"], pair=frame["pair"], lamp=frame["lamp"])
        if frame.get("detsec"):
            entry["detsec"] = frame["detsec"]
        entries[frame["name"]] = entry
        bar.update(1)
    return entries


def _write_detector_truth(folder: Path, shape, seed, camera, test_frames: dict, dark_hot) -> None:
    """Add the camera's truth (lesson 08) to truth.json, and its hot pixels as truth/hot_pixels.fits."""
    detector = detector_truth(shape, seed, camera)
    detector.pop("hot_pixels")
    detector["hot_pixels"] = "hot_pixels.fits"
    detector["frames"] = test_frames
    _write_fits(folder / "hot_pixels.fits", dark_hot.astype(np.uint8), hot_pixel_header())
    path = folder / "truth.json"
    truth = json.loads(path.read_text(encoding="utf-8"))
    truth["detector"] = detector
    path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _write_truth(folder, size, seed, shape, bias, hot, flat, flat_info, stars, plan, frames):
    ny, nx = shape
    header = fits.Header()
    header["COMMENT"] = "True flat field of the synthetic night (vignetting x dust x banding x pixel response)."
    header["COMMENT"] = "Normalised to a median of 1 over the central box given in truth.json."
    _write_fits(folder / "true_flat.fits", flat, header)
    header = fits.Header()
    header["BUNIT"] = ("adu", "noiseless bias, before each frame's offset")
    _write_fits(folder / "master_bias.fits", bias, header)
    science = [f for f in plan if f["kind"] == "science"]
    fwhm_min = min(f["fwhm"] for f in science)
    peak = np.array([moffat_peak(flux, fwhm_min) for flux in stars["flux"]])
    table = stars["x", "y", "ra", "dec", "mag", "flux"]
    table["saturated"] = peak >= SATURATION
    table.meta["description"] = (
        "Simulated stars. x, y: 0-based pixel position (numpy convention) in the first science frame; "
        "in science frame k the star is at x + dx_k, y + dy_k (dithers below). flux: electrons per exposure "
        "before the flat field. saturated: the peak exceeds the full well in at least one frame."
    )
    table.meta["dithers"] = {f["name"]: list(f["dither"]) for f in science}
    table.meta["seed"] = int(seed)
    for name in ("x", "y", "ra", "dec", "mag", "flux"):
        table[name].info.format = ".7g" if name not in ("ra", "dec") else ".8f"
    table.write(folder / "stars.ecsv", format="ascii.ecsv", overwrite=True)
    truth = {
        "generator": "ccdlab.simulate",
        "ccdlab_version": __version__,
        "size": size,
        "seed": int(seed),
        "shape": [ny, nx],
        "naxis1": nx,
        "naxis2": ny,
        "gain_e_per_adu": GAIN,
        "read_noise_e": READ_NOISE,
        "read_noise_adu": READ_NOISE / GAIN,
        "saturation_e": SATURATION,
        "saturation_adu_above_bias": SATURATION / GAIN,
        "bias_level_adu": BIAS_LEVEL,
        "master_bias": "master_bias.fits",
        "hot_pixels_xy": hot.tolist(),
        "true_flat": "true_flat.fits",
        "flat_field": flat_info,
        "stars": "stars.ecsv",
        "n_stars": len(stars),
        "n_saturated_stars": int(table["saturated"].sum()),
        "pixel_scale_arcsec": PIXEL_SCALE,
        "moffat_beta": MOFFAT_BETA,
        "field": dict(FIELD),
        "site": dict(SITE),
        "dithers": {f["name"]: list(f["dither"]) for f in science},
        "cosmic_ray_min_charge_e": CR_MIN_CHARGE,
        "frames": frames,
        "unusable_flats": [f["name"] for f in plan if f["kind"] == "flat" and not f["usable"]],
        "pixel_convention": "0-based (numpy): x is the column, y the row; FITS pixel = numpy index + 1",
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def make_night(
    dest: str | os.PathLike,
    size: str = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
    overwrite: bool = False,
    student: str = "",
    truth: bool = True,
    camera: str = DEFAULT_CAMERA,
) -> Path:
    """Write a synthetic night (raw frames, camera test, truth and manifest) into ``dest``.

    The night is built in a hidden staging folder inside ``dest`` and moved into place when
    complete, so an interrupted run leaves ``dest`` as it was.

    Parameters
    ----------
    dest : str or path-like
        The data folder; created if needed.
    size : str
        ``'tiny'``, ``'workshop'`` (default) or ``'full'`` (see :data:`SIZES`).
    seed : int
        The night's seed; the same size and seed give the same bytes.
    progress : bool
        Show a progress bar.
    overwrite : bool
        Replace an existing dataset in ``dest``: its ``bias/``, ``flats/``, ``science/``,
        ``darks/``, ``detector/``, ``truth/`` (and a download's ``unsorted/``) and manifest.
        Other folders (``reduced/``, ...) are never touched.
    student : str
        The student whose night this is (recorded in the manifest; the seed is theirs, see
        :func:`ccdlab.data.simulate.students.student_seed`).
    truth : bool
        Write the ``truth/`` folder (False for a student's own copy: the grader makes its own).
    camera : str
        ``'cool'`` (default: the course camera at -60 C, its darks kept with the camera test in
        ``detector/darks/``) or ``'warm'`` (-10 C: every frame carries dark current, and the darks
        the reduction needs are in ``darks/``). See :mod:`ccdlab.data.simulate.camera_test`.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ValueError
        Unknown ``size``.
    FileExistsError
        ``dest`` already holds one of the dataset's folders and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     night = make_night(tmp, size="tiny", progress=False)
    ...     sorted(p.name for p in night.iterdir())
    ['bias', 'catalog', 'detector', 'flats', 'manifest.json', 'science', 'truth']
    """
    _check_size(size)
    cam = camera_of(camera)
    seed = int(seed)
    if seed < 0:
        raise InputError(f"The seed must be a non-negative integer; got {seed}.")
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotAFolderError(f"{dest} is a file, not a folder: choose another --dest.")
    names = [*DATASET_ITEMS, MANIFEST_NAME]
    existing = [n for n in names if (dest / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(
            f"{dest} already holds {', '.join(existing)}; nothing was changed. Use --force "
            "(overwrite=True) to replace the dataset, or choose another --dest."
        )
    with staging_folder(dest) as stage:
        _write_night(stage, size, seed, progress, cam.name)
        meta = {
            "kind": "synthetic",
            "generator": "ccdlab.simulate",
            "ccdlab_version": __version__,
            "size": size,
            "seed": seed,
            "shape": list(SIZES[size]),
            "camera": cam.name,
        }
        if student:
            meta["student"] = student
        if not truth:
            shutil.rmtree(stage / "truth")
        items = [name for name in DATASET_ITEMS if (stage / name).exists()]
        write_manifest(stage, items, meta)
        move_into_place(stage, dest, [*items, MANIFEST_NAME], replace=overwrite, discard=DATASET_FOLDERS)
    return dest

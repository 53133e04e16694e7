"""Screening of calibration frames: which bias frames and flats can be used, and why not.

Before a master is made, a careful astronomer looks at every frame offered for it:

- :func:`screen_biases`: which frames are not biases, and why (another size, a long exposure not
  called a bias, a level unlike the others);
- :func:`screen_flats`: which flats are unusable, and why (another filter or size, no light, too
  faint, saturated).

Each gives a table with one row per frame, saying whether it is ``used`` and, if not, the
``reason``. Levels are median ADU in the central box of :func:`illuminated_region`, where
:mod:`ccdlab.calibrate` also normalises the flats; calibrate combines the frames used into masters
and names the rejected ones in their HISTORY. Everything here can also be imported from
:mod:`ccdlab.calibrate`.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

from ccdlab import validate
from ccdlab.camera import DEFAULT_GAIN, DEFAULT_SATLEVEL
from ccdlab.errors import CalibrationError
from ccdlab.inventory import exposure_time, header_value, image_type, type_frame
from ccdlab.io import FrameError, frame_data, is_path, read_frame, read_rows
from ccdlab.overscan import correct_overscan, raw_layout
from ccdlab.stats import finite_median

__all__ = [
    "FILTER_KEYS",
    "DEFAULT_MIN_LEVEL",
    "FLAT_SATURATION_FRACTION",
    "DEFAULT_MAX_LEVEL",
    "BIAS_LONGEST_EXPTIME",
    "BIAS_LEVEL_SPREAD",
    "BIAS_LEVEL_MARGIN",
    "CalibrationError",
    "illuminated_region",
    "screen_biases",
    "screen_flats",
]

#: Header keywords naming the filter, in order of preference.
FILTER_KEYS = ("FILTER", "FILTNAME", "FILTER1", "FILT")
#: A flat fainter than this (ADU above bias, illuminated median) is too noisy to use.
DEFAULT_MIN_LEVEL = 1000.0
#: A flat brighter than this fraction of the camera's saturation (above bias) is saturated or
#: non-linear; ``ccdlab reduce`` applies it to the camera it was given.
FLAT_SATURATION_FRACTION = 0.75
#: A flat brighter than this (ADU above bias) is saturated or non-linear: 0.75 x the course
#: camera's saturation (96,000 e- / 1.6 e-/ADU = 60,000 ADU), i.e. 45,000 ADU.
DEFAULT_MAX_LEVEL = FLAT_SATURATION_FRACTION * DEFAULT_SATLEVEL / DEFAULT_GAIN
#: A frame exposed longer than this (seconds) whose header does not call it a bias is not one
#: (a bias is a ~0 s readout; the inventory takes a 'dark' of <= 0.01 s as a bias).
BIAS_LONGEST_EXPTIME = 1.0
#: A bias whose level is farther from the others' median than this many robust standard
#: deviations of the levels (plus :data:`BIAS_LEVEL_MARGIN`) is not like the others.
BIAS_LEVEL_SPREAD = 10.0
#: ADU added to the allowed distance, so that biases whose levels agree to the ADU pass.
BIAS_LEVEL_MARGIN = 5.0


def illuminated_region(shape: tuple[int, int], fraction: float = 0.5) -> tuple[slice, slice]:
    """The central box used to measure a flat's level: ``fraction`` of each side.

    Vignetting darkens the edges and corners, so a flat's brightness is measured in the middle.

    Examples
    --------
    >>> illuminated_region((4108, 4096))
    (slice(1027, 3081, None), slice(1024, 3072, None))
    """
    if not 0 < fraction <= 1:
        raise CalibrationError(f"The illuminated region is a fraction of the frame between 0 and 1; got {fraction}.")
    ny, nx = shape
    hy, hx = max(1, round(ny * fraction / 2)), max(1, round(nx * fraction / 2))
    cy, cx = ny // 2, nx // 2
    return slice(max(0, cy - hy), min(ny, cy + hy)), slice(max(0, cx - hx), min(nx, cx + hx))


def _label(item, index: int, kind: str) -> str:
    return str(item) if is_path(item) else f"{kind} #{index} (an array)"


def _robust_outliers(levels: list[float], spread: float, margin: float) -> tuple[float, float, list[bool]]:
    """-> (centre, allowed distance, outlier flags) of levels: median, spread x 1.4826 MAD + margin."""
    values = np.asarray(levels, dtype=float)
    centre = float(np.median(values))
    scatter = 1.4826 * float(np.median(np.abs(values - centre)))
    allowed = spread * scatter + margin
    return centre, allowed, [bool(abs(v - centre) > allowed) for v in values]


def screen_biases(
    files,
    longest_exptime: float = BIAS_LONGEST_EXPTIME,
    spread: float = BIAS_LEVEL_SPREAD,
    margin: float = BIAS_LEVEL_MARGIN,
    region_fraction: float = 0.5,
) -> Table:
    """Look at every bias frame and say whether it can be used, and if not, why.

    A frame is left out when it cannot be read; when its size differs from most of the others';
    when it was exposed longer than ``longest_exptime`` and its header does not call it a bias
    (a science frame or a flat misfiled in bias/); or, among three frames or more, when its
    median level lies farther from the frames' median than ``spread`` robust standard deviations
    of the levels plus ``margin`` ADU (light, or another readout mode).

    Parameters
    ----------
    files : list of path-like or 2-D arrays
        The bias frames (arrays have no header: only their size and level are checked).
    longest_exptime : float
        Seconds; see :data:`BIAS_LONGEST_EXPTIME`.
    spread, margin : float
        The level test: see :data:`BIAS_LEVEL_SPREAD` and :data:`BIAS_LEVEL_MARGIN`.
    region_fraction : float
        Size of the central box where the level is measured (see :func:`illuminated_region`).

    Returns
    -------
    astropy.table.Table
        One row per frame: ``name``, ``exptime`` (s, NaN when unknown), ``imagetyp``, ``level``
        (median ADU, after the overscan correction a header declares), ``used`` (bool) and
        ``reason`` (empty when used), plus ``path``.

    Examples
    --------
    >>> import numpy as np
    >>> frames = [np.full((8, 8), level) for level in (270.0, 271.0, 269.0, 1210.0)]
    >>> table = screen_biases(frames)
    >>> [bool(used) for used in table["used"]]
    [True, True, True, False]
    >>> str(table["reason"][3])
    "level 1210.0 ADU, 939.5 ADU from the biases' median 270.5 (more than 19.8): light in it?"
    """
    items = list(files) if not isinstance(files, np.ndarray) or files.ndim == 3 else [files]
    measured = [_measure_bias(item, index, region_fraction) for index, item in enumerate(items)]
    rows = [row for row, _ in measured]
    common = Counter(shape for _, shape in measured if shape is not None).most_common(1)
    for row, shape in measured:
        if row["used"]:
            row["reason"] = _bias_misfit(row, shape, common[0][0], longest_exptime)
            row["used"] = not row["reason"]
    kept = [row for row in rows if row["used"]]
    if len(kept) >= 3:
        centre, allowed, outliers = _robust_outliers([row["level"] for row in kept], spread, margin)
        for row, outlier in zip(kept, outliers):
            if outlier:
                row["used"] = False
                row["reason"] = (f"level {row['level']:.1f} ADU, {abs(row['level'] - centre):.1f} ADU from the biases' "
                                 f"median {centre:.1f} (more than {allowed:.1f}): light in it?")
    names = ["name", "exptime", "imagetyp", "level", "used", "reason", "path"]
    table = Table(rows=[[r[n] for n in names] for r in rows] or None, names=names,
                  dtype=[str, float, str, float, bool, str, str])
    table["exptime"].unit = "s"
    table["level"].unit = "adu"
    table["level"].format = ".1f"
    return table


def _measure_bias(item, index: int, region_fraction: float) -> tuple[dict, tuple | None]:
    """-> (screening row, shape or None when unreadable) of one bias: header values and level."""
    label = _label(item, index, "bias")
    row = {"name": Path(label).name if is_path(item) else label, "exptime": math.nan, "imagetyp": "",
           "kind": "bias", "level": math.nan, "used": True, "reason": "", "path": str(item) if is_path(item) else ""}
    try:
        if is_path(item):
            header = raw_layout(item)[0]
            row["exptime"] = exposure_time(header)
            row["imagetyp"] = image_type(header)
            row["kind"] = type_frame(header).frame_type  # what the header alone says, no folder hint
        _, shape, values = _read_region(item, region_fraction)
    except (FrameError, OSError) as exc:
        row["used"], row["reason"] = False, _unusable(exc)
        return row, None
    row["level"] = finite_median(values)
    return row, tuple(shape)


def _bias_misfit(row: dict, shape: tuple, common: tuple, longest_exptime: float) -> str:
    """Why one bias does not fit (another size, a long exposure not called a bias, no level), or ''."""
    if shape != common:
        return f"{shape[1]} x {shape[0]} pixels, unlike the other biases ({common[1]} x {common[0]})"
    if row["exptime"] > longest_exptime and row["kind"] != "bias":
        return _not_a_bias(row)
    if not math.isfinite(row["level"]):
        return "all-NaN central region: no level measured"
    return ""


def _not_a_bias(row: dict) -> str:
    what = {"science": "a science frame, ", "flat": "a flat, ", "dark": "a dark, "}.get(row.get("kind"), "")
    typ = f"IMAGETYP {row['imagetyp']!r}" if row["imagetyp"] else "no IMAGETYP"
    return f"{row['exptime']:g} s exposure with {typ}: {what}not a bias (a bias is ~0 s)"


class _NotAnImage(FrameError):
    """An array given as a frame is not 2-D (said as it is, not as an unreadable file)."""


def _unusable(exc: Exception) -> str:
    return str(exc) if isinstance(exc, _NotAnImage) else f"unreadable: {exc}"


def _flat_filter(header: fits.Header | None) -> str:
    if header is None:
        return ""
    return str(header_value(header, FILTER_KEYS, "")).strip()


def _read_region(item, region_fraction: float):
    """-> (filter, shape, region values in ADU) of one frame, reading only its central rows."""
    if not is_path(item):
        data = validate.image(item, "frame", error=_NotAnImage, dtype=np.float32)
        rows, cols = illuminated_region(data.shape, region_fraction)
        return "", data.shape, data[rows, cols]
    header, raw_shape, layout = raw_layout(item)
    if layout is not None:
        data, _ = correct_overscan(read_frame(item)[0], header, layout)
        rows, cols = illuminated_region(data.shape, region_fraction)
        return _flat_filter(header), data.shape, data[rows, cols]
    rows, cols = illuminated_region(raw_shape, region_fraction)
    block = read_rows(item, rows.start, rows.stop)
    return _flat_filter(header), raw_shape, block[:, cols]


def screen_flats(
    files,
    master_bias=None,
    filter: str | None = None,
    min_level: float = DEFAULT_MIN_LEVEL,
    max_level: float = DEFAULT_MAX_LEVEL,
    region_fraction: float = 0.5,
) -> Table:
    """Look at every flat and say whether it can be used, and if not, why.

    Parameters
    ----------
    files : list of path-like or 2-D arrays
        The flats.
    master_bias : 2-D array or path-like, optional
        Subtracted before the level is measured (recommended: the level is then the light).
    filter : str, optional
        The filter wanted; flat files in another filter are rejected (arrays, which have no
        header, are taken as given). By default no filter is rejected here (mixed filters are
        handled by :func:`master_flat`).
    min_level, max_level : float
        Acceptable median level in ADU above bias, in the illuminated centre.
    region_fraction : float
        Size of the central box where the level is measured (see :func:`illuminated_region`).

    Returns
    -------
    astropy.table.Table
        One row per flat: ``name``, ``filter``, ``level`` (ADU above bias), ``used`` (bool) and
        ``reason`` (empty when used), plus ``path``.

    Examples
    --------
    >>> import numpy as np
    >>> flats = [np.full((8, 8), 20000.0), np.full((8, 8), 300.0)]
    >>> table = screen_flats(flats, master_bias=np.full((8, 8), 270.0))
    >>> [bool(used) for used in table["used"]], str(table["reason"][1])
    ([True, False], 'too faint: 30 ADU above bias < 1000')
    """
    items = list(files) if not isinstance(files, np.ndarray) or files.ndim == 3 else [files]
    bias = None
    if master_bias is not None:
        bias = frame_data(master_bias, "master bias", error=CalibrationError)
    rows = []
    for index, item in enumerate(items):
        label = _label(item, index, "flat")
        row = {"name": Path(label).name if is_path(item) else label, "filter": "", "level": math.nan,
               "used": False, "reason": "", "path": str(item) if is_path(item) else ""}
        rows.append(row)
        try:
            filt, shape, values = _read_region(item, region_fraction)
        except (FrameError, OSError) as exc:
            row["reason"] = _unusable(exc)
            continue
        row["filter"] = filt
        if bias is not None and tuple(shape) != bias.shape:
            row["reason"] = f"different shape: {shape[1]} x {shape[0]} but the master bias is {bias.shape[1]} x {bias.shape[0]}"
            continue
        if filter is not None and filt != filter and is_path(item):  # an array has no header: taken as given
            row["reason"] = f"wrong filter: {filt or 'none'} (wanted {filter})"
            continue
        if bias is not None:
            brow, bcol = illuminated_region(bias.shape, region_fraction)
            values = values - bias[brow, bcol]
        level = finite_median(values)
        row["level"] = level
        if not math.isfinite(level):
            row["reason"] = "all-NaN illuminated region: no light measured"
        elif level <= 0:
            row["reason"] = f"median {level:.0f} ADU above bias <= 0: a bias or dark typed as a flat?"
        elif level < min_level:
            row["reason"] = f"too faint: {level:.0f} ADU above bias < {min_level:g}"
        elif level > max_level:
            row["reason"] = f"saturated or non-linear: {level:.0f} ADU above bias > {max_level:g}"
        else:
            row["used"] = True
    names = ["name", "filter", "level", "used", "reason", "path"]
    table = Table(rows=[[r[n] for n in names] for r in rows] or None, names=names,
                  dtype=[str, str, float, bool, str, str])
    table["level"].unit = "adu"
    table["level"].format = ".1f"
    return table

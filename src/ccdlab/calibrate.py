"""Master bias, master flat, vignetting mask and the calibration of a science frame.

The steps a careful astronomer takes, each a small function:

- :func:`screen_biases`: look at every bias frame first and say which ones are not biases, and
  why (another size, a long exposure not called a bias, a level unlike the others);
- :func:`master_bias`: the median of the bias frames (the zero level and its pattern);
- :func:`screen_flats`: look at every flat first and say which ones are unusable, and why
  (another filter or size, too faint, saturated);
- :func:`master_flat`: bias-subtract each good flat, divide it by the median of its
  illuminated centre (twilight flats differ in brightness), median-combine, and normalise the
  result to 1 in that centre. One master flat per filter: mixed filters are an error (or use
  :func:`master_flats` for a dict), never a silent blend;
- :func:`vignetting_mask`: pixels that receive less than ``threshold`` of the central light;
- :func:`calibrate_frame`: ``(raw - bias) / flat``, with masked and unusable pixels set to NaN,
  and HISTORY cards saying what was done.

All images are in ADU; a normalised flat has no unit. :func:`master_bias_history` and
:meth:`MasterFlat.history` give the HISTORY cards that record how a master was made, each card at
most 72 characters (:func:`history_cards`).

The screening (:func:`screen_biases`, :func:`screen_flats`, their limits such as
:data:`DEFAULT_MAX_LEVEL`, and :func:`illuminated_region`) lives in :mod:`ccdlab.screening` and
can be imported from here too.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

from ccdlab.combine import DEFAULT_MEM_LIMIT, combine
from ccdlab.io import (
    HISTORY_WIDTH,
    FrameError,
    frame_data,
    history_cards,
    is_path,
    read_frame,
)
from ccdlab.overscan import correct_overscan, raw_layout
from ccdlab.screening import (
    BIAS_LEVEL_MARGIN,
    BIAS_LEVEL_SPREAD,
    BIAS_LONGEST_EXPTIME,
    DEFAULT_MAX_LEVEL,
    DEFAULT_MIN_LEVEL,
    FILTER_KEYS,
    FLAT_SATURATION_FRACTION,
    CalibrationError,
    illuminated_region,
    screen_biases,
    screen_flats,
)
from ccdlab.stats import finite_median

__all__ = [
    "FILTER_KEYS",
    "DEFAULT_MIN_LEVEL",
    "FLAT_SATURATION_FRACTION",
    "DEFAULT_MAX_LEVEL",
    "DEFAULT_MASK_THRESHOLD",
    "BIAS_LONGEST_EXPTIME",
    "BIAS_LEVEL_SPREAD",
    "BIAS_LEVEL_MARGIN",
    "HISTORY_WIDTH",
    "CalibrationError",
    "MasterFlat",
    "illuminated_region",
    "history_cards",
    "screen_biases",
    "master_bias",
    "master_bias_history",
    "screen_flats",
    "master_flat",
    "master_flats",
    "vignetting_mask",
    "calibrate_frame",
]

#: Pixels receiving less than this fraction of the central light are masked.
DEFAULT_MASK_THRESHOLD = 0.8


def _frame_arg(frame, what: str) -> tuple[np.ndarray, str]:
    """A master given as a path, a MasterFlat or an array -> (float32 data, name for HISTORY)."""
    if isinstance(frame, MasterFlat):
        name = f"{what} ({frame.filter})" if frame.filter else what
        return np.asarray(frame.data, dtype=np.float32), name
    return frame_data(frame, what, error=CalibrationError), Path(frame).name if is_path(frame) else what


def _fits_box(region: tuple[slice, slice]) -> str:
    """numpy ``(rows, columns)`` slices -> FITS section ``[x1:x2,y1:y2]``."""
    rows, cols = region
    return f"[{cols.start + 1}:{cols.stop},{rows.start + 1}:{rows.stop}]"


def _overscan_cards(items) -> list[str]:
    """HISTORY cards saying which inputs of a master were overscan-corrected ([] when none)."""
    done = []
    for item in items:
        if is_path(item):
            try:
                layout = raw_layout(item)[2]
            except (FrameError, OSError):
                continue
            if layout is not None:
                done.append(layout.describe())
    if not done:
        return []
    how = done[0] if len(set(done)) == 1 else "overscan subtracted and trimmed as each header declares"
    return history_cards(f"ccdlab: on {len(done)} of {len(list(items))} inputs before combining, {how}")


def _rejection_cards(table: Table, kind: str, limit: int = 10) -> list[str]:
    """HISTORY cards naming each frame left out of a master and why (the first ``limit`` of them)."""
    rejected = [row for row in table if not row["used"]]
    cards = []
    for row in rejected[:limit]:
        reason = textwrap.shorten(str(row["reason"]), 2 * HISTORY_WIDTH - 12, placeholder=" ...")
        cards += history_cards(f"ccdlab: rejected {kind} {row['name']}: {reason}")
    if len(rejected) > limit:
        cards.append(f"ccdlab: and {len(rejected) - limit} more {kind} frames rejected")
    return cards


def master_bias(
    files,
    method: str = "median",
    sigma_clip: float | None = None,
    mem_limit: float = DEFAULT_MEM_LIMIT,
    progress: bool | None = None,
) -> np.ndarray:
    """Combine bias frames into a master bias (ADU), block by block.

    Parameters
    ----------
    files : list of path-like or 2-D arrays
        The bias frames (overscan-corrected and trimmed as they are read when their headers
        declare BIASSEC and TRIMSEC/DATASEC).
    method, sigma_clip, mem_limit, progress
        As in :func:`ccdlab.combine.combine`.

    Returns
    -------
    numpy.ndarray
        float32 master bias.

    Raises
    ------
    CalibrationError
        No bias frame was given.

    Examples
    --------
    >>> import numpy as np
    >>> biases = [np.full((4, 4), level, np.float32) for level in (269.0, 270.0, 275.0)]
    >>> float(master_bias(biases)[0, 0])
    270.0
    """
    items = list(files) if not isinstance(files, np.ndarray) or files.ndim == 3 else [files]
    if not items:
        raise CalibrationError(
            "No bias frames to combine. Put them in the bias/ folder (inventory.scan shows what was "
            "found) or pass their paths."
        )
    return combine(items, method=method, sigma_clip=sigma_clip, mem_limit=mem_limit, progress=progress)


def master_bias_history(screening: Table, method: str = "median") -> list[str]:
    """The HISTORY cards of a master bias made from the frames a :func:`screen_biases` table used.

    They say how many frames were combined and how, the overscan correction their headers asked
    for (if any), and which frames were rejected and why.

    Parameters
    ----------
    screening : astropy.table.Table
        From :func:`screen_biases`.
    method : str
        The combination used (as in :func:`master_bias`).

    Examples
    --------
    >>> import numpy as np
    >>> table = screen_biases([np.full((8, 8), 270.0)] * 3 + [np.full((4, 4), 270.0)])
    >>> for card in master_bias_history(table):
    ...     print(card)
    ccdlab: master bias, median of 3 bias frames
    ccdlab: rejected bias bias #3 (an array): 4 x 4 pixels, unlike the other
      biases (8 x 8)
    """
    used = [row["path"] for row in screening if row["used"] and row["path"]]
    count = int(np.sum(screening["used"])) if len(screening) else 0
    cards = [f"ccdlab: master bias, {method} of {count} bias frame{'s' if count != 1 else ''}"]
    return cards + _overscan_cards(used) + _rejection_cards(screening, "bias")



@dataclass
class MasterFlat:
    """A normalised master flat with the record of how it was made.

    Attributes
    ----------
    data : numpy.ndarray
        float32, 1 on average in the illuminated centre.
    filter : str
        The filter of the flats ('' when the headers name none).
    used : list of str
        The flats combined.
    screening : astropy.table.Table
        :func:`screen_flats`'s verdict on every flat offered.
    level : float
        Median of the combined, bias-subtracted and per-flat normalised flats before the final
        normalisation (close to 1).
    method : str
        How the flats were combined ('median' by default).
    region_fraction : float
        Size of the central box where each flat, and the result, were normalised (see
        :func:`illuminated_region`).

    Examples
    --------
    >>> import numpy as np
    >>> flat = master_flat([np.full((8, 8), 20000.0)] * 3, master_bias=np.zeros((8, 8)))
    >>> float(np.asarray(flat).mean()), flat.rejected
    (1.0, [])
    """

    data: np.ndarray
    filter: str = ""
    used: list = field(default_factory=list)
    screening: Table | None = None
    level: float = 1.0
    method: str = "median"
    region_fraction: float = 0.5

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)

    @property
    def shape(self) -> tuple[int, int]:
        """The flat's ``(ny, nx)``."""
        return self.data.shape

    @property
    def rejected(self) -> list[tuple[str, str]]:
        """``(name, reason)`` of every flat that was not used."""
        if self.screening is None:
            return []
        return [(str(r["name"]), str(r["reason"])) for r in self.screening if not r["used"]]

    def history(self, bias_name: str = "the master bias") -> list[str]:
        """The HISTORY cards that record how this flat was made, each at most 72 characters.

        They say how many flats were combined and how, the master bias subtracted, the central
        box where the flats were normalised, the overscan correction their headers asked for (if
        any), and which flats were rejected and why.

        Parameters
        ----------
        bias_name : str
            What to call the master bias, e.g. its file name.

        Examples
        --------
        >>> import numpy as np
        >>> flat = master_flat([np.full((8, 8), 20000.0)] * 3, master_bias=np.zeros((8, 8)))
        >>> for card in flat.history("master_bias.fits"):
        ...     print(card)
        ccdlab: master flat, median of 3 flats minus master_bias.fits
        ccdlab: each flat divided by its median in the box [3:6,3:6]
        ccdlab: normalised to a median of 1 in that box (50% of each side)
        """
        what = f"master flat ({self.filter})" if self.filter else "master flat"
        count = len(self.used)
        box = _fits_box(illuminated_region(self.data.shape, self.region_fraction))
        cards = history_cards(f"ccdlab: {what}, {self.method} of {count} flat{'s' if count != 1 else ''} minus {bias_name}")
        cards += history_cards(f"ccdlab: each flat divided by its median in the box {box}")
        cards += history_cards(f"ccdlab: normalised to a median of 1 in that box ({100 * self.region_fraction:g}% of each side)")
        paths = [path for path in self.used if is_path(path) and Path(path).is_file()]
        cards += _overscan_cards(paths)
        if self.screening is not None:
            cards += _rejection_cards(self.screening, "flat")
        return cards


def _summarise_reasons(table: Table) -> str:
    reasons = [f"{r['name']}: {r['reason']}" for r in table if not r["used"]]
    shown = "; ".join(reasons[:5])
    more = f"; and {len(reasons) - 5} more" if len(reasons) > 5 else ""
    return shown + more


def master_flat(
    files,
    master_bias,
    filter: str | None = None,
    method: str = "median",
    sigma_clip: float | None = None,
    min_level: float = DEFAULT_MIN_LEVEL,
    max_level: float = DEFAULT_MAX_LEVEL,
    region_fraction: float = 0.5,
    mem_limit: float = DEFAULT_MEM_LIMIT,
    progress: bool | None = None,
) -> MasterFlat:
    """Make a normalised master flat for one filter, after screening every flat.

    Each good flat has the master bias subtracted and is divided by the median of its
    illuminated centre; the flats are then combined (median by default) and the result is
    normalised to 1 in that centre.

    Parameters
    ----------
    files : list of path-like or 2-D arrays
        The flats (files are read block by block).
    master_bias : 2-D array or path-like
        The master bias, same shape as the flats.
    filter : str, optional
        Which filter to use. Needed when the flats are in several filters.
    method, sigma_clip, mem_limit, progress
        As in :func:`ccdlab.combine.combine`.
    min_level, max_level, region_fraction
        As in :func:`screen_flats`.

    Returns
    -------
    MasterFlat
        ``.data`` is the flat; ``.screening`` says which flats were rejected and why. It can be
        used wherever an array is expected (``np.asarray(flat)``).

    Raises
    ------
    CalibrationError
        No flats; flats in several filters and ``filter`` not given; no flat passes the
        screening (the message lists the reasons); the combined flat has no light in its centre.

    Examples
    --------
    >>> flat = master_flat(flat_files, master_bias, filter="R")  # doctest: +SKIP
    >>> flat.screening  # doctest: +SKIP
    """
    items = list(files) if not isinstance(files, np.ndarray) or files.ndim == 3 else [files]
    if not items:
        raise CalibrationError(
            "No flat frames to combine. Put them in the flats/ folder (inventory.scan shows what was "
            "found) or pass their paths."
        )
    bias, _ = _frame_arg(master_bias, "master bias")
    table = screen_flats(items, bias, filter, min_level, max_level, region_fraction)
    if filter is None:
        readable = [r for r in table if r["path"] and not str(r["reason"]).startswith(("unreadable", "different shape"))]
        filters = sorted({str(r["filter"]) for r in readable})
        if len(filters) > 1:
            counts = ", ".join(f"{f or 'none'}: {sum(str(r['filter']) == f for r in readable)}" for f in filters)
            raise CalibrationError(
                f"The flats are in {len(filters)} filters ({counts}); a master flat is made per filter, "
                f"never a blend. Pass filter={filters[0]!r} (or another), or use master_flats() to get one "
                "per filter."
            )
        filter = filters[0] if filters else ""
    good = [item for item, row in zip(items, table) if row["used"]]
    levels = [float(row["level"]) for row in table if row["used"]]
    if not good:
        raise CalibrationError(
            f"No usable flat among {len(items)}: {_summarise_reasons(table)}. Take new flats; if they are "
            "good and the camera is not the course's, give its saturation (ccdlab reduce --satlevel, or "
            "min_level/max_level in Python)."
        )
    data = combine(
        good, method=method, sigma_clip=sigma_clip, mem_limit=mem_limit, progress=progress,
        offset=bias, scale=[1.0 / level for level in levels],
    )
    rows, cols = illuminated_region(data.shape, region_fraction)
    level = finite_median(data[rows, cols])
    if not math.isfinite(level) or level <= 0:
        raise CalibrationError(
            "The combined flat has no light in its illuminated centre (all NaN or <= 0): check the "
            "flats and the master bias with screen_flats()."
        )
    data /= np.float32(level)
    used = [row["path"] or row["name"] for row in table if row["used"]]
    return MasterFlat(data=data, filter=filter, used=used, screening=table, level=level, method=method,
                      region_fraction=region_fraction)


def master_flats(files, master_bias, **options) -> dict[str, MasterFlat]:
    """Make one master flat per filter found among the flats.

    Parameters
    ----------
    files : list of path-like or 2-D arrays
    master_bias : 2-D array or path-like
    **options
        Passed to :func:`master_flat` (``method``, ``sigma_clip``, ``min_level``...).

    Returns
    -------
    dict
        ``{filter: MasterFlat}``; a filter whose flats were all rejected is left out (its
        reasons are in the others' screening tables).

    Examples
    --------
    >>> flats = master_flats(flat_files, master_bias)  # doctest: +SKIP
    >>> sorted(flats)  # doctest: +SKIP
    ['R', 'V']
    """
    items = list(files)
    if not items:
        raise CalibrationError("No flat frames to combine: put them in the flats/ folder or pass their paths.")
    bias, _ = _frame_arg(master_bias, "master bias")
    table = screen_flats(items, bias, None, options.get("min_level", DEFAULT_MIN_LEVEL),
                         options.get("max_level", DEFAULT_MAX_LEVEL), options.get("region_fraction", 0.5))
    filters = sorted({str(r["filter"]) for r in table if r["used"]})
    if not filters:
        raise CalibrationError(f"No usable flat among {len(items)}: {_summarise_reasons(table)}.")
    result = {}
    for filt in filters:
        chosen = [item for item, row in zip(items, table) if str(row["filter"]) == filt]
        result[filt] = master_flat(chosen, bias, filter=filt, **options)
    return result


def vignetting_mask(master_flat, threshold: float = DEFAULT_MASK_THRESHOLD, region_fraction: float = 0.5) -> np.ndarray:
    """Mask the pixels that receive less than ``threshold`` of the central light.

    Parameters
    ----------
    master_flat : 2-D array, MasterFlat or path-like
        A master flat (normalised or not: the threshold is relative to its central median).
    threshold : float
        Between 0 and 1; 0.8 masks pixels with less than 80% of the central response
        (vignetted corners, dark columns). NaN pixels are always masked.

    Returns
    -------
    numpy.ndarray of bool
        True where a pixel is masked.

    Raises
    ------
    CalibrationError
        ``threshold`` outside (0, 1], or a flat whose centre is all NaN or <= 0.

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.ones((4, 4)); flat[0, 0] = 0.5
    >>> int(vignetting_mask(flat).sum())
    1
    """
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        threshold = math.nan
    if not 0 < threshold <= 1:
        raise CalibrationError(
            f"threshold is a fraction of the central light between 0 and 1 (e.g. 0.8); got {threshold}."
        )
    flat, name = _frame_arg(master_flat, "master flat")
    rows, cols = illuminated_region(flat.shape, region_fraction)
    centre = finite_median(flat[rows, cols])
    if not math.isfinite(centre) or centre <= 0:
        raise CalibrationError(
            f"The {name} has no light in its centre (all NaN or <= 0), so nothing can be measured against "
            "it: remake the master flat and check it with screen_flats()."
        )
    with np.errstate(invalid="ignore"):
        return ~(flat >= threshold * centre)


def calibrate_frame(
    raw,
    master_bias,
    master_flat,
    mask=None,
    header: fits.Header | None = None,
    overscan: bool = True,
    *,
    names: dict | None = None,
    mask_threshold: float | None = None,
    dark=None,
) -> tuple[np.ndarray, fits.Header]:
    """Calibrate a science frame: ``(raw - bias [- dark]) / flat``, bad pixels set to NaN.

    Parameters
    ----------
    raw : path-like or 2-D array
        The raw science frame in ADU. A file's header is kept; when it declares BIASSEC and
        TRIMSEC/DATASEC the overscan is subtracted and the frame trimmed first.
    master_bias : 2-D array or path-like
        The master bias (ADU).
    master_flat : 2-D array, MasterFlat or path-like
        The normalised master flat.
    mask : 2-D bool array, optional
        True where pixels are bad (e.g. :func:`vignetting_mask`); they become NaN.
    header : astropy.io.fits.Header, optional
        The header to extend when ``raw`` is an array.
    overscan : bool
        Apply the overscan correction a header declares (default True).
    names : dict, optional
        What HISTORY calls the masters given as arrays, by ``'bias'``, ``'flat'``, ``'mask'`` and
        ``'dark'``: usually their file names, e.g. ``{"bias": "master_bias.fits"}``. A master
        given as a file is named by its file name anyway.
    mask_threshold : float, optional
        The threshold the mask was made with (:func:`vignetting_mask`), recorded in HISTORY.
    dark : 2-D array, optional
        A bias-subtracted master dark already scaled to this frame's exposure time
        (:func:`ccdlab.darks.scale_dark`), subtracted after the bias. None (default): no dark step.

    Returns
    -------
    data : numpy.ndarray
        float32 in ADU; NaN where masked or where the flat is <= 0 or NaN.
    header : astropy.io.fits.Header
        With ``BUNIT = 'adu'`` and HISTORY cards saying what was done with which master (the
        bias subtracted: ``'ccdlab: subtracted ...'``), each card at most 72 characters.

    Raises
    ------
    CalibrationError
        The frame, masters and mask do not all have the same shape (the message names the frame),
        or the master flat has no positive pixels (all NaN or <= 0).

    Examples
    --------
    >>> import numpy as np
    >>> raw = np.full((2, 2), 1270.0); bias = np.full((2, 2), 270.0); flat = np.array([[1.0, 0.5], [2.0, 0.0]])
    >>> data, hdr = calibrate_frame(raw, bias, flat)
    >>> data.tolist()
    [[1000.0, 2000.0], [500.0, nan]]
    >>> hdr = calibrate_frame(raw, bias, flat, flat < 0.8, names={"bias": "master_bias.fits"}, mask_threshold=0.8)[1]
    >>> list(hdr["HISTORY"])[0]
    'ccdlab: subtracted master_bias.fits (median 270.0 ADU)'
    """
    if is_path(raw):
        data, hdr = read_frame(raw)
        label = str(raw)
    else:
        data = np.asarray(raw, dtype=np.float32)
        if data.ndim != 2:
            raise CalibrationError(f"The raw frame must be a 2-D image (or a file); got an array of shape {data.shape}.")
        hdr = fits.Header() if header is None else header.copy()
        label = "the raw frame"
    if overscan:
        try:
            data, hdr = correct_overscan(data, hdr)
        except ValueError as exc:
            raise CalibrationError(f"{label}: {exc}") from exc
    names = dict(names or {})
    bias, bias_name = _frame_arg(master_bias, "master bias")
    flat, flat_name = _frame_arg(master_flat, "master flat")
    bias_name = names.get("bias") or bias_name
    if dark is not None:
        dark = frame_data(dark, "dark", error=CalibrationError)
    if names.get("flat"):
        filt = master_flat.filter if isinstance(master_flat, MasterFlat) else ""
        flat_name = f"{names['flat']} ({filt})" if filt else names["flat"]
    for other, name in ((bias, "master bias"), (flat, "master flat"), (dark, "master dark")):
        if other is not None and other.shape != data.shape:
            raise CalibrationError(
                f"{label} is {data.shape[1]} x {data.shape[0]} pixels but the {name} is "
                f"{other.shape[1]} x {other.shape[0]}: calibrate with masters made from frames of the same "
                "camera setup (binning, window, trim)."
            )
    bad = ~(flat > 0)
    if bad.all():
        which = f"master flat {master_flat}" if is_path(master_flat) else flat_name
        raise CalibrationError(
            f"The {which} has no positive pixels (all NaN or <= 0), so every calibrated pixel would be NaN: "
            "remake the master flat from the flats (check them with screen_flats()) and pass that."
        )
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != data.shape:
            raise CalibrationError(
                f"The mask is {mask.shape[1]} x {mask.shape[0]} but {label} is {data.shape[1]} x "
                f"{data.shape[0]}: make the mask from the master flat used here."
            )
        bad |= mask
    out = np.array(data, dtype=np.float32)  # worked on in place: a full frame is 67 MB
    out -= bias
    if dark is not None:
        out -= dark
    np.divide(out, flat, out=out, where=~bad)
    out[bad] = np.nan
    hdr["BUNIT"] = ("adu", "bias-subtracted, flat-fielded counts")
    n_bad = int(bad.sum())
    what = "masked or flat <= 0" if mask is not None else "flat <= 0 or NaN"
    cards = [f"ccdlab: subtracted {bias_name} (median {np.nanmedian(bias[::8, ::8]):.1f} ADU)"]
    if dark is not None:
        cards.append(f"ccdlab: subtracted {names.get('dark') or 'the master dark'} "
                     f"(median {np.nanmedian(dark[::8, ::8]):.2f} ADU)")
    cards += [
        f"ccdlab: divided by {flat_name}",
        f"ccdlab: {n_bad} pixels ({100 * n_bad / bad.size:.1f}%) set to NaN: {what}",
    ]
    if mask is not None and (names.get("mask") or mask_threshold is not None):
        which = f"mask {names['mask']}" if names.get("mask") else "mask"
        how = f": pixels below {float(mask_threshold):g} of the flat's central level" if mask_threshold is not None else ""
        cards.append(f"ccdlab: {which}{how}")
    for card in cards:
        for line in history_cards(card):
            hdr.add_history(line)
    return out, hdr

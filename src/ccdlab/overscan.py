"""Overscan subtraction and trimming, for cameras whose headers declare them.

Many CCD controllers read a few extra pixels per row (or per column) that never saw light: the
*overscan*. Its level tracks the bias of that very readout, so subtracting it row by row removes
slow drifts that a master bias taken hours earlier cannot know about. The header says where the
overscan is (``BIASSEC``) and which part of the chip is real data (``TRIMSEC``, else ``DATASEC``),
in FITS notation: ``[x1:x2,y1:y2]``, 1-based, both ends included.

The GROWTH-India camera of the course declares neither, so its frames pass through unchanged; frames
from other telescopes are corrected and trimmed before anything else is done with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from ccdlab.errors import FrameError, InputError
from ccdlab.io import history_cards, read_header

__all__ = [
    "OverscanLayout",
    "parse_section",
    "overscan_layout",
    "overscan_levels",
    "correct_overscan",
    "raw_layout"
]

_SECTION_RE = re.compile(r"^\s*\[\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*:\s*(\d+)\s*\]\s*$")


def parse_section(text: str, shape: tuple[int, int] | None = None, keyword: str = "section") -> tuple[slice, slice]:
    """Turn a FITS section such as ``'[1:4096,1:4108]'`` into numpy ``(rows, columns)`` slices.

    Parameters
    ----------
    text : str
        ``[x1:x2,y1:y2]``: 1-based, inclusive, x (columns) first, as FITS writes it. A reversed
        range such as ``[50:1,...]`` names the same pixels and is accepted.
    shape : (int, int), optional
        The frame's ``(ny, nx)``; when given, the section must lie inside it.
    keyword : str
        The header keyword the text came from, named in error messages.

    Returns
    -------
    (slice, slice)
        ``(rows, columns)``, 0-based and end-exclusive, ready for ``data[rows, columns]``.

    Raises
    ------
    ValueError
        The text is not a section, or it reaches outside the frame.

    Examples
    --------
    >>> parse_section("[1:4096,1:4108]")
    (slice(0, 4108, None), slice(0, 4096, None))
    >>> parse_section("[4097:4128, 1:10]")
    (slice(0, 10, None), slice(4096, 4128, None))
    """
    match = _SECTION_RE.match(str(text))
    if not match:
        raise InputError(
            f"{keyword} = {text!r} is not a FITS section like '[1:2048,1:4096]' (x1:x2,y1:y2, "
            "1-based): fix the header card or remove it."
        )
    x1, x2, y1, y2 = (int(v) for v in match.groups())
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    if x1 < 1 or y1 < 1:
        raise InputError(f"{keyword} = {text!r} starts at pixel 0, but FITS sections count from 1: fix the header card.")
    if shape is not None:
        ny, nx = shape
        if x2 > nx or y2 > ny:
            raise InputError(
                f"{keyword} = {text!r} reaches outside the {nx} x {ny} frame: the header does not "
                "match the image; fix or remove the card."
            )
    return slice(y1 - 1, y2), slice(x1 - 1, x2)


def _span(s: slice) -> str:
    return f"{s.start + 1}:{s.stop}"


def _overlaps(a: slice, b: slice) -> bool:
    return a.start < b.stop and b.start < a.stop


def _covers(outer: slice, inner: slice) -> bool:
    return outer.start <= inner.start and outer.stop >= inner.stop


@dataclass(frozen=True)
class OverscanLayout:
    """Where the overscan and the light-sensitive data lie on a frame.

    Attributes
    ----------
    bias_rows, bias_cols : slice
        The overscan region (``BIASSEC``) as numpy slices.
    data_rows, data_cols : slice
        The region kept after trimming (``TRIMSEC``, else ``DATASEC``).
    per : str
        ``'row'`` (the overscan is a strip of columns beside the data: one level per row),
        ``'column'`` (a strip of rows above or below: one level per column) or ``'frame'``
        (the strip does not span the data: one level for the whole frame).
    biassec, datasec : str
        The header texts, for HISTORY.
    data_keyword : str
        ``'TRIMSEC'`` or ``'DATASEC'``: which card gave the data region.

    Examples
    --------
    >>> layout = overscan_layout(fits.Header({"BIASSEC": "[101:110,1:50]", "TRIMSEC": "[1:100,1:50]"}), (50, 110))
    >>> layout.per, layout.output_shape
    ('row', (50, 100))
    """

    bias_rows: slice
    bias_cols: slice
    data_rows: slice
    data_cols: slice
    per: str
    biassec: str
    datasec: str
    data_keyword: str

    @property
    def output_shape(self) -> tuple[int, int]:
        """The ``(ny, nx)`` shape of a trimmed frame."""
        return (self.data_rows.stop - self.data_rows.start, self.data_cols.stop - self.data_cols.start)

    def describe(self) -> str:
        """One line for HISTORY: what was subtracted and what was kept.

        Examples
        --------
        >>> layout = overscan_layout(fits.Header({"BIASSEC": "[101:110,1:50]", "TRIMSEC": "[1:100,1:50]"}), (50, 110))
        >>> layout.describe()
        'overscan subtracted row by row (median of BIASSEC [101:110,1:50]); trimmed to TRIMSEC [1:100,1:50]'
        """
        how = {"row": "row by row", "column": "column by column", "frame": "as one level"}[self.per]
        return (
            f"overscan subtracted {how} (median of BIASSEC {self.biassec}); "
            f"trimmed to {self.data_keyword} {self.datasec}"
        )


def overscan_layout(header: fits.Header, shape: tuple[int, int]) -> OverscanLayout | None:
    """Read the overscan and data regions a header declares.

    Parameters
    ----------
    header : astropy.io.fits.Header
        The raw frame's header. ``BIASSEC`` and one of ``TRIMSEC`` / ``DATASEC`` are needed.
    shape : (int, int)
        The raw frame's ``(ny, nx)``.

    Returns
    -------
    OverscanLayout or None
        None when the header does not declare both regions (the frame is used as it is).

    Raises
    ------
    ValueError
        A declared section is malformed, lies outside the frame, or the overscan overlaps the data.

    Examples
    --------
    >>> overscan_layout(fits.Header({"IMAGETYP": "BIAS"}), (4108, 4096)) is None
    True
    >>> overscan_layout(fits.Header({"BIASSEC": "[1:100,101:110]", "DATASEC": "[1:100,1:100]"}), (110, 100)).per
    'column'
    """
    biassec = header.get("BIASSEC")
    data_keyword = "TRIMSEC" if header.get("TRIMSEC") else "DATASEC"
    datasec = header.get(data_keyword)
    if not biassec or not datasec:
        return None
    bias_rows, bias_cols = parse_section(biassec, shape, "BIASSEC")
    data_rows, data_cols = parse_section(datasec, shape, data_keyword)
    if _overlaps(bias_rows, data_rows) and _overlaps(bias_cols, data_cols):
        raise InputError(
            f"BIASSEC {biassec} overlaps {data_keyword} {datasec}: the overscan cannot be part of the "
            "image. Fix the header cards (or remove BIASSEC to skip overscan subtraction)."
        )
    if not _overlaps(bias_cols, data_cols) and _covers(bias_rows, data_rows):
        per = "row"
    elif not _overlaps(bias_rows, data_rows) and _covers(bias_cols, data_cols):
        per = "column"
    else:
        per = "frame"
    return OverscanLayout(bias_rows, bias_cols, data_rows, data_cols, per, str(biassec), str(datasec), data_keyword)


def overscan_levels(data: np.ndarray, layout: OverscanLayout) -> np.ndarray:
    """Measure the overscan level to subtract from the trimmed data.

    Parameters
    ----------
    data : numpy.ndarray
        The whole raw frame (overscan included), in ADU.
    layout : OverscanLayout
        From :func:`overscan_layout`.

    Returns
    -------
    numpy.ndarray
        Shape ``(ny, 1)`` (one median per data row), ``(1, nx)`` (one per data column) or
        ``(1, 1)``, float32, ready to subtract from ``data[layout.data_rows, layout.data_cols]``.

    Examples
    --------
    >>> raw = np.zeros((4, 6), np.float32); raw[:, 4:] = [[1], [2], [3], [4]]
    >>> layout = overscan_layout(fits.Header({"BIASSEC": "[5:6,1:4]", "TRIMSEC": "[1:4,1:4]"}), raw.shape)
    >>> overscan_levels(raw, layout).ravel().tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    data = np.asarray(data)
    if layout.per == "row":
        strip = data[layout.data_rows, layout.bias_cols]
        return np.median(strip, axis=1, keepdims=True).astype(np.float32)
    if layout.per == "column":
        strip = data[layout.bias_rows, layout.data_cols]
        return np.median(strip, axis=0, keepdims=True).astype(np.float32)
    return np.full((1, 1), np.median(data[layout.bias_rows, layout.bias_cols]), dtype=np.float32)


def _shift_reference_pixels(header: fits.Header, layout: OverscanLayout) -> None:
    dx, dy = layout.data_cols.start, layout.data_rows.start
    if dx == 0 and dy == 0:
        return
    for key, shift in (("CRPIX1", dx), ("CRPIX2", dy)):
        if key in header:
            try:
                header[key] = float(header[key]) - shift
            except (TypeError, ValueError):
                pass
    for key, shift in (("LTV1", dx), ("LTV2", dy)):
        if key in header:
            try:
                header[key] = float(header[key]) - shift
            except (TypeError, ValueError):
                pass


def correct_overscan(
    data: np.ndarray, header: fits.Header | None, layout: OverscanLayout | None = None
) -> tuple[np.ndarray, fits.Header]:
    """Subtract the overscan and trim, when the header declares BIASSEC and TRIMSEC/DATASEC.

    Parameters
    ----------
    data : numpy.ndarray
        The raw frame in ADU, overscan included.
    header : astropy.io.fits.Header or None
        Its header. Without BIASSEC and TRIMSEC/DATASEC the frame is returned unchanged.
    layout : OverscanLayout, optional
        A layout already read with :func:`overscan_layout`.

    Returns
    -------
    data : numpy.ndarray
        float32, overscan-subtracted and trimmed (or the input as float32 when nothing is declared).
    header : astropy.io.fits.Header
        A copy, with BIASSEC/TRIMSEC/DATASEC removed, CRPIX1/2 (and LTV1/2) shifted to the trimmed
        frame and HISTORY cards (``ccdlab: overscan subtracted ...``) saying what was done.

    Examples
    --------
    >>> raw = np.full((4, 6), 100.0, np.float32); raw[:, 4:] = 90.0
    >>> hdr = fits.Header({"BIASSEC": "[5:6,1:4]", "TRIMSEC": "[1:4,1:4]"})
    >>> out, new = correct_overscan(raw, hdr)
    >>> out.shape, float(out[0, 0]), "BIASSEC" in new
    ((4, 4), 10.0, False)
    """
    header = fits.Header() if header is None else header.copy()
    data = np.asarray(data, dtype=np.float32)
    if layout is None:
        layout = overscan_layout(header, data.shape)
    if layout is None:
        return data, header
    levels = overscan_levels(data, layout)
    out = data[layout.data_rows, layout.data_cols] - levels
    for key in ("BIASSEC", "TRIMSEC", "DATASEC"):
        header.remove(key, ignore_missing=True, remove_all=True)
    _shift_reference_pixels(header, layout)
    for line in history_cards(f"ccdlab: {layout.describe()}"):
        header.add_history(line)
    return np.ascontiguousarray(out, dtype=np.float32), header


def raw_layout(path):
    """``(header, raw shape, overscan layout or None)`` of a file, reading its header only.

    Parameters
    ----------
    path : path-like
        A raw frame.

    Raises
    ------
    ccdlab.errors.FrameError
        The file cannot be read, or its BIASSEC/TRIMSEC/DATASEC cannot be used.

    Examples
    --------
    >>> header, shape, layout = raw_layout("data/bias/C0_20181013-130440-460.fits")  # doctest: +SKIP
    >>> layout is None  # doctest: +SKIP
    True
    """
    header = read_header(path)
    if "ZNAXIS1" in header:
        shape = (int(header["ZNAXIS2"]), int(header["ZNAXIS1"]))
    else:
        shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
    try:
        layout = overscan_layout(header, shape)
    except ValueError as exc:
        raise FrameError(f"{path}: {exc}") from exc
    return header, shape, layout

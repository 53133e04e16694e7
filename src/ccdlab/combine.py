"""Combining a stack of frames pixel by pixel (median or mean), in bounded memory.

A master bias or flat is the per-pixel median (or mean) of a stack of frames. Holding the whole
stack in memory as float64, as the seed tutorial does, costs 8 bytes x frames x pixels: 2.9 GB for
ten 4096 x 4108 frames. :func:`combine` reads the frames a block of rows at a time instead, so that
memory stays near ``mem_limit`` whatever the number and size of the frames, and computes the median
of each small chunk of rows while it is still in the processor's cache.

For a handful of frames the median is found with a *selection network*: a fixed sequence of
compare-and-swap steps (``np.minimum`` / ``np.maximum`` on whole rows at once) that puts the
middle values in the middle positions without sorting everything. It gives exactly what
``numpy.median`` gives, many times faster. Pixels with NaN (masked in an input) are ignored.
See ``docs/reduction.md`` for the design.
"""

from __future__ import annotations

import functools
import gzip
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from tqdm.auto import tqdm

from ccdlab import validate
from ccdlab.errors import CombineError, CombineWarning
from ccdlab.io import FrameError, is_path, read_header, read_rows
from ccdlab.overscan import overscan_layout

__all__ = [
    "DEFAULT_MEM_LIMIT",
    "METHODS",
    "MAD_TO_SIGMA",
    "CombineError",
    "CombineWarning",
    "combine",
]

#: Default working memory for the rows of all frames held at once, in bytes.
DEFAULT_MEM_LIMIT = 64_000_000

#: The combination methods :func:`combine` knows.
METHODS = ("median", "mean")

#: Scale from the median absolute deviation to the standard deviation of a normal distribution.
MAD_TO_SIGMA = 1.482602218505602

#: Rows are combined in chunks of about this many bytes (all frames together): cache-sized.
_CHUNK_BYTES = 1_500_000

#: Up to this many frames the median uses a selection network; above, a sort.
_NETWORK_MAX_FRAMES = 32

#: Show a progress bar by default when the work takes at least this many blocks.
_PROGRESS_MIN_BLOCKS = 4

_BITPIX_DTYPES = {8: np.dtype("u1"), 16: np.dtype(">i2"), 32: np.dtype(">i4"), 64: np.dtype(">i8"),
                  -32: np.dtype(">f4"), -64: np.dtype(">f8")}


# --------------------------------------------------------------------------------------------
# Selection networks for the median
# --------------------------------------------------------------------------------------------


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort network for ``n`` inputs, as (low, high) index pairs."""
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return pairs


@functools.lru_cache(maxsize=None)
def _median_network(n: int) -> tuple[tuple[int, int], ...]:
    """The compare-and-swap steps that bring the middle one or two values of ``n`` into place.

    Built from a sorting network by keeping only the steps the middle outputs depend on.
    Dropping inputs beyond ``n`` from a power-of-two Batcher network is valid because the
    missing inputs behave as +infinity, which never moves.
    """
    needed = {(n - 1) // 2, n // 2}
    kept = []
    for a, b in reversed(_batcher_pairs(n)):
        if a in needed or b in needed:
            kept.append((a, b))
            needed.update((a, b))
    return tuple(reversed(kept))


def _median_by_network(chunk: np.ndarray, spare: np.ndarray, out: np.ndarray) -> None:
    """Median over axis 0 of a NaN-free chunk; ``chunk`` is scrambled, ``spare`` is scratch."""
    n = chunk.shape[0]
    rows = [chunk[i] for i in range(n)]
    for i, j in _median_network(n):
        low, high = rows[i], rows[j]
        np.minimum(low, high, out=spare)
        np.maximum(low, high, out=high)
        rows[i], spare = spare, low
    lo, hi = (n - 1) // 2, n // 2
    if lo == hi:
        out[...] = rows[lo]
    else:
        np.add(rows[lo], rows[hi], out=spare)
        spare *= 0.5
        out[...] = spare


def _median_by_sort(chunk: np.ndarray, out: np.ndarray) -> None:
    """NaN-ignoring median over axis 0 (like ``numpy.nanmedian``); NaN where all are NaN."""
    ordered = np.sort(chunk, axis=0)  # NaN sorts last
    valid = chunk.shape[0] - np.count_nonzero(np.isnan(chunk), axis=0)
    lo = np.maximum((valid - 1) // 2, 0)[np.newaxis]
    hi = np.maximum(valid // 2, 0)[np.newaxis]
    a = np.take_along_axis(ordered, lo, axis=0)[0]
    b = np.take_along_axis(ordered, hi, axis=0)[0]
    np.add(a, b, out=a)
    a *= 0.5
    out[...] = a


def _has_nan(chunk: np.ndarray) -> bool:
    # A sum is NaN when any value is NaN (or when +inf meets -inf, which the NaN path also handles).
    return bool(np.isnan(np.sum(chunk)))


def _median(chunk: np.ndarray, spare: np.ndarray, out: np.ndarray) -> None:
    if chunk.shape[0] <= _NETWORK_MAX_FRAMES and not _has_nan(chunk):
        _median_by_network(chunk, spare, out)
    else:
        _median_by_sort(chunk, out)


def _mean(chunk: np.ndarray, out: np.ndarray) -> None:
    if not _has_nan(chunk):
        out[...] = np.sum(chunk, axis=0, dtype=np.float64) / chunk.shape[0]
        return
    valid = chunk.shape[0] - np.count_nonzero(np.isnan(chunk), axis=0)
    total = np.nansum(chunk, axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[...] = np.where(valid > 0, total / np.maximum(valid, 1), np.nan)


def _combine_chunk(chunk: np.ndarray, method: str, sigma_clip: float | None, spare: np.ndarray, out: np.ndarray) -> int:
    """Combine one chunk of rows into ``out``; return how many values were clipped."""
    clipped = 0
    if sigma_clip is not None:
        centre = np.empty_like(spare)
        _median(chunk.copy(), spare, centre)
        deviation = np.abs(chunk - centre)
        mad = np.empty_like(spare)
        _median(deviation.copy(), spare, mad)
        with np.errstate(invalid="ignore"):
            reject = deviation > (sigma_clip * MAD_TO_SIGMA) * mad
        clipped = int(np.count_nonzero(reject))
        chunk[reject] = np.nan
    if method == "median":
        _median(chunk, spare, out)
    else:
        _mean(chunk, out)
    return clipped


# --------------------------------------------------------------------------------------------
# Where the rows come from: arrays in memory, or files read a block at a time
# --------------------------------------------------------------------------------------------


class _ArraySource:
    def __init__(self, array: np.ndarray, label: str):
        self.array = array
        self.label = label
        self.shape = array.shape

    def read(self, start: int, stop: int, out: np.ndarray) -> None:
        out[...] = self.array[start:stop]

    def close(self) -> None:
        pass


class _FileSource:
    """Rows of one FITS frame, read without loading (or memory-mapping) the whole file.

    Uncompressed and gzip-compressed images are read straight from the file into the working
    block; tile-compressed images go through :func:`ccdlab.io.read_rows`. When the header declares
    BIASSEC and TRIMSEC/DATASEC, rows come back overscan-subtracted and trimmed.
    """

    def __init__(self, path: str | os.PathLike, overscan: bool = True):
        self.path = Path(path)
        self.label = str(self.path)
        header = read_header(self.path)  # FileNotFoundError / FrameError name the file
        if "ZNAXIS1" in header:
            raw_shape = (int(header["ZNAXIS2"]), int(header["ZNAXIS1"]))
        else:
            raw_shape = (int(header["NAXIS2"]), int(header["NAXIS1"]))
        if int(header.get("ZNAXIS", header.get("NAXIS", 2))) > 2:
            raise FrameError(f"{self.path} holds a cube, not one frame; split it into 2-D frames first.")
        self.raw_shape = raw_shape
        self._gzip = None
        self._plain = self._plain_layout()
        self.layout = None
        if overscan:
            try:
                self.layout = overscan_layout(header, raw_shape)
            except ValueError as exc:
                raise FrameError(f"{self.path}: {exc}") from exc
        self.shape = self.layout.output_shape if self.layout else raw_shape
        self._levels = None
        if self.layout is not None and self.layout.per != "row":
            self._levels = self._strip_levels()

    def _plain_layout(self):
        with open(self.path, "rb") as handle:
            magic = handle.read(6)
        if magic[:2] == b"\x1f\x8b":
            compression = "gzip"
        elif magic == b"SIMPLE":
            compression = None
        else:
            return None
        try:
            with fits.open(self.path, memmap=False, lazy_load_hdus=True) as hdul:
                for hdu in hdul:
                    if getattr(hdu, "is_image", False) and hdu.header.get("NAXIS", 0) >= 2:
                        if isinstance(hdu, fits.CompImageHDU) or not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU)):
                            return None  # tile-compressed: use read_rows
                        header = hdu.header
                        bitpix = int(header["BITPIX"])
                        blank = header.get("BLANK") if bitpix > 0 else None
                        return {
                            "offset": int(hdu.fileinfo()["datLoc"]),
                            "dtype": _BITPIX_DTYPES[bitpix],
                            "bscale": float(header.get("BSCALE", 1.0)),
                            "bzero": float(header.get("BZERO", 0.0)),
                            "blank": blank,
                            "nx": int(header["NAXIS1"]),
                            "compression": compression,
                        }
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return None

    def _read_raw_into(self, start: int, stop: int, out: np.ndarray) -> None:
        """Rows start:stop of the raw (untrimmed) image, scaled to ADU, into ``out``."""
        plain = self._plain
        if plain is None:
            out[...] = read_rows(self.path, start, stop)
            return
        dtype, nx = plain["dtype"], plain["nx"]
        count = (stop - start) * nx
        buffer = np.empty(count, dtype=dtype)
        position = plain["offset"] + start * nx * dtype.itemsize
        if plain["compression"] == "gzip":
            if self._gzip is None:
                self._gzip = gzip.open(self.path, "rb")
            handle = self._gzip
            if handle.tell() > position:
                handle.seek(0)
            handle.seek(position)
            got = handle.readinto(memoryview(buffer).cast("B"))
        else:
            with open(self.path, "rb") as handle:
                handle.seek(position)
                got = handle.readinto(memoryview(buffer).cast("B"))
        if got != buffer.nbytes:
            raise FrameError(
                f"{self.path} is truncated: rows {start}-{stop} could not be read. Download or copy it again."
            )
        buffer = buffer.reshape(stop - start, nx)
        out[...] = buffer
        if plain["blank"] is not None:
            out[buffer == plain["blank"]] = np.nan
        if plain["bscale"] != 1.0:
            out *= plain["bscale"]
        if plain["bzero"] != 0.0:
            out += plain["bzero"]

    def _raw_rows(self, start: int, stop: int) -> np.ndarray:
        block = np.empty((stop - start, self.raw_shape[1]), dtype=np.float32)
        self._read_raw_into(start, stop, block)
        return block

    def _strip_levels(self) -> np.ndarray:
        layout = self.layout
        pieces = []
        step = 512
        for start in range(layout.bias_rows.start, layout.bias_rows.stop, step):
            stop = min(start + step, layout.bias_rows.stop)
            rows = self._raw_rows(start, stop)
            cols = layout.data_cols if layout.per == "column" else layout.bias_cols
            pieces.append(rows[:, cols])
        strip = np.concatenate(pieces, axis=0)
        if layout.per == "column":
            return np.median(strip, axis=0, keepdims=True).astype(np.float32)
        return np.full((1, 1), np.median(strip), dtype=np.float32)

    def read(self, start: int, stop: int, out: np.ndarray) -> None:
        layout = self.layout
        if layout is None:
            self._read_raw_into(start, stop, out)
            return
        first = layout.data_rows.start
        raw = self._raw_rows(first + start, first + stop)
        if layout.per == "row":
            levels = np.median(raw[:, layout.bias_cols], axis=1, keepdims=True).astype(np.float32)
        else:
            levels = self._levels
        np.subtract(raw[:, layout.data_cols], levels, out=out)

    def close(self) -> None:
        if self._gzip is not None:
            self._gzip.close()
            self._gzip = None


def _sources(frames, overscan: bool) -> list:
    if is_path(frames):
        raise CombineError(
            f"combine() needs a list of frames, but got the single path {frames}: pass a list, e.g. "
            "[path] or inventory.frames_of_type(inventory.scan(folder), 'bias')."
        )
    if isinstance(frames, np.ndarray):
        if frames.ndim == 3:
            frames = list(frames)
        elif frames.ndim == 2:
            frames = [frames]
        else:
            raise CombineError(
                f"combine() takes a 3-D stack (frames, rows, columns) or a list of 2-D frames; got an "
                f"array of shape {frames.shape}."
            )
    try:
        items = list(frames)
    except TypeError:
        raise CombineError(
            f"combine() needs a list of file paths or 2-D arrays; got {type(frames).__name__}."
        ) from None
    if not items:
        raise CombineError(
            "No frames to combine: the list is empty. Check the folder and the frame types with "
            "inventory.scan(folder)."
        )
    sources = []
    try:
        for index, item in enumerate(items):
            if is_path(item):
                sources.append(_FileSource(item, overscan=overscan))
                continue
            data = item if isinstance(item, np.ndarray) else getattr(item, "data", item)  # CCDData too
            array = validate.image(data, f"frame #{index}", error=CombineError, cast=False, allow_bool=False,
                                   hint="Pass file paths or 2-D arrays.")
            sources.append(_ArraySource(array, f"frame #{index} (an array)"))
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources


def _check_shapes(sources) -> tuple[int, int]:
    first = sources[0]
    for source in sources[1:]:
        if source.shape != first.shape:
            ny, nx = source.shape
            fy, fx = first.shape
            raise CombineError(
                f"{source.label} is {nx} x {ny} pixels but {first.label} is {fx} x {fy}: all frames "
                "in one combination must have the same size. Remove the odd frame (check NAXIS1/NAXIS2 "
                "with inventory.scan) or trim the frames to a common size first."
            )
    return first.shape


def combine(
    frames,
    method: str = "median",
    sigma_clip: float | None = None,
    mem_limit: float = DEFAULT_MEM_LIMIT,
    progress: bool | None = None,
    dtype=np.float32,
    *,
    offset=None,
    scale=None,
    overscan: bool = True,
) -> np.ndarray:
    """Combine frames pixel by pixel into one frame, reading them a block of rows at a time.

    Parameters
    ----------
    frames : list of path-like or 2-D arrays, or a 3-D array
        The frames: FITS files (read block by block, never whole) or arrays already in memory,
        or a stack of shape ``(n_frames, ny, nx)``. All must have the same shape.
    method : {'median', 'mean'}
        How each pixel's values are combined (``'average'``, ccdproc's word, means ``'mean'``). NaN values (masked pixels) are ignored; a pixel
        that is NaN in every frame stays NaN.
    sigma_clip : float, optional
        When given, values farther than ``sigma_clip`` robust standard deviations from the
        pixel's median are rejected before combining (one pass; the standard deviation is
        1.4826 x the median absolute deviation, so a single cosmic ray cannot inflate it).
        This is ccdproc's ``sigma_clip_dev_func=mad_std`` and shares its weakness: with few
        frames of whole-number ADU the per-pixel MAD is often 0 (about 9% of pixels for 3
        frames, 1% for 5), so good values are clipped there. Below ~7 frames prefer the plain
        median, which already ignores a single outlier.
    mem_limit : float
        Working memory, in bytes, for the rows of all frames held at once (default 64 MB). The
        result (one frame) and Python itself come on top.
    progress : bool, optional
        Show a progress bar; by default only when the work takes several blocks.
    dtype : numpy dtype
        float32 (default) or float64, for the result and the arithmetic.
    offset : float or 2-D array, optional
        Subtracted from every frame before combining (e.g. a master bias).
    scale : sequence of float, optional
        One factor per frame, applied after ``offset`` (e.g. ``1 / median`` to normalise flats).
    overscan : bool
        Subtract the overscan and trim files whose header declares BIASSEC and TRIMSEC/DATASEC
        (default True; see :mod:`ccdlab.overscan`).

    Returns
    -------
    numpy.ndarray
        The combined frame, of shape ``(ny, nx)`` and type ``dtype``.

    Raises
    ------
    CombineError
        No frames, a frame of another shape (the message names it), an unknown method, or a
        bad ``sigma_clip`` / ``mem_limit`` / ``scale`` / ``offset``.
    FileNotFoundError, ccdlab.errors.FrameError
        A file is missing or unreadable (the message names it).

    Warns
    -----
    CombineWarning
        Only one frame was given: the result is a copy of it.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.array([np.full((2, 3), v, np.float32) for v in (1.0, 2.0, 9.0)])
    >>> combine(stack).tolist()
    [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    >>> float(combine(stack, method="mean")[0, 0])
    4.0
    >>> master_bias = combine(["bias/b1.fits", "bias/b2.fits", "bias/b3.fits"])  # doctest: +SKIP
    """
    method = {"average": "mean"}.get(method, method)  # ccdproc's name for the mean
    if method not in METHODS:
        raise CombineError(f"Unknown method {method!r}: use 'median' or 'mean'.")
    if sigma_clip is not None:
        try:
            sigma_clip = float(sigma_clip)
        except (TypeError, ValueError):
            raise CombineError(f"sigma_clip must be a number of standard deviations (e.g. 3), not {sigma_clip!r}.") from None
        if not np.isfinite(sigma_clip) or sigma_clip <= 0:
            raise CombineError(f"sigma_clip must be a positive number of standard deviations (e.g. 3); got {sigma_clip}.")
    try:
        mem_limit = float(mem_limit)
    except (TypeError, ValueError):
        raise CombineError(f"mem_limit must be a number of bytes (e.g. 64e6), not {mem_limit!r}.") from None
    if not mem_limit > 0:
        raise CombineError(f"mem_limit must be a positive number of bytes (e.g. 64e6); got {mem_limit}.")
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise CombineError(f"dtype must be float32 or float64; got {dtype}.")

    sources = _sources(frames, overscan)
    try:
        ny, nx = _check_shapes(sources)
        n = len(sources)
        if n == 1:
            warnings.warn(
                f"Only one frame ({sources[0].label}) to combine: the result is a copy of it, with "
                "its full noise. Combine several frames to beat the noise down.",
                CombineWarning,
                stacklevel=2,
            )
        if offset is not None:
            offset = np.asarray(offset, dtype=dtype)
            if offset.ndim not in (0, 2) or (offset.ndim == 2 and offset.shape != (ny, nx)):
                raise CombineError(
                    f"offset has shape {offset.shape} but the frames are {nx} x {ny}: give a number or "
                    "a frame of the same size (e.g. a master bias made from the same camera setup)."
                )
        if scale is not None:
            scale = np.asarray(scale, dtype=np.float64).ravel()
            if scale.size != n or not np.all(np.isfinite(scale)):
                raise CombineError(f"scale needs one finite factor per frame ({n}); got {scale.size} value(s).")

        itemsize = dtype.itemsize
        bytes_per_row = n * nx * itemsize + nx * 8
        rows_per_block = int(max(1, min(ny, mem_limit // bytes_per_row)))
        chunk_rows = int(max(1, min(rows_per_block, _CHUNK_BYTES // (n * nx * itemsize))))
        stack = np.empty((n, rows_per_block, nx), dtype=dtype)
        spare = np.empty((chunk_rows, nx), dtype=dtype)
        result = np.empty((ny, nx), dtype=dtype)
        starts = range(0, ny, rows_per_block)
        show = len(starts) >= _PROGRESS_MIN_BLOCKS if progress is None else bool(progress)
        for start in tqdm(starts, desc=f"combine {n} frames ({method})", unit="block", disable=not show, leave=False):
            stop = min(start + rows_per_block, ny)
            rows = stop - start
            for index, source in enumerate(sources):
                block = stack[index, :rows]
                source.read(start, stop, block)
                if offset is not None:
                    block -= offset[start:stop] if offset.ndim == 2 else offset
                if scale is not None:
                    block *= scale[index]
            for c0 in range(0, rows, chunk_rows):
                c1 = min(c0 + chunk_rows, rows)
                _combine_chunk(stack[:, c0:c1], method, sigma_clip, spare[: c1 - c0], result[start + c0 : start + c1])
        return result
    finally:
        for source in sources:
            source.close()


class _CallableModule(type(functools)):
    """This module, callable as :func:`combine` itself.

    Notebooks have always written ``from ccdlab import combine; combine(files, method="median")``,
    while ``import ccdlab.combine`` must give the module. Making the module callable serves both.
    """

    def __call__(self, *args, **kwargs):
        return combine(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

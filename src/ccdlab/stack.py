"""Aligning calibrated frames on the sky with their WCS, and stacking them.

The science frames of a night are dithered: the telescope moves a few pixels between exposures,
so a star falls on different pixels in each frame. Each frame carries an astrometric solution (a
TAN WCS, written by astrometry.net) that says where every pixel points on the sky.
:func:`align_frames` resamples every frame onto the pixel grid of one reference frame with
``reproject`` (bilinear interpolation by default), so that a star sits on the same pixel in all of
them; :func:`stack_frames` then combines the aligned cube pixel by pixel (median or mean, NaN
ignored) and counts how many frames each pixel of the result rests on; :func:`write_stack` saves
the stack with the reference WCS and a HISTORY of what was done.

NaN means "no data" throughout: the vignetted corners of a calibrated frame, the strip a dither
moves out of the reference frame, and the interpolation's one-pixel halo around both. See
``docs/stacking.md`` for the choices (interpolation vs adaptive resampling, median vs mean).
"""

from __future__ import annotations

import copy
import os
import re
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from tqdm.auto import tqdm

from ccdlab import validate
from ccdlab.combine import CombineError
from ccdlab.combine import combine as _combine
from ccdlab.errors import StackError, StackWarning
from ccdlab.io import read_frame, write_frame

__all__ = [
    "ALIGN_METHODS",
    "STACK_METHODS",
    "StackError",
    "StackWarning",
    "frame_wcs",
    "align_frames",
    "stack_frames",
    "write_stack",
]

#: Resampling methods :func:`align_frames` knows: ``reproject_interp`` or ``reproject_adaptive``.
ALIGN_METHODS = ("interp", "adaptive")

#: Combination methods :func:`stack_frames` knows.
STACK_METHODS = ("median", "mean")

#: Output pixels resampled per call of reproject: bounds its float64 scratch arrays (~60 MB).
_BLOCK_PIXELS = 1 << 20

#: Largest departure (pixels) of the frame-to-frame pixel map from a single shift for
#: :func:`align_frames` to resample by that shift instead of through both WCS pixel by pixel.
_SHIFT_TOLERANCE = 1e-3

# Header keywords of a celestial WCS (and its SIP distortion) whose values must be numbers.
_NUMERIC_WCS_KEY = re.compile(
    r"^(?:(?:CRPIX|CRVAL|CDELT|CROTA)\d[A-Z]?"
    r"|(?:CD|PC|PV)\d_\d+[A-Z]?"
    r"|(?:EQUINOX|EPOCH|LONPOLE|LATPOLE|WCSAXES)[A-Z]?"
    r"|(?:A|B|AP|BP)_\d+_\d+"
    r"|(?:A|B|AP|BP)_(?:ORDER|DMAX))$"
)


# --------------------------------------------------------------------------------------------
# Reading frames and their WCS
# --------------------------------------------------------------------------------------------


def _label(item, index: int) -> str:
    if isinstance(item, (str, os.PathLike)):
        return str(item)
    return f"frame #{index}"


def _numeric_wcs_header(header: fits.Header, label: str) -> fits.Header:
    """Return ``header`` with WCS values stored as text turned into numbers (a copy if changed).

    astropy.wcs does not read a quoted number: it warns and silently uses 0 (or 1) instead, which
    would put the frame in the wrong place on the sky. Numbers in quotes are converted (with a
    warning); text that is no number is an error.
    """
    converted, broken = [], []
    for card in header.cards:
        key = card.keyword
        if not isinstance(card.value, str) or not _NUMERIC_WCS_KEY.match(key or ""):
            continue
        try:
            number = float(card.value.strip().replace("D", "E").replace("d", "e"))
        except ValueError:
            broken.append(f"{key} = {card.value!r}")
            continue
        converted.append((key, number))
    if broken:
        raise StackError(
            f"{label}: the WCS keyword(s) {', '.join(broken)} should hold numbers but hold text, so "
            "the frame's position on the sky is unknown. Solve the frame's astrometry again (e.g. with "
            "astrometry.net) or correct these header values."
        )
    if not converted:
        return header
    header = header.copy()
    for key, number in converted:
        header[key] = int(number) if key == "WCSAXES" or key.endswith("_ORDER") else number
    warnings.warn(
        f"{label}: WCS value(s) stored as text were read as numbers: "
        + ", ".join(key for key, _ in converted)
        + ". Check that the frame's header was written correctly.",
        StackWarning,
        stacklevel=3,
    )
    return header


def _header_scale_is_zero(header: fits.Header, wcs: WCS) -> bool:
    """True when the header's own CD matrix (or CDELT) of the celestial axes is singular.

    astropy's ``cdfix`` silently turns a zero row of CD into the identity (1 degree per pixel).
    """
    if not wcs.has_celestial:
        return False
    axes = (wcs.wcs.lng + 1, wcs.wcs.lat + 1)
    cd = [[header.get(f"CD{i}_{j}") for j in axes] for i in axes]
    if any(value is not None for row in cd for value in row):
        matrix = np.array([[float(value or 0.0) for value in row] for row in cd])
        return not np.isfinite(matrix).all() or float(np.linalg.det(matrix)) == 0.0
    cdelt = [header.get(f"CDELT{i}") for i in axes]
    return any(value is not None and float(value) == 0.0 for value in cdelt)


def frame_wcs(header: fits.Header | WCS, label: str = "this frame") -> WCS:
    """Return the celestial (RA/Dec) WCS of a frame, or say clearly why there is none.

    Parameters
    ----------
    header : astropy.io.fits.Header or astropy.wcs.WCS
        The frame's header (or a WCS already built from it).
    label : str
        How to name the frame in messages (usually its file name).

    Returns
    -------
    astropy.wcs.WCS
        The 2-D celestial part of the WCS (SIP distortion kept).

    Raises
    ------
    StackError
        No celestial WCS (the frame is not astrometry-solved), a WCS value that is text rather than
        a number, or a WCS that astropy cannot read.

    Warns
    -----
    StackWarning
        WCS values stored as quoted numbers (e.g. ``CRPIX1 = '1024.5'``) were converted.

    Examples
    --------
    >>> from astropy.io import fits
    >>> header = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 339.75,
    ...                       "CRVAL2": 33.9, "CRPIX1": 100.5, "CRPIX2": 100.5,
    ...                       "CDELT1": -0.000188, "CDELT2": 0.000188})
    >>> frame_wcs(header).has_celestial
    True
    >>> frame_wcs(fits.Header(), "C0_test.fits")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    StackError: C0_test.fits has no celestial WCS ...
    """
    if isinstance(header, WCS):
        wcs = header
    else:
        if not isinstance(header, fits.Header):
            raise StackError(
                f"{label}: expected a FITS header or an astropy WCS next to the data, got "
                f"{type(header).__name__}. Pass (data, header) pairs or file paths."
            )
        header = _numeric_wcs_header(header, label)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                wcs = WCS(header)
        except Exception as exc:  # astropy raises several kinds for a malformed WCS
            raise StackError(
                f"{label}: its WCS cannot be read ({exc}). Solve the frame's astrometry again "
                "(e.g. with astrometry.net) or correct the WCS keywords in its header."
            ) from exc
    if not wcs.has_celestial:
        raise StackError(
            f"{label} has no celestial WCS (no RA---/DEC-- CTYPE1/CTYPE2 in its header), so it cannot "
            "be aligned on the sky. The science frames must be astrometry-solved first: use the "
            "*.wcs.fits frames, or solve them with astrometry.net (solve-field or nova.astrometry.net)."
        )
    if isinstance(header, fits.Header) and _header_scale_is_zero(header, wcs):
        raise StackError(
            f"{label}: its WCS has no usable pixel scale (its CD matrix or CDELT values are zero; astropy "
            "would replace them with 1 degree per pixel). Solve the frame's astrometry again."
        )
    celestial = wcs.celestial
    if not np.all(np.isfinite(celestial.wcs.crval)) or not np.all(np.isfinite(celestial.wcs.crpix)):
        raise StackError(
            f"{label}: its WCS reference values (CRVAL/CRPIX) are not finite numbers. Solve the "
            "frame's astrometry again."
        )
    try:
        determinant = float(np.linalg.det(celestial.pixel_scale_matrix))
    except (ValueError, np.linalg.LinAlgError):
        determinant = 0.0
    if not np.isfinite(determinant) or determinant == 0.0:
        raise StackError(
            f"{label}: its WCS has no usable pixel scale (CD/CDELT matrix is singular or missing). "
            "Solve the frame's astrometry again."
        )
    return celestial


def _load(item, index: int) -> tuple[np.ndarray, WCS, str]:
    label = _label(item, index)
    if isinstance(item, (str, os.PathLike)):
        data, header = read_frame(item)  # FileNotFoundError / FrameError name the file
        label = Path(item).name
        wcs_source = header
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        data, wcs_source = item
    elif hasattr(item, "data") and (hasattr(item, "wcs") or hasattr(item, "header")):  # CCDData, HDU
        data = item.data
        wcs_source = getattr(item, "wcs", None)
        if wcs_source is None:
            wcs_source = item.header
    else:
        raise StackError(
            f"{label}: expected a file path or a (data, header) pair, got {type(item).__name__}. Pass "
            "e.g. sorted(Path('reduced').glob('*.proc.fits'))."
        )
    data = validate.image(data, f"data of {label}", error=StackError, dtype=np.float32, allow_bool=False, need_finite=True,
                          hint="It cannot add anything to the stack: check its calibration (a master flat of zeros?) "
                               "or leave it out.")
    return data, frame_wcs(wcs_source, label), label


def _translation(wcs_in: WCS, wcs_out: WCS, shape_out: tuple) -> tuple[float, float] | None:
    """``(dy, dx)`` when every pixel of ``wcs_out`` falls at itself + (dy, dx) in ``wcs_in``, else None.

    Frames dithered without rotation or change of scale (the course's, and most nights') differ by
    one shift: the pixel -> sky -> pixel map, sampled on a grid of 17 x 17 points over the output,
    must depart from its median shift by at most :data:`_SHIFT_TOLERANCE` pixel.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> a = WCS(naxis=2); a.wcs.ctype = ["RA---TAN", "DEC--TAN"]; a.wcs.crval = [339.75, 33.9]
    >>> a.wcs.cdelt = [-0.000188, 0.000188]; a.wcs.crpix = [32.5, 32.5]
    >>> b = a.deepcopy(); b.wcs.crpix = [34.75, 31.5]
    >>> [round(v, 6) for v in _translation(b, a, (64, 64))]
    [-1.0, 2.25]
    >>> b.wcs.cdelt = [-0.000190, 0.000190]  # another pixel scale: not a shift
    >>> _translation(b, a, (64, 64)) is None
    True
    """
    from astropy.wcs.utils import pixel_to_pixel

    ny, nx = shape_out
    ys, xs = (grid.ravel() for grid in np.meshgrid(np.linspace(0, ny - 1, 17), np.linspace(0, nx - 1, 17),
                                                    indexing="ij"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x_in, y_in = pixel_to_pixel(wcs_out, wcs_in, xs, ys)
    except Exception:  # noqa: BLE001 - whatever astropy cannot map goes through reproject, which says why
        return None
    dx, dy = np.asarray(x_in, dtype=float) - xs, np.asarray(y_in, dtype=float) - ys
    if not (np.isfinite(dx).all() and np.isfinite(dy).all()):
        return None
    if np.ptp(dx) > _SHIFT_TOLERANCE or np.ptp(dy) > _SHIFT_TOLERANCE:
        return None
    return float(np.median(dy)), float(np.median(dx))


def _edge(coords: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(coords, outside)`` as reproject treats them: the outer half of a border pixel is that pixel."""
    coords = coords.copy()
    coords[(coords < 0) & (coords >= -0.5)] = 0
    coords[(coords < size - 0.5) & (coords >= size - 1)] = size - 1
    return coords, (coords < -0.5) | (coords > size - 0.5)


def _shift(data, dy: float, dx: float, out, progress_bar=None) -> None:
    """Bilinear resampling of ``data`` at (y + dy, x + dx) into ``out``: ``reproject_interp`` for a pure shift.

    The same interpolation as ``reproject_interp(order='bilinear')`` (scipy's ``map_coordinates``,
    order 1, NaN outside; reproject's treatment of the border pixels), at the coordinates a shift
    gives, without transforming every pixel through both WCS (which takes nearly all of its time).
    """
    from scipy.ndimage import map_coordinates

    ny, nx = out.shape
    x, x_out = _edge(np.arange(nx, dtype=float) + dx, data.shape[1])
    rows = max(1, _BLOCK_PIXELS // nx)
    image = np.asarray(data, dtype=np.float32)
    for y0 in range(0, ny, rows):
        y1 = min(y0 + rows, ny)
        y, y_out = _edge(np.arange(y0, y1, dtype=float) + dy, data.shape[0])
        coords = np.empty((2, y1 - y0, nx))
        coords[0], coords[1] = y[:, None], x[None, :]
        target = out[y0:y1]
        target.reshape(-1)[:] = map_coordinates(image, coords.reshape(2, -1), order=1, mode="constant",
                                                cval=np.nan, output=np.float32)
        target[y_out, :] = np.nan
        target[:, x_out] = np.nan
        if progress_bar is not None:
            progress_bar.update(y1 - y0)


def _reproject(data, wcs_in, wcs_out, out, method: str, progress_bar=None) -> None:
    """Resample ``data`` (on ``wcs_in``) onto ``wcs_out`` into ``out``, in blocks of rows.

    With ``method='interp'`` and frames that differ by a shift only (:func:`_translation`), the
    same bilinear interpolation is done directly at the shifted coordinates (:func:`_shift`).
    """
    from reproject import reproject_adaptive, reproject_interp

    ny, nx = out.shape
    if method == "interp":
        shift = _translation(wcs_in, wcs_out, out.shape)
        if shift is not None:
            _shift(data, *shift, out, progress_bar)
            return
    rows = max(1, _BLOCK_PIXELS // nx)
    footprint = np.empty((min(rows, ny), nx), dtype=np.float32)
    for y0 in range(0, ny, rows):
        y1 = min(y0 + rows, ny)
        block_wcs = wcs_out[y0:y1, :]
        target = out[y0:y1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            if method == "interp":
                # Dithered frames of one field: the pixel -> sky -> pixel map is exact and smooth, so
                # the round-trip check (which doubles the time) is not needed.
                reproject_interp((data, wcs_in), block_wcs, shape_out=target.shape, order="bilinear",
                                 output_array=target, output_footprint=footprint[: y1 - y0],
                                 roundtrip_coords=False)
            else:
                reproject_adaptive((data, wcs_in), block_wcs, shape_out=target.shape,
                                   output_array=target, output_footprint=footprint[: y1 - y0],
                                   roundtrip_coords=False, conserve_flux=False,
                                   boundary_mode="strict")
        target[footprint[: y1 - y0] <= 0] = np.nan
        if progress_bar is not None:
            progress_bar.update(y1 - y0)


def align_frames(frames, reference: int = 0, method: str = "interp", progress: bool = True):
    """Resample frames onto the pixel grid of a reference frame, using their WCS.

    Parameters
    ----------
    frames : sequence of path-like or (data, header) pairs
        The calibrated science frames (e.g. ``*.proc.fits``), each with a celestial WCS (TAN, as
        astrometry.net writes it) in its header. A pair may hold an astropy ``WCS`` instead of a
        header. Frames may differ in size.
    reference : int
        Index of the frame whose pixel grid (shape and WCS) the others are resampled onto. It is
        copied unchanged, never interpolated.
    method : {'interp', 'adaptive'}
        ``'interp'``: ``reproject.reproject_interp`` with bilinear interpolation (fast; right for
        dithered frames of one camera, same pixel scale). ``'adaptive'``: ``reproject_adaptive``
        (anti-aliased DeForest resampling; right when pixel scales differ; slower).
    progress : bool
        Show a progress bar (tqdm).

    Returns
    -------
    cube : numpy.ndarray
        float32, shape ``(n_frames, ny, nx)`` of the reference frame. NaN where a frame has no data:
        outside its footprint, or where it was NaN (with the interpolation's one-pixel halo).
    footprints : numpy.ndarray
        bool, same shape: True where a frame contributes a valid value (``isfinite(cube)``).
    wcs : astropy.wcs.WCS
        The reference frame's celestial WCS, which now describes every plane of ``cube``.

    Raises
    ------
    StackError
        No frames; a bad ``reference`` or ``method``; a frame without a celestial WCS (it must be
        astrometry-solved), with WCS values that are text, with no valid pixel, or that does not
        overlap the reference frame. The message names the frame.
    FileNotFoundError, ccdlab.errors.FrameError
        A file is missing or unreadable (the message names it).

    Warns
    -----
    StackWarning
        WCS values stored as quoted numbers were converted.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.io import fits
    >>> header = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 339.75,
    ...                       "CRVAL2": 33.9, "CRPIX1": 32.5, "CRPIX2": 32.5,
    ...                       "CDELT1": -0.000188, "CDELT2": 0.000188})
    >>> moved = header.copy(); moved["CRPIX1"] += 2  # stars 2 pixels further along x
    >>> a = np.zeros((64, 64), np.float32); a[30, 31] = 1
    >>> b = np.zeros((64, 64), np.float32); b[30, 33] = 1
    >>> cube, footprints, wcs = align_frames([(a, header), (b, moved)], progress=False)
    >>> cube.shape, float(cube[1, 30, 31])
    ((2, 64, 64), 1.0)
    >>> bool(footprints[1, 30, -1])  # the last two columns lie outside the moved frame
    False
    """
    if method not in ALIGN_METHODS:
        raise StackError(f"Unknown alignment method {method!r}: use 'interp' (bilinear) or 'adaptive'.")
    if isinstance(frames, (str, os.PathLike)):
        raise StackError(
            f"align_frames() needs a list of frames, but got the single path {frames}: pass a list, "
            "e.g. sorted(Path('reduced').glob('*.proc.fits'))."
        )
    try:
        items = list(frames)
    except TypeError:
        raise StackError(
            f"align_frames() needs a list of file paths or (data, header) pairs; got {type(frames).__name__}."
        ) from None
    if not items:
        raise StackError(
            "No frames to align: the list is empty. Check the folder and the file pattern "
            "(e.g. reduced/*.proc.fits)."
        )
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)) or not -len(items) <= reference < len(items):
        raise StackError(
            f"reference={reference!r} is not the index of one of the {len(items)} frames: use 0 .. {len(items) - 1}."
        )
    reference = int(reference) % len(items)

    ref_data, ref_wcs, ref_label = _load(items[reference], reference)
    ny, nx = ref_data.shape
    ref_wcs = copy.deepcopy(ref_wcs)
    ref_wcs.pixel_shape = (nx, ny)
    n = len(items)
    cube = np.empty((n, ny, nx), dtype=np.float32)
    total = (n - 1) * ny
    with tqdm(total=total, desc=f"align {n} frames ({method})", unit="row", disable=not progress or total == 0,
              leave=False) as bar:
        for index, item in enumerate(items):
            if index == reference:
                cube[index] = ref_data
                cube[index][~np.isfinite(ref_data)] = np.nan
                continue
            data, wcs, label = _load(item, index)
            _reproject(data, wcs, ref_wcs, cube[index], method, bar)
            if not np.isfinite(cube[index]).any():
                raise StackError(
                    f"{label} does not overlap the reference frame {ref_label} on the sky: it cannot be "
                    "aligned with it. Check that it is a frame of the same field (OBJECT, RA/DEC) and "
                    "that its astrometry is right; otherwise leave it out."
                )
    footprints = np.isfinite(cube)
    return cube, footprints, ref_wcs


def stack_frames(cube, method: str = "median", min_frames: int = 1, sigma_clip: float | None = None,
                 progress: bool | None = None):
    """Combine an aligned cube pixel by pixel, ignoring NaN, and count the frames behind each pixel.

    Parameters
    ----------
    cube : array-like
        Aligned frames, shape ``(n_frames, ny, nx)`` (from :func:`align_frames`); NaN = no data.
    method : {'median', 'mean'}
        The median rejects an outlier present in one frame (a cosmic ray, a satellite trail) but
        is noisier: its S/N gain is about ``sqrt(2 n / pi)`` for many frames instead of
        ``sqrt(n)`` (see :func:`ccdlab.photometry.effective_frames`). The mean keeps the full
        ``sqrt(n)`` but also keeps a fraction ``1/n`` of every outlier.
    min_frames : int
        Pixels resting on fewer frames than this become NaN (e.g. 3 keeps only the area where a
        median can reject one outlier).
    sigma_clip : float, optional
        Reject values this many robust standard deviations from the pixel's median before
        combining (see :func:`ccdlab.combine`); with ``method='mean'`` this removes cosmic rays
        and keeps most of the mean's S/N.
    progress : bool, optional
        Show a progress bar; by default only when the frames are big (several blocks of rows).

    Returns
    -------
    stack : numpy.ndarray
        float32, shape ``(ny, nx)``; NaN where fewer than ``min_frames`` frames contribute.
    coverage : numpy.ndarray
        int16, shape ``(ny, nx)``: how many frames contribute to each pixel.

    Raises
    ------
    StackError
        Not a 3-D cube, an unknown method, a bad ``min_frames``, or no pixel with data.

    Examples
    --------
    >>> import numpy as np
    >>> cube = np.array([[[1.0, 2.0]], [[3.0, np.nan]], [[500.0, 4.0]]], dtype=np.float32)
    >>> stack, coverage = stack_frames(cube)
    >>> stack.tolist(), coverage.tolist()
    ([[3.0, 3.0]], [[3, 2]])
    >>> stack_frames(cube, min_frames=3)[0].tolist()
    [[3.0, nan]]
    """
    if method not in STACK_METHODS:
        raise StackError(f"Unknown stacking method {method!r}: use 'median' or 'mean'.")
    cube = np.asarray(cube)
    if cube.ndim != 3 or not np.issubdtype(cube.dtype, np.number):
        raise StackError(
            f"stack_frames() needs an aligned cube of shape (n_frames, ny, nx), e.g. from align_frames(); "
            f"got an array of shape {cube.shape}."
        )
    n = cube.shape[0]
    if isinstance(min_frames, bool) or not isinstance(min_frames, (int, np.integer)) or not 1 <= min_frames <= max(n, 1):
        raise StackError(f"min_frames must be a whole number from 1 to the number of frames ({n}); got {min_frames!r}.")
    if n == 0:
        raise StackError("The cube holds no frames: align some frames first with align_frames().")
    if cube.dtype != np.float32:
        cube = cube.astype(np.float32)
    coverage = np.zeros(cube.shape[1:], dtype=np.int16)
    for plane in cube:
        coverage += np.isfinite(plane)
    if not coverage.any():
        raise StackError(
            "Every pixel of the cube is NaN: there is nothing to stack. Check that the frames were "
            "calibrated and aligned (align_frames) correctly."
        )
    if n == 1:
        warnings.warn("Only one frame to stack: the result is a copy of it, with its full noise.",
                      StackWarning, stacklevel=2)
        stack = cube[0].copy()
        stack[~np.isfinite(stack)] = np.nan
    else:
        try:
            stack = _combine(cube, method=method, sigma_clip=sigma_clip, progress=progress)
        except CombineError as exc:
            raise StackError(str(exc)) from exc
    stack[coverage < min_frames] = np.nan
    return stack, coverage


def write_stack(path: str | os.PathLike, stack, wcs: WCS, inputs: Iterable[str | os.PathLike] = (),
                history: str | Iterable[str] = (), header: fits.Header | None = None,
                coverage=None, method: str | None = None, overwrite: bool = True) -> Path:
    """Write a stack as float32 FITS with its WCS, atomically, with a HISTORY of its making.

    Parameters
    ----------
    path : str or path-like
        The output file, e.g. ``reduced/stack_median.fits``. Raw folders are refused.
    stack : numpy.ndarray
        The 2-D stacked image.
    wcs : astropy.wcs.WCS
        The reference WCS returned by :func:`align_frames`.
    inputs : iterable of path-like
        The frames stacked; each is named in HISTORY and can never be overwritten.
    history : str or iterable of str
        Extra HISTORY lines.
    header : astropy.io.fits.Header, optional
        A header to start from (e.g. the reference frame's); its WCS cards are replaced.
    coverage : numpy.ndarray, optional
        The coverage map from :func:`stack_frames`; NCOMBINE records its maximum.
    method : str, optional
        How the stack was combined ('median' or 'mean'); recorded as STACKMTH.
    overwrite : bool
        Replace an earlier ccdlab output at ``path`` (default True: re-running is safe).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    StackError
        ``stack`` is not 2-D or its shape disagrees with ``wcs``.
    PermissionError
        ``path`` is in a raw folder, is one of ``inputs``, or is a file ccdlab did not write.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from astropy.wcs import WCS
    >>> wcs = WCS(naxis=2); wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]; wcs.wcs.cdelt = [-1e-4, 1e-4]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_stack(Path(tmp) / "stack.fits", np.zeros((4, 4)), wcs, method="median")
    ...     fits.getheader(out)["CTYPE1"], fits.getheader(out)["STACKMTH"]
    ('RA---TAN', 'median')
    """
    stack = np.asarray(stack)
    if stack.ndim != 2:
        raise StackError(f"write_stack() writes a 2-D image; got an array of shape {stack.shape} for {Path(path).name}.")
    if not isinstance(wcs, WCS) or not wcs.has_celestial:
        raise StackError(
            f"write_stack() needs the celestial WCS returned by align_frames() for {Path(path).name}; "
            f"got {type(wcs).__name__}."
        )
    if wcs.pixel_shape is not None and tuple(wcs.pixel_shape) != (stack.shape[1], stack.shape[0]):
        raise StackError(
            f"The WCS describes a {wcs.pixel_shape[0]} x {wcs.pixel_shape[1]} image but the stack is "
            f"{stack.shape[1]} x {stack.shape[0]}: pass the WCS that align_frames() returned with this stack."
        )
    inputs = [Path(p) for p in inputs]
    out = fits.Header() if header is None else header.copy()
    # Drop every WCS card of the starting header, then write the reference WCS.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            old = WCS(out).to_header(relax=True) if header is not None else fits.Header()
        except Exception:
            old = fits.Header()
        new = wcs.to_header(relax=True)
    for key in list(old.keys()) + list(new.keys()):
        if key not in ("COMMENT", "HISTORY", ""):
            out.remove(key, ignore_missing=True, remove_all=True)
    out.update(new)
    if coverage is not None:
        out["NCOMBINE"] = (int(np.max(coverage)), "most frames combined into one pixel")
    elif inputs:
        out["NCOMBINE"] = (len(inputs), "frames combined")
    if method is not None:
        out["STACKMTH"] = (str(method), "how the aligned frames were combined")
    lines = [history] if isinstance(history, str) else list(history)
    if not lines:
        what = f"{method} " if method else ""
        lines = [f"ccdlab.stack: {what}stack of {len(inputs) or 'aligned'} frames aligned by WCS"]
    return write_frame(path, stack, out, history=lines, inputs=inputs, overwrite=overwrite)

"""Checking what a caller passed: one helper for "a 2-D image" and one for "a positive number".

Every step of the reduction takes images and camera numbers from students' code, headers and the
command line. These helpers turn them into what the step needs, or raise the step's own error
(any subclass of :class:`ccdlab.errors.CcdlabError`) with a sentence that says what was wrong.

Examples
--------
>>> import numpy as np
>>> image(np.zeros((2, 3), dtype=np.uint16)).dtype
dtype('float32')
>>> positive(1.6, "gain", "e-/ADU")
1.6
"""

from __future__ import annotations

import math

import numpy as np

from ccdlab.errors import CcdlabError

__all__ = ["image", "positive", "aperture_radii"]


def image(data, what: str = "image", *, error: type[CcdlabError] = CcdlabError, dtype=None, cast: bool = True,
          need_finite: bool = False, allow_bool: bool = True, hint: str = "") -> np.ndarray:
    """Return ``data`` as a 2-D floating-point image, or raise ``error`` saying why it is not one.

    Parameters
    ----------
    data : array-like, numpy.ma.MaskedArray or object with ``.data``
        The image. A masked array's masked pixels become NaN; an object such as
        ``astropy.nddata.CCDData`` gives its ``.data``.
    what : str
        How the error names the image, e.g. ``"master flat"``.
    error : type
        The exception raised (a :class:`ccdlab.errors.CcdlabError` subclass).
    dtype : numpy dtype, optional
        The floating dtype wanted. Default: float64 stays float64, anything else becomes float32.
    cast : bool
        False keeps the array's own numeric dtype (no copy of a large integer frame).
    need_finite : bool
        Also raise when no pixel is finite (all NaN or inf).
    allow_bool : bool
        Accept a boolean array (shown as 0 and 1).
    hint : str
        Appended to the message when the array is not 2-D (what to pass instead).

    Returns
    -------
    numpy.ndarray
        A 2-D float array; the caller's array itself when it already has the wanted dtype.

    Raises
    ------
    CcdlabError (or ``error``)
        Not numbers, not 2-D, empty, or (with ``need_finite``) no finite pixel.

    Examples
    --------
    >>> image(np.ones((2, 2)), "flat").dtype
    dtype('float64')
    >>> image(np.ones(4), "flat")
    Traceback (most recent call last):
    ...
    ccdlab.errors.CcdlabError: The flat must be a 2-D image; got an array of shape (4,).
    """
    if isinstance(data, np.ma.MaskedArray):
        array = np.ma.filled(data.astype(dtype or np.float32), np.nan)
    else:
        if not isinstance(data, np.ndarray) and hasattr(data, "data") and not isinstance(data, (bytes, memoryview)):
            data = data.data
        try:
            array = np.asarray(data)
        except (TypeError, ValueError) as exc:
            raise error(f"The {what} must be a 2-D image of numbers; got {type(data).__name__} ({exc}).") from None
    numeric = np.issubdtype(array.dtype, np.number) or (allow_bool and array.dtype == bool)
    if array.dtype == object or not numeric:
        raise error(f"The {what} must hold numbers; got an array of dtype {array.dtype}.")
    if array.ndim != 2:
        raise error(f"The {what} must be a 2-D image; got an array of shape {array.shape}.{' ' + hint if hint else ''}")
    if array.size == 0:
        raise error(f"The {what} is empty (shape {array.shape}): check that the frame was read correctly.")
    if need_finite and not cast and not np.isfinite(array).any():
        raise error(f"The {what} has no valid pixels (all NaN or infinite).{' ' + hint if hint else ''}")
    if not cast:
        return array
    wanted = np.dtype(dtype) if dtype is not None else (np.dtype(np.float64) if array.dtype == np.float64 else np.dtype(np.float32))
    if array.dtype != wanted:
        array = array.astype(wanted)
    if need_finite and not np.isfinite(array).any():
        raise error(f"The {what} has no valid pixels (all NaN or infinite).{' ' + hint if hint else ''}")
    return array


def positive(value, name: str, unit: str = "", *, error: type[CcdlabError] = CcdlabError, allow_zero: bool = False,
             allow_inf: bool = False, hint: str = "") -> float:
    """Return ``value`` as a float when it is a positive number, else raise ``error`` saying so.

    Parameters
    ----------
    value : object
        The number (a Python or numpy number, or text that reads as one).
    name, unit : str
        How the message names it, e.g. ``"gain"`` and ``"e-/ADU"``.
    error : type
        The exception raised.
    allow_zero, allow_inf : bool
        Also accept 0, or +inf.
    hint : str
        What to do, appended to the message.

    Examples
    --------
    >>> positive("14", "read noise", "e-")
    14.0
    >>> positive(0, "gain", "e-/ADU", hint="Use the camera's value.")
    Traceback (most recent call last):
    ...
    ccdlab.errors.CcdlabError: gain must be a positive number (e-/ADU); got 0. Use the camera's value.
    """
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    ok = (number >= 0 if allow_zero else number > 0) and (math.isfinite(number) or (allow_inf and number == math.inf))
    if not ok:
        need = "zero or a positive number" if allow_zero else "a positive number"
        units = f" ({unit})" if unit else ""
        raise error(f"{name} must be {need}{units}; got {value!r}.{' ' + hint if hint else ''}")
    return number


def aperture_radii(radius, annulus, *, error: type[CcdlabError] = CcdlabError) -> tuple[float, float, float]:
    """Return ``(radius, r_in, r_out)`` as floats when the sky annulus lies outside the star's aperture.

    Parameters
    ----------
    radius : float
        The aperture's radius (pixels).
    annulus : pair of float
        The sky annulus's inner and outer radius (pixels).
    error : type
        The exception raised.

    Examples
    --------
    >>> aperture_radii(6, (10, 15))
    (6.0, 10.0, 15.0)
    >>> aperture_radii(6, (5, 15))
    Traceback (most recent call last):
    ...
    ccdlab.errors.CcdlabError: Need 0 < radius <= r_in < r_out (pixels) so the sky annulus lies outside the star's aperture; got radius=6.0, annulus=(5.0, 15.0).
    """
    try:
        radius = float(radius)
        r_in, r_out = (float(r) for r in annulus)
    except (TypeError, ValueError):
        raise error(
            f"radius must be a number and annulus a pair (r_in, r_out) of pixels; got {radius!r} and {annulus!r}."
        ) from None
    if not (0 < radius <= r_in < r_out) or not math.isfinite(r_out):
        raise error(
            f"Need 0 < radius <= r_in < r_out (pixels) so the sky annulus lies outside the star's aperture; got "
            f"radius={radius}, annulus=({r_in}, {r_out}).")
    return radius, r_in, r_out

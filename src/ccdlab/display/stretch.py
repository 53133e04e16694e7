"""Display limits and stretches: which values span the colour map, and how.

``stretch`` chooses the limits (vmin, vmax):

``"zscale"``
    the IRAF zscale algorithm (:class:`astropy.visualization.ZScaleInterval`): the sky and the
    noise fill the grey levels; the usual first look at any frame.
``"percentile"``
    the central ``percentile`` per cent of the pixels span the colour map.
``"minmax"``
    the faintest pixel is black, the brightest white (one hot pixel makes everything dark).

``scale`` maps the values between the limits onto the colour map (:data:`SCALES`).
"""

from __future__ import annotations

import numpy as np
from astropy.visualization import (
    AsinhStretch,
    LinearStretch,
    LogStretch,
    MinMaxInterval,
    PercentileInterval,
    SqrtStretch,
    ZScaleInterval,
)

from ccdlab.errors import InputError

__all__ = ["STRETCHES", "SCALES", "finite_values", "widen_limits", "check_stretch", "scale_transform", "display_limits"]

#: Ways to choose the display limits.
STRETCHES = ("zscale", "percentile", "minmax")

#: How values between the limits map onto the colour map.
SCALES = {"linear": LinearStretch, "sqrt": SqrtStretch, "log": LogStretch, "asinh": AsinhStretch}


def finite_values(data: np.ndarray) -> np.ndarray:
    """The finite values of an image, flattened; an error when there are none.

    Examples
    --------
    >>> finite_values(np.array([1.0, np.nan, 2.0]))
    array([1., 2.])
    """
    values = data[np.isfinite(data)]
    if values.size == 0:
        raise InputError("The image holds no finite pixel (all NaN or inf): there is nothing to show.")
    return values


def widen_limits(lo: float, hi: float) -> tuple[float, float]:
    """Make sure vmin < vmax (a constant image would otherwise have no contrast range).

    Examples
    --------
    >>> widen_limits(5.0, 5.0)
    (4.95, 5.05)
    """
    lo, hi = float(lo), float(hi)
    if hi > lo:
        return lo, hi
    pad = 0.5 if lo == 0 else abs(lo) * 0.01
    return lo - pad, hi + pad


def check_stretch(stretch: str, percentile: float) -> None:
    """Raise a clear error for an unknown stretch or a percentile outside (0, 100].

    Examples
    --------
    >>> check_stretch("zscale", 99.5)
    """
    if stretch not in STRETCHES:
        raise InputError(f"Unknown stretch {stretch!r}: use one of {', '.join(map(repr, STRETCHES))}.")
    if stretch == "percentile" and not (isinstance(percentile, (int, float)) and 0 < percentile <= 100):
        raise InputError(f"percentile must be a number in (0, 100], not {percentile!r}; 99.5 is a good start.")


def scale_transform(scale: str):
    """The astropy stretch of a scale name (one of :data:`SCALES`).

    Examples
    --------
    >>> type(scale_transform("sqrt")).__name__
    'SqrtStretch'
    """
    if scale not in SCALES:
        raise InputError(f"Unknown scale {scale!r}: use one of {', '.join(map(repr, SCALES))}.")
    return SCALES[scale]()


def display_limits(data, stretch: str = "zscale", percentile: float = 99.5, vmin=None, vmax=None) -> tuple[float, float]:
    """Return the ``(vmin, vmax)`` display limits of an image for a stretch.

    Parameters
    ----------
    data : array-like
        The image (NaN and inf pixels are ignored).
    stretch : {"zscale", "percentile", "minmax"}
        How to choose the limits (see the module notes).
    percentile : float
        For ``"percentile"``: the central percentage of pixels that spans the colour map.
    vmin, vmax : float, optional
        Fixed limits; each one given replaces the computed one.

    Returns
    -------
    (float, float)
        ``vmin < vmax`` (widened slightly for a constant image).

    Raises
    ------
    ValueError
        Unknown stretch, bad percentile, or no finite pixel.

    Examples
    --------
    >>> import numpy as np
    >>> display_limits(np.arange(100.0).reshape(10, 10), "minmax")
    (0.0, 99.0)
    >>> display_limits(np.arange(100.0).reshape(10, 10), "percentile", 90, vmax=50)
    (4.95, 50.0)
    """
    check_stretch(stretch, percentile)
    if vmin is not None and vmax is not None:
        if not float(vmin) < float(vmax):
            raise InputError(f"vmin ({vmin}) must be below vmax ({vmax}).")
        return float(vmin), float(vmax)
    values = finite_values(np.asarray(data))
    if stretch == "zscale":
        lo, hi = ZScaleInterval().get_limits(values)
    elif stretch == "percentile":
        lo, hi = PercentileInterval(percentile).get_limits(values)
    else:
        lo, hi = MinMaxInterval().get_limits(values)
    lo = float(lo) if vmin is None else float(vmin)
    hi = float(hi) if vmax is None else float(vmax)
    if vmin is not None and vmin >= hi:
        raise InputError(f"vmin ({vmin}) is not below the {stretch} vmax ({hi:.6g}): give vmax too, or a lower vmin.")
    if vmax is not None and vmax <= lo:
        raise InputError(f"vmax ({vmax}) is not above the {stretch} vmin ({lo:.6g}): give vmin too, or a higher vmax.")
    return widen_limits(lo, hi)

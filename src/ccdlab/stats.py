"""Image statistics: the numbers an astronomer looks at first.

:func:`image_stats` gives the plain mean, median, standard deviation, minimum and maximum of a
frame (or a region of it) together with their sigma-clipped counterparts, which ignore stars,
cosmic rays and hot pixels. NaN and infinite pixels are left out and counted.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from astropy.stats import sigma_clipped_stats

from ccdlab.errors import InputError

__all__ = ["ImageStats", "image_stats", "select_region", "finite_median", "clipped_std"]

#: Rows of the printed table: (attribute, label).
_ROWS = (
    ("n_pixels", "pixels used"),
    ("n_ignored", "NaN/inf ignored"),
    ("mean", "mean"),
    ("median", "median"),
    ("std", "std"),
    ("min", "min"),
    ("max", "max"),
    ("clipped_mean", "clipped mean"),
    ("clipped_median", "clipped median"),
    ("clipped_std", "clipped std"),
)


@dataclass(frozen=True, repr=False)
class ImageStats:
    """Statistics of an image or a region of it, in the image's units (usually ADU).

    Attributes
    ----------
    n_pixels : int
        Number of finite pixels used.
    n_ignored : int
        Number of NaN or infinite pixels left out.
    mean, median, std, min, max : float
        Plain statistics of the finite pixels (``std`` with ``ddof=0``).
    clipped_mean, clipped_median, clipped_std : float
        The same after sigma clipping (:func:`astropy.stats.sigma_clipped_stats`).
    sigma : float
        The clipping threshold used, in standard deviations.
    maxiters : int or None
        The maximum number of clipping iterations used.

    Examples
    --------
    >>> import numpy as np
    >>> s = image_stats(np.arange(10.0).reshape(2, 5))
    >>> s.median, s.n_pixels
    (4.5, 10)
    >>> s.to_dict()["max"]
    9.0
    """

    n_pixels: int
    n_ignored: int
    mean: float
    median: float
    std: float
    min: float
    max: float
    clipped_mean: float
    clipped_median: float
    clipped_std: float
    sigma: float
    maxiters: int | None

    def to_dict(self) -> dict:
        """Return the statistics as a plain ``dict`` (Python ints and floats).

        Examples
        --------
        >>> import numpy as np
        >>> sorted(image_stats(np.ones((3, 3))).to_dict())[:3]
        ['clipped_mean', 'clipped_median', 'clipped_std']
        """
        return asdict(self)

    def _rows(self) -> list[tuple[str, str]]:
        rows = []
        for name, label in _ROWS:
            value = getattr(self, name)
            rows.append((label, _format_number(value)))
        return rows

    def _title(self) -> str:
        iters = "no limit" if self.maxiters is None else f"maxiters={self.maxiters}"
        return f"Image statistics (clipped at {self.sigma:g} sigma, {iters})"

    def __str__(self) -> str:
        rows = self._rows()
        width_label = max(len(label) for label, _ in rows)
        width_value = max(len(text) for _, text in rows)
        lines = [self._title()]
        lines += [f"  {label:<{width_label}}  {text:>{width_value}}" for label, text in rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
            f"<td style='text-align:right;font-family:monospace'>{html.escape(text)}</td></tr>"
            for label, text in self._rows()
        )
        return f"<table><caption>{html.escape(self._title())}</caption>{cells}</table>"


def _format_number(value) -> str:
    if isinstance(value, int):
        return f"{value:,d}"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 0.01):
        return f"{value:.4g}"
    return f"{value:.3f}"


def select_region(data: np.ndarray, region=None) -> np.ndarray:
    """Return the pixels of ``data`` inside ``region`` (a view when possible).

    Parameters
    ----------
    data : array-like
        The image (2-D for the ``(y0, y1, x0, x1)`` form).
    region : None, tuple of slices, (y0, y1, x0, x1) or boolean array
        ``None`` keeps the whole image. A tuple of slices is used as an index, e.g.
        ``np.s_[100:200, 300:400]``. Four integers ``(y0, y1, x0, x1)`` mean rows ``y0:y1`` and
        columns ``x0:x1`` (Python slice ends, so ``y1`` and ``x1`` are excluded). A boolean
        array of the image's shape selects the pixels where it is True.

    Returns
    -------
    numpy.ndarray
        The selected pixels (2-D for slices, 1-D for a boolean mask).

    Raises
    ------
    ValueError
        The region is malformed, does not fit the image, or selects no pixel.
    TypeError
        The region is of an unknown kind.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(20).reshape(4, 5)
    >>> select_region(image, (1, 3, 0, 2)).tolist()
    [[5, 6], [10, 11]]
    >>> select_region(image, np.s_[0, :]).shape
    (5,)
    """
    data = np.asanyarray(data)
    if region is None:
        selected = data
    elif isinstance(region, np.ndarray) and region.dtype == bool:
        if region.shape != data.shape:
            raise InputError(
                f"The region mask has shape {region.shape} but the image has shape {data.shape}: "
                "make the mask the same shape as the image (True = pixel used)."
            )
        selected = data[region]
    elif isinstance(region, slice):
        selected = data[region]
    elif isinstance(region, tuple) and len(region) > 0 and all(isinstance(r, (slice, int, np.integer)) for r in region):
        if len(region) == 4 and all(isinstance(r, (int, np.integer)) for r in region):
            if data.ndim != 2:
                raise InputError(
                    f"A region (y0, y1, x0, x1) needs a 2-D image; this one has shape {data.shape}."
                )
            y0, y1, x0, x1 = (int(r) for r in region)
            ny, nx = data.shape
            if not (0 <= y0 < y1 <= ny and 0 <= x0 < x1 <= nx):
                raise InputError(
                    f"The region (y0, y1, x0, x1) = {region} does not fit the {ny} x {nx} image: "
                    f"use 0 <= y0 < y1 <= {ny} and 0 <= x0 < x1 <= {nx}."
                )
            selected = data[y0:y1, x0:x1]
        else:
            try:
                selected = data[region]
            except IndexError as exc:
                raise InputError(f"The region {region} does not fit the image of shape {data.shape} ({exc}).") from exc
    else:
        raise InputError(
            f"Unknown region {region!r}: give a tuple of slices such as np.s_[100:200, 300:400], "
            "four integers (y0, y1, x0, x1), or a boolean mask of the image's shape."
        )
    if np.size(selected) == 0:
        raise InputError(f"The region {region} selects no pixel of the image of shape {data.shape}: widen it.")
    return selected


def image_stats(data, region=None, sigma: float = 3.0, maxiters: int | None = 5) -> ImageStats:
    """Compute plain and sigma-clipped statistics of an image, ignoring NaN and inf pixels.

    Parameters
    ----------
    data : array-like
        The image (any shape; masked arrays have their masked pixels ignored).
    region : None, tuple of slices, (y0, y1, x0, x1) or boolean array, optional
        Which pixels to use; see :func:`select_region`. By default the whole image.
    sigma : float
        Clipping threshold in standard deviations (default 3).
    maxiters : int or None
        Maximum number of clipping iterations (default 5; None clips until nothing changes).

    Returns
    -------
    ImageStats
        A frozen record that prints as a short table; ``.to_dict()`` gives a dict.

    Raises
    ------
    ValueError
        The image or region is empty, holds no finite pixel, or ``sigma``/``maxiters`` is not
        positive.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.full((50, 50), 270.0)
    >>> image[10, 10] = 60000.0            # a hot pixel
    >>> s = image_stats(image)
    >>> round(s.mean, 1), s.clipped_mean, s.max
    (293.9, 270.0, 60000.0)
    >>> image_stats(image, region=(0, 5, 0, 5)).n_pixels
    25
    """
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)) or not sigma > 0:
        raise InputError(f"sigma must be a positive number of standard deviations, not {sigma!r}.")
    if maxiters is not None and (
        isinstance(maxiters, bool) or not isinstance(maxiters, (int, np.integer)) or maxiters < 1
    ):
        raise InputError(f"maxiters must be a positive integer or None, not {maxiters!r}.")
    if isinstance(data, np.ma.MaskedArray):
        array = np.ma.filled(data.astype(np.float64), np.nan)
    else:
        array = np.asarray(data)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputError(f"The image must hold numbers; got an array of dtype {array.dtype}.")
    if array.size == 0:
        raise InputError("The image is empty (it has no pixel): check that the frame was read correctly.")
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float64)
    selected = select_region(array, region)
    finite = np.isfinite(selected)
    n_total = int(selected.size)
    values = selected[finite] if not finite.all() else selected.ravel()
    n_pixels = int(values.size)
    if n_pixels == 0:
        raise InputError(
            f"All {n_total} pixels are NaN or infinite, so there is nothing to measure: "
            "check the region, or the step that produced this image."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        c_mean, c_median, c_std = sigma_clipped_stats(values, sigma=float(sigma), maxiters=maxiters)
    return ImageStats(
        n_pixels=n_pixels,
        n_ignored=n_total - n_pixels,
        mean=float(np.mean(values, dtype=np.float64)),
        median=float(np.median(values)),
        std=float(np.std(values, dtype=np.float64)),
        min=float(np.min(values)),
        max=float(np.max(values)),
        clipped_mean=float(c_mean),
        clipped_median=float(c_median),
        clipped_std=float(c_std),
        sigma=float(sigma),
        maxiters=None if maxiters is None else int(maxiters),
    )


def finite_median(values) -> float:
    """The median of the finite values (NaN when there are none).

    Examples
    --------
    >>> finite_median([1.0, float("nan"), 3.0, 2.0])
    2.0
    """
    values = np.asarray(values)
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def clipped_std(values, sigma: float = 3.0, maxiters: int = 5) -> float:
    """The sigma-clipped standard deviation of some values (NaN ignored), as lesson 03 measures noise.

    Examples
    --------
    >>> values = np.r_[np.random.default_rng(1).normal(0, 2.0, 10_000), 500.0]
    >>> round(clipped_std(values), 1)
    2.0
    """
    return float(sigma_clipped_stats(np.asarray(values, dtype=np.float64), sigma=sigma, maxiters=maxiters)[2])

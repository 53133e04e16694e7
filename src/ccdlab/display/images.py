"""Pictures of CCD frames that are readable at a glance.

Every function draws with matplotlib and returns the objects it made (a small named tuple such as
``(fig, ax, image)``), so a notebook can adjust them; the tuple shows nothing by itself in a
notebook, so no ``<Figure ...>`` text appears under the picture.

Frames larger than ``max_pixels`` on a side are block-averaged (ignoring NaN) *for display only*:
a 4096 x 4108 frame is drawn from 1024 x 1027 blocks of 4 x 4 pixels, with axes still labelled in
the frame's own pixel coordinates. Display limits are computed from the pixels drawn.

Stretches (``stretch=``, ``scale=``) are described in :mod:`ccdlab.display.stretch`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from astropy.stats import sigma_clipped_stats
from astropy.visualization import ImageNormalize

from ccdlab import validate
from ccdlab.display.stretch import (
    SCALES,
    STRETCHES,
    check_stretch,
    display_limits,
    finite_values,
    scale_transform,
)
from ccdlab.errors import InputError

__all__ = [
    "STRETCHES",
    "SCALES",
    "ImagePlot",
    "Plot",
    "GridPlot",
    "display_limits",
    "show_image",
    "show_histogram",
    "show_grid",
    "show_cutouts",
]


#: Colour of NaN pixels (no value) in pictures.
NAN_COLOR = "magenta"

#: Axis labels of every picture.
XLABEL, YLABEL = "x (pixel)", "y (pixel)"


def _quiet(self):  # IPython calls this instead of printing the tuple's repr
    return None


class ImagePlot(NamedTuple):
    """What :func:`show_image` drew: the figure, the axes and the image (``image.colorbar``)."""

    fig: Any
    ax: Any
    image: Any
    _ipython_display_ = _quiet


class Plot(NamedTuple):
    """What :func:`show_histogram` drew: the figure and the axes."""

    fig: Any
    ax: Any
    _ipython_display_ = _quiet


class GridPlot(NamedTuple):
    """What :func:`show_grid` and :func:`show_cutouts` drew: figure, list of axes, list of images."""

    fig: Any
    axes: list
    images: list
    _ipython_display_ = _quiet


# --------------------------------------------------------------------------------------------
# helpers


def _as_image(data, what: str = "image") -> np.ndarray:
    """A float 2-D array with masked pixels as NaN (:func:`ccdlab.validate.image`)."""
    return validate.image(data, what, error=InputError, hint="Pass one frame (for a stack, pick one: frames[0]).")


def _block_factor(shape: tuple[int, int], max_pixels: int | None) -> int:
    if max_pixels is None:
        return 1
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 1:
        raise InputError(f"max_pixels must be a positive integer (or None for every pixel), not {max_pixels!r}.")
    return max(1, math.ceil(max(shape) / int(max_pixels)))


def _block_average(data: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` blocks, ignoring NaN; edges are padded with NaN."""
    if factor == 1:
        return data
    ny, nx = data.shape
    by, bx = math.ceil(ny / factor), math.ceil(nx / factor)
    if (by * factor, bx * factor) != (ny, nx):
        padded = np.full((by * factor, bx * factor), np.nan, dtype=np.float32)
        padded[:ny, :nx] = data
    else:
        padded = data
    blocks = padded.reshape(by, factor, bx, factor)
    if np.isnan(padded).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks stay NaN
            return np.nanmean(blocks, axis=(1, 3), dtype=np.float64).astype(np.float32)
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def _block_any(mask: np.ndarray, factor: int) -> np.ndarray:
    """A block is flagged when any of its pixels is (so single bad pixels stay visible)."""
    if factor == 1:
        return mask
    ny, nx = mask.shape
    by, bx = math.ceil(ny / factor), math.ceil(nx / factor)
    padded = np.zeros((by * factor, bx * factor), dtype=bool)
    padded[:ny, :nx] = mask
    return padded.reshape(by, factor, bx, factor).any(axis=(1, 3))


def _new_axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _cmap(cmap):
    import matplotlib

    base = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    return base.with_extremes(bad=NAN_COLOR)


def _label_axes(ax, title):
    ax.set_xlabel(XLABEL)
    ax.set_ylabel(YLABEL)
    if title:
        ax.set_title(title)


# --------------------------------------------------------------------------------------------
# public functions


def show_image(
    data,
    title: str | None = None,
    stretch: str = "zscale",
    percentile: float = 99.5,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap="gray",
    mask=None,
    colorbar: bool = True,
    ax=None,
    max_pixels: int | None = 1024,
    scale: str = "linear",
    mask_color: str = "red",
    label: str = "Counts (ADU)",
    figsize: tuple[float, float] = (7.0, 6.0),
) -> ImagePlot:
    """Show a frame with a sensible stretch, a colour bar and pixel axes (origin lower left).

    Parameters
    ----------
    data : array-like
        A 2-D frame (masked pixels and NaN are drawn in magenta).
    title : str, optional
        Title above the picture.
    stretch : {"zscale", "percentile", "minmax"}
        How the display limits are chosen (default ``"zscale"``).
    percentile : float
        Central percentage of pixels spanning the colour map, for ``stretch="percentile"``.
    vmin, vmax : float, optional
        Fixed display limits; each one given overrides the stretch.
    cmap : str or matplotlib colormap
        Colour map (default ``"gray"``).
    mask : array of bool, optional
        Pixels to flag (True), drawn over the image in ``mask_color``, half transparent.
    colorbar : bool
        Draw a colour bar labelled ``label`` (default True).
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    max_pixels : int or None
        Largest number of pixels drawn on a side; larger frames are block-averaged for display.
        None draws every pixel.
    scale : {"linear", "sqrt", "log", "asinh"}
        How values between the limits map onto the colour map (default linear).
    mask_color : str
        Colour of the mask overlay.
    label : str
        Colour-bar label.
    figsize : (float, float)
        Size of a new figure, in inches.

    Returns
    -------
    ImagePlot
        ``(fig, ax, image)``; the colour bar is ``image.colorbar``.

    Raises
    ------
    ValueError
        The data is not a 2-D numeric frame, holds no finite pixel, the mask has another shape,
        or an option is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> frame = np.random.default_rng(0).normal(270, 9, (300, 400))
    >>> fig, ax, image = show_image(frame, title="A bias frame")
    >>> ax.get_xlabel(), image.get_array().shape
    ('x (pixel)', (300, 400))
    >>> fig, ax, image = show_image(frame, max_pixels=100)   # drawn from 4 x 4 blocks
    >>> image.get_array().shape
    (75, 100)
    """
    frame = _as_image(data)
    check_stretch(stretch, percentile)
    norm_stretch = scale_transform(scale)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != frame.shape:
            raise InputError(
                f"The mask has shape {mask.shape} but the image has shape {frame.shape}: "
                "give a boolean mask of the image's shape (True = flagged pixel)."
            )
        mask = mask.astype(bool)
    factor = _block_factor(frame.shape, max_pixels)
    shown = _block_average(frame, factor)
    lo, hi = display_limits(shown, stretch, percentile, vmin, vmax)
    norm = ImageNormalize(vmin=lo, vmax=hi, stretch=norm_stretch, clip=scale != "linear")
    ny, nx = frame.shape
    by, bx = shown.shape
    extent = (-0.5, bx * factor - 0.5, -0.5, by * factor - 0.5)
    fig, ax = _new_axes(ax, figsize)
    image = ax.imshow(
        np.ma.masked_invalid(shown), origin="lower", cmap=_cmap(cmap), norm=norm,
        extent=extent, interpolation="nearest",
    )
    ax.set_xlim(-0.5, nx - 0.5)
    ax.set_ylim(-0.5, ny - 0.5)
    if mask is not None and mask.any():
        from matplotlib.colors import ListedColormap

        flagged = _block_any(mask, factor)
        ax.imshow(
            np.ma.masked_where(~flagged, np.ones(flagged.shape)), origin="lower",
            cmap=ListedColormap([mask_color]), vmin=0, vmax=1, alpha=0.5, extent=extent,
            interpolation="nearest",
        )
    _label_axes(ax, title)
    if factor > 1:
        ax.text(
            0.99, 0.01, f"shown in {factor} x {factor} pixel blocks", transform=ax.transAxes,
            ha="right", va="bottom", fontsize="x-small", color="white",
            bbox={"facecolor": "black", "alpha": 0.4, "edgecolor": "none", "pad": 1.5},
        )
    if colorbar:
        fig.colorbar(image, ax=ax, label=label, shrink=0.9)
    return ImagePlot(fig, ax, image)


def _histogram_bins(values: np.ndarray, lo: float, hi: float, bins) -> np.ndarray | int:
    if bins is not None:
        return bins
    sample = values[:: max(1, values.size // 10_000)]
    integer_valued = bool(np.all(sample == np.round(sample)))
    if integer_valued and hi - lo >= 10:
        # Raw ADU are whole numbers: bins of whole ADU avoid a comb pattern.
        width = max(1, math.ceil((hi - lo) / 100))
        start = math.floor(lo) - 0.5
        return np.arange(start, hi + width, width)
    return 100


def show_histogram(
    data,
    k: float = 10.0,
    bins=None,
    log: bool = False,
    ax=None,
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 4.5),
) -> Plot:
    """Histogram of pixel values within ``k`` sigma of the median, with the median marked.

    Sigma is the sigma-clipped standard deviation, so hot pixels and stars do not widen the
    window. (For frames over four million pixels it is estimated from every n-th pixel.)

    Parameters
    ----------
    data : array-like
        The image (NaN and inf pixels are ignored).
    k : float
        Half-width of the window in sigma (default 10, as in the course).
    bins : int or sequence, optional
        Passed to :meth:`matplotlib.axes.Axes.hist`. By default about 100 bins, whole-ADU wide
        for integer-valued (raw) frames.
    log : bool
        Logarithmic count axis, to see the rare outliers in the wings.
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    title : str, optional
        Title above the histogram.
    figsize : (float, float)
        Size of a new figure, in inches.

    Returns
    -------
    Plot
        ``(fig, ax)``.

    Raises
    ------
    ValueError
        No finite pixel, or ``k`` not positive.

    Examples
    --------
    >>> import numpy as np
    >>> frame = np.random.default_rng(0).normal(270, 9, (200, 200))
    >>> fig, ax = show_histogram(frame, k=5, title="Bias")
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Counts (ADU)', 'Number of pixels')
    """
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)) or not k > 0:
        raise InputError(f"k must be a positive number of sigma, not {k!r}; 10 is a good start.")
    if isinstance(data, np.ma.MaskedArray):
        data = np.ma.filled(data.astype(np.float32), np.nan)
    array = np.asarray(data)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise InputError(f"The image must hold numbers; got an array of dtype {array.dtype}.")
    values = finite_values(array.ravel())
    sample = values[:: max(1, values.size // 4_000_000)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, median, sigma = sigma_clipped_stats(sample, sigma=3.0, maxiters=5)
    median, sigma = float(median), float(sigma)
    half = k * sigma if sigma > 0 else 0.5
    lo, hi = median - half, median + half
    inside = values[(values >= lo) & (values <= hi)]
    fig, ax = _new_axes(ax, figsize)
    ax.hist(inside, bins=_histogram_bins(inside, lo, hi, bins), range=(lo, hi), histtype="stepfilled",
            color="0.6", edgecolor="0.3", log=log)
    ax.axvline(median, color="tab:red", linewidth=1.5, label=f"median = {median:.6g}")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("Counts (ADU)")
    ax.set_ylabel("Number of pixels")
    ax.legend(title=f"window: median ± {k:g} σ (σ = {sigma:.3g})", loc="upper right", fontsize="small",
              title_fontsize="small")
    if title:
        ax.set_title(title)
    return Plot(fig, ax)


def show_grid(
    frames,
    titles: Sequence[str] | None = None,
    common_stretch: bool = True,
    ncols: int = 2,
    stretch: str = "zscale",
    percentile: float = 99.5,
    cmap="gray",
    colorbar: bool = True,
    max_pixels: int | None = 512,
    label: str = "Counts (ADU)",
    panel_size: float = 4.0,
) -> GridPlot:
    """Show several frames side by side, on one stretch (default) or each on its own.

    Parameters
    ----------
    frames : sequence of arrays, or mapping of title -> array
        The frames (they may differ in size).
    titles : sequence of str, optional
        One title per frame (a mapping's keys are used by default).
    common_stretch : bool
        True (default): one set of display limits for all frames, computed from them all, and
        one colour bar, so brightness compares across panels. False: each frame its own.
    ncols : int
        Panels per row.
    stretch, percentile, cmap, colorbar, max_pixels, label
        As in :func:`show_image` (``max_pixels`` defaults to 512 here).
    panel_size : float
        Height of each panel, in inches.

    Returns
    -------
    GridPlot
        ``(fig, axes, images)``: one axes and one image per frame.

    Raises
    ------
    ValueError
        No frames, titles of the wrong length, a bad frame, or a bad option.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig, axes, images = show_grid({"bias 1": rng.normal(270, 9, (64, 64)),
    ...                                "bias 2": rng.normal(270, 9, (64, 64))})
    >>> [ax.get_title() for ax in axes]
    ['bias 1', 'bias 2']
    """
    import matplotlib.pyplot as plt

    if isinstance(frames, Mapping):
        names = [str(key) for key in frames]
        frames = list(frames.values())
    else:
        if isinstance(frames, np.ndarray) and frames.ndim == 3:
            frames = list(frames)
        frames = list(frames)
        names = None
    if not frames:
        raise InputError("show_grid needs at least one frame; got none.")
    if titles is None:
        titles = names or [f"frame {i}" for i in range(len(frames))]
    titles = list(titles)
    if len(titles) != len(frames):
        raise InputError(f"Got {len(titles)} titles for {len(frames)} frames: give one title per frame.")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise InputError(f"ncols must be a positive integer, not {ncols!r}.")
    check_stretch(stretch, percentile)
    images_in = [_as_image(frame, f"frame {i} ({titles[i]})") for i, frame in enumerate(frames)]
    limits = None
    if common_stretch:
        shown = [_block_average(f, _block_factor(f.shape, max_pixels)) for f in images_in]
        pooled = np.concatenate([s[np.isfinite(s)] for s in shown])
        limits = display_limits(pooled, stretch, percentile)
    ncols = min(int(ncols), len(frames))
    nrows = math.ceil(len(frames) / ncols)
    fig, grid = plt.subplots(
        nrows, ncols, figsize=(ncols * panel_size * 1.15 + (1.0 if common_stretch and colorbar else 0.0), nrows * panel_size),
        layout="constrained", squeeze=False,
    )
    axes, images = [], []
    for i, (frame, title) in enumerate(zip(images_in, titles)):
        ax = grid[i // ncols][i % ncols]
        vmin, vmax = limits if limits else (None, None)
        plot = show_image(
            frame, title=title, stretch=stretch, percentile=percentile, vmin=vmin, vmax=vmax, cmap=cmap,
            colorbar=colorbar and not common_stretch, ax=ax, max_pixels=max_pixels, label=label,
        )
        axes.append(ax)
        images.append(plot.image)
    for ax in grid.ravel()[len(frames):]:
        ax.set_axis_off()
    if colorbar and common_stretch:
        fig.colorbar(images[0], ax=grid.ravel().tolist(), label=label, shrink=0.9)
    return GridPlot(fig, axes, images)


def _cutout_box(shape, center, size):
    try:
        y, x = (int(round(float(c))) for c in center)
    except (TypeError, ValueError) as exc:
        raise InputError(f"center must be a (y, x) pixel position, not {center!r}.") from exc
    ny, nx = shape
    if not (0 <= y < ny and 0 <= x < nx):
        raise InputError(
            f"The centre (y, x) = ({y}, {x}) lies outside the {ny} x {nx} image: "
            f"use 0 <= y < {ny} and 0 <= x < {nx} (note the order: row y first)."
        )
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
        raise InputError(f"size must be an integer of at least 2 pixels, not {size!r}.")
    y0, x0 = max(0, y - size // 2), max(0, x - size // 2)
    y1, x1 = min(ny, y - size // 2 + size), min(nx, x - size // 2 + size)
    return y0, y1, x0, x1


def show_cutouts(
    before,
    after,
    center: tuple[float, float],
    size: int = 40,
    titles: Sequence[str] = ("before", "after"),
    k: float = 5.0,
    cmap="gray",
    colorbar: bool = True,
    label: str = "Counts (ADU)",
    panel_size: float = 4.0,
    common_stretch: bool = False,
) -> GridPlot:
    """Show the same small region of two frames side by side, e.g. before and after a step.

    Each cutout is stretched on its own sigma-clipped statistics (median ± ``k`` sigma), so a
    change in background level does not hide the change in detail; with ``common_stretch=True``
    both take the stretch of the ``after`` cutout, so that the same sky looks the same.

    Parameters
    ----------
    before, after : array-like
        Two frames of the same shape.
    center : (float, float)
        ``(y, x)`` pixel position of the region's centre (row first, as in ``data[y, x]``).
    size : int
        Side of the square region in pixels (default 40; clipped at the frame's edges).
    titles : (str, str)
        Titles of the two panels.
    k : float
        Display limits are median ± ``k`` sigma of each cutout (default 5).
    cmap, colorbar, label
        As in :func:`show_image`.
    panel_size : float
        Height of each panel, in inches.
    common_stretch : bool
        One stretch for both panels, from the ``after`` cutout (default False: one each).

    Returns
    -------
    GridPlot
        ``(fig, axes, images)`` with two axes and two images; axes are in the frames' pixel
        coordinates.

    Raises
    ------
    ValueError
        The frames differ in shape, the centre lies outside them, or an option is bad.

    Examples
    --------
    >>> import numpy as np
    >>> before = np.random.default_rng(0).normal(100, 5, (200, 200))
    >>> after = before.copy(); before[120, 80] = 5000.0          # a cosmic ray, then removed
    >>> fig, axes, images = show_cutouts(before, after, center=(120, 80), size=40)
    >>> images[0].get_array().shape, axes[1].get_title()
    ((40, 40), 'after')
    >>> _, _, images = show_cutouts(before, after, center=(120, 80), common_stretch=True)
    >>> images[0].get_clim() == images[1].get_clim()
    True
    """
    first = _as_image(before, "'before' frame")
    second = _as_image(after, "'after' frame")
    if first.shape != second.shape:
        raise InputError(
            f"The two frames differ in shape ({first.shape} and {second.shape}): compare frames of the same size."
        )
    titles = list(titles)
    if len(titles) != 2:
        raise InputError(f"Give two titles, one per cutout; got {len(titles)}.")
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)) or not k > 0:
        raise InputError(f"k must be a positive number of sigma, not {k!r}; 5 is a good start.")
    y0, y1, x0, x1 = _cutout_box(first.shape, center, size)
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(1, 2, figsize=(2 * panel_size * 1.25, panel_size), layout="constrained")
    def limits(cut):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _, median, sigma = sigma_clipped_stats(finite_values(cut), sigma=3.0, maxiters=5)
        half = k * float(sigma) if sigma > 0 else 1.0
        return float(median) - half, float(median) + half

    shared = limits(second[y0:y1, x0:x1]) if common_stretch else None
    images = []
    for ax, frame, title in zip(grid, (first, second), titles):
        cut = frame[y0:y1, x0:x1]
        vmin, vmax = shared or limits(cut)
        image = ax.imshow(
            np.ma.masked_invalid(cut), origin="lower", cmap=_cmap(cmap), vmin=vmin,
            vmax=vmax, extent=(x0 - 0.5, x1 - 0.5, y0 - 0.5, y1 - 0.5), interpolation="nearest",
        )
        _label_axes(ax, title)
        if colorbar:
            fig.colorbar(image, ax=ax, label=label, shrink=0.9)
        images.append(image)
    return GridPlot(fig, list(grid), images)



"""Pictures for photometry and astrometry: the stars found, the zero point, the PSF, the residuals.

Each function draws one figure with a title, labelled axes and (for images) a colour bar, and
returns a tuple that shows nothing in a notebook (:class:`ccdlab.display.images.Plot` or
:class:`ccdlab.display.images.ImagePlot`), so no ``<Figure ...>`` text appears.
"""

from __future__ import annotations

import numpy as np

from ccdlab.display.images import ImagePlot, Plot, show_image
from ccdlab.errors import InputError

__all__ = ["show_stars", "plot_zero_point", "plot_magnitude_errors", "show_psf", "plot_astrometric_residuals"]


def _new_axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _xy(positions) -> np.ndarray:
    if hasattr(positions, "colnames"):
        for xname, yname in (("x", "y"), ("x_centroid", "y_centroid"), ("xcentroid", "ycentroid"), ("x_fit", "y_fit")):
            if xname in positions.colnames and yname in positions.colnames:
                return np.column_stack([np.asarray(positions[xname], float), np.asarray(positions[yname], float)])
        raise InputError(f"The table has no x/y columns (it has {', '.join(positions.colnames)}).")
    xy = np.asarray(positions, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError(f"positions must be (x, y) pairs, shape (n, 2); got shape {xy.shape}.")
    return xy


def show_stars(data, positions, title: str | None = None, radius: float = 6.0, annulus=None, color: str = "lime",
               label: str = "Counts (ADU)", ax=None, max_pixels: int | None = 1024) -> ImagePlot:
    """Show a frame with a circle around each star (and its sky annulus, if given).

    Parameters
    ----------
    data : numpy.ndarray
        The frame.
    positions : table or array-like
        ``(x, y)`` pixel positions (0-based) or a table with x/y columns.
    title : str, optional
        The figure's title (default: how many stars).
    radius : float
        Circle radius, pixels (the aperture).
    annulus : (float, float), optional
        Also draw the sky annulus.
    color : str
        Colour of the circles.

    Examples
    --------
    >>> import numpy as np
    >>> shown = show_stars(np.random.default_rng(0).normal(100, 5, (64, 64)), [(20, 30), (40, 10)], annulus=(8, 12))
    >>> len(shown.ax.patches)
    6
    """
    from matplotlib.patches import Circle

    xy = _xy(positions)
    shown = show_image(data, title=title or f"{len(xy)} stars", label=label, ax=ax, max_pixels=max_pixels)
    for x, y in xy:
        shown.ax.add_patch(Circle((x, y), radius, fill=False, color=color, lw=0.8))
        if annulus is not None:
            for r in annulus:
                shown.ax.add_patch(Circle((x, y), r, fill=False, color="orange", lw=0.5, ls="--"))
    return shown


def plot_zero_point(catalog_mag, instrumental_mag, zero_point: float, used=None, title: str | None = None,
                    ax=None) -> Plot:
    """Catalogue minus instrumental magnitude against catalogue magnitude, with the zero point.

    Each matched star is one point; the zero point is a horizontal line (the band is its
    scatter). Stars left out of the fit (``used`` False) are drawn as grey crosses.

    Examples
    --------
    >>> import numpy as np
    >>> catalog = np.linspace(14, 20, 30)
    >>> plot = plot_zero_point(catalog, catalog - 23.35, 23.35)
    >>> plot.ax.get_ylabel()
    'catalogue - instrumental (mag)'
    """
    catalog = np.asarray(catalog_mag, float).ravel()
    instrumental = np.asarray(instrumental_mag, float).ravel()
    if catalog.shape != instrumental.shape:
        raise InputError("catalog_mag and instrumental_mag must list the same stars.")
    difference = catalog - instrumental
    used = np.ones(catalog.shape, bool) if used is None else np.asarray(used, bool).ravel()
    fig, ax = _new_axes(ax, (7.0, 4.5))
    ax.scatter(catalog[used], difference[used], s=12, color="tab:blue", label=f"used ({int(used.sum())})")
    if (~used).any():
        ax.scatter(catalog[~used], difference[~used], s=16, marker="x", color="0.5",
                   label=f"left out ({int((~used).sum())})")
    spread = float(np.nanstd(difference[used])) if used.sum() > 1 else 0.0
    ax.axhline(zero_point, color="tab:red", lw=1.2, label=f"zero point {zero_point:.3f}")
    ax.axhspan(zero_point - spread, zero_point + spread, color="tab:red", alpha=0.12)
    finite = difference[np.isfinite(difference) & used]
    if finite.size:
        half = max(0.3, 4 * spread)
        ax.set_ylim(zero_point - half, zero_point + half)
    ax.set_xlabel("catalogue magnitude")
    ax.set_ylabel("catalogue - instrumental (mag)")
    ax.set_title(title or "The zero point: one number for every star")
    ax.legend(loc="best", fontsize="small")
    return Plot(fig, ax)


def plot_magnitude_errors(reference_mag, measured: dict, title: str | None = None, ax=None) -> Plot:
    """Measured minus reference magnitude against reference magnitude, for several methods.

    Parameters
    ----------
    reference_mag : array-like
        The stars' reference (catalogue or true) magnitudes.
    measured : dict
        ``{label: magnitudes}``, e.g. ``{"aperture": ..., "PSF": ...}``, same stars, same order.

    Examples
    --------
    >>> import numpy as np
    >>> reference = np.linspace(14, 20, 40)
    >>> plot = plot_magnitude_errors(reference, {"aperture": reference + 0.01, "PSF": reference})
    >>> [t.get_text() for t in plot.ax.get_legend().get_texts()][0].startswith("aperture")
    True
    """
    reference = np.asarray(reference_mag, float).ravel()
    fig, ax = _new_axes(ax, (7.0, 4.5))
    for (name, values), marker in zip(measured.items(), ("o", "s", "^", "v")):
        values = np.asarray(values, float).ravel()
        if values.shape != reference.shape:
            raise InputError(f"{name}: one magnitude per star ({reference.size}), got {values.size}.")
        diff = values - reference
        good = np.isfinite(diff)
        rms = float(np.sqrt(np.mean(diff[good] ** 2))) if good.any() else float("nan")
        ax.scatter(reference[good], diff[good], s=12, marker=marker, alpha=0.7, label=f"{name} (RMS {rms:.3f})")
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("reference magnitude")
    ax.set_ylabel("measured - reference (mag)")
    ax.set_title(title or "Measured magnitudes against the reference")
    ax.legend(loc="best", fontsize="small")
    return Plot(fig, ax)


def show_psf(psf, title: str = "The effective PSF, built from the frame's stars", ax=None) -> ImagePlot:
    """Show a PSF model (e.g. :func:`ccdlab.psf.build_psf`) on a logarithmic stretch, in pixels.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:21, :21]
    >>> shown = show_psf(np.exp(-((xx - 10) ** 2 + (yy - 10) ** 2) / 8.0))
    >>> shown.ax.get_xlabel()
    'x from the centre (pixel)'
    """
    data = np.asarray(getattr(psf, "data", psf), dtype=float)
    oversampling = getattr(psf, "oversampling", (1, 1))
    factor = float(np.atleast_1d(oversampling)[0])
    positive = np.where(data > 0, data, np.nan)
    fig, ax = _new_axes(ax, (5.5, 4.5))
    ny, nx = data.shape
    extent = (-nx / 2 / factor, nx / 2 / factor, -ny / 2 / factor, ny / 2 / factor)
    image = ax.imshow(np.log10(positive / np.nanmax(positive)), origin="lower", cmap="viridis", vmin=-4, vmax=0,
                      extent=extent, interpolation="nearest")
    fig.colorbar(image, ax=ax, label="log10 (fraction of the peak)", shrink=0.9)
    ax.set_xlabel("x from the centre (pixel)")
    ax.set_ylabel("y from the centre (pixel)")
    ax.set_title(title)
    return ImagePlot(fig, ax, image)


def plot_astrometric_residuals(wcs, xy, ra, dec, title: str | None = None, scale: float = 500.0, ax=None) -> Plot:
    """Arrows from where a WCS puts each star to its catalogue position, magnified ``scale`` times.

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]; w.wcs.crval = [10, 20]
    >>> w.wcs.crpix = [50, 50]; w.wcs.cdelt = [-1e-4, 1e-4]
    >>> xy = np.array([(10.0, 10.0), (80.0, 60.0)])
    >>> ra, dec = w.all_pix2world(xy[:, 0], xy[:, 1], 0)
    >>> plot_astrometric_residuals(w, xy, ra, dec).ax.get_xlabel()
    'x (pixel)'
    """
    xy = _xy(xy)
    with np.errstate(invalid="ignore"):
        cx, cy = wcs.all_world2pix(np.asarray(ra, float), np.asarray(dec, float), 0)
    dx, dy = cx - xy[:, 0], cy - xy[:, 1]
    fig, ax = _new_axes(ax, (6.0, 5.5))
    ax.quiver(xy[:, 0], xy[:, 1], dx * scale, dy * scale, angles="xy", scale_units="xy", scale=1.0,
              color="tab:blue", width=0.003)
    rms = float(np.sqrt(np.nanmean(dx ** 2 + dy ** 2)))
    ax.set_aspect("equal")
    ax.set_xlabel("x (pixel)")
    ax.set_ylabel("y (pixel)")
    ax.set_title(title or f"Residuals x {scale:g}: RMS {rms:.3f} pixel")
    return Plot(fig, ax)

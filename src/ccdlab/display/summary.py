"""A one-page picture of a reduction run: masters, mask, an example frame, cosmic rays, numbers.

The figure is drawn with matplotlib's Agg renderer on a :class:`matplotlib.figure.Figure` that is
never registered with pyplot, so it does not appear in a notebook by itself and nothing is left
open after saving. Large frames are shown subsampled (at most ~800 pixels a side) so drawing stays
quick; cosmic-ray positions are taken from the full frames.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
from astropy.visualization import ZScaleInterval
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ccdlab.files import atomic_output
from ccdlab.io import FrameError, read_frame

__all__ = ["summary_figure", "save_summary"]

_MAX_SIDE = 800


def _thin(data: np.ndarray) -> tuple[np.ndarray, int]:
    step = max(1, int(np.ceil(max(data.shape) / _MAX_SIDE)))
    return data[::step, ::step], step


def _limits(data: np.ndarray) -> tuple[float, float]:
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = ZScaleInterval().get_limits(finite)
    return (float(low), float(high)) if high > low else (float(finite.min()), float(finite.max()) + 1e-6)


def _image(ax, data: np.ndarray, title: str, limits=None, cmap: str = "gray"):
    shown, step = _thin(data)
    vmin, vmax = limits if limits is not None else _limits(shown)
    ny, nx = data.shape
    colours = matplotlib.colormaps[cmap].with_extremes(bad="#b8cce4")  # NaN (masked) in pale blue
    image = ax.imshow(shown, origin="lower", cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest",
                      extent=(-0.5, nx - 0.5, -0.5, ny - 0.5))
    ax.figure.colorbar(image, ax=ax, shrink=0.85)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("x [pixel]", fontsize=8)
    ax.set_ylabel("y [pixel]", fontsize=8)
    ax.tick_params(labelsize=7)
    return image


def _read(path):
    try:
        return read_frame(path)[0]
    except (FrameError, OSError):
        return None


def summary_figure(result) -> Figure:
    """Draw the summary of a :class:`ccdlab.reduce.ReductionResult` on a new Figure.

    Panels: master bias, master flat with the mask outline, a calibrated frame, the same frame
    cleaned with its cosmic rays marked, cosmic-ray pixels per frame, and the numbers (frames
    used and rejected, the dark step when there was one, mask fraction, camera values and their
    sources).

    Parameters
    ----------
    result : ccdlab.reduce.ReductionResult

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot (nothing to close).

    Examples
    --------
    >>> fig = summary_figure(result)  # doctest: +SKIP
    >>> fig.savefig("summary.png")  # doctest: +SKIP
    """
    fig = Figure(figsize=(14, 9), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3)
    fig.suptitle(f"ccdlab reduction of {result.data_dir}", fontsize=13, fontweight="bold")

    bias = _read(result.master_bias) if result.master_bias else None
    if bias is not None:
        n_bias = int(np.sum((result.frames["frame_type"] == "bias") & (result.frames["status"] == "used")))
        _image(axes[0, 0], bias, f"Master bias\nmedian {np.nanmedian(bias[::4, ::4]):.1f} ADU, {n_bias} frames")
    else:
        axes[0, 0].set_axis_off()

    ax = axes[0, 1]
    if result.master_flats:
        filt, flat_path = next(iter(result.master_flats.items()))
        flat = _read(flat_path)
        if flat is not None:
            _image(ax, flat, f"Master flat [{filt or 'no filter'}]\nmask outlined in red: "
                   f"{100 * result.mask_fraction.get(filt, np.nan):.1f}% masked", limits=(0.5, 1.1), cmap="viridis")
            mask = _read(result.masks[filt]) if filt in result.masks else None
            if mask is not None:
                shown, step = _thin(mask)
                ny, nx = shown.shape
                ax.contour(np.arange(nx) * step, np.arange(ny) * step, shown, levels=[0.5], colors="red", linewidths=0.8)
    else:
        ax.set_axis_off()

    calibrated = [p for p in result.calibrated if p.exists()]
    cleaned = {p.name.replace(".proc.fits", ""): p for p in result.cleaned if p.exists()}
    example = calibrated[0] if calibrated else None
    fb = _read(example) if example else None
    if fb is not None:
        _image(axes[0, 2], fb, f"Calibrated (bias, flat, mask)\n{example.name}")
        key = example.name.replace(".fb.fits", "")
        proc = _read(cleaned[key]) if key in cleaned else None
        if proc is not None:
            _image(axes[1, 0], proc, "The same frame, cleaned\ncosmic-ray pixels in red")
            with np.errstate(invalid="ignore"):
                hit = np.isfinite(fb) & (fb != proc)
            ys, xs = np.nonzero(hit)
            axes[1, 0].scatter(xs, ys, s=2, c="red", marker="s", linewidths=0)
        else:
            axes[1, 0].set_axis_off()
    else:
        axes[0, 2].set_axis_off()
        axes[1, 0].set_axis_off()

    ax = axes[1, 1]
    counts = result.cosmic_pixels
    if counts:
        names = list(counts)
        ax.barh(range(len(names)), [counts[n] for n in names], color="tab:orange")
        ax.set_yticks(range(len(names)), [n if len(n) < 32 else n[:14] + "..." + n[-14:] for n in names], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("pixels flagged as cosmic rays", fontsize=8)
        ax.set_title("Cosmic-ray pixels per frame", fontsize=10)
        ax.tick_params(axis="x", labelsize=7)
    else:
        ax.text(0.5, 0.5, "no science frame cleaned", ha="center", va="center")
        ax.set_axis_off()

    ax = axes[1, 2]
    ax.set_axis_off()
    lines = []
    for kind in ("bias", "flat", "science", "dark", "unknown"):
        rows = result.frames[result.frames["frame_type"] == kind]
        if len(rows):
            used = int(np.sum(rows["status"] == "used"))
            lines.append(f"{kind}: {len(rows)} found, {used} used, {len(rows) - used} left out")
    rejected = result.frames[result.frames["status"] == "rejected"]
    for row in rejected[:6]:
        reason = str(row["reason"])
        lines.append(f"  x {row['name'][:34]}")
        lines += [f"      {part}" for part in textwrap.wrap(reason, 44)[:2]]
    if len(rejected) > 6:
        lines.append(f"  ... and {len(rejected) - 6} more rejected")
    if getattr(result, "master_dark", None) is not None:
        lines.append(f"dark: {result.master_dark.name} ({result.dark_exptime:g} s), scaled")
        lines.append(f"  to each exposure; {result.n_hot_pixels} hot pixels masked")
    for filt, fraction in result.mask_fraction.items():
        lines.append(f"mask [{filt or 'no filter'}]: {100 * fraction:.1f}% of pixels")
    cam = result.camera
    lines += [
        "",
        f"gain {cam.gain:g} e-/ADU ({cam.gain_source})",
        f"read noise {cam.readnoise:g} e- ({cam.readnoise_source})",
        f"saturation {cam.satlevel:g} e- ({cam.satlevel_source})",
    ]
    ax.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8, transform=ax.transAxes)
    ax.set_title("Frames and camera", fontsize=10)
    return fig


def save_summary(result, path: str | os.PathLike) -> Path:
    """Draw the summary figure and write it as a PNG, atomically.

    Parameters
    ----------
    result : ccdlab.reduce.ReductionResult
    path : path-like
        Where to write, e.g. ``reduced/reduction_summary.png``.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> save_summary(result, "reduced/reduction_summary.png")  # doctest: +SKIP
    PosixPath('reduced/reduction_summary.png')
    """
    path = Path(path)
    fig = summary_figure(result)
    try:
        with atomic_output(path) as part:
            fig.savefig(part, format="png", dpi=90)
    finally:
        fig.clear()
    return path

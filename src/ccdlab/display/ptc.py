"""The photon transfer curve, drawn: variance against signal, with its regimes and the full well.

:func:`show_photon_transfer` draws a :class:`ccdlab.detector.PhotonTransfer` on log-log axes:
the measured pairs, the read-noise floor, the shot-noise line of slope ``1 / gain``, their sum,
and the full well and linearity limit as vertical lines (shaded by their uncertainty); below
it, each pair's signal against a straight line in exposure time (the linearity). :func:`save_photon_transfer`
writes the same figure as a PNG, atomically (what ``ccdlab detector`` saves).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ccdlab.detector import LINEARITY_TOLERANCE
from ccdlab.display.images import Plot
from ccdlab.files import atomic_output

__all__ = ["show_photon_transfer", "photon_transfer_figure", "save_photon_transfer"]


def _draw_curve(ax, ptc, title: str) -> None:
    signal, variance = np.asarray(ptc.signal, float), np.asarray(ptc.variance, float)
    positive = (signal > 0) & (variance > 0)
    fitted = np.asarray(ptc.fitted, bool) & positive
    ax.loglog(signal[positive & ~fitted], variance[positive & ~fitted], "o", color="0.45", label="flat pairs")
    ax.loglog(signal[fitted], variance[fitted], "o", color="tab:blue", label="pairs fitted for the gain")
    low = max(float(signal[positive].min()) if positive.any() else 1.0, 1e-3) / 2
    high = float(signal[positive].max()) * 2 if positive.any() else 10.0
    x = np.geomspace(low, high, 200)
    read_var = ptc.read_noise_adu**2
    ax.axhline(read_var, color="tab:green", ls=":", label=f"read noise$^2$ ({ptc.read_noise_adu:.2f} ADU)$^2$")
    if math.isfinite(ptc.gain):
        ax.loglog(x, x / ptc.gain, color="tab:orange", ls="--", label=f"shot noise: signal / gain ({ptc.gain:.3f} e$^-$/ADU)")
        ax.loglog(x, x / ptc.gain + read_var, color="k", lw=1, label="read noise$^2$ + shot noise$^2$")
        crossing = read_var * ptc.gain
        ax.text(math.sqrt(low * crossing), read_var * 1.25, "read-noise regime", color="tab:green", fontsize=8, ha="center")
        ax.text(crossing * 8, crossing * 8 / ptc.gain * 0.35, "shot-noise regime", color="tab:orange", fontsize=8,
                rotation=28, ha="center")
    if math.isfinite(ptc.full_well_adu):
        lo, hi = ptc.full_well_adu - ptc.full_well_error_adu, ptc.full_well_adu + ptc.full_well_error_adu
        ax.axvspan(lo, hi, color="tab:red", alpha=0.12)
        well = f"{ptc.full_well_adu:,.0f} ADU" + (f" = {ptc.full_well_e:,.0f} e$^-$" if math.isfinite(ptc.gain) else "")
        ax.axvline(ptc.full_well_adu, color="tab:red", label=f"full well: {well}")
    if math.isfinite(ptc.linearity_limit_adu):
        ax.axvline(ptc.linearity_limit_adu, color="tab:purple", ls="-.",
                   label=f"linearity limit ({100 * LINEARITY_TOLERANCE:g} %): {ptc.linearity_limit_adu:,.0f} ADU")
    ax.set_xlim(low, high)
    ax.set_xlabel("signal: mean of the pair, bias subtracted (ADU)")
    ax.set_ylabel("variance: var(F1 - F2) / 2 (ADU$^2$)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


def _draw_linearity(ax, ptc) -> None:
    deviation = np.asarray(ptc.deviation, float)
    signal = np.asarray(ptc.signal, float)
    ok = np.isfinite(deviation) & (signal > 0)
    ax.semilogx(signal[ok], 100 * deviation[ok], "o-", color="tab:blue")
    ax.axhspan(-100 * LINEARITY_TOLERANCE, 100 * LINEARITY_TOLERANCE, color="tab:green", alpha=0.12,
               label=f"within {100 * LINEARITY_TOLERANCE:g} % of linear")
    if math.isfinite(ptc.linearity_limit_adu):
        ax.axvline(ptc.linearity_limit_adu, color="tab:purple", ls="-.", label="linearity limit")
    if math.isfinite(ptc.full_well_adu):
        ax.axvline(ptc.full_well_adu, color="tab:red", label="full well")
    ax.set_ylim(-6, 3)
    ax.set_xlabel("signal (ADU)")
    ax.set_ylabel("signal vs a straight line in exposure time (%)")
    ax.set_title("Linearity")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")


def show_photon_transfer(ptc, title: str = "Photon transfer curve", ax=None, linearity: bool = True):
    """Draw a photon transfer curve (and, below it, the linearity) in a notebook.

    Parameters
    ----------
    ptc : ccdlab.detector.PhotonTransfer
        From :func:`ccdlab.detector.photon_transfer`.
    title : str
        Title of the curve's panel.
    ax : matplotlib Axes, optional
        Draw the curve alone into these axes.
    linearity : bool
        Add the linearity panel (with a new figure only).

    Returns
    -------
    ccdlab.display.images.Plot
        ``(fig, ax)``; shows nothing by itself in a notebook.

    Examples
    --------
    >>> from ccdlab.detector import photon_transfer
    >>> rng = np.random.default_rng(0)
    >>> def flat(level):
    ...     return 270 + (level + rng.normal(0, np.sqrt(level * 1.6 + 196), (100, 100))) / 1.6
    >>> ptc = photon_transfer([(t, flat(1000.0 * t), flat(1000.0 * t)) for t in (1, 3, 10, 30)], [flat(0), flat(0)])
    >>> plot = show_photon_transfer(ptc)
    >>> plot.ax.get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt

    if ax is not None:
        _draw_curve(ax, ptc, title)
        return Plot(ax.figure, ax)
    if linearity:
        fig, (ax, lower) = plt.subplots(2, 1, figsize=(8, 8.5), height_ratios=(2.2, 1), layout="constrained")
        _draw_curve(ax, ptc, title)
        _draw_linearity(lower, ptc)
    else:
        fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
        _draw_curve(ax, ptc, title)
    return Plot(fig, ax)


def photon_transfer_figure(ptc, title: str = "Photon transfer curve") -> Figure:
    """The curve and the linearity on a Figure that pyplot never sees (nothing to close).

    Examples
    --------
    >>> fig = photon_transfer_figure(ptc)  # doctest: +SKIP
    """
    fig = Figure(figsize=(8, 8.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax, lower = fig.subplots(2, 1, height_ratios=(2.2, 1))
    _draw_curve(ax, ptc, title)
    _draw_linearity(lower, ptc)
    return fig


def save_photon_transfer(ptc, path: str | os.PathLike, title: str = "Photon transfer curve") -> Path:
    """Draw the photon transfer curve and write it as a PNG, atomically.

    Examples
    --------
    >>> save_photon_transfer(ptc, "reduced/photon_transfer.png")  # doctest: +SKIP
    PosixPath('reduced/photon_transfer.png')
    """
    path = Path(path)
    fig = photon_transfer_figure(ptc, title)
    try:
        with atomic_output(path) as part:
            fig.savefig(part, format="png", dpi=90)
    finally:
        fig.clear()
    return path

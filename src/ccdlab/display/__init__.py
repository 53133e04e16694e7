"""Pictures of frames: what a notebook shows.

- :mod:`ccdlab.display.images`: :func:`show_image`, :func:`show_histogram`, :func:`show_grid`,
  :func:`show_cutouts`;
- :mod:`ccdlab.display.stretch`: :func:`display_limits` and the stretches;
- :mod:`ccdlab.display.explorer`: :func:`stretch_explorer`, sliders that redraw a frame (ipywidgets,
  imported on first use);
- :mod:`ccdlab.display.summary`: the one-page picture of a reduction.

Examples
--------
>>> from ccdlab.display import show_image, display_limits
"""

from __future__ import annotations

from ccdlab.display.images import (
    GridPlot,
    ImagePlot,
    Plot,
    show_cutouts,
    show_grid,
    show_histogram,
    show_image,
)
from ccdlab.display.stretch import SCALES, STRETCHES, display_limits

__all__ = [
    "STRETCHES", "SCALES", "ImagePlot", "Plot", "GridPlot", "display_limits", "show_image",
    "show_histogram", "show_grid", "show_cutouts", "stretch_explorer", "StretchExplorer",
]


def __getattr__(name: str):
    """``stretch_explorer`` and ``StretchExplorer`` load ipywidgets, so they are imported on first use."""
    if name in ("stretch_explorer", "StretchExplorer"):
        from ccdlab.display import explorer

        return getattr(explorer, name)
    raise AttributeError(f"module 'ccdlab.display' has no attribute {name!r}")

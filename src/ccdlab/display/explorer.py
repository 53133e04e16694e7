"""An interactive stretch explorer: sliders that redraw a frame, for notebooks.

The picture is drawn off screen with matplotlib's Agg renderer and shown as a PNG in an
``ipywidgets.Image``, so it works the same in JupyterLab, classic Jupyter, VS Code and Google Colab,
whatever matplotlib backend the notebook uses, and it can be tested without a browser.
"""

from __future__ import annotations

import io
import math

import ipywidgets as widgets
import numpy as np
from astropy.visualization import ImageNormalize
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ccdlab import validate
from ccdlab.display.images import show_image
from ccdlab.display.stretch import SCALES, display_limits, scale_transform, widen_limits
from ccdlab.errors import InputError

__all__ = ["MODES", "StretchExplorer", "stretch_explorer"]

#: How the explorer chooses the display limits: (button label, value).
MODES = (("zscale", "zscale"), ("percentile", "percentile"), ("vmin / vmax", "limits"))


def _readout_format(span: float) -> str:
    digits = 0 if span <= 0 else max(0, min(6, 3 - math.floor(math.log10(span))))
    return f".{digits}f"


class StretchExplorer(widgets.VBox):
    """A frame with controls for its display limits and stretch (an ``ipywidgets.VBox``).

    Controls (all ordinary ipywidgets, also settable from code):

    - ``mode``: ``"zscale"``, ``"percentile"`` or ``"limits"`` (vmin / vmax from the slider);
    - ``percentile``: the central percentage of pixels that spans the grey levels;
    - ``limits``: a (vmin, vmax) range slider, from the faintest to the brightest pixel shown;
    - ``scale``: ``"linear"``, ``"sqrt"``, ``"log"`` or ``"asinh"``.

    Moving the percentile slider selects the percentile mode, moving the limits slider selects
    the vmin / vmax mode. Sliders redraw when released (kind to slow connections such as Colab).

    Parameters
    ----------
    data : array-like
        A 2-D frame.
    title : str, optional
        Title above the picture.
    cmap : str
        Colour map (default ``"gray"``).
    max_pixels : int
        Largest number of pixels drawn on a side (larger frames are block-averaged for display).
    percentile : float
        Starting value of the percentile slider.
    figsize : (float, float)
        Size of the picture in inches.

    Attributes
    ----------
    figure, ax, image
        The matplotlib figure, axes and image (``image.get_clim()`` gives the current limits).
    picture : ipywidgets.Image
        The rendered PNG shown in the notebook.

    Examples
    --------
    >>> import numpy as np
    >>> explorer = StretchExplorer(np.random.default_rng(0).normal(270, 9, (64, 64)))
    >>> explorer.scale.value = "asinh"
    >>> explorer.limits.value = (260.0, 280.0)
    >>> explorer.mode.value, [round(v) for v in explorer.image.get_clim()]
    ('limits', [260, 280])
    """

    def __init__(self, data, title=None, cmap="gray", max_pixels: int = 1024, percentile: float = 99.5,
                 figsize=(7.0, 6.0)):
        frame = validate.image(data, "image", error=InputError, hint="Pass one frame (for a stack, pick one: frames[0]).")
        self.figure = Figure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(self.figure)
        ax = self.figure.add_subplot()
        plot = show_image(frame, title=title, stretch="zscale", cmap=cmap, ax=ax, max_pixels=max_pixels)
        self.ax, self.image = plot.ax, plot.image
        shown = np.ma.filled(self.image.get_array().astype(float), np.nan)
        self._shown = shown[np.isfinite(shown)]
        lo, hi = float(self._shown.min()), float(self._shown.max())
        if hi <= lo:
            lo, hi = display_limits(self._shown, "minmax")
        start = tuple(float(v) for v in self.image.get_clim())
        self._updating = False

        self.mode = widgets.ToggleButtons(options=MODES, value="zscale", description="limits")
        self.percentile = widgets.FloatSlider(
            value=float(percentile), min=50.0, max=100.0, step=0.1, description="percentile",
            continuous_update=False, readout_format=".1f",
        )
        self.limits = widgets.FloatRangeSlider(
            value=(max(lo, start[0]), min(hi, start[1])), min=lo, max=hi, step=(hi - lo) / 1000,
            description="vmin, vmax", continuous_update=False, readout_format=_readout_format(hi - lo),
            layout=widgets.Layout(width="95%"),
        )
        self.scale = widgets.ToggleButtons(options=list(SCALES), value="linear", description="stretch")
        self.picture = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()

        self.mode.observe(self._on_change, names="value")
        self.scale.observe(self._on_change, names="value")
        self.percentile.observe(self._on_percentile, names="value")
        self.limits.observe(self._on_limits, names="value")
        super().__init__([self.mode, self.percentile, self.limits, self.scale, self.status, self.picture])
        self.redraw()

    # -- callbacks -----------------------------------------------------------------------------

    def _on_change(self, change=None):
        if not self._updating:
            self.redraw()

    def _on_percentile(self, change):
        if self._updating:
            return
        if self.mode.value != "percentile":
            self.mode.value = "percentile"  # redraws through _on_change
        else:
            self.redraw()

    def _on_limits(self, change):
        if self._updating:
            return
        if self.mode.value != "limits":
            self.mode.value = "limits"
        else:
            self.redraw()

    # -- drawing -------------------------------------------------------------------------------

    def current_limits(self) -> tuple[float, float]:
        """Return the ``(vmin, vmax)`` the current controls ask for.

        Examples
        --------
        >>> import numpy as np
        >>> explorer = StretchExplorer(np.arange(100.0).reshape(10, 10))
        >>> explorer.mode.value = "percentile"; explorer.percentile.value = 100.0
        >>> explorer.current_limits()
        (0.0, 99.0)
        """
        mode = self.mode.value
        if mode == "limits":
            low, high = self.limits.value
            return widen_limits(low, high)
        if mode == "percentile":
            return display_limits(self._shown, "percentile", self.percentile.value)
        return display_limits(self._shown, "zscale")

    def redraw(self) -> None:
        """Apply the controls to the image and refresh the picture.

        Examples
        --------
        >>> import numpy as np
        >>> explorer = StretchExplorer(np.arange(100.0).reshape(10, 10))
        >>> explorer.redraw()
        >>> bytes(explorer.picture.value[:4])
        b'\\x89PNG'
        """
        lo, hi = self.current_limits()
        scale = self.scale.value
        norm = ImageNormalize(vmin=lo, vmax=hi, stretch=scale_transform(scale), clip=scale != "linear")
        self.image.set_norm(norm)
        if self.mode.value != "limits":  # show the numbers the stretch chose on the slider
            self._updating = True
            try:
                low = min(max(lo, self.limits.min), self.limits.max)
                high = max(min(hi, self.limits.max), self.limits.min)
                self.limits.value = (low, high)
            finally:
                self._updating = False
        self.status.value = (
            f"<code>vmin = {lo:.6g}, vmax = {hi:.6g}</code> ({self.mode.label}, {scale} stretch)"
        )
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=80)
        self.picture.value = buffer.getvalue()


def stretch_explorer(data, **options) -> StretchExplorer:
    """Build a :class:`StretchExplorer` for a frame; leave it as a cell's last line to show it.

    Examples
    --------
    >>> import numpy as np
    >>> explorer = stretch_explorer(np.random.default_rng(0).normal(270, 9, (64, 64)))
    >>> explorer.percentile.value = 90.0
    >>> explorer.mode.value
    'percentile'
    """
    return StretchExplorer(data, **options)

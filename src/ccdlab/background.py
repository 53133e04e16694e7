"""The sky background of a calibrated frame: its level and its noise, as smooth maps.

The sky under the stars is never flat: moonlight and twilight put a gradient across the field, and
a flat field that is off by a per cent leaves a pattern. Photometry and source detection measure
everything against it, so it is estimated first, the way SExtractor does: cut the frame into boxes,
take a sigma-clipped median of each (the stars in a box are clipped away), smooth the grid of
medians with a median filter (a box that a bright star fills is replaced by its neighbours), and
interpolate back to every pixel. The same boxes give the noise map (a sigma-clipped standard
deviation). photutils' ``Background2D`` does the work; :func:`estimate_background` chooses its
boxes for the frame and returns plain arrays.

NaN pixels (the vignetted corners of a calibrated frame) carry no data: they are left out of the
boxes, and the maps are NaN there too.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from ccdlab import validate
from ccdlab.errors import PhotometryError

__all__ = ["Background", "estimate_background"]

#: Default box size (pixels): ~15 times the seeing FWHM, so that a box holds mostly sky.
DEFAULT_BOX = 64

_image = functools.partial(validate.image, error=PhotometryError, need_finite=True,
                           hint="Pass one calibrated frame (a 2-D array), e.g. read_frame(path)[0].")


@dataclass
class Background:
    """The sky of a frame: a level map and a noise map (ADU), and their medians.

    Attributes
    ----------
    level : numpy.ndarray
        Sky level per pixel (NaN where the frame is NaN).
    rms : numpy.ndarray
        Sky noise (standard deviation) per pixel.
    median, rms_median : float
        The median of each map: one number for the sky and one for its noise.
    box_size : int
        The box size used (pixels).

    Examples
    --------
    >>> b = Background(np.full((2, 2), 100.0), np.full((2, 2), 5.0), 100.0, 5.0, 64)
    >>> b.median, b.rms_median
    (100.0, 5.0)
    """

    level: np.ndarray
    rms: np.ndarray
    median: float
    rms_median: float
    box_size: int

    def subtract(self, data) -> np.ndarray:
        """Return ``data`` minus the sky level (float32; NaN stays NaN).

        Examples
        --------
        >>> b = Background(np.full((2, 2), 100.0), np.full((2, 2), 5.0), 100.0, 5.0, 64)
        >>> b.subtract(np.full((2, 2), 130.0))[0, 0]
        np.float32(30.0)
        """
        return (np.asarray(data, dtype=np.float32) - self.level).astype(np.float32)


def estimate_background(data, box_size: int = DEFAULT_BOX, filter_size: int = 3, mask=None) -> Background:
    """Estimate the sky level and noise of a frame with sigma-clipped medians in boxes.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU), NaN where there is no data.
    box_size : int
        Box size in pixels; reduced for small frames so that at least 4 boxes fit each way.
    filter_size : int
        Size of the median filter over the grid of boxes (odd; 1 = no filter).
    mask : numpy.ndarray of bool, optional
        Pixels to leave out besides NaN (e.g. bright stars or a bad column).

    Returns
    -------
    Background
        The level and rms maps (same shape as ``data``) and their medians.

    Raises
    ------
    PhotometryError
        Not an image, no finite pixel, a bad box or filter size, or too few sky pixels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:256, :256]
    >>> sky = 500.0 + 0.2 * xx + rng.normal(0.0, 10.0, (256, 256))
    >>> background = estimate_background(sky, box_size=32)
    >>> round(background.median), round(background.rms_median)
    (525, 10)
    >>> bool(background.level[128, 240] > background.level[128, 16] + 30)   # the gradient is kept
    True
    """
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground, StdBackgroundRMS

    data = _image(data)
    if isinstance(box_size, bool) or not isinstance(box_size, (int, np.integer)) or box_size < 4:
        raise PhotometryError(f"box_size must be a whole number of pixels, at least 4 (e.g. 64); got {box_size!r}.")
    if isinstance(filter_size, bool) or not isinstance(filter_size, (int, np.integer)) or filter_size < 1 \
            or filter_size % 2 == 0:
        raise PhotometryError(f"filter_size must be an odd whole number (1, 3, 5...); got {filter_size!r}.")
    ny, nx = data.shape
    box = int(max(4, min(box_size, ny // 4, nx // 4)))
    bad = ~np.isfinite(data)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != data.shape:
            raise PhotometryError(f"mask has shape {mask.shape} but the frame is {data.shape}.")
        bad = bad | mask
    if np.count_nonzero(~bad) < 16 * box * box // 4:
        raise PhotometryError(
            f"Too few sky pixels to estimate the background ({np.count_nonzero(~bad)} usable of {data.size}): "
            "is the frame mostly NaN or masked?")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # photutils warns about boxes with few pixels: they are excluded
        try:
            found = Background2D(np.where(bad, 0.0, data), box, mask=bad, coverage_mask=~np.isfinite(data),
                                 filter_size=filter_size, sigma_clip=SigmaClip(sigma=3.0, maxiters=10),
                                 bkg_estimator=MedianBackground(), bkg_rms_estimator=StdBackgroundRMS(),
                                 exclude_percentile=50.0)
        except ValueError as exc:
            raise PhotometryError(f"The background could not be estimated ({exc}): try a larger box_size.") from None
    level = np.where(np.isfinite(data), found.background, np.nan).astype(np.float32)
    rms = np.where(np.isfinite(data), found.background_rms, np.nan).astype(np.float32)
    return Background(level, rms, float(np.nanmedian(level)), float(np.nanmedian(rms)), box)

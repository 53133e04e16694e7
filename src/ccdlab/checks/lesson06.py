"""Checks for lesson 06, cosmic rays: camera parameters and units, the mask, the cleaned frame."""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import answers, image, number
from .lesson03 import master_bias_of
from .lesson04 import mask_of, master_flat_of
from .lesson05 import calibrated_of

LESSON = "06_cosmic_rays"


def camera_of(night):
    """The camera's gain, read noise and saturation for the first science frame's header.

    Examples
    --------
    >>> camera_of(night("data")).describe()  # doctest: +SKIP
    'gain 1.6 e-/ADU (default), read noise 14 e- (default), saturation 96000 e- (default)'
    """
    from ..camera import CameraWarning, camera_parameters

    def compute():
        header = night.frame(night.first("science"))[1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CameraWarning)
            return camera_parameters(header)

    return night.memo("camera", compute)


def _unit_hint(got, expected_electrons: float, gain: float, what: str) -> str:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return ""
    if math.isclose(value, expected_electrons / gain, rel_tol=0.01):
        return f"That is the {what} in ADU; L.A.Cosmic wants it in electrons (multiply by the gain)."
    return ""


@answers(LESSON, "gain", "read_noise", "saturation")
def camera_numbers(night, gain, read_noise, saturation):
    """Gain (e-/ADU), read noise (e-) and saturation (e-) of the camera.

    Examples
    --------
    >>> check("6.1", gain=1.6, read_noise=8.75, saturation=96000)  # doctest: +SKIP
    ✘ Exercise 6.1: not yet (2 of 3 right).
       - That is the read noise in ADU; L.A.Cosmic wants it in electrons (multiply by the gain).
    """
    cam = camera_of(night)
    where = "The GAIN in this header is junk; use the camera's values (ccdlab.camera.camera_parameters says which)."
    parts = [
        number("gain", gain, cam.gain, rtol=1e-3, hint=where, reference=cam.gain),
        number("read_noise", read_noise, cam.readnoise, rtol=1e-3, hint="The read noise is quoted in electrons.",
               reference=cam.readnoise),
        number("saturation", saturation, cam.satlevel, rtol=1e-3, hint="The saturation level is quoted in electrons.",
               reference=cam.satlevel),
    ]
    for part, got, expected, what in ((parts[1], read_noise, cam.readnoise, "read noise"),
                                      (parts[2], saturation, cam.satlevel, "saturation level")):
        if not part.ok and not part.blank:
            special = _unit_hint(got, expected, cam.gain, what)
            part.hint = special or part.hint
    return parts


def unmasked_of(night):
    """The first science frame calibrated without the vignetting mask (corners kept).

    Examples
    --------
    >>> np.isnan(unmasked_of(night("data"))).any()  # doctest: +SKIP
    False
    """
    from ..calibrate import calibrate_frame

    return calibrate_frame(night.first("science"), master_bias_of(night), master_flat_of(night))[0]


def cosmics_of(night, masked: bool):
    """(crmask, cleaned) of the first science frame, with or without the vignetting mask.

    Examples
    --------
    >>> crmask, cleaned = cosmics_of(night("data"), masked=True)  # doctest: +SKIP
    """
    from ..cosmics import remove_cosmics

    cam = camera_of(night)

    def compute():
        if masked:
            data = calibrated_of(night, night.first("science"))[0]
            return remove_cosmics(data, cam.gain, cam.readnoise, cam.satlevel, mask=mask_of(night))
        return remove_cosmics(unmasked_of(night), cam.gain, cam.readnoise, cam.satlevel)

    return night.memo(("cosmics", masked), compute)


@answers(LESSON, "n_without_mask", "n_with_mask")
def false_detections(night, n_without_mask, n_with_mask):
    """Pixels flagged as cosmic rays without the vignetting mask, and with it.

    Examples
    --------
    >>> check("6.3", n_without_mask=4422, n_with_mask=1047)  # doctest: +SKIP
    ✔ Exercise 6.3: correct. Well done!
    """
    without = int(cosmics_of(night, masked=False)[0].sum())
    with_mask = int(cosmics_of(night, masked=True)[0].sum())
    return [
        number("n_without_mask", n_without_mask, without, rtol=0.05, atol=2,
               hint="Count the pixels flagged in the frame calibrated without the mask (crmask.sum()).",
               reference=without),
        number("n_with_mask", n_with_mask, with_mask, rtol=0.05, atol=2,
               hint="Pass the vignetting mask to remove_cosmics (mask=vignetted) and count again.",
               reference=with_mask),
    ]


@answers(LESSON, "cleaned")
def cleaned_frame(night, cleaned):
    """The first science frame cleaned of cosmic rays, in ADU, masked pixels NaN.

    Examples
    --------
    >>> cleaned = check("6.2", cleaned=cleaned)  # doctest: +SKIP
    ✔ Exercise 6.2: correct. Well done!
    """
    expected = cosmics_of(night, masked=True)[1]
    part = image("cleaned", cleaned, expected, rtol=1e-4, atol=1e-2, max_bad_fraction=1e-4,
                 hint="Clean the calibrated frame with remove_cosmics(calibrated, gain, read_noise, saturation, "
                      "mask=vignetted) and keep its second result.",
                 reference=expected)
    if not part.ok and not part.blank:
        try:
            array = np.asarray(cleaned, dtype=np.float64)
            good = np.isfinite(array) & np.isfinite(expected) & (np.abs(expected) > 1)
            ratio = float(np.median(array[good] / expected[good])) if good.any() else math.nan
        except (TypeError, ValueError):
            ratio = math.nan
        if math.isclose(ratio, camera_of(night).gain, rel_tol=0.02):
            part.hint = "Your frame is in electrons: divide by the gain to come back to ADU."
    return [part]

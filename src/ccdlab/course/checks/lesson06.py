"""Checks for lesson 06, cosmic rays: camera parameters and units, the mask, the cleaned frame."""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import answers, boolean_mask, image, number

LESSON = "06_cosmic_rays"


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
    cam = night.camera()
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
    from ccdlab.calibrate import calibrate_frame

    return calibrate_frame(night.first("science"), night.master_bias(), night.master_flat())[0]


def cosmics_of(night, masked: bool):
    """(crmask, cleaned) of the first science frame calibrated without NaN, with or without the mask.

    With the mask, the masked pixels are neither searched nor used, and kept as they were.

    Examples
    --------
    >>> crmask, cleaned = cosmics_of(night("data"), masked=True)  # doctest: +SKIP
    """
    from ccdlab.cosmics import remove_cosmics

    cam = night.camera()

    def compute():
        if masked:
            return remove_cosmics(unmasked_of(night), cam.gain, cam.readnoise, cam.satlevel, mask=night.mask())
        return remove_cosmics(unmasked_of(night), cam.gain, cam.readnoise, cam.satlevel)

    return night.memo(("cosmics", masked), compute)


@answers(LESSON, "n_in_corners", "n_outside", "n_with_mask")
def false_detections(night, n_in_corners, n_outside, n_with_mask):
    """Pixels flagged without the mask, inside and outside the vignetted corners, and with the mask.

    Examples
    --------
    >>> check("6.3", n_in_corners=3366, n_outside=1056, n_with_mask=1047)  # doctest: +SKIP
    ✔ Exercise 6.3: correct. Well done!
    """
    unmasked = cosmics_of(night, masked=False)[0]
    corners = night.mask()
    inside, outside = int(unmasked[corners].sum()), int(unmasked[~corners].sum())
    with_mask = int(cosmics_of(night, masked=True)[0].sum())
    return [
        number("n_in_corners", n_in_corners, inside, rtol=0.05, atol=2,
               hint="Count the pixels of crmask_unmasked that are also in the vignetting mask (both True).",
               reference=inside),
        number("n_outside", n_outside, outside, rtol=0.05, atol=2,
               hint="Count the pixels of crmask_unmasked outside the vignetting mask (~ inverts a boolean mask).",
               reference=outside),
        number("n_with_mask", n_with_mask, with_mask, rtol=0.05, atol=2,
               hint="Count the pixels flagged in Exercise 6.2 (crmask).", reference=with_mask),
    ]


@answers(LESSON, "crmask", "cleaned")
def cleaned_frame(night, crmask, cleaned):
    """The hits and the cleaned first science frame, in ADU, found with the vignetting mask.

    Examples
    --------
    >>> crmask, cleaned = check("6.2", crmask=crmask, cleaned=cleaned)  # doctest: +SKIP
    ✔ Exercise 6.2: correct. Well done!
    """
    expected_mask, expected = cosmics_of(night, masked=True)
    corners = night.mask()
    no_mask = ("L.A.Cosmic searched the vignetted corners too: look at the arguments remove_cosmics takes "
               "for pixels it must leave out.")
    mask_part = boolean_mask("crmask", crmask, expected_mask, max_bad_fraction=1e-4,
                             hint="Keep the first result of remove_cosmics.", reference=expected_mask)
    if not mask_part.ok and not mask_part.blank:
        array = np.asarray(crmask)
        if array.dtype == bool and array.shape == corners.shape and array[corners].any():
            mask_part.hint = f"crmask flags {int(array[corners].sum())} pixels inside the vignetted corners. {no_mask}"
    part = image("cleaned", cleaned, expected, rtol=1e-4, atol=1e-2, max_bad_fraction=1e-4,
                 hint="Keep the second result of remove_cosmics, run on calibrated_unmasked with the camera's numbers.",
                 reference=expected)
    if not part.ok and not part.blank:
        try:
            array = np.asarray(cleaned, dtype=np.float64)
            good = np.isfinite(array) & np.isfinite(expected) & (np.abs(expected) > 1)
            ratio = float(np.median(array[good] / expected[good])) if good.any() else math.nan
            changed_in_corners = array.shape == expected.shape and bool(
                np.any(~np.isclose(array[corners], expected[corners], rtol=1e-4, atol=1e-2)))
        except (TypeError, ValueError):
            ratio, changed_in_corners = math.nan, False
        if math.isclose(ratio, night.camera().gain, rel_tol=0.02):
            part.hint = "Your frame is in electrons: divide by the gain to come back to ADU."
        elif changed_in_corners:
            part.hint = f"Pixels inside the vignetted corners were changed. {no_mask}"
    return [mask_part, part]

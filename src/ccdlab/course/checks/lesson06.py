"""Checks for lesson 06, cosmic rays: camera parameters and units, the mask, the cleaned frame.

Exercise 6.2 hands L.A.Cosmic its arguments in a dictionary, ``lacosmic``, which the check reads:
on the course's nights a read noise in ADU (14 / 1.6 = 8.75 instead of 14 e-) changes a few hits
of a thousand, or none, because the sky's photon noise dominates; judging the cleaned frame alone
could not tell it from the right answer, judging the numbers can.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ccdlab.course.checks import (
    Part,
    answers,
    blank_part,
    boolean_mask,
    image,
    is_blank,
    number,
)

LESSON = "06_cosmic_rays"

#: The keywords of remove_cosmics that lacosmic (Exercise 6.2) holds.
LACOSMIC_KEYS = ("gain", "readnoise", "satlevel", "mask")

#: A gain outside this range (e-/ADU) is no camera's: a junk header value (as ccdlab.camera says).
_PLAUSIBLE_GAIN = (0.01, 100.0)

#: The largest values a 16-bit converter writes, in ADU: not a saturation in electrons.
_ADC_LIMITS = (65535.0, 65536.0)


def _float(value):
    if is_blank(value) or isinstance(value, (bool, np.bool_, str)):
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array.reshape(())) if array.size == 1 else None


def _close(a: float, b: float, rtol: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=rtol)


def unit_hint(got, expected_electrons: float, gain: float, what: str) -> str:
    """A hint when ``got`` is a value in electrons given in the wrong unit, else ``""``.

    Parameters
    ----------
    got : object
        The student's value.
    expected_electrons : float
        The right value, in electrons.
    gain : float
        The camera's gain, e-/ADU.
    what : str
        What the value is, e.g. ``"read noise"``.

    Examples
    --------
    >>> unit_hint(8.75, 14.0, 1.6, "read noise")
    'That is the read noise in ADU; L.A.Cosmic wants it in electrons (electrons = ADU x gain).'
    >>> unit_hint(22.4, 14.0, 1.6, "read noise")
    "That is the read noise multiplied by the gain: the camera's value is already in electrons."
    >>> unit_hint(15.0, 14.0, 1.6, "read noise")
    ''
    """
    value = _float(got)
    if value is None:
        return ""
    # 5% for a read noise: the bias std measured in lesson 03 (ADU) is near 14 / 1.6, not on it
    rtol = 0.05 if what == "read noise" else 0.01
    if _close(value, expected_electrons / gain, rtol):
        return f"That is the {what} in ADU; L.A.Cosmic wants it in electrons (electrons = ADU x gain)."
    if _close(value, expected_electrons * gain, 0.01):
        return f"That is the {what} multiplied by the gain: the camera's value is already in electrons."
    if what == "saturation level" and any(_close(value, limit, 1e-4) for limit in _ADC_LIMITS):
        return ("That is the largest value a 16-bit converter writes, in ADU, not the saturation in electrons: "
                "use the camera's saturation (camera.satlevel).")
    return ""


def gain_hint(got, gain: float) -> str:
    """A hint for a wrong gain: inverted (ADU per electron), junk (the header's), or another number.

    Examples
    --------
    >>> gain_hint(1 / 1.6, 1.6)[:40]
    'That is ADU per electron (the unit inver'
    >>> gain_hint(-9.1e-36, 1.6)[:26]
    'That gain is not physical:'
    >>> gain_hint(2.0, 1.6)[:40]
    "It is not the camera's gain: use camera."
    """
    value = _float(got)
    if value is None:
        return ""
    if _close(value, 1.0 / gain, 0.01):
        return ("That is ADU per electron (the unit inverted): L.A.Cosmic wants the gain in electrons per ADU "
                "(e-/ADU), which multiplies ADU into electrons.")
    if not _PLAUSIBLE_GAIN[0] <= value <= _PLAUSIBLE_GAIN[1]:
        return ("That gain is not physical: the GAIN in this header is junk; use the camera's values "
                "(ccdlab.camera.camera_parameters says which).")
    return "It is not the camera's gain: use camera.gain (camera_parameters says where it comes from)."


@answers(LESSON, "gain", "read_noise", "saturation")
def camera_numbers(night, gain, read_noise, saturation):
    """Gain (e-/ADU), read noise (e-) and saturation (e-) of the camera.

    Examples
    --------
    >>> check("6.1", gain=1.6, read_noise=8.75, saturation=96000)  # doctest: +SKIP
    ✘ Exercise 6.1: not yet (2 of 3 right).
       - That is the read noise in ADU; L.A.Cosmic wants it in electrons (electrons = ADU x gain).
    """
    cam = night.camera()
    parts = [
        number("gain", gain, cam.gain, rtol=1e-3, hint=gain_hint(gain, cam.gain), reference=cam.gain),
        number("read_noise", read_noise, cam.readnoise, rtol=1e-3,
               hint=unit_hint(read_noise, cam.readnoise, cam.gain, "read noise")
               or "The read noise is quoted in electrons: use camera.readnoise.", reference=cam.readnoise),
        number("saturation", saturation, cam.satlevel, rtol=1e-3,
               hint=unit_hint(saturation, cam.satlevel, cam.gain, "saturation level")
               or "The saturation level is quoted in electrons: use camera.satlevel.", reference=cam.satlevel),
    ]
    return parts


def unmasked_of(night):
    """The first science frame calibrated without the vignetting mask (corners kept).

    Examples
    --------
    >>> np.isnan(unmasked_of(night("data"))).any()  # doctest: +SKIP
    False
    """
    from ccdlab.calibrate import calibrate_frame

    return night.memo("unmasked", lambda: calibrate_frame(night.first("science"), night.master_bias(),
                                                           night.master_flat())[0])


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
    unflagged_outside, unflagged_inside = int((~unmasked & ~corners).sum()), int((~unmasked & corners).sum())
    got = {"n_in_corners": _float(n_in_corners), "n_outside": _float(n_outside), "n_with_mask": _float(n_with_mask)}

    def near(name, value, rtol=0.005):  # counts are exact: a slip gives its own count, or nearly
        return got[name] is not None and abs(got[name] - value) <= 2 + rtol * abs(value)

    swapped = near("n_in_corners", outside) and near("n_outside", inside) and not near("n_in_corners", inside)
    parts = [
        number("n_in_corners", n_in_corners, inside, rtol=0.05, atol=2,
               hint="Count the pixels of crmask_unmasked that are also in the vignetting mask (both True).",
               reference=inside),
        number("n_outside", n_outside, outside, rtol=0.05, atol=2,
               hint="Count the pixels of crmask_unmasked outside the vignetting mask (~ inverts a boolean mask).",
               reference=outside),
        number("n_with_mask", n_with_mask, with_mask, rtol=0.05, atol=2,
               hint="Count the pixels flagged in Exercise 6.2 (crmask).", reference=with_mask),
    ]
    every = ("That counts every flagged pixel, outside the corners too: keep those also in the vignetting mask "
             "(both True).")
    area = ("That is the number of pixels in the corners (the mask's area), not of flagged ones: count the pixels "
            "where crmask_unmasked and vignetted are both True.")
    unflagged = ("That counts the pixels outside the corners that were NOT flagged: count those where "
                 "crmask_unmasked is True and vignetted is False.")
    specials = {
        "n_in_corners": [
            (near("n_in_corners", inside + outside) and not near("n_in_corners", inside), every),
            (swapped, "n_in_corners and n_outside are swapped: vignetted is True inside the corners."),
            (near("n_in_corners", int(corners.sum())), area),
            (near("n_in_corners", unflagged_inside), "That counts the pixels in the corners that were NOT flagged."),
        ],
        "n_outside": [
            (swapped, "n_in_corners and n_outside are swapped: ~vignetted is True outside the corners."),
            (near("n_outside", unflagged_outside), unflagged),
            (near("n_outside", inside + outside) and not near("n_outside", outside),
             "That counts every flagged pixel, the corners' too: keep those outside the mask (~vignetted)."),
        ],
        "n_with_mask": [
            (near("n_with_mask", inside + outside) and not near("n_with_mask", with_mask),
             "That is the count without the mask (crmask_unmasked): count the hits of Exercise 6.2, crmask."),
            (got["n_with_mask"] == 0 and with_mask > 0,
             "crmask has no hits inside the corners (the mask keeps them out): count all of crmask."),
        ],
    }
    for part in parts:
        if part.ok or part.blank:
            continue
        for found, hint in specials[part.name]:
            if found:
                part.hint = f"{part.name} = {got[part.name]:g}: {hint}"
                break
    return parts


def _lacosmic_reference(night) -> dict:
    cam = night.camera()
    return {"gain": cam.gain, "readnoise": cam.readnoise, "satlevel": cam.satlevel, "mask": night.mask()}


def _lacosmic_part(night, lacosmic) -> Part:
    """Judge the keyword arguments of remove_cosmics given in Exercise 6.2."""
    from ccdlab.cosmics import SATLEVEL_UNITS
    from ccdlab.reduce import calibrated_saturation

    name = "lacosmic"
    reference = _lacosmic_reference(night)
    if is_blank(lacosmic):
        return blank_part(name, reference)
    if not isinstance(lacosmic, Mapping):
        return Part(name, False, f"lacosmic should be a dict of remove_cosmics's keyword arguments, "
                    f"{{'gain': ..., 'readnoise': ..., 'satlevel': ..., 'mask': ...}}, but it is a "
                    f"{type(lacosmic).__name__}.", reference)
    cam = night.camera()
    problems = []
    keys = {str(key) for key in lacosmic}
    unknown = sorted(keys - set(LACOSMIC_KEYS) - {"satlevel_unit"})
    missing = [key for key in LACOSMIC_KEYS if key not in keys]
    if unknown:
        problems.append(f"lacosmic has {', '.join(repr(k) for k in unknown)}, which this exercise does not use: "
                        f"the keywords of remove_cosmics to give are {', '.join(repr(k) for k in LACOSMIC_KEYS)}.")
    if missing:
        problems.append(f"lacosmic has no {', '.join(repr(k) for k in missing)}.")
        if "mask" in missing:
            problems.append("Without a mask L.A.Cosmic searches the vignetted corners too: give the vignetting "
                            "mask as 'mask'.")

    gain = lacosmic.get("gain")
    if "gain" in keys and not number("gain", gain, cam.gain, rtol=1e-3).ok:
        problems.append(f"lacosmic['gain'] = {_show(gain)}. "
                        + (gain_hint(gain, cam.gain) or "It should be the camera's gain, a number in e-/ADU."))

    readnoise = lacosmic.get("readnoise")
    if "readnoise" in keys and not number("readnoise", readnoise, cam.readnoise, rtol=1e-3).ok:
        problems.append(f"lacosmic['readnoise'] = {_show(readnoise)}. "
                        + (unit_hint(readnoise, cam.readnoise, cam.gain, "read noise")
                           or "It should be the camera's read noise in electrons (Exercise 6.1)."))

    unit = str(lacosmic.get("satlevel_unit", "e-")).strip().lower() if "satlevel_unit" in keys else "e-"
    in_adu = unit in ("adu", "dn", "counts")
    if "satlevel_unit" in keys and unit not in SATLEVEL_UNITS + ("e", "electron", "electrons", "dn", "counts"):
        problems.append(f"lacosmic['satlevel_unit'] = {_show(lacosmic['satlevel_unit'])}: remove_cosmics takes 'e-' or 'adu'.")
    satlevel = lacosmic.get("satlevel")
    if "satlevel" in keys:
        lowered = calibrated_saturation(cam.satlevel, night.master_flat(), mask=night.mask())  # as ccdlab.reduce
        scale = 1.0 / cam.gain if in_adu else 1.0
        if not any(number("satlevel", satlevel, level * scale, rtol=1e-3).ok for level in (cam.satlevel, lowered)):
            hint = ("" if in_adu else unit_hint(satlevel, cam.satlevel, cam.gain, "saturation level")) or (
                f"It should be the camera's saturation in {'ADU (you said satlevel_unit=adu)' if in_adu else 'electrons'}.")
            problems.append(f"lacosmic['satlevel'] = {_show(satlevel)}. {hint}")

    if "mask" in keys:
        hint = _mask_hint(lacosmic["mask"], night.mask())
        if hint:
            problems.append(hint)
    if problems:
        return Part(name, False, " ".join(problems), reference)
    return Part(name, True, reference=lacosmic)


def _show(value) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _mask_hint(mask, expected) -> str:
    """What is wrong with the mask given to remove_cosmics (``""`` when it is the vignetting mask)."""
    if mask is None:
        return ("lacosmic['mask'] is None: without a mask L.A.Cosmic searches the vignetted corners too; give the "
                "vignetting mask.")
    try:
        array = np.asarray(mask)
        if array.dtype == object or not (array.dtype == bool or np.issubdtype(array.dtype, np.number)):
            raise TypeError
        array = array.astype(bool)
    except (TypeError, ValueError):
        return f"lacosmic['mask'] should be a boolean image (True where pixels are left out), not a {type(mask).__name__}."
    if array.shape != expected.shape:
        turned = " (transposed)" if array.shape == expected.shape[::-1] else ""
        return (f"lacosmic['mask'] has shape {array.shape}{turned}, but the image is {expected.shape}: give the "
                "vignetting mask of this night's master flat.")
    differ = int(np.sum(array != expected))
    if differ == 0:
        return ""
    if np.array_equal(array, ~expected):
        return ("lacosmic['mask'] is True on the good pixels: a mask is True where pixels are to be LEFT OUT, "
                "the vignetted corners.")
    return (f"lacosmic['mask'] marks {int(array.sum())} pixels where the vignetting mask marks {int(expected.sum())}: "
            "give the vignetting mask of the master flat (vignetted).")


@answers(LESSON, "lacosmic", "crmask", "cleaned")
def cleaned_frame(night, lacosmic, crmask, cleaned):
    """L.A.Cosmic's arguments, the hits and the cleaned first science frame (ADU), found with the mask.

    Examples
    --------
    >>> lacosmic, crmask, cleaned = check("6.2", lacosmic=lacosmic, crmask=crmask, cleaned=cleaned)  # doctest: +SKIP
    ✔ Exercise 6.2: correct. Well done!
    """
    expected_mask, expected = cosmics_of(night, masked=True)
    corners = night.mask()
    settings = _lacosmic_part(night, lacosmic)
    no_mask = ("L.A.Cosmic searched the vignetted corners too: look at the arguments remove_cosmics takes "
               "for pixels it must leave out.")
    # astroscrappy is deterministic: the same call gives the same hits; a few may differ between machines
    allowed = max(5, int(0.01 * expected_mask.sum())) / expected_mask.size
    mask_part = boolean_mask("crmask", crmask, expected_mask, max_bad_fraction=allowed,
                             hint="Keep the first result of remove_cosmics(calibrated_unmasked, **lacosmic).",
                             reference=expected_mask)
    if not mask_part.ok and not mask_part.blank:
        array = np.asarray(crmask)
        if array.dtype == bool and array.shape == corners.shape:
            if array[corners].any() and settings.ok:
                mask_part.hint = (f"crmask flags {int(array[corners].sum())} pixels inside the vignetted corners, though "
                                  "lacosmic holds the mask: make crmask with remove_cosmics(calibrated_unmasked, **lacosmic).")
            elif array[corners].any():
                mask_part.hint = f"crmask flags {int(array[corners].sum())} pixels inside the vignetted corners. {no_mask}"
            elif not settings.ok and not settings.blank:
                mask_part.hint = (f"crmask differs from the expected hits in {int(np.sum(array != expected_mask))} "
                                  "pixels: the hits follow from the numbers in lacosmic; put them right first.")
    part = image("cleaned", cleaned, expected, rtol=1e-4, atol=1e-2, max_bad_fraction=1e-4,
                 hint="Keep the second result of remove_cosmics, run on calibrated_unmasked with lacosmic.",
                 reference=expected)
    if not part.ok and not part.blank:
        follows = "" if settings.ok or settings.blank else "The cleaned frame follows from the numbers in lacosmic: put them right first."
        part.hint = _cleaned_hint(night, cleaned, expected, corners, no_mask) or follows or part.hint
    return [settings, mask_part, part]


def _cleaned_hint(night, cleaned, expected, corners, no_mask) -> str:
    """A hint naming the mistake behind a wrong cleaned frame, or ``""``."""
    try:
        array = np.asarray(cleaned, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if array.shape != expected.shape:
        return ""
    nan_corners = float(np.mean(np.isnan(array[corners]))) if corners.any() else 0.0
    outside_ok = np.mean(np.isclose(array[~corners], expected[~corners], rtol=1e-4, atol=1e-2)) > 1 - 1e-4
    if nan_corners > 0.5 and np.isfinite(expected[corners]).all():
        rest = " (the rest is right)" if outside_ok else ""
        return (f"cleaned is NaN in {nan_corners:.0%} of the vignetted corners, where calibrated_unmasked has "
                f"values{rest}: it was run on `calibrated`, whose corners are already NaN. Run remove_cosmics on "
                "calibrated_unmasked, which has no NaN: the mask in lacosmic is what keeps the corners out of the "
                "search.")
    good = np.isfinite(array) & np.isfinite(expected) & (np.abs(expected) > 1)
    ratio = float(np.median(array[good] / expected[good])) if good.any() else math.nan
    if math.isclose(ratio, night.camera().gain, rel_tol=0.02):
        return "Your frame is in electrons: divide by the gain to come back to ADU."
    if np.any(~np.isclose(array[corners], expected[corners], rtol=1e-4, atol=1e-2)):
        return f"Pixels inside the vignetted corners were changed. {no_mask}"
    return ""

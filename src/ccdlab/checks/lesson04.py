"""Checks for lesson 04, the master flat: screening the flats, combining them, the vignetting mask."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Part, answers, blank_part, boolean_mask, image, is_blank
from .lesson03 import master_bias_of

LESSON = "04_master_flat"


def screening_of(night):
    """The package's verdict on every flat (:func:`ccdlab.calibrate.screen_flats`).

    Examples
    --------
    >>> screening_of(night("data"))["name", "used", "reason"]  # doctest: +SKIP
    """
    from ..calibrate import screen_flats

    return night.memo("flat_screening", lambda: screen_flats(night.files("flat"), master_bias_of(night)))


def master_flat_of(night) -> np.ndarray:
    """The reference master flat (bias-subtracted, normalised, median-combined; 1 in the centre).

    Examples
    --------
    >>> float(np.median(master_flat_of(night("data"))))  # doctest: +SKIP
    0.97...
    """
    from ..calibrate import master_flat

    return night.memo("master_flat", lambda: np.asarray(
        master_flat(night.files("flat"), master_bias_of(night), progress=False).data))


def mask_of(night) -> np.ndarray:
    """The reference vignetting mask: the master flat below 0.8 of its central level.

    Examples
    --------
    >>> float(mask_of(night("data")).mean())  # doctest: +SKIP
    0.27...
    """
    from ..calibrate import vignetting_mask

    return night.memo("vignetting_mask", lambda: vignetting_mask(master_flat_of(night), 0.8))


@answers(LESSON, "flat_medians")
def flat_medians(night, flat_medians):
    """The median of every flat, in the order of flat_files.

    Examples
    --------
    >>> check("4.1", flat_medians=[np.median(read_frame(p)[0]) for p in flat_files])  # doctest: +SKIP
    ✔ Exercise 4.1: correct. Well done!
    """
    expected = night.memo("flat_medians", lambda: [float(np.median(night.frame(path)[0])) for path in night.files("flat")])
    name = "flat_medians"
    if is_blank(flat_medians):
        return [blank_part(name, expected)]
    try:
        values = [float(v) for v in flat_medians]
    except (TypeError, ValueError):
        return [Part(name, False, "flat_medians should be a list of numbers, one per flat.", expected)]
    if len(values) != len(expected):
        return [Part(name, False, f"flat_medians has {len(values)} values but there are {len(expected)} flats: "
                     "one median per file in flat_files.", expected)]
    wrong = [i for i, (v, e) in enumerate(zip(values, expected)) if abs(v - e) > 1e-4 * abs(e) + 1e-3]
    if wrong:
        return [Part(name, False, f"{len(wrong)} of the {len(values)} medians are off (the first is flat #{wrong[0]}): "
                     "take np.median of each whole raw flat, in the order of flat_files.", expected)]
    return [Part(name, True, reference=expected)]


def _names(value) -> set[str] | None:
    if value is None:
        return set()
    if isinstance(value, (str, Path)):
        return {Path(value).name}
    try:
        return {Path(v).name for v in value}
    except TypeError:
        return None


@answers(LESSON, "bad_flat")
def bad_flat(night, bad_flat):
    """The file name of the flat that cannot be used (None if all are fine).

    Examples
    --------
    >>> check("4.2", bad_flat="C0_20181013-124905-134.fits")  # doctest: +SKIP
    ✔ Exercise 4.2: correct. Well done!
    """
    table = screening_of(night)
    rejected = [str(row["name"]) for row in table if not row["used"]]
    reference = rejected[0] if len(rejected) == 1 else (rejected or None)
    if is_blank(bad_flat):
        return [blank_part("bad_flat", reference)]
    got = _names(bad_flat)
    if got is None:
        return [Part("bad_flat", False, "bad_flat should be a file name (text), e.g. Path(path).name.", reference)]
    if got == set(rejected):
        return [Part("bad_flat", True, reference=reference)]
    if not rejected:
        return [Part("bad_flat", False, "All flats look usable here: answer None.", reference)]
    return [Part("bad_flat", False, "Compare each flat's median with the others and with the camera's range: "
                 "which one is saturated (or far too faint)?", reference)]


@answers(LESSON, "master_flat")
def master_flat_check(night, master_flat):
    """The normalised master flat from the good flats.

    Examples
    --------
    >>> master_flat = check("4.3", master_flat=combined / np.median(combined[centre]))  # doctest: +SKIP
    ✔ Exercise 4.3: correct. Well done!
    """
    expected = master_flat_of(night)
    part = image("master_flat", master_flat, expected, rtol=2e-3, atol=1e-4, max_bad_fraction=1e-3,
                 hint="Subtract the master bias from each good flat, divide each by the median of its "
                      "central region, median-combine, then divide by the central median again.",
                 reference=expected)
    return [part]


@answers(LESSON, "vignetted")
def vignetted_mask(night, vignetted):
    """True where the master flat is below 0.8 (of its central level).

    Examples
    --------
    >>> vignetted = check("4.4", vignetted=master_flat < 0.8)  # doctest: +SKIP
    ✔ Exercise 4.4: correct. Well done!
    """
    expected = mask_of(night)
    return [boolean_mask("vignetted", vignetted, expected, max_bad_fraction=0.002,
                         hint="Compare the master flat with 0.8: `master_flat < 0.8` is True where it is vignetted.",
                         reference=expected)]

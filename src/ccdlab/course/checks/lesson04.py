"""Checks for lesson 04, the master flat: screening the flats, combining them, the vignetting mask."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ccdlab.course.checks import (
    Part,
    answers,
    blank_part,
    boolean_mask,
    image,
    is_blank,
)

LESSON = "04_master_flat"


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
    table = night.flat_screening()
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
    expected = night.master_flat()
    part = image("master_flat", master_flat, expected, rtol=2e-3, atol=1e-4, max_bad_fraction=1e-3,
                 hint="Look again at each step: which flats go in, what comes off each one first, how each is "
                      "brought to the same level, how they are combined, and the final level of the centre.",
                 reference=expected)
    if not part.ok and not part.blank:
        slip = _flat_slip(night, master_flat, expected)
        if slip:
            part.hint = slip
    return [part]


def _flat_by_hand(night, subtract_bias: bool, every_flat: bool) -> np.ndarray:
    """A master flat made by hand: optionally without the bias, or with the rejected flats too."""
    def compute():
        table = night.flat_screening()
        used = {str(row["name"]) for row in table if row["used"]}
        files = [path for path in night.files("flat") if every_flat or Path(path).name in used]
        bias = night.master_bias() if subtract_bias else 0.0
        normalised = []
        for path in files:
            frame = night.frame(path)[0].astype(np.float32) - bias
            ny, nx = frame.shape
            centre = np.s_[ny // 4:3 * ny // 4, nx // 4:3 * nx // 4]
            normalised.append(frame / np.median(frame[centre]))
        combined = np.median(np.stack(normalised), axis=0)
        return combined / np.median(combined[centre])

    return night.memo(("flat_by_hand", subtract_bias, every_flat), compute)


def _flat_slip(night, got, expected) -> str:
    """A specific hint when ``got`` looks like a master flat made with a common slip, else ''."""
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if array.shape != expected.shape:
        return ""

    def distance(other):
        both = np.isfinite(array) & np.isfinite(other)
        return float(np.median(np.abs(array[both] - other[both]))) if both.any() else math.inf

    slips = [("The vignetted corners are off by a few tenths of a per cent, as when the bias is still in the "
              "flats: what has to come off each flat before it is normalised?", _flat_by_hand(night, False, False))]
    if not all(night.flat_screening()["used"]):
        slips.append(("The flat you left out in Exercise 4.2 seems to be in this master: combine only the good "
                      "flats.", _flat_by_hand(night, True, True)))
    right = distance(expected)
    best = min(((distance(other), hint) for hint, other in slips), default=(math.inf, ""))
    return best[1] if best[0] < 0.5 * right else ""
@answers(LESSON, "vignetted")
def vignetted_mask(night, vignetted):
    """True where the master flat is below 0.8 (of its central level).

    Examples
    --------
    >>> vignetted = check("4.4", vignetted=master_flat < 0.8)  # doctest: +SKIP
    ✔ Exercise 4.4: correct. Well done!
    """
    expected = night.mask()
    return [boolean_mask("vignetted", vignetted, expected, max_bad_fraction=0.002,
                         hint="Which pixels of the master flat receive less than 80% of the light of its centre (1.0)?",
                         reference=expected)]

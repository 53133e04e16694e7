"""Checks for lesson 00, getting started: what a night of frames holds."""

from __future__ import annotations

from ccdlab.course.checks import Part, answers, blank_part, is_blank

LESSON = "00_getting_started"


def _count(name: str, got, expected: int, folder: str) -> Part:
    if is_blank(got):
        return blank_part(name, expected)
    if isinstance(got, bool) or not isinstance(got, int) and not hasattr(got, "__index__"):
        return Part(name, False, f"{name} should be a whole number (use len() of a list of files), not {type(got).__name__}.", expected)
    if int(got) == expected:
        return Part(name, True, reference=expected)
    return Part(name, False, f"{name} = {got} does not match the {folder}/ frames: count only FITS files, "
                f"and look at the frame_type column of the inventory.", expected)


@answers(LESSON, "n_bias", "n_flats", "n_science")
def frame_counts(night, n_bias, n_flats, n_science):
    """How many bias, flat and science frames the night holds.

    Examples
    --------
    >>> check("0.1", n_bias=5, n_flats=6, n_science=4)  # doctest: +SKIP
    ✔ Exercise 0.1: correct. Well done!
    """
    return [
        _count("n_bias", n_bias, len(night.files("bias")), "bias"),
        _count("n_flats", n_flats, len(night.files("flat")), "flats"),
        _count("n_science", n_science, len(night.files("science")), "science"),
    ]

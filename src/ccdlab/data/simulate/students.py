"""A night for each student: the same night, drawn from a seed of the student's own.

A student's night has the default night's structure, sizes and difficulty, but its own noise,
bias pattern, flat field, star field, cosmic rays, dithers, flat levels, and another flat is the
unusable one. It is a pure function of the course's seed and the student's name
(:func:`student_seed`), so the grader can make it again, and a classmate's numbers fail on it.

Examples
--------
>>> student_seed("Ada Lovelace") == student_seed("  ada   lovelace ")
True
>>> student_seed("Ada Lovelace") != student_seed("Grace Hopper")
True
"""

from __future__ import annotations

import hashlib
import re

from ccdlab.data.simulate.night import DEFAULT_SEED
from ccdlab.errors import InputError

__all__ = ["normalise_name", "student_seed"]


def normalise_name(name: str) -> str:
    """A student's name as it seeds the night: case, accents kept, spaces and outer punctuation folded.

    Examples
    --------
    >>> normalise_name("  Ada   LOVELACE_ ")
    'ada lovelace'
    """
    text = re.sub(r"[\s_]+", " ", str(name)).strip(" ._-").casefold()
    if not text:
        raise InputError("A student's night needs a name: give yours as you write it on your notebooks.")
    return text


def student_seed(name: str, course_seed: int = DEFAULT_SEED) -> int:
    """The seed of a student's night: from the course's seed and the student's name, never the default's.

    Examples
    --------
    >>> 0 <= student_seed("Ada") < 2**31
    True
    """
    digest = hashlib.sha256(f"{int(course_seed)}:{normalise_name(name)}".encode("utf-8")).hexdigest()
    seed = int(digest[:15], 16) % (2**31)
    return seed if seed != DEFAULT_SEED else seed + 1

"""The registry of checks: which function checks which answers of which lesson.

A lesson module registers one function per exercise with :func:`answers`, naming the answers it
takes (the keyword names a student passes to :func:`ccdlab.course.exercises.check`). Exercise IDs
and points are *not* written here: they live only in the solution notebooks' markers. A check
function receives the :class:`ccdlab.course.checks.nights.Night` in use and the student's answers,
and returns one :class:`Part` per answer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from ccdlab.errors import InputError

__all__ = ["LESSONS", "NO_REFERENCE", "Part", "CheckSpec", "answers", "checks_for", "find_check"]

#: The lessons, in teaching order; each has a module ``ccdlab.course.checks.lessonNN``.
LESSONS = (
    "00_getting_started",
    "01_fits_files",
    "02_statistics_display",
    "03_master_bias",
    "04_master_flat",
    "05_calibration",
    "06_cosmic_rays",
    "07_stacking",
    "09_photometry",
)


class _NoReference:
    def __repr__(self) -> str:
        return "NO_REFERENCE"


#: Marks a part that has no reference value to hand back (the student's value is returned).
NO_REFERENCE = _NoReference()


@dataclass
class Part:
    """The verdict on one answer.

    Parameters
    ----------
    name : str
        The answer's keyword name, e.g. ``"x_len"``.
    ok : bool
        True when the answer is right.
    hint : str
        What to look at when it is not (never the answer itself).
    reference : object
        The value later cells can use instead of a wrong or blank answer, or
        :data:`NO_REFERENCE`.
    blank : bool
        True when the student has not filled this answer in yet (``...``).

    Examples
    --------
    >>> Part("x_len", True).ok
    True
    """

    name: str
    ok: bool
    hint: str = ""
    reference: Any = NO_REFERENCE
    blank: bool = False


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: the lesson, the answer names it takes, and the function.

    Examples
    --------
    >>> spec = CheckSpec("01_fits_files", ("x_len", "y_len"), lambda night, **a: [])
    >>> spec.names
    ('x_len', 'y_len')
    """

    lesson: str
    names: tuple[str, ...]
    function: Callable = field(compare=False)
    title: str = ""


_REGISTRY: dict[str, list[CheckSpec]] = {}


def answers(lesson: str, *names: str):
    """Register a check function for the answers ``names`` of ``lesson`` (a decorator).

    Parameters
    ----------
    lesson : str
        One of :data:`LESSONS`.
    *names : str
        The keyword names a student passes to ``check``; together they identify the check
        within the lesson, so they must be unique there.

    Examples
    --------
    >>> _ = checks_for("00_getting_started")  # the lesson's own checks, loaded first
    >>> @answers("00_getting_started", "demo_answer")
    ... def demo(night, demo_answer):
    ...     return [Part("demo_answer", demo_answer == 42, "Count again.")]
    >>> spec = find_check("00_getting_started", ["demo_answer"])
    >>> spec.title
    'demo'
    >>> _REGISTRY["00_getting_started"].remove(spec)   # (forget the demo again)
    """
    if lesson not in LESSONS:
        raise InputError(f"Unknown lesson {lesson!r}: use one of {', '.join(LESSONS)}.")
    if not names:
        raise InputError("A check needs at least one answer name.")

    def register(function):
        spec = CheckSpec(lesson, tuple(names), function, function.__name__)
        for other in _REGISTRY.get(lesson, []):
            if set(other.names) == set(spec.names):
                raise InputError(f"Lesson {lesson} already has a check for the answers {other.names}.")
        _REGISTRY.setdefault(lesson, []).append(spec)
        return function

    return register


def _load(lesson: str) -> None:
    number = lesson.split("_", 1)[0]
    importlib.import_module(f"ccdlab.course.checks.lesson{number}")  # registers its checks once
    _REGISTRY.setdefault(lesson, [])


def checks_for(lesson: str) -> list[CheckSpec]:
    """Return the checks registered for a lesson (its module is imported on first use).

    Examples
    --------
    >>> [spec.names for spec in checks_for("01_fits_files")][0]
    ('x_len', 'y_len')
    """
    if lesson not in LESSONS:
        raise InputError(f"Unknown lesson {lesson!r}: use one of {', '.join(LESSONS)}.")
    _load(lesson)
    return list(_REGISTRY[lesson])


def find_check(lesson: str | None, names) -> CheckSpec | None:
    """Find the check taking exactly the answers ``names``, in ``lesson`` or, if None, anywhere.

    Returns None when no check (or, without a lesson, more than one) matches.

    Examples
    --------
    >>> find_check("01_fits_files", ["y_len", "x_len"]).title
    'image_size'
    >>> find_check("01_fits_files", ["nonsense"]) is None
    True
    """
    wanted = set(names)
    lessons = [lesson] if lesson else list(LESSONS)
    found = [spec for name in lessons for spec in checks_for(name) if set(spec.names) == wanted]
    return found[0] if len(found) == 1 else None

"""The logic behind the notebook checks: one module per lesson, and the tools they share.

A lesson module registers one function per exercise with :func:`answers`, naming the answers it
takes (the keyword names a student passes to :func:`ccdlab.course.exercises.check`). Exercise IDs and
points are *not* written here: they live only in the solution notebooks' markers, and the ID a
notebook passes to ``check`` is only used to label the result. A check function receives the
:class:`Night` in use and the student's answers, and returns one :class:`Part` per answer: whether
it is right, a hint when not (what to look at, never the answer) and, when later cells need the
value, a reference to hand back instead.

Expected values are always computed from the data in use (:class:`Night`), with the package's own
functions, so the checks work on the tiny, workshop and full datasets and on a real night.
"""

from ccdlab.course.checks.compare import (
    blank_part,
    boolean_mask,
    image,
    is_blank,
    number,
    text,
)
from ccdlab.course.checks.nights import Night, forget_nights, night
from ccdlab.course.checks.registry import (
    LESSONS,
    NO_REFERENCE,
    CheckSpec,
    FramesToWrite,
    Part,
    answers,
    checks_for,
    find_check,
)

__all__ = [
    "LESSONS", "NO_REFERENCE", "Part", "FramesToWrite", "CheckSpec", "answers", "checks_for", "find_check",
    "is_blank", "blank_part", "number", "text", "image", "boolean_mask", "Night", "night", "forget_nights",
]

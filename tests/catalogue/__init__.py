"""The answer catalogue: for every exercise, ways of answering it that must get ✔ and mistakes that must get ✘.

Each lesson has a module ``lessonNN.py`` holding ``CASES``: ``{exercise id: [Answer, ...]}``. An
:class:`Answer` builds the answers (by the names the exercise's check line passes) from a
:class:`Context`, the tiny night a student would work on, and says what the real check must
conclude: ``ok=True`` for the solution and every valid alternative (another method, dtype or
container), ``ok=False`` for a typical mistake, with ``hint`` a phrase the feedback must contain
(so a mistake gets the hint about *that* mistake, not a generic one).

The rule (``tests/test_answer_catalogue.py``): every exercise has the solution, at least three valid
alternatives and at least five mistakes, and each one is run through the check the grader uses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

MIN_VALID = 3      # valid alternatives besides the solution
MIN_MISTAKES = 5


@dataclass
class Answer:
    """One way of answering an exercise, and the verdict it must get.

    Parameters
    ----------
    label : str
        What this answer is, e.g. ``"np.nanmedian"`` or ``"the mean instead of the median"``.
    make : callable
        ``make(context) -> {answer name: value}``.
    ok : bool
        True when it must get ✔ (the solution or a valid alternative), False for a mistake.
    hint : str
        For a mistake: a phrase (case-insensitive) its feedback must contain.
    solution : bool
        True for the solution notebook's own answer (one per exercise).
    """

    label: str
    make: Callable
    ok: bool
    hint: str = ""
    solution: bool = False


def solution(label, make):
    return Answer(label, make, True, solution=True)


def valid(label, make):
    return Answer(label, make, True)


def mistake(label, make, hint):
    return Answer(label, make, False, hint=hint)


class Context:
    """The data a student has at hand in the notebooks, on one night (read lazily, kept).

    Examples
    --------
    >>> context = Context(night_dir)  # doctest: +SKIP
    >>> len(context.bias_files)  # doctest: +SKIP
    5
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)

    @functools.cached_property
    def night(self):
        from ccdlab.course.checks import Night

        return Night(self.data_dir)

    @functools.cached_property
    def table(self):
        from ccdlab.inventory import scan

        return scan(self.data_dir, warn=False)

    def files(self, kind: str) -> list[str]:
        from ccdlab.inventory import frames_of_type

        return frames_of_type(self.table, kind)

    @property
    def bias_files(self):
        return self.files("bias")

    @property
    def flat_files(self):
        return self.files("flat")

    @property
    def science_files(self):
        return self.files("science")

    def frame(self, path):
        from ccdlab.io import read_frame

        return read_frame(path)

    @functools.cached_property
    def bias_frames(self) -> list:
        return [self.frame(path)[0] for path in self.bias_files]

    @functools.cached_property
    def bias_header(self):
        return self.frame(self.bias_files[0])[1]


def all_cases() -> dict:
    """``{lesson: {exercise id: [Answer, ...]}}`` of every catalogue module."""
    import importlib
    import pkgutil

    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("lesson"):
            module = importlib.import_module(f"catalogue.{info.name}")
            found[module.LESSON] = module.CASES
    return found

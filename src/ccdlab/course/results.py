"""Exercise results: what a check records, and how the grader reads it back.

A check in a notebook (see :mod:`ccdlab.course.exercises`) records one :class:`ExerciseResult` per call.
Results are kept in memory for the notebook, and, when the environment variable ``CCDLAB_RESULTS``
names a file (the grader sets it), appended to that file as one JSON object per line. The grader
reads the file after the notebook ran (:func:`read_results`), so grades never come from printed
text. Points are not recorded here: they are defined once, by the markers in the solution
notebooks (:mod:`ccdlab.course.markers`); a result carries a score from 0 to 1.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ccdlab.errors import InputError

__all__ = ["RESULTS_ENV", "STATUSES", "ExerciseResult", "record", "recorded", "clear", "read_results"]

#: Environment variable naming the JSON-lines file that checks append their results to.
RESULTS_ENV = "CCDLAB_RESULTS"

#: What a check can conclude.
STATUSES = ("correct", "partial", "incorrect", "not attempted", "error")

_RECORDED: list["ExerciseResult"] = []


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one check.

    Parameters
    ----------
    exercise : str
        The exercise ID from the solution notebook's marker, e.g. ``"1.2"``.
    status : str
        One of :data:`STATUSES`.
    score : float
        Fraction of the exercise's points earned, from 0 to 1.
    hint : str
        The feedback shown to the student (empty when correct).
    lesson : str
        The lesson (notebook) the exercise belongs to, e.g. ``"01_fits_files"``; may be empty.

    Examples
    --------
    >>> ExerciseResult("1.2", "correct", 1.0).status
    'correct'
    """

    exercise: str
    status: str
    score: float
    hint: str = ""
    lesson: str = ""
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise InputError(f"Unknown status {self.status!r}: use one of {', '.join(STATUSES)}.")
        if not 0.0 <= float(self.score) <= 1.0:
            raise InputError(f"A score is a fraction from 0 to 1; got {self.score!r}.")


def record(result: ExerciseResult) -> ExerciseResult:
    """Keep a result in memory and, when ``CCDLAB_RESULTS`` is set, append it to that file.

    Examples
    --------
    >>> r = record(ExerciseResult("0.1", "not attempted", 0.0, "Fill in the blank."))
    >>> recorded()[-1] == r
    True
    """
    _RECORDED.append(result)
    target = os.environ.get(RESULTS_ENV)
    if target:
        line = json.dumps(asdict(result), sort_keys=True, default=str)
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    return result


def recorded() -> list[ExerciseResult]:
    """Return the results recorded in this Python process, oldest first.

    Examples
    --------
    >>> isinstance(recorded(), list)
    True
    """
    return list(_RECORDED)


def clear() -> None:
    """Forget the results recorded in this process (the file, if any, is left alone).

    Examples
    --------
    >>> clear(); recorded()
    []
    """
    _RECORDED.clear()


def read_results(path: str | os.PathLike) -> dict[str, ExerciseResult]:
    """Read a results file; the last result of each exercise wins.

    Lines that are not valid results (truncated, tampered, unknown status) are skipped.

    Parameters
    ----------
    path : str or path-like
        A JSON-lines file written by :func:`record`. A missing file means no results.

    Returns
    -------
    dict
        ``{exercise_id: ExerciseResult}``.

    Examples
    --------
    >>> read_results("no-such-file.jsonl")
    {}
    """
    path = Path(path)
    results: dict[str, ExerciseResult] = {}
    if not path.is_file():
        return results
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            result = ExerciseResult(
                exercise=str(data["exercise"]), status=str(data["status"]), score=float(data["score"]),
                hint=str(data.get("hint", "")), lesson=str(data.get("lesson", "")),
                details=dict(data.get("details") or {}),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        results[result.exercise] = result
    return results

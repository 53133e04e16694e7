"""The checks students call in the notebooks: immediate, kind, specific feedback.

In a notebook::

    from ccdlab.course.exercises import check
    x_len, y_len = check("1.1", x_len=x_len, y_len=y_len)

A check

- prints ✔ when the answers are right, or ✘ with a hint about what to look at (never the answer),
  or "not attempted yet" while an answer is still the blank ``...``;
- computes what it expects from the data in use (:func:`ccdlab.paths.find_data_dir`), with the
  package's own functions, so it works on any dataset;
- returns the answers so that later cells can use them: the student's own when right, otherwise a
  reference value, clearly announced, which earns no points;
- records an :class:`ccdlab.course.results.ExerciseResult` (for the grader) labelled with the exercise ID
  given and the lesson set by the notebook's setup cell (:func:`set_lesson`).

Which check runs is decided by the lesson and the *names* of the answers; exercise IDs and points
live only in the solution notebooks' markers.
"""

from __future__ import annotations

import sys

from ccdlab.course import results
from ccdlab.course.checks import (
    LESSONS,
    NO_REFERENCE,
    CheckSpec,
    checks_for,
    find_check,
    night,
)
from ccdlab.errors import InputError

__all__ = ["Answers", "check", "set_lesson", "current_lesson", "progress", "summary"]

_STATE = {"lesson": None}

MARK_OK, MARK_WRONG, MARK_BLANK, MARK_ERROR = "✔", "✘", "…", "⚠"


class Answers(tuple):
    """The answers a check hands back, in the order given; shows nothing when left bare in a cell.

    Examples
    --------
    >>> x, y = Answers((4096, 4108))
    >>> x
    4096
    """

    def _ipython_display_(self):  # a bare check(...) in a cell prints only its feedback
        return None


def set_lesson(lesson: str | None) -> None:
    """Say which lesson the notebook is (done by the setup cell); None forgets it.

    Examples
    --------
    >>> set_lesson("01_fits_files"); current_lesson()
    '01_fits_files'
    >>> set_lesson(None)
    """
    if lesson is not None and lesson not in LESSONS:
        raise InputError(f"Unknown lesson {lesson!r}: use one of {', '.join(LESSONS)}.")
    _STATE["lesson"] = lesson


def current_lesson() -> str | None:
    """Return the lesson set by the setup cell, or None.

    Examples
    --------
    >>> set_lesson(None); current_lesson() is None
    True
    """
    return _STATE["lesson"]


def _say(text: str) -> None:
    print(text)
    sys.stdout.flush()


def _hand_back(values: list, single: bool):
    return values[0] if single else Answers(values)


def _record(exercise: str, status: str, score: float, hint: str, lesson: str, details: dict | None = None):
    return results.record(results.ExerciseResult(
        exercise=exercise, status=status, score=round(float(score), 4), hint=hint, lesson=lesson or "",
        details=details or {},
    ))


def _no_such_check(exercise: str, names: list[str], lesson: str | None) -> str:
    where = f"lesson {lesson}" if lesson else "any lesson"
    given = ", ".join(names) or "no answers"
    if lesson:
        known = "; ".join("(" + ", ".join(spec.names) + ")" for spec in checks_for(lesson))
        return (f"Exercise {exercise}: no check in {where} takes the answers ({given}). "
                f"Keep the names the exercise cell gives; the checks here take: {known}.")
    return (f"Exercise {exercise}: no single check matches the answers ({given}). Run the notebook's "
            "first cell (the setup cell) so the check knows which lesson this is.")


def check(exercise: str, **answers):
    """Check a student's answers to one exercise, print feedback, record the result.

    Parameters
    ----------
    exercise : str
        The exercise ID shown in the cell's marker, e.g. ``"1.1"``.
    **answers
        The answers, by the names the exercise cell uses, e.g. ``x_len=x_len, y_len=y_len``.
        ``...`` means not attempted yet.

    Returns
    -------
    object or Answers
        With one answer, that answer; with several, a tuple of them in the order given. Each is
        the student's value when right, else the reference value (announced; no points), so
        later cells can go on.

    Examples
    --------
    >>> set_lesson("01_fits_files")
    >>> x_len, y_len = check("1.1", x_len=..., y_len=...)   # doctest: +SKIP
    … Exercise 1.1: not attempted yet. Replace each `...` with your answer and run the cell again.
    """
    names = list(answers)
    values = [answers[name] for name in names]
    single = len(names) == 1
    if not isinstance(exercise, str) or not exercise.strip():
        _say(f"{MARK_ERROR} check() needs the exercise ID first, as text: check(\"1.1\", x_len=x_len).")
        return _hand_back(values, single) if names else None
    lesson = current_lesson()
    if not names:
        _say(f"{MARK_ERROR} Exercise {exercise}: give your answers by name, e.g. check(\"{exercise}\", answer=answer).")
        _record(exercise, "error", 0.0, "no answers given", lesson)
        return None
    spec: CheckSpec | None = find_check(lesson, names)
    if spec is None:
        message = _no_such_check(exercise, names, lesson)
        _say(f"{MARK_ERROR} {message}")
        _record(exercise, "error", 0.0, message, lesson)
        return _hand_back(values, single)
    lesson = spec.lesson
    try:
        parts = spec.function(night(), **answers)
    except Exception as exc:  # the data is missing or unreadable: say so, keep the notebook going
        message = f"Exercise {exercise} could not be checked: {exc}"
        _say(f"{MARK_ERROR} {message}")
        _record(exercise, "error", 0.0, str(exc), lesson)
        return _hand_back(values, single)
    by_name = {part.name: part for part in parts}
    right = [p for p in parts if p.ok]
    blank = [p for p in parts if p.blank]
    score = len(right) / len(parts) if parts else 0.0
    if len(blank) == len(parts):
        status = "not attempted"
    elif len(right) == len(parts):
        status = "correct"
    elif right:
        status = "partial"
    else:
        status = "incorrect"

    handed, replaced = [], []
    for name, value in zip(names, values):
        part = by_name.get(name)
        if part is None or part.ok or part.reference is NO_REFERENCE:
            handed.append(value)
        else:
            handed.append(part.reference)
            replaced.append(name)

    hints = list(dict.fromkeys(p.hint for p in parts if not p.ok and p.hint and not p.blank))
    if status == "correct":
        _say(f"{MARK_OK} Exercise {exercise}: correct. Well done!")
    elif status == "not attempted":
        _say(f"{MARK_BLANK} Exercise {exercise}: not attempted yet. Replace each `...` with your answer and run the cell again.")
    else:
        counted = f" ({len(right)} of {len(parts)} right)" if len(parts) > 1 else ""
        _say(f"{MARK_WRONG} Exercise {exercise}: not yet{counted}.")
        shown = []
        for p in parts:
            if not p.ok and p.hint and p.hint not in shown:
                shown.append(p.hint)
                _say(f"   - {p.hint}")
    if replaced:
        listed = ", ".join(replaced)
        _say(f"   → Using the reference value for {listed} so the rest of the notebook can run "
             "(reference values earn no points).")
    hint = " ".join(hints) if hints else ("" if status == "correct" else "not attempted yet" if status == "not attempted" else "")
    _record(exercise, status, score, hint, lesson,
            {"parts": {p.name: ("blank" if p.blank else "right" if p.ok else "wrong") for p in parts}})
    return _hand_back(handed, single)


def progress(lesson: str | None = None) -> list[results.ExerciseResult]:
    """Return this session's latest result per exercise, for a lesson (default: the current one).

    Examples
    --------
    >>> isinstance(progress(), list)
    True
    """
    lesson = lesson or current_lesson()
    latest: dict[str, results.ExerciseResult] = {}
    for result in results.recorded():
        if lesson is None or result.lesson == lesson:
            latest[result.exercise] = result
    return list(latest.values())


def summary(lesson: str | None = None) -> None:
    """Print this session's results, one line per exercise checked.

    Examples
    --------
    >>> summary("00_getting_started")  # doctest: +SKIP
    Your progress in 00_getting_started:
      ✔ 0.1  correct
    """
    lesson = lesson or current_lesson()
    found = progress(lesson)
    title = f"Your progress in {lesson}" if lesson else "Your progress"
    if not found:
        _say(f"{title}: no exercise checked yet.")
        return
    marks = {"correct": MARK_OK, "partial": MARK_WRONG, "incorrect": MARK_WRONG,
             "not attempted": MARK_BLANK, "error": MARK_ERROR}
    lines = [f"{title}:"]
    lines += [f"  {marks[result.status]} {result.exercise:<5} {result.status}" for result in found]
    done = sum(r.status == "correct" for r in found)
    lines.append(f"  {done} of {len(found)} exercises correct.")
    _say("\n".join(lines))

"""The checks students call in the notebooks: immediate, kind, specific feedback.

In a notebook::

    from ccdlab.course.exercises import check
    x_len, y_len = check("1.1", x_len=x_len, y_len=y_len)

A check

- shows ✔ when the answers are right, or ✘ with a hint about what to look at (never the answer),
  or "not attempted yet" while an answer is still the blank ``...`` (:mod:`ccdlab.course.feedback`);
- judges the answers against the data in use, with the package's own functions
  (:func:`ccdlab.course.judge.judge`), so it works on any dataset;
- returns the answers so that later cells can use them: the student's own when right, otherwise a
  reference value, clearly labelled, which earns no points;
- records an :class:`ccdlab.course.results.ExerciseResult` for :func:`progress` and :func:`summary`.

**Graded runs.** When the grader runs a notebook, the kernel does not judge itself: ``check``
writes the answers into the grader's folder (``CCDLAB_GRADER_OUTBOX``) and waits for the grader's
verdict and the values to hand back (``CCDLAB_GRADER_INBOX``). The grader judges them outside the
kernel, against its own copy of the data (:mod:`ccdlab.classroom.grading`).

**One error does not cost the rest of the lesson.** :func:`ccdlab.course.setup.start` registers
:func:`after_cell` with IPython: when an exercise's cell raises before its check ran, the check
runs anyway, marks the exercise as raised, and binds the reference values to the answer names,
so the next exercises run and are judged on their own merits. :func:`summary` names such cells.

Which check runs is decided by the lesson and the *names* of the answers; exercise IDs and points
live only in the solution notebooks' markers.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

from ccdlab.course import results
from ccdlab.course.feedback import MARKS, show
from ccdlab.errors import InputError

__all__ = ["Answers", "OUTBOX_ENV", "INBOX_ENV", "check", "set_lesson", "current_lesson", "progress", "summary",
           "after_cell", "said"]

#: Environment variables naming the grader's folders in a graded run.
OUTBOX_ENV, INBOX_ENV = "CCDLAB_GRADER_OUTBOX", "CCDLAB_GRADER_INBOX"

_STATE = {"lesson": None, "in_cell": set(), "raised": {}}
_SEQUENCE = itertools.count(1)


class Answers(tuple):
    """The answers a check hands back, in the order given; shows nothing when left bare in a cell.

    Examples
    --------
    >>> x, y = Answers((4096, 4108))
    >>> x
    4096
    """

    def _ipython_display_(self):  # a bare check(...) in a cell shows only its feedback
        return None


def set_lesson(lesson: str | None) -> None:
    """Say which lesson the notebook is (done by the setup cell); None forgets it.

    Examples
    --------
    >>> set_lesson("01_fits_files"); current_lesson()
    '01_fits_files'
    >>> set_lesson(None)
    """
    if lesson is not None:
        from ccdlab.course.lessons import LESSONS

        if lesson not in LESSONS:
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


def _graded() -> tuple[Path, Path] | None:
    outbox, inbox = os.environ.get(OUTBOX_ENV), os.environ.get(INBOX_ENV)
    return (Path(outbox), Path(inbox)) if outbox and inbox else None


def _judge_here(exercise: str, answers: dict, raised: str = ""):
    """Judge in this kernel, on the data in use; file references are written into reduced/reference/."""
    from ccdlab.course.checks.nights import night
    from ccdlab.course.checks.registry import FramesToWrite
    from ccdlab.course.judge import judge

    the_night = None
    try:
        the_night = night()
    except Exception as exc:  # noqa: BLE001 - no data: the verdict says so
        from ccdlab.course.judge import Verdict

        return Verdict(exercise, current_lesson() or "", "error", 0.0, message=f"Exercise {exercise} could not be "
                       f"checked: {exc}", handback=dict(answers)), ""
    verdict = judge(current_lesson(), exercise, answers, the_night, raised=raised)
    for name, value in verdict.handback.items():
        if isinstance(value, FramesToWrite):
            verdict.handback[name] = value.write(the_night.outputs_dir / "reference")
    return verdict, ""


def _judge_by_grader(exercise: str, answers: dict, folders, raised: str = ""):
    """Submit the answers to the grader and wait for its verdict (a graded run)."""
    from ccdlab.course.answers import read_reply, write_answers
    from ccdlab.course.judge import Verdict

    outbox, inbox = folders
    seq = f"{os.getpid()}-{next(_SEQUENCE)}"
    meta = {"exercise": exercise, "lesson": current_lesson() or "", "raised": raised}
    try:
        write_answers(outbox, seq, meta, answers)
    except Exception as exc:  # noqa: BLE001 - the submission failed: say so, keep the notebook going
        return Verdict(exercise, current_lesson() or "", "error", 0.0, handback=dict(answers),
                       message=f"Exercise {exercise}: the answers could not be handed to the grader ({exc})."), ""
    delay = 0.01
    while True:
        reply = read_reply(inbox, seq)
        if reply is not None:
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)
    verdict = Verdict(exercise, str(reply.get("lesson", "")), str(reply.get("status", "error")),
                      float(reply.get("score", 0.0)), parts=dict(reply.get("parts") or {}),
                      hints=list(reply.get("hints") or []), handback=dict(reply.get("handback") or {}),
                      references=list(reply.get("references") or []), message=str(reply.get("message", "")))
    for name in answers:
        verdict.handback.setdefault(name, answers[name])
    return verdict, str(reply.get("note", ""))


def _run(exercise: str, answers: dict, raised: str = ""):
    _STATE["in_cell"].add(exercise)
    folders = _graded()
    verdict, note = (_judge_by_grader(exercise, answers, folders, raised) if folders
                     else _judge_here(exercise, answers, raised))
    show(verdict, note)
    results.record(results.ExerciseResult(
        exercise=exercise, status=verdict.status, score=round(float(verdict.score), 4), hint=verdict.hint,
        lesson=verdict.lesson or current_lesson() or "", details={"parts": verdict.parts, "raised": raised},
    ))
    if raised:
        _STATE["raised"][exercise] = raised
    else:
        _STATE["raised"].pop(exercise, None)
    return verdict


def check(exercise: str, **answers):
    """Check a student's answers to one exercise, show feedback, record the result.

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
        the student's value when right, else the reference value (labelled; no points), so
        later cells can go on.

    Examples
    --------
    >>> set_lesson("01_fits_files")
    >>> x_len, y_len = check("1.1", x_len=..., y_len=...)   # doctest: +SKIP
    … Exercise 1.1: not attempted yet. Replace each `...` with your answer and run the cell again.
    """
    names = list(answers)
    values = [answers[name] for name in names]
    if not isinstance(exercise, str) or not exercise.strip():
        print(f"{MARKS['error']} check() needs the exercise ID first, as text: check(\"1.1\", x_len=x_len).")
        return (values[0] if len(values) == 1 else Answers(values)) if names else None
    verdict = _run(exercise, answers)
    if not names:
        return None
    handed = [verdict.handback.get(name, answers[name]) for name in names]
    return handed[0] if len(handed) == 1 else Answers(handed)


def said(exercise: str) -> bool:
    """True when the student's own answer to ``exercise`` is in use (it was judged correct).

    Lines after a check that print an answer use it, so that a blank or a reference never shows
    as the student's result: ``if said("1.1"): print(...)``.

    Examples
    --------
    >>> said("9.9")
    False
    """
    found = {result.exercise: result for result in results.recorded()}
    return exercise in found and found[exercise].status == "correct"


def after_cell(result) -> None:
    """IPython's ``post_run_cell`` hook: when an exercise's cell raised before its check ran, run
    the check anyway (marked as raised) and bind the references, so the notebook goes on.

    Parameters
    ----------
    result : IPython.core.interactiveshell.ExecutionResult
        What the cell did (its source and its error).

    Examples
    --------
    >>> after_cell(None)  # nothing to do outside IPython
    """
    checked, _STATE["in_cell"] = _STATE["in_cell"], set()
    error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
    if result is None or error is None:
        return
    from ccdlab.course.markers import check_answers

    source = getattr(getattr(result, "info", None), "raw_cell", "") or ""
    missed = {exercise: names for exercise, names in check_answers(source).items() if exercise not in checked}
    if not missed:
        return
    from IPython import get_ipython

    shell = get_ipython()
    raised = f"{type(error).__name__}: {error}"[:300]
    for exercise, names in missed.items():
        answers = {name: shell.user_ns.get(name, Ellipsis) if shell else Ellipsis for name in sorted(names)}
        verdict = _run(exercise, answers, raised=raised)
        if shell is not None:
            for name in names:
                shell.user_ns[name] = verdict.handback.get(name, Ellipsis)
        print(f"   → The notebook goes on with {'reference values' if verdict.references else 'blanks'} for "
              f"{', '.join(sorted(names))}; fix the cell and run it again for your own answer.")
        sys.stdout.flush()


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
    """Print this session's results, one line per exercise checked, naming the cells that raised.

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
        print(f"{title}: no exercise checked yet. Run the exercise cells (from the top) first.")
        return
    lines = [f"{title}:"]
    for result in found:
        raised = (result.details or {}).get("raised")
        status = f"its cell raised {raised}" if raised else result.status
        lines.append(f"  {MARKS[result.status]} {result.exercise:<5} {status}")
    done = sum(r.status == "correct" for r in found)
    lines.append(f"  {done} of {len(found)} exercises correct.")
    raised = [r.exercise for r in found if (r.details or {}).get("raised")]
    if raised:
        lines.append(f"  Fix the cell{'s' if len(raised) > 1 else ''} of exercise{'s' if len(raised) > 1 else ''} "
                     f"{', '.join(raised)} and run {'them' if len(raised) > 1 else 'it'} again.")
    print("\n".join(lines))

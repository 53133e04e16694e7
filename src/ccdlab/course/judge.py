"""From a student's answers to a verdict: which check, its parts, the status, what to hand back.

(The checks are imported only by :func:`judge`: a graded kernel, which never judges, does not have them.)

The same function judges in the student's kernel (immediate feedback while they work) and in the
grader, outside the kernel, against the grader's own data (:mod:`ccdlab.classroom.grading`), so
the feedback a student reads and the grade an instructor gets can never disagree.

Examples
--------
>>> verdict = Verdict("1.1", "01_fits_files", "not attempted", 0.0)
>>> verdict.points_of(2.0)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STATUSES", "Verdict", "judge", "status_of"]

#: What a verdict can conclude.
STATUSES = ("correct", "partial", "incorrect", "not attempted", "error")


@dataclass
class Verdict:
    """What a check concluded about one exercise, and what the notebook gets back.

    Parameters
    ----------
    exercise, lesson : str
        The exercise ID and the lesson.
    status : str
        One of :data:`STATUSES`.
    score : float
        The fraction of the exercise's points earned, 0 to 1.
    parts : dict
        ``{answer name: "right" | "wrong" | "blank"}``.
    hints : list of str
        What to look at, one per distinct problem (never the answer).
    handback : dict
        ``{answer name: value}``: the student's own value when right, otherwise the reference
        (or the student's value when there is none).
    references : list of str
        The names whose handed-back value is a reference, not the student's.
    message : str
        For ``error``: what went wrong (the cell raised, no check takes these answers...).
    """

    exercise: str
    lesson: str
    status: str
    score: float
    parts: dict = field(default_factory=dict)
    hints: list = field(default_factory=list)
    handback: dict = field(default_factory=dict)
    references: list = field(default_factory=list)
    message: str = ""

    @property
    def hint(self) -> str:
        """All hints (or the error message) as one text, for results and grade reports.

        Examples
        --------
        >>> Verdict("1.1", "l", "incorrect", 0.0, hints=["Look at NAXIS1.", "And NAXIS2."]).hint
        'Look at NAXIS1. And NAXIS2.'
        """
        if self.status == "error":
            return self.message
        return " ".join(self.hints) if self.hints else ("not attempted yet" if self.status == "not attempted" else "")

    def points_of(self, points: float) -> float:
        """The points earned out of ``points``.

        Examples
        --------
        >>> Verdict("1.1", "l", "partial", 0.5).points_of(3)
        1.5
        """
        return round(float(self.score) * float(points), 4)


def status_of(parts) -> tuple[str, float]:
    """``(status, score)`` from the parts of a check: all right, some, none, or all blank.

    Examples
    --------
    >>> from ccdlab.course.checks import Part
    >>> status_of([Part("a", True), Part("b", False)])
    ('partial', 0.5)
    """
    if not parts:
        return "error", 0.0
    right = sum(1 for p in parts if p.ok)
    if all(p.blank for p in parts):
        return "not attempted", 0.0
    if right == len(parts):
        return "correct", 1.0
    return ("partial" if right else "incorrect"), round(right / len(parts), 4)


def _no_check(exercise: str, names: list, lesson: str | None) -> str:
    from ccdlab.course.checks.registry import checks_for

    given = ", ".join(names) or "no answers"
    if lesson:
        known = "; ".join("(" + ", ".join(spec.names) + ")" for spec in checks_for(lesson))
        return (f"Exercise {exercise}: no check in lesson {lesson} takes the answers ({given}). "
                f"Keep the names the exercise cell gives; the checks here take: {known}.")
    return (f"Exercise {exercise}: no single check matches the answers ({given}). Run the notebook's "
            "first cell (the setup cell) so the check knows which lesson this is.")


def judge(lesson: str | None, exercise: str, answers: dict, night, raised: str = "") -> Verdict:
    """Judge a student's answers to one exercise on a night.

    Parameters
    ----------
    lesson : str or None
        The lesson set by the notebook's setup cell (None: found from the answers' names).
    exercise : str
        The exercise ID the check line gives (labels the verdict).
    answers : dict
        ``{name: value}`` as the check line passes them; ``...`` is a blank.
    night : ccdlab.course.checks.Night
        The data the answers are judged on.
    raised : str
        When the exercise's own cell raised before its check ran: the error (``"TypeError: ..."``).
        The verdict is then ``error`` and hands back the references, so the notebook goes on.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> judge("01_fits_files", "1.1", {"nonsense": 1}, None).status
    'error'
    """
    from ccdlab.course.checks.registry import (  # the grader's side, or a student's own kernel
        NO_REFERENCE,
        find_check,
    )

    names = list(answers)
    if not names:
        return Verdict(exercise, lesson or "", "error", 0.0,
                       message=f"Exercise {exercise}: give your answers by name, e.g. check(\"{exercise}\", answer=answer).")
    spec = find_check(lesson, names)
    if spec is None:
        return Verdict(exercise, lesson or "", "error", 0.0, message=_no_check(exercise, names, lesson),
                       handback=dict(answers))
    if raised:
        answers = {name: Ellipsis for name in names}
    try:
        parts = spec.function(night, **answers)
    except Exception as exc:  # noqa: BLE001 - the data is missing or unreadable: say so, keep the notebook going
        return Verdict(exercise, spec.lesson, "error", 0.0, message=f"Exercise {exercise} could not be checked: {exc}",
                       handback=dict(answers))
    by_name = {part.name: part for part in parts}
    handback, references = {}, []
    for name in names:
        part = by_name.get(name)
        if part is None or part.ok or part.reference is NO_REFERENCE:
            handback[name] = answers[name]
        else:
            handback[name] = part.reference
            references.append(name)
    verdict = Verdict(exercise, spec.lesson, *status_of(parts), handback=handback, references=references,
                      parts={p.name: ("blank" if p.blank else "right" if p.ok else "wrong") for p in parts})
    if raised:
        verdict.status, verdict.score = "error", 0.0
        verdict.message = f"The cell of exercise {exercise} raised {raised}"
        verdict.parts = {name: "raised" for name in names}
        return verdict
    if verdict.status not in ("correct", "not attempted"):
        verdict.hints = list(dict.fromkeys(p.hint for p in parts if not p.ok and p.hint and not p.blank))
    return verdict

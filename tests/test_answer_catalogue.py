"""Every exercise is proven on its answer catalogue (tests/catalogue): valid answers get ✔, mistakes ✘
with the hint about that mistake, run through the same check the grader uses, on the tiny night."""

from __future__ import annotations

import pytest

from catalogue import MIN_MISTAKES, MIN_VALID, Context, all_cases
from ccdlab.course.checks import LESSONS, checks_for, find_check

CASES = all_cases()

#: Every lesson of the course has a catalogue for every exercise (a lesson without one fails below).
COVERED = LESSONS


def _params():
    for lesson, exercises in sorted(CASES.items()):
        for exercise, answers in exercises.items():
            for answer in answers:
                yield pytest.param(lesson, exercise, answer, id=f"{exercise}-{answer.label}")


@pytest.fixture(scope="module")
def context(tiny_night):
    return Context(tiny_night)


@pytest.mark.parametrize("lesson, exercise, answer", list(_params()))
def test_answer_gets_the_right_verdict(lesson, exercise, answer, context):
    answers = answer.make(context)
    spec = find_check(lesson, list(answers))
    assert spec is not None, f"no check of {lesson} takes {sorted(answers)}"
    parts = spec.function(context.night, **answers)
    verdict = all(part.ok for part in parts)
    hints = " ".join(part.hint for part in parts if not part.ok)
    if answer.ok:
        assert verdict, f"{exercise} {answer.label!r} must get ✔, got ✘: {hints}"
    else:
        assert not verdict, f"{exercise} {answer.label!r} is a mistake but got ✔"
        assert answer.hint.lower() in hints.lower(), f"{exercise} {answer.label!r}: the hint {hints!r} misses {answer.hint!r}"


@pytest.mark.parametrize("lesson", COVERED)
def test_every_exercise_of_a_covered_lesson_has_a_full_catalogue(lesson):
    from pathlib import Path

    import nbformat

    from ccdlab.course.markers import exercises_in

    assert lesson in CASES, f"{lesson} has no answer catalogue: add tests/catalogue/lesson{lesson[:2]}.py"
    root = Path(__file__).resolve().parents[1]
    declared = [e.id for e in exercises_in(nbformat.read(root / "solutions" / f"{lesson}.ipynb", as_version=4))]
    assert sorted(CASES[lesson]) == sorted(declared), f"{lesson}: catalogue {sorted(CASES[lesson])} vs {declared}"
    for exercise, answers in CASES[lesson].items():
        assert sum(a.solution for a in answers) == 1, f"{exercise}: one solution answer"
        assert sum(a.ok and not a.solution for a in answers) >= MIN_VALID, f"{exercise}: {MIN_VALID}+ valid alternatives"
        assert sum(not a.ok for a in answers) >= MIN_MISTAKES, f"{exercise}: {MIN_MISTAKES}+ typical mistakes"
        assert all(a.hint for a in answers if not a.ok), f"{exercise}: every mistake names the hint it must get"


def test_lessons_are_known():
    assert set(CASES) <= set(LESSONS) and all(checks_for(lesson) for lesson in CASES)

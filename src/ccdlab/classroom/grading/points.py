"""The points manifest: each lesson's exercises, points and check lines, frozen when the course is released.

Grading needs, per lesson, what :func:`ccdlab.classroom.grading.solutions.load_solutions` reads
from the solution notebooks: the exercises with their points, and the answer names each check line
passes. A student's repository (``ccdlab release --github-classroom``) must not hold the
solutions, so the release writes what grading needs into ``.github/classroom/ccdlab-points.json``
instead (:func:`write_points_manifest`), and the autograding workflow names its SHA-256.

The points that count come from that manifest, never from the notebook being graded: a student
notebook carries the same ``# EXERCISE 1.2 (3 points): ...`` markers, and :func:`marker_changes`
lists any that were edited (``(3 points)`` made ``(300 points)`` earns 3 points, and is reported).
A manifest whose SHA-256 is not the one the workflow names is refused (:func:`read_points_manifest`).

Examples
--------
>>> from ccdlab.course.markers import Exercise
>>> from ccdlab.classroom.grading.solutions import Lesson
>>> manifest = points_manifest({"01_fits_files": Lesson("01_fits_files", (Exercise("1.1", 2.0, "Size"),),
...                                                     answers={"1.1": {"x_len", "y_len"}})})
>>> manifest["lessons"]["01_fits_files"]["exercises"]
[{'id': '1.1', 'points': 2.0, 'title': 'Size'}]
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ccdlab.classroom.grading.solutions import Lesson
from ccdlab.course.markers import Exercise, exercises_in
from ccdlab.errors import GradingError

__all__ = ["MANIFEST_FORMAT", "MANIFEST_PATH", "points_manifest", "manifest_text", "write_points_manifest",
           "read_points_manifest", "marker_changes"]

#: Format tag of a points manifest.
MANIFEST_FORMAT = "ccdlab-points/1"

#: Where a hand-out for GitHub Classroom keeps its points manifest (relative to its top folder).
MANIFEST_PATH = ".github/classroom/ccdlab-points.json"


def points_manifest(lessons: dict) -> dict:
    """The manifest of some lessons: per lesson its notebook, exercises (ID, points, title) and answer names.

    Parameters
    ----------
    lessons : dict
        ``{lesson name: Lesson}`` (from :func:`~ccdlab.classroom.grading.solutions.load_solutions`).

    Returns
    -------
    dict

    Examples
    --------
    >>> points_manifest({})["format"]
    'ccdlab-points/1'
    """
    return {"format": MANIFEST_FORMAT, "lessons": {
        name: {"notebook": f"{name}.ipynb",
               "exercises": [{"id": e.id, "points": float(e.points), "title": e.title} for e in lesson.exercises],
               "answers": {key: sorted(names) for key, names in sorted(lesson.answers.items())}}
        for name, lesson in sorted(lessons.items())}}


def manifest_text(manifest: dict) -> str:
    """The manifest as it is written: sorted keys, one stable text for the same lessons.

    Examples
    --------
    >>> manifest_text(points_manifest({})).splitlines()[0]
    '{'
    """
    return json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_points_manifest(path, lessons: dict) -> str:
    """Write the points manifest of ``lessons`` to ``path``; return its SHA-256 (for the workflow).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     len(write_points_manifest(Path(tmp) / "points.json", {}))
    64
    """
    text = manifest_text(points_manifest(lessons))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_points_manifest(path, sha256: str | None = None) -> dict:
    """Read a points manifest into lessons to grade against, checking its SHA-256 when given.

    Parameters
    ----------
    path : path-like
        The manifest (``.github/classroom/ccdlab-points.json`` in a hand-out).
    sha256 : str, optional
        The SHA-256 the manifest must have (the workflow names it).

    Returns
    -------
    dict
        ``{lesson name: Lesson}``, as :func:`~ccdlab.classroom.grading.solutions.load_solutions` gives.

    Raises
    ------
    ccdlab.errors.GradingError
        Missing, changed (another SHA-256), not a points manifest, or without any exercise.

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.course.markers import Exercise
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     digest = write_points_manifest(Path(tmp) / "p.json", {"00_x": Lesson("00_x", (Exercise("0.1", 1.0),))})
    ...     read_points_manifest(Path(tmp) / "p.json", digest)["00_x"].max_points
    1.0
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GradingError(f"The points manifest {path} could not be read ({exc.strerror or exc}): it comes with the "
                           "hand-out (ccdlab release --github-classroom); restore it from there.") from None
    found = hashlib.sha256(raw).hexdigest()
    if sha256 and found != sha256.strip().lower():
        raise GradingError(f"The points manifest {path} was changed (its SHA-256 is {found[:12]}..., the workflow expects "
                           f"{sha256.strip()[:12]}...): restore it from the hand-out (git checkout the original), "
                           "then push again.")
    try:
        content = json.loads(raw.decode("utf-8"))
        if content.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"format {content.get('format')!r}, not {MANIFEST_FORMAT!r}")
        lessons = {}
        for name, entry in content["lessons"].items():
            exercises = tuple(Exercise(str(e["id"]), float(e["points"]), str(e.get("title", "")))
                              for e in entry["exercises"])
            answers = {str(key): set(map(str, names)) for key, names in entry.get("answers", {}).items()}
            lessons[str(name)] = Lesson(str(name), exercises, "", answers)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GradingError(f"{path} is not a ccdlab points manifest ({exc}): restore it from the hand-out.") from None
    if not any(lesson.exercises for lesson in lessons.values()):
        raise GradingError(f"The points manifest {path} declares no exercise: make the hand-out again with "
                           "'ccdlab release OUTDIR --github-classroom'.")
    return lessons


def marker_changes(notebook, lesson: Lesson) -> list:
    """Sentences about the notebook's exercise markers that disagree with the lesson's points (which count).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (200 points): x")])
    >>> marker_changes(nb, Lesson("01", (Exercise("1.1", 2.0),)))
    ['the marker of exercise 1.1 says 200 points; it is worth 2 (the points of the course count)']
    """
    try:
        declared = exercises_in(notebook)
    except Exception as exc:  # noqa: BLE001 - a marker declared twice with different points
        return [f"its exercise markers disagree with each other ({exc}); the points of the course count"]
    worth = {e.id: e.points for e in lesson.exercises}
    notes = []
    for exercise in declared:
        if exercise.id not in worth:
            notes.append(f"it declares exercise {exercise.id}, which lesson {lesson.name} does not have (not graded)")
        elif exercise.points != worth[exercise.id]:
            notes.append(f"the marker of exercise {exercise.id} says {exercise.points:g} points; it is worth "
                         f"{worth[exercise.id]:g} (the points of the course count)")
    return notes

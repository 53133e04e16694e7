"""Autograding a student's repository on each push (GitHub Classroom):
``python -m ccdlab.classroom.grading.autograde notebooks --manifest .github/classroom/ccdlab-points.json``.

The workflow a ``ccdlab release OUTDIR --github-classroom`` hand-out carries runs this in the
student's repository. It grades the student's notebooks exactly as ``ccdlab grade`` does (each run
from the top in the bubblewrap sandbox, its answers judged outside the kernel against the grader's
own copy of the night: the night made in the workflow by ``python data_fetch.py --size tiny``),
except that the lessons and their points come from the points manifest shipped in the hand-out
(:mod:`ccdlab.classroom.grading.points`), not from solution notebooks, which the repository does
not hold.

Its result is what GitHub Classroom's reporter reads (``classroom-resources/autograding-grading-
reporter``): one test per exercise, its score the points earned, ``max_score`` the points of every
lesson in the manifest, base64-encoded JSON in the step output ``result``. The reporter prints
the table and the "Points X/Y" notice GitHub Classroom records.

Examples
--------
>>> payload = reporter_result([], 0.0)
>>> payload["version"], payload["status"], payload["tests"]
(1, 'pass', [])
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ccdlab.classroom.grading.points import marker_changes, read_points_manifest
from ccdlab.classroom.grading.score import GradeRow
from ccdlab.errors import CcdlabError, GradingError

__all__ = ["Autograde", "autograde", "reporter_result", "encode_result", "summary_markdown", "main"]


@dataclass
class Autograde:
    """The outcome of autograding one repository.

    Parameters
    ----------
    rows : list of GradeRow
        One per exercise of every lesson in the manifest (a lesson without a notebook: ``missing``).
    max_score : float
        The points of every lesson in the manifest.
    notes : list of str
        What the student should know: edited markers, extra copies of a notebook, answers that did
        not count, the batch's warnings.

    Examples
    --------
    >>> Autograde([GradeRow("me", "01", "1.1", 1.0, 2.0, "partial")], 2.0).score
    1.0
    """

    rows: list
    max_score: float
    notes: list = field(default_factory=list)

    @property
    def score(self) -> float:
        """Points earned in all.

        Examples
        --------
        >>> Autograde([], 0.0).score
        0.0
        """
        return float(round(sum(row.points for row in self.rows), 4))


def _choose(submissions: list, lesson: str):
    """The notebook that counts for a lesson: the one named as handed out, else the first by path."""
    mine = [sub for sub in submissions if sub.lesson == lesson]
    if not mine:
        return None, []
    mine.sort(key=lambda sub: (sub.path.name != f"{lesson}.ipynb", str(sub.path)))
    return mine[0], mine[1:]


def autograde(notebooks, manifest, data_dir=None, *, sha256: str | None = None, sandbox: str = "require",
              timeout: float = 600, cell_timeout: float = 180, jobs: int | None = None,
              memory: int | None = None) -> Autograde:
    """Grade the notebooks of one repository against a points manifest.

    Parameters
    ----------
    notebooks : path-like
        The folder of the student's notebooks (``notebooks/``).
    manifest : path-like
        The points manifest (``.github/classroom/ccdlab-points.json``).
    data_dir : path-like, optional
        The night to grade on (the workflow makes the tiny night).
    sha256 : str, optional
        The SHA-256 the manifest must have (the workflow names it).
    sandbox : {"require", "auto", "off"}
        As for ``ccdlab grade`` (default: refuse to grade without the sandbox).
    timeout, cell_timeout, jobs, memory
        As for :func:`ccdlab.classroom.grading.grade` (``memory`` in bytes).

    Returns
    -------
    Autograde

    Raises
    ------
    ccdlab.errors.GradingError
        The manifest is missing or changed, the notebooks folder is missing, the sandbox cannot
        run (with ``sandbox="require"``).

    Examples
    --------
    >>> result = autograde("notebooks", ".github/classroom/ccdlab-points.json", ".ccdlab-night")  # doctest: +SKIP
    >>> f"Points {result.score:g}/{result.max_score:g}"  # doctest: +SKIP
    'Points 5/48'
    """
    from ccdlab.classroom.grading.batch import grade
    from ccdlab.classroom.grading.identify import read_submission
    from ccdlab.classroom.grading.score import rows_without_run

    lessons = read_points_manifest(manifest, sha256)
    folder = Path(notebooks)
    if not folder.is_dir():
        raise GradingError(f"The notebooks folder {folder} does not exist: keep the course's notebooks/ folder in "
                           "the repository, with your notebooks in it.")
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    book = None
    if found:
        book = grade([folder], data_dir=data_dir, lessons=lessons, timeout=timeout, cell_timeout=cell_timeout,
                     jobs=jobs, progress=False, sandbox=sandbox, memory=memory)
    submissions = list(book.submissions) if book else []
    notes = list(book.warnings) if book else []
    rows = []
    for name, lesson in lessons.items():
        chosen, others = _choose(submissions, name)
        if chosen is None:
            hint = f"No notebook of lesson {name} in {folder}: keep {folder.name}/{name}.ipynb in your repository."
            rows += rows_without_run(lesson, "", "missing", hint, str(folder / f"{name}.ipynb"))
            continue
        rows += chosen.rows
        for other in others:
            notes.append(f"{other.path.name} is another notebook of lesson {name}: only {chosen.path.name} counts.")
        notes += [f"{chosen.path.name}: {note}" for note in chosen.notes]
        notebook, _ = read_submission(chosen.path)
        if notebook is not None:
            notes += [f"{chosen.path.name}: {note}" for note in marker_changes(notebook, lesson)]
    for sub in submissions:
        if sub.lesson not in lessons:
            notes.append(f"{sub.path.name} is not a notebook of this course's lessons: not graded.")
    return Autograde(rows, float(sum(lesson.max_points for lesson in lessons.values())), notes)


def reporter_result(rows: list, max_score: float, error: str = "") -> dict:
    """The result GitHub Classroom's reporter reads from a step's ``result`` output (before base64).

    One test per exercise: its score is the points earned, ``pass`` when full. The reporter's
    ``Points X/Y`` adds the tests' scores (X) and the ``max_score`` (Y).

    Examples
    --------
    >>> payload = reporter_result([GradeRow("me", "01_fits_files", "1.1", 2.0, 2.0, "correct", title="Size")], 2.0)
    >>> payload["tests"][0]["name"], payload["tests"][0]["score"], payload["status"]
    ('01_fits_files 1.1: Size', 2.0, 'pass')
    """
    tests = []
    for row in rows:
        full = row.max_points > 0 and row.points >= row.max_points - 1e-9
        message = f"{row.status}: {' '.join(str(row.hint).split())}".rstrip(": ")
        tests.append({"name": f"{row.lesson} {row.exercise}: {row.title}".rstrip(": "), "status": "pass" if full else "fail",
                      "score": float(row.points), "message": message, "test_code": "",
                      "filename": Path(str(row.submission)).as_posix() if row.submission else "", "line_no": 0,
                      "duration": 0})
    if error:
        tests.append({"name": "ccdlab autograding", "status": "error", "score": 0.0, "message": error, "test_code": "",
                      "filename": "", "line_no": 0, "duration": 0})
    failing = [t for t in tests if t["status"] != "pass"]
    status = "error" if error else ("fail" if failing else "pass")
    return {"version": 1, "status": status, "max_score": float(max_score), "tests": tests}


def encode_result(payload: dict) -> str:
    """The payload as the reporter decodes it: base64 of its JSON.

    Examples
    --------
    >>> json.loads(base64.b64decode(encode_result({"version": 1})))
    {'version': 1}
    """
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


def summary_markdown(result: Autograde) -> str:
    """What the student reads: points per exercise, with the hint, and the notes.

    Examples
    --------
    >>> summary_markdown(Autograde([GradeRow("", "01", "1.1", 2, 2, "correct")], 2.0)).splitlines()[-1]
    '**Points 2/2**'
    """
    lines = ["| lesson | exercise | points | status | hint |", "| --- | --- | --- | --- | --- |"]
    for row in result.rows:
        hint = " ".join(str(row.hint).split()).replace("|", "\\|")
        lines.append(f"| {row.lesson} | {row.exercise} {row.title} | {row.points:g}/{row.max_points:g} | {row.status} "
                     f"| {hint} |")
    if result.notes:
        lines += ["", "Notes:"] + [f"- {note}" for note in result.notes]
    return "\n".join(lines + ["", f"**Points {result.score:g}/{result.max_score:g}**"])


def _append(path: str, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ccdlab.classroom.grading.autograde",
        description="Grade a student's repository on each push (GitHub Classroom): the notebooks run in the sandbox on "
                    "the night given, points from the hand-out's points manifest.")
    parser.add_argument("notebooks", metavar="NOTEBOOKS", help="the folder of the student's notebooks (notebooks)")
    parser.add_argument("--manifest", required=True, help="the hand-out's points manifest (.github/classroom/ccdlab-points.json)")
    parser.add_argument("--manifest-sha256", default=None, metavar="HEX", help="the SHA-256 the manifest must have")
    parser.add_argument("--data", default=None, help="the night to grade on (made with python data_fetch.py --size tiny --dest DIR)")
    parser.add_argument("--sandbox", choices=("require", "auto", "off"), default="require",
                        help="the bubblewrap sandbox: require (default: refuse to grade without it), auto, off")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per notebook (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=180, help="seconds per cell (default 180)")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks at the same time (default: the cores)")
    parser.add_argument("--memory", type=float, default=4.0, metavar="GB", help="memory per notebook, GB (default 4)")
    parser.add_argument("--github-output", action="store_true",
                        help="write the reporter's result to $GITHUB_OUTPUT (as 'result') and the table to "
                        "$GITHUB_STEP_SUMMARY")
    parser.add_argument("--result", default=None, metavar="FILE", help="also write the reporter's result (JSON) to FILE")
    return parser


def main(argv: list | None = None) -> int:
    """Run the autograding; print the table and ``Points X/Y``; 0 when graded, 1 when grading failed.

    A failure (a changed manifest, no sandbox) still writes a result, with status ``error``, so
    that the reporter says what went wrong.

    Examples
    --------
    >>> main(["no-such-folder", "--manifest", "no-such.json"])  # doctest: +SKIP
    1
    """
    args = _parser().parse_args(argv)
    github_output = os.environ.get("GITHUB_OUTPUT") if args.github_output else None
    if args.github_output and not github_output:
        print("ccdlab autograde: --github-output needs $GITHUB_OUTPUT (set by GitHub Actions); use --result FILE "
              "elsewhere.", file=sys.stderr)
        return 2
    try:
        if args.timeout <= 0 or args.cell_timeout <= 0 or args.memory <= 0 or (args.jobs is not None and args.jobs < 1):
            raise GradingError("--timeout, --cell-timeout and --memory must be positive, and --jobs at least 1.")
        result = autograde(args.notebooks, args.manifest, args.data, sha256=args.manifest_sha256, sandbox=args.sandbox,
                           timeout=args.timeout, cell_timeout=args.cell_timeout, jobs=args.jobs,
                           memory=int(args.memory * 2**30))
        payload, code = reporter_result(result.rows, result.max_score), 0
        text = summary_markdown(result)
    except CcdlabError as exc:
        payload, code = reporter_result([], 0.0, error=str(exc)), 1
        text = f"ccdlab autograding could not grade this repository: {exc}"
    print(text)
    if github_output:
        _append(github_output, f"result={encode_result(payload)}\n")
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            _append(os.environ["GITHUB_STEP_SUMMARY"], text + "\n")
    if args.result:
        Path(args.result).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

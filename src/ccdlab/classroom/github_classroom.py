"""GitHub Classroom autograding for a hand-out: ``ccdlab release OUTDIR --github-classroom``.

The hand-out becomes the assignment's template repository. It gains

- ``.github/workflows/classroom.yml`` (:func:`workflow_yaml`): on each push, GitHub Actions sets
  up Python, installs the hand-out's package with its grader (``pip install -e .[instructor]``),
  installs bubblewrap, makes the tiny night (``python data_fetch.py --size tiny``), grades the
  notebooks in the sandbox (:mod:`ccdlab.classroom.grading.autograde`) and reports the points
  through GitHub Classroom's reporter (``classroom-resources/autograding-grading-reporter``);
- ``.github/classroom/ccdlab-points.json``: the points manifest
  (:mod:`ccdlab.classroom.grading.points`), whose SHA-256 the workflow names;
- ``.gitignore``: the night, the data and the virtual environment stay out of the student's commits.

The grader travels with the hand-out (``src/ccdlab/classroom/grading``, never the authoring or
release tools, never the solutions): the repository grades itself with the very checks the
notebooks were written against, with nothing to fetch from the instructor's machines.

Examples
--------
>>> "autograding-grading-reporter" in workflow_yaml("0" * 64)
True
"""

from __future__ import annotations

import sys
from pathlib import Path

from ccdlab.classroom.grading.points import MANIFEST_PATH, write_points_manifest

__all__ = ["WORKFLOW_PATH", "NIGHT_FOLDER", "RUNNER_ID", "REPORTER_ACTION", "GRADE_COMMAND", "workflow_yaml",
           "gitignore_text", "readme_section", "add_autograding"]

#: Where the workflow goes in the hand-out.
WORKFLOW_PATH = ".github/workflows/classroom.yml"

#: Where the workflow makes the night it grades on (ignored by git).
NIGHT_FOLDER = ".ccdlab-night"

#: The id of the grading step: the reporter reads ``CCDLAB_RESULTS`` (its id in capitals + ``_RESULTS``).
RUNNER_ID = "ccdlab"

#: GitHub Classroom's reporter: sums the tests' scores into the "Points X/Y" GitHub Classroom records.
REPORTER_ACTION = "classroom-resources/autograding-grading-reporter@v1"

#: The grading command, as the workflow runs it from the repository's top folder (``{sha256}`` filled in).
GRADE_COMMAND = ("python -m ccdlab.classroom.grading.autograde notebooks --manifest " + MANIFEST_PATH
                 + " --manifest-sha256 {sha256} --data " + NIGHT_FOLDER + " --github-output")


def _python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def workflow_yaml(manifest_sha256: str, python: str | None = None, timeout_minutes: int = 60) -> str:
    """The autograding workflow (GitHub Actions YAML) of a hand-out.

    Parameters
    ----------
    manifest_sha256 : str
        The SHA-256 of the points manifest; a changed manifest is refused.
    python : str, optional
        The Python version the workflow sets up (default: this one's, which the course was tested with).
    timeout_minutes : int
        The longest a grading run may take.

    Examples
    --------
    >>> text = workflow_yaml("ab" * 32, python="3.11")
    >>> "python-version: \\"3.11\\"" in text and "--manifest-sha256 " + "ab" * 32 in text
    True
    """
    python = python or _python_version()
    command = GRADE_COMMAND.format(sha256=manifest_sha256)
    return f"""# Autograding of the ccdlab course, made by 'ccdlab release --github-classroom'.
# On each push: install the course package, make the tiny night, run the notebooks in notebooks/
# from the top (each in the bubblewrap sandbox, judged outside it) and report the points to
# GitHub Classroom. Please do not change this file: your instructor sees changes to .github/.
name: ccdlab autograding
"on":
  push:
  workflow_dispatch:
  repository_dispatch:
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  autograding:
    runs-on: ubuntu-latest
    timeout-minutes: {int(timeout_minutes)}
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Check out the notebooks
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "{python}"
          cache: pip
          cache-dependency-path: pyproject.toml
      - name: Install the sandbox (bubblewrap)
        run: |
          sudo apt-get update -qq
          sudo apt-get install -y -qq bubblewrap
          sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 || true
      - name: Install the course package and its grader
        run: python -m pip install -e ".[instructor]"
      - name: Make the tiny night
        run: python data_fetch.py --size tiny --dest {NIGHT_FOLDER} --no-progress
      - name: Grade the notebooks
        id: {RUNNER_ID}
        run: {command}
      - name: Report the points
        if: always()
        uses: {REPORTER_ACTION}
        env:
          {RUNNER_ID.upper()}_RESULTS: "${{{{ steps.{RUNNER_ID}.outputs.result }}}}"
        with:
          runners: {RUNNER_ID}
"""


def gitignore_text() -> str:
    """The hand-out's ``.gitignore``: what a student's commits should not carry.

    Examples
    --------
    >>> ".ccdlab-night/" in gitignore_text().splitlines()
    True
    """
    return "\n".join(["# made by 'ccdlab release --github-classroom'", ".venv/", "__pycache__/", "*.egg-info/",
                      ".ipynb_checkpoints/", "/data/", "/reduced/", f"{NIGHT_FOLDER}/", "*.fits", "*.fits.gz",
                      "*.fz", ""])


def readme_section(max_score: float) -> str:
    """The students' README section on autograding.

    Examples
    --------
    >>> readme_section(48).splitlines()[1]
    '## Autograding on GitHub'
    """
    return f"""
## Autograding on GitHub

Each time you push, GitHub runs your notebooks in `notebooks/` from the top, in a fresh Python, on
a small night of its own, and gives you points out of {max_score:g}: open the **Actions** tab, then
the latest "ccdlab autograding" run; its summary lists every exercise with its points and hint.

- Keep each notebook's name and its exercise cells (the ones starting with `# EXERCISE`) with their
  check lines: an exercise without its check earns nothing.
- Your notebooks are yours to change; the rest (`.github/`, `src/`, `data_fetch.py`,
  `pyproject.toml`) is not: changes there are shown to your instructor, and a changed points file
  stops the grading.
- Your instructor may grade the final version again, on your own night.
"""


def add_autograding(folder, lessons: dict, python: str | None = None) -> dict:
    """Add the workflow, the points manifest and the ``.gitignore`` to a hand-out folder.

    Parameters
    ----------
    folder : path-like
        The hand-out's top folder (``ccdlab-course/``), holding ``notebooks/`` and the package.
    lessons : dict
        ``{lesson name: Lesson}`` of the released notebooks (from the solutions).
    python : str, optional
        The Python version of the workflow (default: this one's).

    Returns
    -------
    dict
        ``workflow``, ``manifest`` (paths), ``sha256`` (of the manifest), ``max_score``.

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.course.markers import Exercise
    >>> from ccdlab.classroom.grading.solutions import Lesson
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     add_autograding(tmp, {"00_x": Lesson("00_x", (Exercise("0.1", 1.0),))})["max_score"]
    1.0
    """
    folder = Path(folder)
    sha256 = write_points_manifest(folder / MANIFEST_PATH, lessons)
    workflow = folder / WORKFLOW_PATH
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(workflow_yaml(sha256, python), encoding="utf-8")
    (folder / ".gitignore").write_text(gitignore_text(), encoding="utf-8")
    return {"workflow": workflow, "manifest": folder / MANIFEST_PATH, "sha256": sha256,
            "max_score": float(sum(lesson.max_points for lesson in lessons.values()))}

"""The markers in solution notebooks: where exercises are, what they are worth, what is solution.

Solution notebooks (``solutions/*.ipynb``) are the single source of truth. In a code cell:

- a line ``# EXERCISE 1.2 (2 points): Image size`` declares exercise ``1.2`` worth 2 points (the
  title after the colon is optional; ``1 point`` also reads);
- lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` are the solution, which the
  student version replaces by blanks (see :mod:`ccdlab.classroom.authoring`).

In a markdown cell, text between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is a
written answer, removed from the student version.

The lesson a notebook teaches is its file stem (``01_fits_files``), also stored by the generator in
the notebook metadata under ``ccdlab.lesson`` so that a renamed copy is still recognised.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ccdlab.errors import InputError

__all__ = [
    "EXERCISE_RE", "BEGIN_SOLUTION", "END_SOLUTION", "BEGIN_MD_SOLUTION", "END_MD_SOLUTION", "SOLUTION_MARKER_RE",
    "Exercise", "cell_source", "exercises_in", "check_answers",
]

#: Matches an exercise marker line; groups: id, points, title.
EXERCISE_RE = re.compile(
    r"^[ \t]*#[ \t]*EXERCISE[ \t]+(?P<id>[0-9A-Za-z][\w.\-]*)[ \t]*\([ \t]*(?P<points>\d+(?:\.\d+)?)[ \t]*points?[ \t]*\)[ \t]*:?[ \t]*(?P<title>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_MD_SOLUTION = "<!-- BEGIN SOLUTION -->"
END_MD_SOLUTION = "<!-- END SOLUTION -->"
#: Any solution marker, code or markdown, in any of its spellings (``<!-- BEGIN SOLUTION (2 points): Q3.1 -->`` too).
SOLUTION_MARKER_RE = re.compile(r"###\s*(?:BEGIN|END)\s+SOLUTION\b|<!--\s*(?:BEGIN|END)\s+SOLUTION\b", re.IGNORECASE)


@dataclass(frozen=True)
class Exercise:
    """One exercise declared by a marker.

    Examples
    --------
    >>> Exercise("1.2", 2.0, "Image size").points
    2.0
    """

    id: str
    points: float
    title: str = ""


def cell_source(cell) -> str:
    """Return a notebook cell's source as one string (nbformat stores str or list of lines).

    Examples
    --------
    >>> cell_source({"source": ["a = 1\\n", "b = 2"]})
    'a = 1\\nb = 2'
    """
    source = cell.get("source", "") if isinstance(cell, dict) else getattr(cell, "source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def exercises_in(notebook) -> list[Exercise]:
    """List the exercises a notebook declares, in order of appearance.

    Parameters
    ----------
    notebook : nbformat.NotebookNode or dict
        A notebook (solution or student version: the marker lines are kept in both).

    Returns
    -------
    list of Exercise

    Raises
    ------
    ValueError
        An exercise ID is declared twice with different points.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "source": "# EXERCISE 1.1 (2 points): size\\nx = 1"}]}
    >>> exercises_in(nb)
    [Exercise(id='1.1', points=2.0, title='size')]
    """
    found: dict[str, Exercise] = {}
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else notebook.cells
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        for match in EXERCISE_RE.finditer(cell_source(cell)):
            exercise = Exercise(match["id"], float(match["points"]), match["title"].strip())
            earlier = found.get(exercise.id)
            if earlier and earlier.points != exercise.points:
                raise InputError(
                    f"Exercise {exercise.id} is declared twice with different points "
                    f"({earlier.points:g} and {exercise.points:g}); declare it once."
                )
            found.setdefault(exercise.id, exercise)
    return list(found.values())


def check_answers(source: str) -> dict:
    """Find the ``check("ID", name=value, ...)`` calls in code and the answer names each passes.

    Lines starting with ``%`` or ``!`` (IPython magics) are ignored; code that does not parse gives
    nothing.

    Examples
    --------
    >>> answers = check_answers('x_len, y_len = check("1.1", x_len=x_len, y_len=y_len)')
    >>> sorted(answers["1.1"])
    ['x_len', 'y_len']
    """
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {}
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        first = node.args[0]
        if name == "check" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names = frozenset(k.arg for k in node.keywords if k.arg)
            if names:
                found[first.value] = names
    return found


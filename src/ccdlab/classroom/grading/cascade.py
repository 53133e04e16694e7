"""One root cause per cascade: the errors of a run, each traced back to the cell that started it.

When a cell raises before it defines a name, every later cell that uses the name raises
``NameError: name 'header' is not defined``. Those are not new mistakes: they follow from the first
one, and fixing it fixes them. :func:`cell_errors` lists the errors of a run with, for each
``NameError`` that follows an earlier error, the cell that caused it; the report counts the root
causes only, and the hints of the following cells name the cell to fix first.

A ``NameError`` is attributed to an earlier cell when every earlier code cell that defines the name
(assigns, imports, ``def``/``class``, ``for``/``with`` targets) raised, timed out or never ran; a
name no earlier cell defines is the student's own typo, and stays a root cause. Cells are named by
their code-cell number (:meth:`~ccdlab.classroom.grading.run.RunRecord.code_number`), as Jupyter
numbers them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ccdlab.course.markers import cell_source

__all__ = ["CellError", "cell_errors", "defined_names", "because"]

_UNDEFINED = re.compile(r"name '(?P<name>[A-Za-z_]\w*)' is not defined")


@dataclass(frozen=True)
class CellError:
    """A code cell that raised, and the cell whose error it follows from (if any).

    Parameters
    ----------
    index : int
        The cell's position in the notebook (all cell types counted).
    number : int
        Its code-cell number, as Jupyter shows it (code cells only, from 1).
    ename, evalue : str
        The exception.
    cause : int or None
        Notebook position of the root cause (an earlier cell), or None when this error is a root cause.
    cause_number : int
        The root cause's code-cell number (0 when there is none).

    Examples
    --------
    >>> CellError(4, 3, "NameError", "name 'x' is not defined", cause=2, cause_number=2).follows
    True
    """

    index: int
    number: int
    ename: str
    evalue: str
    cause: int | None = None
    cause_number: int = 0

    @property
    def follows(self) -> bool:
        """True when this error follows from an earlier cell's error.

        Examples
        --------
        >>> CellError(1, 1, "ValueError", "bad").follows
        False
        """
        return self.cause is not None

    @property
    def text(self) -> str:
        """The exception as one line, ``ename: evalue``.

        Examples
        --------
        >>> CellError(1, 1, "ValueError", "bad").text
        'ValueError: bad'
        """
        return f"{self.ename}: {self.evalue}".strip().rstrip(":")


def defined_names(source: str) -> set:
    """The names a cell defines: assignment targets, imports, functions and classes, loop and ``with``
    targets. Lines of IPython magics are ignored; code that does not parse is read line by line.

    Examples
    --------
    >>> sorted(defined_names("import numpy as np\\nfrom astropy.io import fits\\nx, y = 1, 2\\ndef f(a): b = 1"))
    ['f', 'fits', 'np', 'x', 'y']
    >>> sorted(defined_names("%matplotlib inline\\nheader = fits.getheader(path"))
    ['header']
    """
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        found = set(re.findall(r"(?m)^\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", code))
        found |= set(re.findall(r"(?m)^\s*(?:def|class)\s+([A-Za-z_]\w*)", code))
        found |= set(re.findall(r"(?m)^\s*(?:from\s+\S+\s+)?import\s+.*?\bas\s+([A-Za-z_]\w*)", code))
        return found
    found = set()
    scopes = [tree]
    while scopes:
        node = scopes.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(child.name)  # its body defines names of its own scope, not the notebook's
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.update((alias.asname or alias.name).split(".")[0] for alias in child.names if alias.name != "*")
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                found.add(child.id)
            elif isinstance(child, ast.ExceptHandler) and child.name:
                found.add(child.name)
            if not isinstance(child, ast.Lambda):
                scopes.append(child)
    return found


def cell_errors(record, notebook) -> list:
    """The errors of a run in notebook order, each ``NameError`` that follows an earlier error traced to its root cause.

    Parameters
    ----------
    record : ccdlab.classroom.grading.run.RunRecord
        The run (its code cells, with their statuses and exceptions).
    notebook : NotebookNode or None
        The submitted notebook (to read what each cell defines); without it, every error is a root cause.

    Returns
    -------
    list of CellError

    Examples
    --------
    >>> import nbformat
    >>> from ccdlab.classroom.grading.run import CellRecord, RunRecord
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lesson"),
    ...     nbformat.v4.new_code_cell("header = read('missing.fits')"), nbformat.v4.new_code_cell("x_len = header['NAXIS1']")])
    >>> record = RunRecord("completed", cells=[CellRecord(1, "error", "FileNotFoundError", "missing.fits"),
    ...                                       CellRecord(2, "error", "NameError", "name 'header' is not defined")])
    >>> [(e.number, e.ename, e.cause_number) for e in cell_errors(record, nb)]
    [(1, 'FileNotFoundError', 0), (2, 'NameError', 1)]
    """
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else getattr(notebook, "cells", [])
    failed = {cell.index for cell in record.cells if cell.status != "ok"}
    errors: dict[int, CellError] = {}
    for cell in record.cells:
        if cell.status != "error":
            continue
        number = record.code_number(cell.index)
        cause = None
        match = _UNDEFINED.search(cell.evalue or "") if cell.ename == "NameError" else None
        if match and cells:
            binders = [c.index for c in record.cells if c.index < cell.index and c.index < len(cells)
                       and match["name"] in defined_names(cell_source(cells[c.index]))]
            if binders and all(index in failed for index in binders):
                cause = binders[-1]
                earlier = errors.get(cause)
                if earlier is not None and earlier.cause is not None:
                    cause = earlier.cause
        errors[cell.index] = CellError(cell.index, number, cell.ename, cell.evalue, cause,
                                       record.code_number(cause) if cause is not None else 0)
    return list(errors.values())


def because(error: CellError, record) -> str:
    """The sentence that sends the student to the root cause of an error that follows another (empty otherwise).

    Examples
    --------
    >>> from ccdlab.classroom.grading.run import CellRecord, RunRecord
    >>> record = RunRecord("completed", cells=[CellRecord(1, "error", "ValueError", "bad"),
    ...                                       CellRecord(2, "error", "NameError", "name 'x' is not defined")])
    >>> because(CellError(2, 2, "NameError", "name 'x' is not defined", cause=1, cause_number=1), record)
    'It follows from code cell 1, which raised ValueError: bad before it could define x: fix that cell first.'
    """
    if not error.follows:
        return ""
    root = next((cell for cell in record.cells if cell.index == error.cause), None)
    match = _UNDEFINED.search(error.evalue)
    name = match["name"] if match else "the name"
    if root is not None and root.status == "error":
        what = f"raised {f'{root.ename}: {root.evalue}'.strip().rstrip(':')}"
    elif root is not None and root.status == "timeout":
        what = "ran too long and was stopped"
    else:
        what = "did not run to its end"
    return f"It follows from code cell {error.cause_number}, which {what} before it could define {name}: fix that cell first."

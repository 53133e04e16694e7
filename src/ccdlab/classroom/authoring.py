"""Student notebooks, generated from the solution notebooks.

The solution notebooks (``solutions/*.ipynb``) are the single source of the course. The student
version of each is made by a chain of small, pure steps (after nbgrader's model):

1. :func:`validate_solution` -- every ``### BEGIN SOLUTION`` has its ``### END SOLUTION``, every
   exercise is declared once, and the notebook says which lesson it is;
2. :func:`blank_code_solutions` -- each solution region in a code cell becomes blanks that still
   run: ``x_len = ...  # your code here`` for every name the rest of the notebook uses,
   ``return ...  # your code here`` for a function's result, and a function defined inside the
   region keeps its signature and docstring. A code cell made only of a solution region and
   declaring no exercise is solution-only (e.g. the solution's self-checks) and is left out;
3. :func:`blank_markdown_solutions` -- a written answer between ``<!-- BEGIN SOLUTION -->`` and
   ``<!-- END SOLUTION -->`` becomes a place for the student's own answer; one whose marker gives it
   points (``<!-- BEGIN SOLUTION (2 points): Q3.1 title -->``) becomes a marked place the grader finds
   again (:mod:`ccdlab.classroom.grading.written`);
4. :func:`clear_outputs` -- outputs, execution counts and cell metadata other than tags (and the
   written questions a cell holds) go;
5. :func:`set_metadata` -- the lesson (the file stem) is written to ``metadata.ccdlab.lesson``.

A blank is the Python Ellipsis ``...``: a check seeing it says "not attempted yet" and hands back a
reference value, so a student notebook runs end to end before anything is filled in.

The command ``ccdlab student SOLUTIONS_DIR --out notebooks [--check]`` writes (or, with
``--check``, only compares) the student notebooks. :func:`refresh_outputs` re-runs a solution
notebook on a dataset and keeps its outputs small enough to read on a web page.
"""

from __future__ import annotations

import ast
import copy
import io
import os
import re
import textwrap
import time
import tokenize
from pathlib import Path

import nbformat

from ccdlab.classroom.grading.written import PLACEHOLDER, blank_markdown, markdown_regions, written_questions
from ccdlab.course.markers import (
    BEGIN_SOLUTION,
    END_MD_SOLUTION,
    END_SOLUTION,
    EXERCISE_RE,
    cell_source,
    exercises_in,
)
from ccdlab.course.setup import cell_source as setup_cell_source
from ccdlab.errors import AuthoringError, InputError, MissingFileError
from ccdlab.files import atomic_write_text

__all__ = [
    "AuthoringError",
    "BLANK",
    "MARKDOWN_BLANK",
    "validate_solution",
    "blank_code_solutions",
    "blank_markdown_solutions",
    "clear_outputs",
    "set_metadata",
    "make_student",
    "student_text",
    "generate",
    "refresh_outputs",
    "refresh_setup_cell",
]

#: What replaces a student's answer in code: the Ellipsis, which still runs.
BLANK = "...  # your code here"

#: What replaces a written answer without points in markdown.
MARKDOWN_BLANK = PLACEHOLDER

_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _where(name: str, index: int) -> str:
    return f"{name}, cell {index + 1}"


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _regions(lines: list[str], begin: str, end: str, where: str) -> list[tuple[int, int]]:
    """Return (begin_line, end_line) index pairs of the solution regions in ``lines``."""
    regions, start = [], None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise AuthoringError(
                    f"{where}: '{begin}' on line {number + 1} opens a region inside another one "
                    f"(opened on line {start + 1}); close the first with '{end}'."
                )
            start = number
        elif stripped == end:
            if start is None:
                raise AuthoringError(
                    f"{where}: '{end}' on line {number + 1} closes no region; add '{begin}' before it."
                )
            regions.append((start, number))
            start = None
    if start is not None:
        raise AuthoringError(f"{where}: '{begin}' on line {start + 1} is never closed; add '{end}' after the solution.")
    return regions


def _notebook_name(notebook, name: str | None) -> str:
    if name:
        return name
    meta = notebook.get("metadata", {}).get("ccdlab", {})
    return meta.get("lesson", "notebook")


def validate_solution(notebook, name: str | None = None) -> None:
    """Check a solution notebook's markers before a student version is made from it.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A solution notebook.
    name : str, optional
        Its name, used in error messages (e.g. ``"01_fits_files.ipynb"``).

    Raises
    ------
    AuthoringError
        A region is not closed or closes nothing, regions are nested, an exercise ID is
        declared twice, or an exercise marker sits inside a solution region (the student would
        lose it).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\\nx = 1")])
    >>> validate_solution(nb, "demo.ipynb")
    Traceback (most recent call last):
    ...
    ccdlab.errors.AuthoringError: demo.ipynb, cell 1: '### BEGIN SOLUTION' on line 1 is never closed; add '### END SOLUTION' after the solution.
    """
    name = _notebook_name(notebook, name)
    seen: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        where = _where(name, index)
        lines = _lines(cell_source(cell))
        if cell.cell_type == "code":
            regions = _regions(lines, BEGIN_SOLUTION, END_SOLUTION, where)
            for number, line in enumerate(lines):
                match = EXERCISE_RE.match(line)
                if not match:
                    continue
                if any(start < number < end for start, end in regions):
                    raise AuthoringError(
                        f"{where}: the marker for exercise {match['id']} is inside a solution "
                        "region; move it above '### BEGIN SOLUTION' so students see it."
                    )
                if match["id"] in seen:
                    raise AuthoringError(
                        f"{where}: exercise {match['id']} is declared again (first in "
                        f"{_where(name, seen[match['id']])}); give each exercise one marker."
                    )
                seen[match["id"]] = index
        elif cell.cell_type == "markdown":
            markdown_regions(lines, where)
            if EXERCISE_RE.search(cell_source(cell)) and BEGIN_SOLUTION in cell_source(cell):
                raise AuthoringError(f"{where}: code solution markers belong in code cells, not markdown.")
    exercises_in(notebook)  # raises on conflicting points
    for question in written_questions(notebook, name):  # raises on an ID given twice
        if question.id in seen:
            raise AuthoringError(f"{name}: written answer {question.id} has the ID of the exercise declared in cell "
                                 f"{seen[question.id] + 1}; give it an ID of its own (e.g. Q{question.id}).")


def _assigned_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        names = []
        for element in node.elts:
            names.extend(_assigned_names(element.value if isinstance(element, ast.Starred) else element))
        return names
    return []


def _unpacked_names(targets: list) -> list[str]:
    """The names of a single ``a, b, c = ...`` target made of plain names only, else ``[]``."""
    if len(targets) != 1 or not isinstance(targets[0], (ast.Tuple, ast.List)):
        return []
    elements = targets[0].elts
    if len(elements) < 2 or not all(isinstance(element, ast.Name) for element in elements):
        return []
    return [element.id for element in elements]


def _blank_region(region: list[str], used_later: set[str], where: str) -> list[str]:
    """Turn the lines of one solution region into blanks that still run."""
    indent = ""
    for line in region:
        if line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            break
    code = textwrap.dedent("\n".join(region))
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise AuthoringError(
            f"{where}: the solution region is not valid Python on its own ({exc.msg}, line "
            f"{exc.lineno} of the region); put whole statements between the markers."
        ) from exc
    code_lines = code.split("\n")
    out: list[str] = []
    blanked: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            unpacked = _unpacked_names(targets)
            if unpacked and set(unpacked) <= used_later and not set(unpacked) & blanked:
                # one call unpacked into several names stays one line: `a, b = ..., ...`
                blanked.update(unpacked)
                out.append(f"{', '.join(unpacked)} = {', '.join('...' for _ in unpacked)}{BLANK[3:]}")
                continue
            for target in targets:
                for name in _assigned_names(target):
                    if name in used_later and name not in blanked:
                        blanked.add(name)
                        out.append(f"{name} = {BLANK}")
        elif isinstance(statement, ast.Return):
            out.append(f"return {BLANK}")
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([d.lineno for d in statement.decorator_list] + [statement.lineno]) - 1
            body = statement.body
            header_end = body[0].lineno - 1
            has_doc = (
                isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            )
            if has_doc:
                header_end = body[0].end_lineno
            out.extend(code_lines[first:header_end])
            body_indent = " " * body[0].col_offset
            out.append(f"{body_indent}return {BLANK}")
            blanked.add(statement.name)
    if not out:
        out = ["pass  # your code here" if indent else "# your code here"]
    return [indent + line if line else line for line in out]


def _names_in(code: str) -> set[str]:
    """The identifiers a piece of code uses (not words inside strings or comments)."""
    try:
        return {tok.string for tok in tokenize.generate_tokens(io.StringIO(code).readline) if tok.type == tokenize.NAME}
    except (tokenize.TokenError, SyntaxError, IndentationError):  # e.g. a fragment cut mid-statement
        return set(_IDENTIFIER.findall(code))


def _code_used_after(cells, index: int, line: int) -> set[str]:
    """Identifiers used in the cell ``index`` after ``line`` and in every later code cell."""
    names = _names_in(textwrap.dedent("\n".join(_lines(cell_source(cells[index]))[line + 1:])))
    for cell in cells[index + 1:]:
        if cell.cell_type == "code":
            names |= _names_in(cell_source(cell))
    return names


def _solution_only(lines: list[str], regions: list[tuple[int, int]]) -> bool:
    inside = set()
    for start, end in regions:
        inside.update(range(start, end + 1))
    outside = [line for number, line in enumerate(lines) if number not in inside and line.strip()]
    return bool(regions) and not outside


def blank_code_solutions(notebook, name: str | None = None):
    """Replace the solution regions of code cells by blanks that still run.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A solution notebook (not changed).
    name : str, optional
        Its name, for error messages.

    Returns
    -------
    nbformat.NotebookNode
        A copy where every region is replaced (see the module docstring); solution-only cells
        (nothing but a solution region, no exercise marker) are left out.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell(
    ...     "# EXERCISE 1.1 (2 points): size\\n### BEGIN SOLUTION\\nx_len = header['NAXIS1']\\n"
    ...     "### END SOLUTION\\ncheck('1.1', x_len=x_len)")
    >>> print(blank_code_solutions(nbformat.v4.new_notebook(cells=[cell])).cells[0].source)
    # EXERCISE 1.1 (2 points): size
    x_len = ...  # your code here
    check('1.1', x_len=x_len)
    """
    name = _notebook_name(notebook, name)
    result = copy.deepcopy(notebook)
    kept = []
    for index, cell in enumerate(notebook.cells):
        new_cell = result.cells[index]
        if cell.cell_type != "code":
            kept.append(new_cell)
            continue
        where = _where(name, index)
        lines = _lines(cell_source(cell))
        regions = _regions(lines, BEGIN_SOLUTION, END_SOLUTION, where)
        if not regions:
            kept.append(new_cell)
            continue
        if _solution_only(lines, regions) and not EXERCISE_RE.search(cell_source(cell)):
            continue
        out, position = [], 0
        for start, end in regions:
            out.extend(lines[position:start])
            used_later = _code_used_after(notebook.cells, index, end)
            out.extend(_blank_region(lines[start + 1:end], used_later, where))
            position = end + 1
        out.extend(lines[position:])
        new_cell.source = "\n".join(out)
        kept.append(new_cell)
    result.cells = kept
    return result


def blank_markdown_solutions(notebook, name: str | None = None):
    """Replace written answers in markdown cells by a place for the student's own.

    A plain ``<!-- BEGIN SOLUTION -->`` region becomes :data:`MARKDOWN_BLANK`. One with points
    (``<!-- BEGIN SOLUTION (2 points): Q3.1 title -->``) becomes a marked place the grader finds again
    (:func:`ccdlab.classroom.grading.written.blank_markdown`), and the cell keeps the question's ID in
    ``metadata.ccdlab.written``.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_markdown_cell("Why?\\n<!-- BEGIN SOLUTION -->\\nBecause.\\n<!-- END SOLUTION -->")
    >>> print(blank_markdown_solutions(nbformat.v4.new_notebook(cells=[cell])).cells[0].source)
    Why?
    *Write your answer here.*
    >>> cell = nbformat.v4.new_markdown_cell("Why?\\n<!-- BEGIN SOLUTION (1 point): Q1 -->\\nSo.\\n<!-- END SOLUTION -->")
    >>> blank_markdown_solutions(nbformat.v4.new_notebook(cells=[cell])).cells[0].metadata.ccdlab.written
    ['Q1']
    """
    name = _notebook_name(notebook, name)
    result = copy.deepcopy(notebook)
    for index, cell in enumerate(result.cells):
        if cell.cell_type != "markdown":
            continue
        source, ids = blank_markdown(cell_source(cell), _where(name, index))
        cell.source = source
        if ids:
            cell.metadata["ccdlab"] = nbformat.NotebookNode({**cell.metadata.get("ccdlab", {}), "written": ids})
    return result


def clear_outputs(notebook):
    """Return a copy without outputs, execution counts, or cell metadata other than tags.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    >>> clear_outputs(nbformat.v4.new_notebook(cells=[cell])).cells[0].execution_count is None
    True
    """
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        tags = cell.get("metadata", {}).get("tags")
        written = (cell.get("metadata", {}).get("ccdlab") or {}).get("written")
        cell.metadata = nbformat.NotebookNode({"tags": list(tags)} if tags else {})
        if written:  # the written questions a markdown cell holds: the grader finds the answers by them
            cell.metadata["ccdlab"] = nbformat.NotebookNode({"written": list(written)})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return result


def set_metadata(notebook, lesson: str):
    """Return a copy with clean notebook metadata and the lesson in ``metadata.ccdlab.lesson``.

    Examples
    --------
    >>> import nbformat
    >>> set_metadata(nbformat.v4.new_notebook(), "01_fits_files").metadata.ccdlab.lesson
    '01_fits_files'
    """
    result = copy.deepcopy(notebook)
    result.metadata = nbformat.from_dict({
        "kernelspec": dict(_KERNELSPEC),
        "language_info": {"name": "python"},
        "ccdlab": {"lesson": lesson},
    })
    return result


def make_student(notebook, lesson: str, name: str | None = None):
    """Make the student version of a solution notebook.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The solution notebook (not changed).
    lesson : str
        The lesson name, usually the file stem (``"01_fits_files"``).
    name : str, optional
        The file name for error messages (default: the lesson).

    Returns
    -------
    nbformat.NotebookNode
        The student notebook: blanks instead of solutions, no outputs, clean metadata.

    Raises
    ------
    AuthoringError
        The solution's markers are malformed (see :func:`validate_solution`).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "### BEGIN SOLUTION\\nassert True\\n### END SOLUTION")])
    >>> len(make_student(nb, "00_demo").cells)   # a solution-only cell is left out
    0
    """
    name = name or lesson
    validate_solution(notebook, name)
    student = blank_code_solutions(notebook, name)
    student = blank_markdown_solutions(student, name)
    student = clear_outputs(student)
    student = set_metadata(student, lesson)
    leftover = [
        index for index, cell in enumerate(student.cells)
        if any(marker in cell_source(cell) for marker in (BEGIN_SOLUTION, END_SOLUTION, "<!-- BEGIN SOLUTION", END_MD_SOLUTION))
    ]
    if leftover:  # pragma: no cover - the steps above remove every region
        raise AuthoringError(f"{name}: solution markers survived in cell {leftover[0] + 1}.")
    nbformat.validate(student)
    return student


def student_text(solution_path: str | os.PathLike) -> str:
    """Return the student notebook for one solution file, as the exact text to be written.

    Examples
    --------
    >>> text = student_text("solutions/01_fits_files.ipynb")  # doctest: +SKIP
    >>> '"lesson": "01_fits_files"' in text  # doctest: +SKIP
    True
    """
    path = Path(solution_path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise
    except Exception as exc:  # nbformat raises several kinds for a damaged file
        raise AuthoringError(f"{path} is not a readable notebook ({exc}); open it in Jupyter and save it again.") from exc
    student = make_student(notebook, path.stem, path.name)
    return nbformat.writes(student, version=4) + "\n"


def generate(solutions_dir, out_dir, check: bool = False) -> dict[str, list[str]]:
    """Write (or compare) the student notebooks for every solution notebook.

    Parameters
    ----------
    solutions_dir : path-like
        The folder of solution notebooks (``*.ipynb``).
    out_dir : path-like
        Where the student notebooks go (created if needed, unless ``check``).
    check : bool
        Only compare: write nothing.

    Returns
    -------
    dict
        ``{"written": [...], "unchanged": [...], "stale": [...], "extra": [...]}``: file names
        written (or, with ``check``, that would be), already up to date, out of date (``check``
        only), and student notebooks with no solution behind them.

    Raises
    ------
    FileNotFoundError
        ``solutions_dir`` does not exist or holds no notebook.
    AuthoringError
        A solution notebook's markers are malformed.

    Examples
    --------
    >>> generate("solutions", "notebooks", check=True)["stale"]  # doctest: +SKIP
    []
    """
    solutions_dir, out_dir = Path(solutions_dir), Path(out_dir)
    if not solutions_dir.is_dir():
        raise MissingFileError(f"{solutions_dir} is not a folder; give the folder of solution notebooks (solutions/).")
    sources = sorted(p for p in solutions_dir.glob("*.ipynb") if not p.name.startswith("."))
    if not sources:
        raise MissingFileError(f"{solutions_dir} holds no notebooks (*.ipynb); is it the solutions/ folder?")
    if out_dir.resolve() == solutions_dir.resolve():
        raise InputError(f"The output folder {out_dir} is the solutions folder: choose another one (notebooks/).")
    report: dict[str, list[str]] = {"written": [], "unchanged": [], "stale": [], "extra": []}
    texts = {source.name: student_text(source) for source in sources}
    if not check:
        out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, text in texts.items():
        target = out_dir / file_name
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            report["unchanged"].append(file_name)
        elif check:
            report["stale"].append(file_name)
        else:
            atomic_write_text(target, text)
            report["written"].append(file_name)
    if out_dir.is_dir():
        report["extra"] = sorted(p.name for p in out_dir.glob("*.ipynb") if p.name not in texts)
    return report


#: Run (hidden) before a solution notebook whose outputs are refreshed: small JPEG figures.
_OUTPUT_PREAMBLE = (
    '%config InlineBackend.figure_formats = ["jpeg"]\n'
    '%config InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "dpi": 72, "pil_kwargs": {"quality": 80}}'
)
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def refresh_outputs(solution_path, data_dir, timeout: int = 900) -> float:
    """Run a solution notebook on a dataset and keep its outputs, ready to be committed.

    Figures are stored as small JPEGs (72 dpi), interactive widgets' outputs are dropped (they
    cannot show on a static page), the data folder's path is written as ``data``, and the
    notebook metadata is cleaned. The notebook is replaced only when every cell ran.

    Parameters
    ----------
    solution_path : path-like
        A solution notebook.
    data_dir : path-like
        The dataset to run on (exported as ``CCDLAB_DATA`` to the kernel).
    timeout : int
        Seconds allowed per cell.

    Returns
    -------
    float
        The run time in seconds.

    Raises
    ------
    FileNotFoundError
        The notebook or the data folder does not exist.
    nbclient.exceptions.CellExecutionError
        A cell failed; the notebook is left as it was.

    Examples
    --------
    >>> refresh_outputs("solutions/02_statistics_display.ipynb", "data")  # doctest: +SKIP
    3.4
    """
    from nbclient import NotebookClient

    path, data_dir = Path(solution_path), Path(data_dir).resolve()
    if not path.is_file():
        raise MissingFileError(f"{path}: no such notebook.")
    if not data_dir.is_dir():
        raise MissingFileError(f"The data folder {data_dir} does not exist; create it with 'python data_fetch.py --dest {data_dir}'.")
    notebook = nbformat.read(path, as_version=4)
    lesson = notebook.metadata.get("ccdlab", {}).get("lesson", path.stem)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_OUTPUT_PREAMBLE))
    saved = {key: os.environ.get(key) for key in ("CCDLAB_DATA", "MPLBACKEND")}
    os.environ["CCDLAB_DATA"] = str(data_dir)
    os.environ.pop("MPLBACKEND", None)  # the inline backend draws the figures
    try:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        start = time.perf_counter()
        client.execute()
        elapsed = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    notebook.cells.pop(0)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if _WIDGET_MIME not in o.get("data", {})]
    notebook = set_metadata(notebook, lesson)
    text = nbformat.writes(notebook, version=4).replace(str(data_dir), "data") + "\n"
    atomic_write_text(path, text)
    return elapsed


def refresh_setup_cell(notebook_path) -> bool:
    """Make a notebook's first code cell the current setup cell (e.g. after COURSE_REPOSITORY changed).

    Parameters
    ----------
    notebook_path : path-like
        A solution notebook; its lesson is its file stem.

    Returns
    -------
    bool
        True when the cell was changed (and the notebook rewritten).

    Raises
    ------
    AuthoringError
        The notebook has no code cell, or its first code cell is not a setup cell (it does not
        call ``start(``): nothing is overwritten.

    Examples
    --------
    >>> refresh_setup_cell("solutions/01_fits_files.ipynb")  # doctest: +SKIP
    False
    """
    import nbformat

    path = Path(notebook_path)
    notebook = nbformat.read(path, as_version=4)
    cell = next((c for c in notebook.cells if c.cell_type == "code"), None)
    if cell is None or not any(f"from {where} import start" in cell.source for where in ("ccdlab.setup_cell", "ccdlab.course.setup")):
        raise AuthoringError(f"{path}: the first code cell is not a setup cell; add one with ccdlab.course.setup.cell_source({path.stem!r}).")
    wanted = setup_cell_source(path.stem)
    if cell.source == wanted:
        return False
    cell.source = wanted
    atomic_write_text(path, nbformat.writes(notebook) + "\n")
    return True

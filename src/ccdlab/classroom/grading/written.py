"""Written answers: the markers that give them points, their place in the student notebook, and finding
a student's answer again in a returned notebook.

In a solution notebook's markdown, a written answer sits between two marker lines. The opening line
may give it points and an ID (the syntax, one line each)::

    <!-- BEGIN SOLUTION -->                                  not collected, worth nothing (as before)
    <!-- BEGIN SOLUTION (2 points): Q3.1 why the median -->  question Q3.1, 2 points, title "why the median"
    <!-- END SOLUTION -->

The ID is the first word after the colon (letters, digits, ``.``, ``_``, ``-``; unique in the
lesson, and not an exercise's ID), the title the rest; ``(1 point)`` also reads. In the student
notebook (:func:`blank_markdown`) a region with points becomes::

    <!-- ANSWER Q3.1 (2 points): write your answer below this line, above END ANSWER -->
    *Write your answer here (2 points).*
    <!-- END ANSWER Q3.1 -->

and the cell keeps ``metadata.ccdlab.written = ["Q3.1"]``. The comment lines do not show when the
markdown is rendered; a student who edits the cell writes between them. :func:`find_answer` finds the
answer again in a returned notebook, in this order: between the ANSWER lines (wherever the cell now
is); in the cell whose metadata names the question; in the cell that still holds the question's text.
Markdown cells the student added right after that cell count as part of the answer. Written answers
are never scored by the grader: the instructor gives the points (:mod:`.manual`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ccdlab.course.markers import BEGIN_MD_SOLUTION, END_MD_SOLUTION, cell_source
from ccdlab.errors import AuthoringError

__all__ = ["WrittenQuestion", "Answer", "PLACEHOLDER", "markdown_regions", "written_questions", "blank_markdown",
           "find_answer", "handout_markdown"]

#: What the student sees in place of a written answer without points (unchanged from earlier versions).
PLACEHOLDER = "*Write your answer here.*"

_BEGIN = re.compile(
    r"^<!--\s*BEGIN SOLUTION\s*(?:\(\s*(?P<points>\d+(?:\.\d+)?)\s*points?\s*\)\s*:\s*"
    r"(?P<id>[A-Za-z0-9][\w.\-]*)(?:\s+(?P<title>.*?))?)?\s*-->$", re.IGNORECASE)
_BEGIN_ANY = re.compile(r"^<!--\s*BEGIN SOLUTION\b", re.IGNORECASE)
_END = re.compile(r"^<!--\s*END SOLUTION\s*-->$", re.IGNORECASE)
_ANSWER = re.compile(r"^\s*<!--\s*ANSWER\s+(?P<id>[A-Za-z0-9][\w.\-]*)\b.*-->\s*$", re.IGNORECASE)
_ANSWER_END = re.compile(r"^\s*<!--\s*END ANSWER\s+(?P<id>[A-Za-z0-9][\w.\-]*)\s*-->\s*$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^\s*\*Write your answer here\b[^*]*\*\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class WrittenQuestion:
    """A written answer a lesson gives points to.

    Parameters
    ----------
    id : str
        Its ID in the lesson, e.g. ``"Q3.1"``.
    points : float
        What it is worth.
    title : str
        A few words from its marker.
    prompt : str
        The question: the markdown cell's text outside the answer.
    model_answer : str
        The solution's answer.

    Examples
    --------
    >>> WrittenQuestion("Q3.1", 2.0, "why the median").points
    2.0
    """

    id: str
    points: float
    title: str = ""
    prompt: str = ""
    model_answer: str = ""


@dataclass(frozen=True)
class Answer:
    """A student's written answer, as found in a returned notebook.

    Parameters
    ----------
    text : str
        The answer (empty when the student wrote nothing).
    where : str
        How it was found: ``"marked place"``, ``"question cell"``, ``"question text"`` or
        ``"not found"`` (the question's cell is gone from the notebook).

    Examples
    --------
    >>> Answer("", "not found").blank
    True
    """

    text: str
    where: str

    @property
    def blank(self) -> bool:
        """True when there is no answer to read.

        Examples
        --------
        >>> Answer("Because.", "marked place").blank
        False
        """
        return not self.text.strip()


def _points(value: float) -> str:
    return f"{value:g} point{'' if value == 1 else 's'}"


def markdown_regions(lines: list, where: str) -> list:
    """The written-answer regions of a markdown cell's lines.

    Parameters
    ----------
    lines : list of str
        The cell's source, split on newlines.
    where : str
        The notebook and cell, for error messages (``"01_fits_files.ipynb, cell 20"``).

    Returns
    -------
    list of (int, int, WrittenQuestion or None)
        Line numbers of the BEGIN and END markers, and the question when the marker gives points.

    Raises
    ------
    AuthoringError
        A region not closed, closing nothing, nested, or an opening line that is not one of the forms above.

    Examples
    --------
    >>> markdown_regions(["Why?", "<!-- BEGIN SOLUTION (2 points): Q1 why -->", "Because.", "<!-- END SOLUTION -->"], "x")
    [(1, 3, WrittenQuestion(id='Q1', points=2.0, title='why', prompt='Why?', model_answer='Because.'))]
    >>> markdown_regions(["<!-- BEGIN SOLUTION -->", "a", "<!-- END SOLUTION -->"], "x")
    [(0, 2, None)]
    """
    regions, start, marker = [], None, None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if _BEGIN_ANY.match(stripped):
            match = _BEGIN.match(stripped)
            if match is None:
                raise AuthoringError(
                    f"{where}: line {number + 1} ({stripped!r}) is not a written-answer marker: write "
                    f"'{BEGIN_MD_SOLUTION}', or '<!-- BEGIN SOLUTION (2 points): Q3.1 title -->' to give it points.")
            if start is not None:
                raise AuthoringError(
                    f"{where}: '{BEGIN_MD_SOLUTION}' on line {number + 1} opens a region inside another one "
                    f"(opened on line {start + 1}); close the first with '{END_MD_SOLUTION}'.")
            start, marker = number, match
        elif _END.match(stripped):
            if start is None:
                raise AuthoringError(f"{where}: '{END_MD_SOLUTION}' on line {number + 1} closes no region; "
                                     f"add '{BEGIN_MD_SOLUTION}' before it.")
            regions.append((start, number, marker))
            start = None
    if start is not None:
        raise AuthoringError(f"{where}: '{BEGIN_MD_SOLUTION}' on line {start + 1} is never closed; "
                             f"add '{END_MD_SOLUTION}' after the answer.")
    inside = {n for begin, end, _ in regions for n in range(begin, end + 1)}
    prompt = "\n".join(line for n, line in enumerate(lines) if n not in inside).strip()
    found = []
    for begin, end, match in regions:
        question = None
        if match["id"]:
            question = WrittenQuestion(match["id"], float(match["points"]), (match["title"] or "").strip(), prompt,
                                       "\n".join(lines[begin + 1:end]).strip())
        found.append((begin, end, question))
    return found


def written_questions(notebook, name: str = "notebook") -> list:
    """The written answers with points in a solution notebook, in order.

    Raises
    ------
    AuthoringError
        A malformed marker (see :func:`markdown_regions`) or an ID used twice.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_markdown_cell("Why?\\n<!-- BEGIN SOLUTION (1 point): Q0.1 -->\\nSo.\\n<!-- END SOLUTION -->")
    >>> [(q.id, q.points) for q in written_questions(nbformat.v4.new_notebook(cells=[cell]))]
    [('Q0.1', 1.0)]
    """
    questions, seen = [], {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "markdown":
            continue
        where = f"{name}, cell {index + 1}"
        for _, _, question in markdown_regions(cell_source(cell).split("\n"), where):
            if question is None:
                continue
            if question.id in seen:
                raise AuthoringError(f"{where}: written answer {question.id} is declared again (first in cell "
                                     f"{seen[question.id] + 1}); give each written answer its own ID.")
            seen[question.id] = index
            questions.append(question)
    return questions


def blank_markdown(source: str, where: str) -> tuple:
    """The student version of a markdown cell: every answer replaced by a place for the student's own.

    Returns
    -------
    (str, list of str)
        The new source and the IDs of the questions with points it holds (for the cell's metadata).

    Examples
    --------
    >>> text, ids = blank_markdown("Why?\\n<!-- BEGIN SOLUTION (2 points): Q1 why -->\\nSo.\\n<!-- END SOLUTION -->", "x")
    >>> print(text)
    Why?
    <!-- ANSWER Q1 (2 points): write your answer below this line, above END ANSWER -->
    *Write your answer here (2 points).*
    <!-- END ANSWER Q1 -->
    >>> ids
    ['Q1']
    """
    lines = source.split("\n")
    regions = markdown_regions(lines, where)
    if not regions:
        return source, []
    out, position, ids = [], 0, []
    for begin, end, question in regions:
        out.extend(lines[position:begin])
        if question is None:
            out.append(PLACEHOLDER)
        else:
            ids.append(question.id)
            out += [f"<!-- ANSWER {question.id} ({_points(question.points)}): write your answer below this line, "
                    "above END ANSWER -->",
                    f"*Write your answer here ({_points(question.points)}).*",
                    f"<!-- END ANSWER {question.id} -->"]
        position = end + 1
    out.extend(lines[position:])
    return "\n".join(out), ids


def handout_markdown(notebook, name: str = "notebook") -> set:
    """The text of every markdown cell as the student notebook has it (to tell cells a student added).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Why?\\n<!-- BEGIN SOLUTION -->\\nSo.\\n<!-- END SOLUTION -->")])
    >>> handout_markdown(nb)
    {'Why?\\n*Write your answer here.*'}
    """
    texts = set()
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") == "markdown":
            texts.add(blank_markdown(cell_source(cell), f"{name}, cell {index + 1}")[0].strip())
    return texts


def _clean(lines) -> str:
    markers = (_PLACEHOLDER, _ANSWER, _ANSWER_END, _BEGIN_ANY, _END)
    kept = [line for line in lines if not any(marker.match(line.strip()) for marker in markers)]
    return "\n".join(kept).strip()


def _written_ids(cell) -> list:
    meta = cell.get("metadata", {}).get("ccdlab", {})
    ids = meta.get("written", []) if isinstance(meta, dict) else []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def _added_after(cells, index: int, handout: set) -> list:
    """Markdown cells the student added right after cell ``index`` (not in the hand-out, no question of their own)."""
    added = []
    for cell in cells[index + 1:]:
        text = cell_source(cell)
        if cell.get("cell_type") != "markdown" or text.strip() in handout or _written_ids(cell) \
                or any(_ANSWER.match(line) for line in text.split("\n")):
            break
        added.append(text.strip())
    return added


def find_answer(notebook, question: WrittenQuestion, handout: set = frozenset()) -> Answer:
    """Find a student's answer to a written question in a returned notebook.

    Parameters
    ----------
    notebook : NotebookNode
        The returned notebook.
    question : WrittenQuestion
        From the lesson's solution (:func:`written_questions`).
    handout : set of str
        The hand-out's markdown cells (:func:`handout_markdown`): cells not among them, right after
        the question's cell, are the student's own and part of the answer.

    Returns
    -------
    Answer

    Examples
    --------
    >>> import nbformat
    >>> q = WrittenQuestion("Q1", 2.0, prompt="Why?")
    >>> cell = nbformat.v4.new_markdown_cell("Why?\\n<!-- ANSWER Q1 (2 points): ... -->\\nBecause the median.\\n<!-- END ANSWER Q1 -->")
    >>> find_answer(nbformat.v4.new_notebook(cells=[cell]), q)
    Answer(text='Because the median.', where='marked place')
    >>> find_answer(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Why?\\nNo idea.")]), q)
    Answer(text='No idea.', where='question text')
    """
    cells = list(notebook.cells)
    prompt_lines = {line.strip() for line in question.prompt.split("\n") if line.strip()}
    for index, cell in enumerate(cells):
        if cell.get("cell_type") not in ("markdown", "raw"):
            continue
        lines = cell_source(cell).split("\n")
        begin = next((n for n, line in enumerate(lines) if (m := _ANSWER.match(line)) and m["id"] == question.id), None)
        if begin is None:
            continue
        end = next((n for n in range(begin + 1, len(lines)) if (m := _ANSWER_END.match(lines[n])) and m["id"] == question.id),
                   len(lines))
        parts = [_clean(lines[begin + 1:end])] + _added_after(cells, index, handout)
        return Answer("\n\n".join(p for p in parts if p), "marked place")
    anchors = [(index, "question cell") for index, cell in enumerate(cells) if question.id in _written_ids(cell)]
    first = next((line.strip() for line in question.prompt.split("\n") if line.strip()), None)
    if first:
        anchors += [(index, "question text") for index, cell in enumerate(cells)
                    if cell.get("cell_type") in ("markdown", "raw")
                    and first in {line.strip() for line in cell_source(cell).split("\n")}]
    if not anchors:
        return Answer("", "not found")
    index, where = anchors[0]
    own = _clean(line for line in cell_source(cells[index]).split("\n") if line.strip() not in prompt_lines)
    parts = [own] + _added_after(cells, index, handout)
    return Answer("\n\n".join(p for p in parts if p), where)

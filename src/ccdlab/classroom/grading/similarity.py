"""Copied work: answers that are the same across a class, once renamed variables and layout are set aside.

A copied *number* shows when each student has a night of their own (the batch flags answers that
are right on a classmate's night). A copied *cell* shows here. For every returned notebook of a
lesson, the student's own text is what is left of each cell once the lines of the handed-out
notebook are taken away: the code they wrote in each exercise's cell, the code of cells they added,
and their written answers. Each region is normalised (comments, whitespace and layout dropped;
variable names replaced by their order of first use, so ``frames``/``stack`` renamed to
``imgs``/``cube`` changes nothing; written text lower-cased, punctuation dropped) and cut into
overlapping runs of tokens (*k*-grams, as MOSS does). Runs that the solution contains, or that many
notebooks share (the idiom everyone writes, ``np.median(cube, axis=0)``), say nothing about copying
and are set aside. Two notebooks whose remaining runs mostly coincide, in a region with enough of
them to mean something, are listed with the lines they share. Notebooks that are the same file
under two names, or the same cells with only outputs differing, are listed too.

A listed pair is a reason to look, not a verdict: the instructor reads the lines and decides.

Examples
--------
>>> code_tokens("total = a + b  # sum") == code_tokens("s=x+y")
True
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ccdlab.course.markers import EXERCISE_RE, cell_source

__all__ = ["Region", "Copy", "code_tokens", "text_tokens", "regions_of", "find_copies", "copies_in_book",
           "K_CODE", "K_TEXT", "MIN_SHARED", "THRESHOLD"]

#: Tokens per run: code runs of 10 tokens (about one line), text runs of 5 words.
K_CODE, K_TEXT = 10, 5
#: A pair is listed when at least this share of the smaller region's distinctive runs is shared ...
THRESHOLD = 0.7
#: ... and they share at least this many distinctive runs (a one-liner everyone writes is not a copy).
MIN_SHARED = 8

_KEEP_NAMES = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | {
    "np", "numpy", "plt", "matplotlib", "fits", "astropy", "Path", "ccdlab", "check", "said", "math", "u",
}
_WORD_RE = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def code_tokens(source: str) -> list[str]:
    """The tokens of Python code with comments and layout dropped and variable names numbered.

    A name is replaced by ``$n``, its order of first use, unless it is a keyword, a builtin, a
    common module (``np``, ``plt``, ...) or an attribute (after a dot) or keyword argument name:
    those are the vocabulary of the course, not the student's choice. Code that does not tokenize
    (half-written) falls back to words and symbols.

    Parameters
    ----------
    source : str
        Python code.

    Returns
    -------
    list of str

    Examples
    --------
    >>> code_tokens("cube = np.stack(frames)\\nmaster = np.median(cube, axis=0)")
    ['$0', '=', 'np', '.', 'stack', '(', '$1', ')', '$2', '=', 'np', '.', 'median', '(', '$0', ',', 'axis', '=', '0', ')']
    """
    return [token for token, _ in _code_tokens(source)]


def _code_tokens(source: str) -> list[tuple[str, int]]:
    """``(token, line index)`` pairs of :func:`code_tokens`."""
    try:
        raw = [(t.type, t.string, t.start[0] - 1) for t in tokenize.generate_tokens(io.StringIO(source).readline)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raw = []
        for number, line in enumerate(source.splitlines()):
            if line.lstrip().startswith("#"):
                continue
            raw += [(tokenize.NAME if re.match(r"[A-Za-z_]", piece) else tokenize.OP, piece, number)
                    for piece in re.findall(r"[A-Za-z_]\w*|\d+(?:\.\d*)?|\S", line)]
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    kept = [(kind, text, line) for kind, text, line in raw if kind not in skip and text.strip()]
    names: dict[str, str] = {}
    tokens = []
    for i, (kind, text, line) in enumerate(kept):
        if kind == tokenize.NAME and text not in _KEEP_NAMES:
            after_dot = i > 0 and kept[i - 1][1] == "."
            keyword_argument = 0 < i < len(kept) - 1 and kept[i + 1][1] == "=" and kept[i - 1][1] in ("(", ",")
            if not (after_dot or keyword_argument):
                text = names.setdefault(text, f"${len(names)}")
        elif kind == tokenize.STRING:
            text = text.lower()
        tokens.append((text, line))
    return tokens


def text_tokens(text: str) -> list[str]:
    """The words of a written answer: lower case, no punctuation, no markup.

    Examples
    --------
    >>> text_tokens("The *median* ignores a hot pixel; the mean doesn't.")
    ['the', 'median', 'ignores', 'a', 'hot', 'pixel', 'the', 'mean', 'doesn', 't']
    """
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    return _WORD_RE.findall(text.lower())


@dataclass
class Region:
    """One part of a notebook that is the student's own: an exercise's code, added code, or written text.

    Examples
    --------
    >>> Region("exercise 3.1", "code", ["x = 1"]).name
    'exercise 3.1'
    """

    name: str
    kind: str                     # "code" or "text"
    lines: list = field(default_factory=list)


def _own_lines(source: str, given: set) -> list[str]:
    return [line for line in source.splitlines() if line.strip() and line.strip() not in given]


def regions_of(notebook, template) -> list[Region]:
    """The student's own regions of a returned notebook: what is left once the hand-out's lines go.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The returned notebook.
    template : nbformat.NotebookNode
        The notebook the students were given (the student version of the solution).

    Returns
    -------
    list of Region
        One per exercise cell (``exercise 3.1``), one for the code of cells the student added
        (``added code``) and one for written text (``written answers``); empty ones are left out.

    Examples
    --------
    >>> import nbformat
    >>> given = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (1 point): x\\nx = ...")])
    >>> mine = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (1 point): x\\nx = 4")])
    >>> [(r.name, r.lines) for r in regions_of(mine, given)]
    [('exercise 1.1', ['x = 4'])]
    """
    given_code, given_text = set(), set()
    for cell in template.get("cells", []):
        target = given_code if cell.get("cell_type") == "code" else given_text
        target.update(line.strip() for line in cell_source(cell).splitlines() if line.strip())
    exercises: dict[str, list] = {}
    added, written = [], []
    for cell in notebook.get("cells", []):
        source = cell_source(cell)
        if cell.get("cell_type") == "code":
            marker = EXERCISE_RE.search(source)
            own = _own_lines(source, given_code)
            if marker:
                exercises.setdefault(marker.group("id"), []).extend(own)
            else:
                added.extend(own)
        elif cell.get("cell_type") == "markdown":
            written.extend(_own_lines(source, given_text))
    regions = [Region(f"exercise {exercise}", "code", lines) for exercise, lines in exercises.items()]
    regions += [Region("added code", "code", added), Region("written answers", "text", written)]
    return [region for region in regions if region.lines]


def _runs(region: Region) -> dict[int, set]:
    """``{run hash: line indices}`` of a region's overlapping k-token runs."""
    if region.kind == "code":
        pairs, k = _code_tokens("\n".join(region.lines)), K_CODE
    else:
        pairs, k = [(word, n) for n, line in enumerate(region.lines) for word in text_tokens(line)], K_TEXT
    tokens = [token for token, _ in pairs]
    where = [line for _, line in pairs]
    runs: dict[int, set] = defaultdict(set)
    for start in range(max(len(tokens) - k + 1, 1 if tokens else 0)):
        runs[_hash(tokens[start:start + k])].update(where[start:start + k])
    return runs


def _hash(tokens) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(tokens).encode(), digest_size=8).digest(), "big")


@dataclass
class Copy:
    """Two notebooks of one lesson that share more than chance would.

    Examples
    --------
    >>> Copy("03_master_bias", ("ada", "bob"), "same file", 1.0).describe()
    'ada and bob handed in the same file for 03_master_bias'
    """

    lesson: str
    students: tuple
    how: str                      # "same file", "same cells", or "similar answers"
    score: float
    regions: list = field(default_factory=list)   # region names where the answers coincide
    shared: list = field(default_factory=list)    # lines of the first student's notebook they share
    files: tuple = ()

    def describe(self) -> str:
        """One sentence for the report.

        Examples
        --------
        >>> Copy("01_fits_files", ("a", "b"), "similar answers", 0.9, ["exercise 1.2"]).describe()
        'a and b: 90% of their answers in exercise 1.2 of 01_fits_files coincide (renaming and layout aside)'
        """
        first, second = self.students
        if self.how == "same file":
            return f"{first} and {second} handed in the same file for {self.lesson}"
        if self.how == "same cells":
            return f"{first} and {second} handed in the same cells for {self.lesson} (only outputs or metadata differ)"
        return (f"{first} and {second}: {100 * self.score:.0f}% of their answers in {', '.join(self.regions)} of "
                f"{self.lesson} coincide (renaming and layout aside)")


def _cells_digest(notebook) -> str:
    digest = hashlib.sha256()
    for cell in notebook.get("cells", []):
        digest.update(cell.get("cell_type", "").encode() + b"\0" + cell_source(cell).encode() + b"\0")
    return digest.hexdigest()


def find_copies(notebooks: list, template=None, solution=None, lesson: str = "", threshold: float = THRESHOLD,
                min_shared: int = MIN_SHARED) -> list[Copy]:
    """Pairs of one lesson's notebooks whose own answers coincide beyond chance.

    Parameters
    ----------
    notebooks : list of (student, notebook, file bytes or None)
        The lesson's returned notebooks (``nbformat`` nodes); the bytes tell identical files apart.
    template : nbformat.NotebookNode, optional
        The handed-out notebook (its lines are nobody's own). Default: nothing is taken away.
    solution : nbformat.NotebookNode, optional
        The solution: runs it contains are set aside (a right answer written the expected way is not
        a sign of copying).
    lesson : str
        The lesson's name, for the report.
    threshold : float
        Share of the smaller region's distinctive runs two regions must share.
    min_shared : int
        Distinctive runs they must share at least.

    Returns
    -------
    list of Copy
        Most similar first; at most one entry per pair of students.

    Examples
    --------
    >>> import nbformat
    >>> cell = lambda s: nbformat.v4.new_code_cell("# EXERCISE 1.1 (1 point): x\\n" + s)
    >>> mine = "def tidy(frames):\\n    cube = sorted(frames)\\n    mid = len(cube) // 2\\n    return (cube[mid] + cube[~mid]) / 2"
    >>> theirs = mine.replace("cube", "stack").replace("mid", "half")
    >>> other = "def tidy(frames):\\n    import statistics\\n    return statistics.median(frames)"
    >>> class_ = [(name, nbformat.v4.new_notebook(cells=[cell(code)]), None)
    ...           for name, code in (("ada", mine), ("bob", theirs), ("cy", other))]
    >>> [(c.students, c.how) for c in find_copies(class_, lesson="01", min_shared=3)]
    [(('ada', 'bob'), 'similar answers')]
    """
    copies: dict[tuple, Copy] = {}
    by_bytes, by_cells = defaultdict(list), defaultdict(list)
    for student, notebook, data in notebooks:
        if data is not None:
            by_bytes[hashlib.sha256(data).hexdigest()].append(student)
        by_cells[_cells_digest(notebook)].append(student)
    for how, groups in (("same file", by_bytes), ("same cells", by_cells)):
        for students in groups.values():
            for pair in combinations(sorted(set(students)), 2):
                copies.setdefault(pair, Copy(lesson, pair, how, 1.0))

    empty = {"cells": []}
    solution_runs: set = set()
    if solution is not None:
        for region in regions_of(solution, template or empty):
            solution_runs.update(_runs(region))
    runs = {}  # (student, region name) -> (region, {run: lines})
    for student, notebook, _ in notebooks:
        for region in regions_of(notebook, template or empty):
            runs[(student, region.name)] = (region, _runs(region))
    # A run found in many notebooks is the class's idiom, not a copy.
    holders = defaultdict(set)
    for (student, name), (_, found) in runs.items():
        for run in found:
            holders[(name, run)].add(student)
    common_limit = max(3, int(0.2 * len({student for student, _, _ in notebooks})))
    distinctive = {key: {run: lines for run, lines in found.items()
                         if run not in solution_runs and len(holders[(key[1], run)]) <= common_limit}
                   for key, (_, found) in runs.items()}

    pairs = defaultdict(lambda: [0, 0, [], []])  # pair -> [shared, smaller total, regions, shared lines]
    for name in sorted({name for _, name in runs}):
        students = sorted(student for student, region_name in runs if region_name == name)
        for first, second in combinations(students, 2):
            a, b = distinctive[(first, name)], distinctive[(second, name)]
            shared = set(a) & set(b)
            smaller = min(len(a), len(b))
            if not shared or not smaller:
                continue
            entry = pairs[(first, second)]
            entry[0] += len(shared)
            entry[1] += smaller
            if len(shared) / smaller >= threshold:
                entry[2].append(name)
                region = runs[(first, name)][0]
                numbers = sorted(set().union(*(a[run] for run in shared)))
                entry[3].extend(region.lines[n].strip() for n in numbers)
    for pair, (shared, smaller, regions, lines) in pairs.items():
        if pair in copies or not regions or shared < min_shared:
            continue
        score = shared / smaller if smaller else 0.0
        if score >= threshold:
            copies[pair] = Copy(lesson, pair, "similar answers", score, regions, lines)
    return sorted(copies.values(), key=lambda c: (-c.score, c.how != "same file", c.students))


def copies_in_book(book, solutions_dir=None) -> list[Copy]:
    """Copied work across a graded batch: :func:`find_copies` for each lesson's notebooks.

    Parameters
    ----------
    book : ccdlab.classroom.grading.GradeBook
        A graded batch (its submissions name their student, lesson and file).
    solutions_dir : path-like, optional
        The solutions the batch was graded with (default: the book's settings, else the project's).

    Returns
    -------
    list of Copy

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> copies_in_book(GradeBook())
    []
    """
    import nbformat

    from ccdlab.classroom.authoring import make_student

    folder = Path(solutions_dir or book.settings.get("solutions") or "solutions")
    by_lesson = defaultdict(list)
    for sub in book.submissions:
        if not sub.lesson:
            continue
        try:
            data = Path(sub.path).read_bytes()
            notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        except Exception:  # noqa: BLE001 - an unreadable notebook has its own status already
            continue
        by_lesson[sub.lesson].append((sub.student, notebook, data))
    found = []
    for lesson, notebooks in sorted(by_lesson.items()):
        if len({student for student, _, _ in notebooks}) < 2:
            continue
        solution = template = None
        path = folder / f"{lesson}.ipynb"
        if path.is_file():
            try:
                solution = nbformat.read(path, as_version=4)
                template = make_student(solution, lesson)
            except Exception:  # noqa: BLE001 - then only identical notebooks are told
                solution = template = None
        copies = find_copies(notebooks, template, solution, lesson)
        if template is None:  # without the hand-out every notebook shares its lines: only identical ones say something
            copies = [copy_ for copy_ in copies if copy_.how != "similar answers"]
        found.extend(copies)
    return found

"""Grading a class's returned notebooks: ``ccdlab grade SUBMISSIONS... --out grades.csv``.

Each returned notebook is

1. read and identified: its lesson (notebook metadata ``ccdlab.lesson``, else the file name, else
   the exercise IDs it declares) and its student (the file name without the lesson, else the
   student's folder, else notebook metadata);
2. run from the top in a fresh kernel, in a sandbox of its own (:mod:`ccdlab.grading_run`);
3. graded from the results its checks recorded (never from printed text) against the points
   declared by the markers in the lesson's solution notebook (:mod:`ccdlab.markers`).

Every exercise of the lesson gets one row with one status (see :data:`GRADE_STATUSES`), so a
broken or hostile notebook is reported, not fatal, and the batch goes on. The CSV and the summary
(markdown and HTML) are written by :mod:`ccdlab.grading_report`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .markers import Exercise, cell_source, exercises_in
from .results import STATUSES as CHECK_STATUSES
from .grading_run import RunRecord, make_writable

__all__ = [
    "GRADE_STATUSES",
    "GRADING_INTERNALS",
    "GradingError",
    "Lesson",
    "GradeRow",
    "Submission",
    "GradeBook",
    "check_answers",
    "load_solutions",
    "default_solutions_dir",
    "find_submissions",
    "read_submission",
    "identify_lesson",
    "identify_student",
    "suspect_cells",
    "grade_record",
    "run_submission",
    "grade",
    "fingerprint",
    "add_arguments",
    "run",
]

#: Every status a grade row can have: the check's own verdicts, then what the grader found.
GRADE_STATUSES = CHECK_STATUSES + (
    "missing",           # no result recorded: the check cell was deleted, or never reached
    "timeout",           # the exercise's cell ran too long, or the notebook's time ran out first
    "kernel died",       # the kernel crashed before the exercise's check ran
    "tampered",          # the result was written by a cell that uses grading internals
    "wrong check",       # the result recorded under this ID came from the check of other answers
    "invalid notebook",  # the file is not a readable notebook
    "unknown lesson",    # no solution notebook matches this notebook
    "wrong lesson",      # a notebook of another lesson than the one being graded
    "grader error",      # the grader itself failed on this notebook (please report)
)

#: Names a student notebook never needs: using them (when the lesson's solution does not) is how a
#: cell would write its own results, so results recorded by such a cell are not trusted.
GRADING_INTERNALS = (
    "CCDLAB_RESULTS", "ExerciseResult", "ccdlab.results", "results.record", "_RECORDED", "_record",
    "read_results", "ccdlab import results", "ccdlab.checks", "find_check", "grading_run",
)


def _uses(name: str, source: str) -> bool:
    """True when ``name`` appears in ``source`` as a whole name (``my_record`` is not ``_record``)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", source) is not None

_EXTRA_SECONDS = 60  # slack the batch gives a worker beyond the notebook timeout
_LIVE: set = set()  # running worker processes, stopped all at once on Ctrl-C
_LIVE_LOCK = threading.Lock()


class GradingError(ValueError):
    """Grading cannot start (no solutions, no submissions, no data); the message says what to do."""


@dataclass(frozen=True)
class Lesson:
    """A lesson's solution notebook, reduced to what grading needs.

    Parameters
    ----------
    name : str
        The solution notebook's file stem, e.g. ``"01_fits_files"``.
    exercises : tuple of Exercise
        In notebook order.
    source : str
        All the solution's code, to tell which grading internals the lesson itself uses.
    answers : dict
        ``{exercise id: set of answer names}`` passed to ``check("1.1", x_len=..., ...)`` in the
        solution, to tell when a result was recorded by the check of another exercise.

    Examples
    --------
    >>> Lesson("01_fits_files", (Exercise("1.1", 2.0),)).max_points
    2.0
    """

    name: str
    exercises: tuple = ()
    source: str = ""
    answers: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def max_points(self) -> float:
        """Total points of the lesson.

        Examples
        --------
        >>> Lesson("x", (Exercise("1", 1.0), Exercise("2", 2.5))).max_points
        3.5
        """
        return float(sum(e.points for e in self.exercises))

    @property
    def ids(self) -> list:
        """Exercise IDs in order.

        Examples
        --------
        >>> Lesson("x", (Exercise("1.1", 1.0),)).ids
        ['1.1']
        """
        return [e.id for e in self.exercises]


@dataclass
class GradeRow:
    """One line of the grades: one student, one exercise.

    Examples
    --------
    >>> GradeRow("alice", "01_fits_files", "1.1", 2.0, 2.0, "correct").points
    2.0
    """

    student: str
    lesson: str
    exercise: str
    points: float
    max_points: float
    status: str
    hint: str = ""
    submission: str = ""
    title: str = ""
    score: float = 0.0


@dataclass
class Submission:
    """One returned notebook and what became of it.

    Examples
    --------
    >>> Submission(Path("alice.ipynb"), "alice").student
    'alice'
    """

    path: Path
    student: str
    lesson: str = ""
    status: str = ""          # the run's status, or the reason it was not run
    message: str = ""
    notes: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def points(self) -> float:
        """Points earned in this submission.

        Examples
        --------
        >>> Submission(Path("a.ipynb"), "a", rows=[GradeRow("a", "l", "1", 1.5, 2, "partial")]).points
        1.5
        """
        return float(sum(row.points for row in self.rows))

    @property
    def max_points(self) -> float:
        """Points available in this submission's lesson.

        Examples
        --------
        >>> Submission(Path("a.ipynb"), "a", rows=[GradeRow("a", "l", "1", 1.5, 2, "partial")]).max_points
        2.0
        """
        return float(sum(row.max_points for row in self.rows))


@dataclass
class GradeBook:
    """The result of grading a batch.

    Examples
    --------
    >>> GradeBook().rows
    []
    """

    submissions: list = field(default_factory=list)
    lessons: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    elapsed: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def rows(self) -> list:
        """All grade rows, by student, lesson, then exercise order.

        Examples
        --------
        >>> len(GradeBook().rows)
        0
        """
        rows = []
        for sub in sorted(self.submissions, key=lambda s: (s.student, s.lesson, str(s.path))):
            rows.extend(sub.rows)
        return rows


# --------------------------------------------------------------------------------------------
# Solutions and submissions


def default_solutions_dir() -> Path:
    """Return the project's ``solutions/`` folder (or ``./solutions`` outside a checkout).

    Examples
    --------
    >>> default_solutions_dir().name
    'solutions'
    """
    from .paths import project_root

    return (project_root() or Path.cwd()) / "solutions"


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
    import ast

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


def load_solutions(solutions_dir=None) -> dict:
    """Read the lessons (exercise IDs and points) from the solution notebooks.

    Parameters
    ----------
    solutions_dir : path-like, optional
        The folder of solution notebooks (default: :func:`default_solutions_dir`).

    Returns
    -------
    dict
        ``{lesson name: Lesson}`` for every ``*.ipynb`` that declares at least one exercise.

    Raises
    ------
    GradingError
        The folder is missing, or holds no notebook with exercise markers, or a notebook is broken.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (2 points): x")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     nbformat.write(nb, Path(tmp) / "01_intro.ipynb")
    ...     load_solutions(tmp)["01_intro"].max_points
    2.0
    """
    import nbformat

    folder = Path(solutions_dir) if solutions_dir is not None else default_solutions_dir()
    if not folder.is_dir():
        raise GradingError(
            f"The solutions folder {folder} does not exist: pass --solutions DIR, the folder of the "
            "complete notebooks with '# EXERCISE' markers."
        )
    lessons = {}
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebook = nbformat.read(path, as_version=4)
            exercises = exercises_in(notebook)
        except Exception as exc:  # noqa: BLE001 - name the file
            raise GradingError(f"The solution notebook {path} could not be read ({exc}): fix it, then grade again.") from exc
        if exercises:
            code = [cell_source(c) for c in notebook.cells if c.get("cell_type") == "code"]
            answers = {}
            for cell in code:
                answers.update(check_answers(cell))
            lessons[path.stem] = Lesson(path.stem, tuple(exercises), "\n".join(code), answers)
    if not lessons:
        raise GradingError(
            f"No solution notebook in {folder} declares an exercise ('# EXERCISE 1.1 (2 points): title'): "
            "pass --solutions DIR pointing at the course's solutions/ folder."
        )
    return lessons


def find_submissions(paths) -> list:
    """Expand files and folders into the list of notebooks to grade.

    Folders are searched recursively for ``*.ipynb`` (checkpoint folders skipped); files are taken
    as given, whatever their name, so a broken upload is graded as an invalid notebook rather than
    silently left out. Each item is ``(file, root)`` where ``root`` is the folder argument it was
    found in (None for a file given directly).

    Raises
    ------
    GradingError
        A path does not exist, or nothing was found.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "alice.ipynb").write_text("{}")
    ...     [p.name for p, _ in find_submissions([tmp])]
    ['alice.ipynb']
    """
    found, seen = [], set()
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for nb in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in nb.parts or not nb.is_file():
                    continue
                if nb.resolve() not in seen:
                    seen.add(nb.resolve())
                    found.append((nb, path))
        elif path.is_file():
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.append((path, None))
        else:
            raise GradingError(f"{path}: no such file or folder. Check the path of the returned notebooks.")
    if not found:
        raise GradingError(f"No notebooks (*.ipynb) found in {', '.join(map(str, paths))}: point at the returned files.")
    return found


def read_submission(path):
    """Read a returned notebook, or say why it is not one.

    Returns
    -------
    (notebook or None, str)
        The notebook (nbformat version 4) and an empty message, or None and a sentence.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "bad.ipynb").write_text("{not json")
    ...     read_submission(Path(tmp) / "bad.ipynb")[0] is None
    True
    """
    import nbformat

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path.name} is not valid notebook JSON ({exc.__class__.__name__}): the file is damaged; ask the student to download it again from Jupyter (File > Download)."
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) and "worksheets" not in data:
        return None, f"{path.name} is JSON but not a notebook (no cells): ask the student for the .ipynb file itself."
    try:
        notebook = nbformat.reads(text, as_version=4)
        for cell in notebook.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                raise ValueError("a cell has no type or no source")
    except Exception as exc:  # noqa: BLE001 - any failure makes it invalid
        return None, f"{path.name} is not a valid notebook ({exc}): ask the student to save and download it again."
    return notebook, ""


def _ids_in(notebook) -> set:
    try:
        return {e.id for e in exercises_in(notebook)}
    except ValueError:
        return set()


def _lesson_from_name(stem: str, lessons: dict) -> str:
    stem = stem.lower()
    matches = [name for name in lessons if name.lower() in stem]
    return max(matches, key=len) if matches else ""


def identify_lesson(notebook, path, lessons: dict) -> tuple:
    """Tell which lesson a returned notebook belongs to.

    In order: the notebook metadata ``ccdlab.lesson`` (written by the student-notebook generator,
    kept when the file is renamed), the file name containing a lesson name, then the lesson whose
    exercise IDs the notebook's markers share most.

    Parameters
    ----------
    notebook : NotebookNode or None
        The notebook, or None when it could not be read (then only the file name is used).
    path : path-like
        The submitted file.
    lessons : dict
        From :func:`load_solutions`.

    Returns
    -------
    (str, str)
        The lesson name (empty when unknown) and how it was recognised (a short note).

    Examples
    --------
    >>> lessons = {"01_fits_files": Lesson("01_fits_files", (Exercise("1.1", 1.0),))}
    >>> identify_lesson(None, "alice_01_fits_files.ipynb", lessons)
    ('01_fits_files', 'file name')
    """
    by_name = _lesson_from_name(Path(path).stem, lessons)
    if notebook is not None:
        meta = notebook.get("metadata", {}).get("ccdlab", {}) or {}
        declared = str(meta.get("lesson", "") or "") if isinstance(meta, dict) else ""
        if declared in lessons:
            note = "notebook metadata"
            if by_name and by_name != declared:
                note += f"; the file name suggests {by_name}"
            return declared, note
        if declared and not by_name:
            return "", f"the notebook says it is lesson {declared!r}, which has no solution notebook"
    if by_name:
        return by_name, "file name"
    if notebook is not None:
        ids = _ids_in(notebook)
        scored = sorted(((len(ids & set(lesson.ids)), name) for name, lesson in lessons.items()), reverse=True)
        if scored and scored[0][0] > 0:
            return scored[0][1], "exercise IDs"
    return "", "no lesson name in the notebook metadata or the file name, and no known exercise IDs"


def _clean(text: str) -> str:
    text = re.sub(r"[^\w@.+-]+", "_", text).strip("_.- ")
    return text


# What browsers, Colab and students add to a file name that says nothing about who sent it:
# "Copy of 01_fits_files.ipynb", "01_fits_files (1).ipynb", "01_fits_files_solved-checkpoint.ipynb".
_NAME_NOISE = re.compile(
    r"(?<![^\W_])(copy\s+of|copy|checkpoint|solved|solutions?|answers?|done|final|finished|completed?"
    r"|submission|submitted|homework|assignment|notebook|v\d+)(?![^\W_])",
    re.IGNORECASE,
)


def _name_from_stem(stem: str, lesson: str) -> str:
    if lesson:
        stem = re.sub(re.escape(lesson), " ", stem, flags=re.IGNORECASE)
    stem = re.sub(r"\(\d+\)", " ", stem)
    return _clean(_NAME_NOISE.sub(" ", stem.replace("_", " ")))


def identify_student(path, lesson: str = "", notebook=None, root=None) -> str:
    """Tell whose notebook this is: the file name without the lesson name, else the folder, else metadata.

    Parameters
    ----------
    path : path-like
        The submitted file, e.g. ``returned/alice_01_fits_files.ipynb`` or
        ``returned/alice/01_fits_files.ipynb``.
    lesson : str
        The lesson name (removed from the file name).
    notebook : NotebookNode, optional
        Metadata ``ccdlab.student`` or the first of ``authors`` is used when the path says nothing.
    root : path-like, optional
        The folder the file was found in; a subfolder below it names the student.

    Examples
    --------
    >>> identify_student("returned/alice_01_fits_files.ipynb", "01_fits_files")
    'alice'
    >>> identify_student("returned/bob/01_fits_files.ipynb", "01_fits_files", root="returned")
    'bob'
    """
    path = Path(path)
    name = _name_from_stem(path.stem, lesson)
    if name:
        return name
    if root is not None:
        try:
            relative = path.parent.resolve().relative_to(Path(root).resolve())
        except ValueError:
            relative = Path()
        if relative.parts:
            return _clean("_".join(relative.parts))
    if notebook is not None:
        meta = notebook.get("metadata", {})
        who = (meta.get("ccdlab", {}) or {}).get("student") if isinstance(meta.get("ccdlab"), dict) else None
        authors = meta.get("authors") or []
        if not who and authors and isinstance(authors, list) and isinstance(authors[0], dict):
            who = authors[0].get("name")
        if who:
            return _clean(str(who))
    if root is None and path.parent.name:
        return _clean(path.parent.name) or path.stem
    return path.stem


def suspect_cells(notebook, lesson: Lesson) -> dict:
    """Find the cells that use grading internals the lesson's solution does not use.

    Parameters
    ----------
    notebook : NotebookNode
    lesson : Lesson

    Returns
    -------
    dict
        ``{cell index: [names used]}``.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; os.environ['CCDLAB_RESULTS']")])
    >>> suspect_cells(nb, Lesson("x", (), source="check('1.1', x)"))
    {0: ['CCDLAB_RESULTS']}
    """
    allowed = {name for name in GRADING_INTERNALS if _uses(name, lesson.source)}
    found = {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        used = [name for name in GRADING_INTERNALS if name not in allowed and _uses(name, source)]
        if used:
            found[index] = used
    return found


# --------------------------------------------------------------------------------------------
# From a run record to grade rows


def _marker_cells(notebook) -> dict:
    """``{exercise id: index of the first code cell declaring it}`` in the submitted notebook."""
    from .markers import EXERCISE_RE

    where = {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        for match in EXERCISE_RE.finditer(cell_source(cell)):
            where.setdefault(match["id"], index)
    return where


def _region(exercise_id: str, markers: dict, record: RunRecord) -> list:
    """The code cells that belong to an exercise: from its marker to the next marker."""
    start = markers.get(exercise_id)
    if start is None:
        return []
    later = [index for index in markers.values() if index > start]
    stop = min(later) if later else float("inf")
    return [cell for cell in record.cells if start <= cell.index < stop]


def _moved_check_error(exercise: Exercise, region: list, record: RunRecord, notebook) -> tuple | None:
    """A cell outside the exercise's region that checks it (quotes its ID) and raised."""
    if notebook is None:
        return None
    quoted = (f'"{exercise.id}"', f"'{exercise.id}'")
    inside = {cell.index for cell in region}
    for cell in record.cells:
        if cell.index in inside or cell.status != "error" or cell.index >= len(notebook.cells):
            continue
        if any(q in cell_source(notebook.cells[cell.index]) for q in quoted):
            return "error", (f"Cell {cell.index + 1}, which checks exercise {exercise.id}, raised {cell.ename}: "
                             f"{cell.evalue} (was it moved before the cell that computes the answer?)")
    return None


def _explain_missing(exercise: Exercise, markers: dict, record: RunRecord, notebook=None) -> tuple:
    """Status and hint for an exercise without a recorded result."""
    region = _region(exercise.id, markers, record)
    for cell in region:
        if cell.status == "timeout":
            return "timeout", f"Cell {cell.index + 1} (exercise {exercise.id}) ran too long and was stopped. {record.message or 'Look for an endless loop.'}".strip()
        if cell.status == "kernel died":
            return "kernel died", f"The Python kernel crashed in cell {cell.index + 1} (exercise {exercise.id})."
        if cell.status == "error":
            return "error", f"Cell {cell.index + 1} raised {cell.ename}: {cell.evalue}".strip().rstrip(":") + "."
    if record.status in ("timeout", "kernel died") and (not region or any(c.status == "not run" for c in region)):
        return record.status, f"Exercise {exercise.id} was never reached. {record.message}".strip()
    moved = _moved_check_error(exercise, region, record, notebook)
    if moved:
        return moved
    if not region:
        return "missing", (
            f"No result for exercise {exercise.id}, and its cell ('# EXERCISE {exercise.id}') is not in the "
            "notebook: it was deleted or changed. Copy it back from a fresh notebook."
        )
    return "missing", (
        f"The cells of exercise {exercise.id} ran, but no check recorded a result: the check line "
        "was probably deleted or moved. Copy it back from a fresh notebook."
    )


def grade_record(record: RunRecord, notebook, lesson: Lesson, student: str, submission: str = "") -> list:
    """Turn what happened in a run into one grade row per exercise of the lesson.

    The last result recorded for an exercise wins (a student may run a check many times). A result
    recorded by a cell that uses grading internals, or that rewrote the results file, scores 0 with
    status ``tampered``; one whose checked answers are not those the solution's check of that
    exercise passes scores 0 with status ``wrong check``. An exercise without a result is explained
    from the cells around its marker: ``error`` (with the exception), ``timeout``, ``kernel died``
    or ``missing``.

    Parameters
    ----------
    record : RunRecord
        From :func:`ccdlab.grading_run.execute_notebook`.
    notebook : NotebookNode
        The submitted notebook (for marker positions and suspicious cells).
    lesson : Lesson
    student, submission : str
        Copied into the rows.

    Returns
    -------
    list of GradeRow

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("# EXERCISE 1.1 (2 points): x")])
    >>> rec = RunRecord("completed", results=[{"exercise": "1.1", "status": "partial", "score": 0.5, "cell": 0}])
    >>> grade_record(rec, nb, Lesson("l", (Exercise("1.1", 2.0),)), "alice")[0].points
    1.0
    """
    from .results import ExerciseResult

    suspects = suspect_cells(notebook, lesson)
    rewriters = {cell.index for cell in record.cells if cell.rewrote_results}
    latest = {}
    for line in record.results:
        try:
            result = ExerciseResult(
                exercise=str(line["exercise"]), status=str(line["status"]), score=float(line["score"]),
                hint=str(line.get("hint", "") or ""), lesson=str(line.get("lesson", "") or ""),
            )
        except (KeyError, TypeError, ValueError):
            continue
        details = line.get("details") if isinstance(line.get("details"), dict) else {}
        parts = details.get("parts") if isinstance(details.get("parts"), dict) else None
        latest[result.exercise] = (result, int(line.get("cell", -1)), parts)
    markers = _marker_cells(notebook)
    rows = []
    for exercise in lesson.exercises:
        row = GradeRow(student, lesson.name, exercise.id, 0.0, exercise.points, "", "", submission, exercise.title)
        if exercise.id in latest:
            result, cell, parts = latest[exercise.id]
            expected = lesson.answers.get(exercise.id)
            if cell in suspects or cell in rewriters:
                why = (f"uses {', '.join(suspects[cell])}" if cell in suspects else "rewrote the results file")
                row.status = "tampered"
                row.hint = (f"The result of exercise {exercise.id} was written by cell {cell + 1}, which {why} "
                            "instead of calling the check; it is not counted. See your instructor.")
            elif expected and parts is not None and set(parts) != set(expected):
                row.status = "wrong check"
                row.hint = (f"The result recorded as exercise {exercise.id} (cell {cell + 1}) checked "
                            f"{', '.join(sorted(parts)) or 'nothing'}, not {', '.join(sorted(expected))}: "
                            "use the check line given in the notebook.")
            else:
                row.status, row.hint, row.score = result.status, result.hint, float(result.score)
                row.points = round(float(result.score) * exercise.points, 4)
        else:
            row.status, row.hint = _explain_missing(exercise, markers, record, notebook)
        rows.append(row)
    return rows


def _rows_without_run(lesson: Lesson | None, student: str, status: str, hint: str, submission: str) -> list:
    if lesson is None:
        return [GradeRow(student, "", "", 0.0, 0.0, status, hint, submission)]
    return [GradeRow(student, lesson.name, e.id, 0.0, e.points, status, hint, submission, e.title)
            for e in lesson.exercises]


# --------------------------------------------------------------------------------------------
# Running submissions


def run_submission(notebook_path, sandbox, data_dir=None, timeout: float = 600, cell_timeout: float = 180,
                   executed=None) -> RunRecord:
    """Run one notebook in a separate worker process and return its record.

    The worker (``python -m ccdlab.grading_run``) starts in its own process session; if it is not
    done ``timeout`` + 60 s later, the whole session is killed and the run counts as a timeout.

    Parameters
    ----------
    notebook_path : path-like
        A copy of the submission, inside the grader's private folder.
    sandbox : path-like
        An empty folder for this run (working folder, data copy, results file).
    data_dir : path-like, optional
        The instructor's data folder, copied into the sandbox.
    timeout, cell_timeout : float
        Seconds for the whole notebook and for one cell.
    executed : path-like, optional
        Where to save the executed notebook.

    Examples
    --------
    >>> run_submission("alice.ipynb", "/tmp/sandbox-alice").status  # doctest: +SKIP
    'completed'
    """
    sandbox = Path(sandbox)
    sandbox.mkdir(parents=True, exist_ok=True)
    job = {
        "notebook": str(notebook_path), "sandbox": str(sandbox), "data": str(data_dir) if data_dir else None,
        "timeout": float(timeout), "cell_timeout": float(cell_timeout),
        "executed": str(executed) if executed else None,
    }
    job_path = sandbox / "job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "ccdlab.grading_run", str(job_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    with _LIVE_LOCK:
        _LIVE.add(process)
    try:
        out, err = process.communicate(timeout=timeout + _EXTRA_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_session(process)
        process.communicate()
        return RunRecord("timeout", message=f"The notebook did not finish within {timeout:g} s and was stopped.")
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(process)
    text = out.decode("utf-8", errors="replace").strip().splitlines()
    try:
        return RunRecord.from_dict(json.loads(text[-1]))
    except (IndexError, ValueError, KeyError, TypeError):
        tail = err.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [f"exit code {process.returncode}"]
        return RunRecord("kernel failed", message=f"The grader's worker for this notebook stopped ({tail[0]}).")


def _kill_session(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (OSError, AttributeError):
        try:
            process.kill()
        except OSError:
            pass


def _stop_all() -> None:
    """Kill every running worker (their kernels notice their parent is gone and exit)."""
    with _LIVE_LOCK:
        running = list(_LIVE)
    for process in running:
        _kill_session(process)


def fingerprint(*folders) -> dict:
    """Sizes and modification times of every file in some folders, to notice a change.

    Examples
    --------
    >>> fingerprint("no-such-folder")
    {}
    """
    prints = {}
    for folder in folders:
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob("*")):
            if "__pycache__" in path.parts or ".ipynb_checkpoints" in path.parts:
                continue
            try:
                info = path.stat()
            except OSError:
                continue
            if path.is_file():
                prints[str(path)] = (info.st_size, info.st_mtime_ns)
    return prints


def _changes(before: dict, after: dict) -> list:
    changed = sorted(set(before) ^ set(after) | {p for p in before if p in after and before[p] != after[p]})
    return changed


def grade(submissions, solutions_dir=None, data_dir=None, *, timeout: float = 600, cell_timeout: float = 180,
          jobs: int | None = None, lesson: str | None = None, executed_dir=None, progress: bool = True,
          workdir=None) -> GradeBook:
    """Grade returned notebooks.

    Parameters
    ----------
    submissions : list of path-like
        Notebooks and/or folders of notebooks.
    solutions_dir : path-like, optional
        The solution notebooks (default: the project's ``solutions/``).
    data_dir : path-like, optional
        The course data each notebook gets a private copy of (None: an empty data folder, so a
        notebook never falls back to the instructor's own ``data/``).
    timeout, cell_timeout : float
        Seconds allowed per notebook and per cell.
    jobs : int, optional
        Notebooks run at the same time (default: the number of cores).
    lesson : str, optional
        The lesson being graded: a notebook of another lesson gets status ``wrong lesson``.
    executed_dir : path-like, optional
        Save each executed notebook there, for reading what a student's code printed.
    progress : bool
        Show a progress bar.
    workdir : path-like, optional
        Where sandboxes are made (default: a temporary folder, deleted afterwards).

    Returns
    -------
    GradeBook

    Raises
    ------
    GradingError
        No solutions, no submissions, an unknown ``lesson``.

    Examples
    --------
    >>> book = grade(["returned/"], "solutions/", "data/", jobs=2)  # doctest: +SKIP
    >>> book.rows[0].status  # doctest: +SKIP
    'correct'
    """
    from tqdm.auto import tqdm

    from . import __file__ as package_file

    start = time.monotonic()
    lessons = load_solutions(solutions_dir)
    if lesson is not None and lesson not in lessons:
        raise GradingError(f"No solution notebook for lesson {lesson!r}: use one of {', '.join(lessons)}.")
    found = find_submissions(submissions)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise GradingError(f"The data folder {data_dir} does not exist: pass --data DIR with bias/, flats/, science/.")
    solutions_folder = Path(solutions_dir) if solutions_dir is not None else default_solutions_dir()
    watched = [solutions_folder, data_dir, Path(package_file).parent]
    before = fingerprint(*watched)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    book = GradeBook(lessons=lessons, settings={
        "timeout": timeout, "cell_timeout": cell_timeout, "jobs": jobs, "data": str(data_dir) if data_dir else "",
        "solutions": str(solutions_folder), "lesson": lesson or "",
    })

    owned_tmp = workdir is None
    root = Path(tempfile.mkdtemp(prefix="ccdlab-grade-")) if owned_tmp else Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    if executed_dir is not None:
        Path(executed_dir).mkdir(parents=True, exist_ok=True)
    try:
        to_run = []
        for number, (path, where) in enumerate(found, start=1):
            notebook, problem = read_submission(path)
            lesson_name, how = identify_lesson(notebook, path, lessons)
            student = identify_student(path, lesson_name, notebook, where)
            sub = Submission(path, student, lesson_name)
            book.submissions.append(sub)
            the_lesson = lessons.get(lesson_name)
            if notebook is None:
                sub.status, sub.message = "invalid notebook", problem
                sub.rows = _rows_without_run(the_lesson, student, "invalid notebook", problem, str(path))
                continue
            if the_lesson is None:
                sub.status = "unknown lesson"
                sub.message = (f"{path.name}: {how}. Check that it is a course notebook, or pass --lesson.")
                if lesson is not None:
                    the_lesson, sub.lesson = lessons[lesson], lesson
                sub.rows = _rows_without_run(the_lesson, student, "unknown lesson", sub.message, str(path))
                continue
            if lesson is not None and lesson_name != lesson:
                sub.status = "wrong lesson"
                sub.message = f"{path.name} is the notebook of lesson {lesson_name}, not {lesson}: ask for the right file."
                sub.lesson = lesson
                sub.rows = _rows_without_run(lessons[lesson], student, "wrong lesson", sub.message, str(path))
                continue
            if how.startswith("notebook metadata;"):
                sub.notes.append(how.replace("notebook metadata; ", "graded as " + lesson_name + " from its metadata; "))
            private = root / f"sub{number:04d}"
            private.mkdir(parents=True, exist_ok=True)
            import nbformat

            copy = private / "submission.ipynb"
            nbformat.write(notebook, copy)
            executed = None
            if executed_dir is not None:
                executed = Path(executed_dir) / f"{_clean(student)}__{lesson_name}__{number:04d}.ipynb"
            to_run.append((sub, notebook, the_lesson, copy, private / "sandbox", executed))

        def work(item):
            sub, notebook, the_lesson, copy, sandbox, executed = item
            record = run_submission(copy, sandbox, data_dir, timeout=timeout, cell_timeout=cell_timeout,
                                    executed=executed)
            make_writable(sandbox)
            shutil.rmtree(sandbox, ignore_errors=True)
            return item, record

        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [pool.submit(work, item) for item in to_run]
            bar = tqdm(total=len(futures), desc="grading", unit="notebook", disable=not progress)
            for future in as_completed(futures):
                (sub, notebook, the_lesson, *_), record = future.result()
                sub.status, sub.message, sub.elapsed = record.status, record.message, record.elapsed
                if record.status in ("kernel failed", "invalid notebook"):
                    status = "grader error" if record.status == "kernel failed" else "invalid notebook"
                    sub.rows = _rows_without_run(the_lesson, sub.student, status, record.message, str(sub.path))
                else:
                    sub.rows = grade_record(record, notebook, the_lesson, sub.student, str(sub.path))
                bar.update(1)
            bar.close()
        except BaseException:  # Ctrl-C or a bug: stop the running notebooks now, not at their timeout
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_all()
            raise
        finally:
            pool.shutdown(wait=True)
    finally:
        if owned_tmp:
            make_writable(root)
            shutil.rmtree(root, ignore_errors=True)

    _note_duplicates(book)
    after = fingerprint(*watched)
    for folder in watched:
        if folder is None:
            continue
        prefix = str(Path(folder)) + os.sep
        changed = [p for p in _changes(before, after) if p.startswith(prefix)]
        if changed:
            book.warnings.append(
                f"{len(changed)} file(s) in {folder} changed while grading (e.g. {changed[0]}): a submission may "
                "have written there. Restore the folder (git checkout, or copy the data again) and grade again."
            )
    book.elapsed = time.monotonic() - start
    return book


def _note_duplicates(book: GradeBook) -> None:
    seen = {}
    for sub in book.submissions:
        key = (sub.student, sub.lesson)
        if key in seen and sub.lesson:
            sub.notes.append(f"{sub.student} handed in more than one notebook for {sub.lesson} (also {seen[key].path.name})")
        seen.setdefault(key, sub)


# --------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``ccdlab grade``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> parser.parse_args(["a.ipynb", "--out", "g.csv"]).jobs is None
    True
    """
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSIONS",
                        help="returned notebooks, or folders of them (searched recursively)")
    parser.add_argument("--out", required=True, help="the grades CSV to write; the summary goes beside it (.md and .html)")
    parser.add_argument("--solutions", default=None, help="folder of solution notebooks (default: the project's solutions/)")
    parser.add_argument("--data", default=None, help="course data folder each notebook gets a private copy of "
                        "(default: the data folder ccdlab finds, as in 'ccdlab doctor')")
    parser.add_argument("--no-data", action="store_true", help="run the notebooks without any data folder")
    parser.add_argument("--lesson", default=None, help="grade only this lesson: other lessons' notebooks are reported as 'wrong lesson'")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per notebook (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=180, help="seconds allowed per cell (default 180)")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks graded at the same time (default: number of cores)")
    parser.add_argument("--executed", default=None, metavar="DIR", help="also save the executed notebooks in DIR, to read their output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab grade``; return the exit code (0 when the grades were written, 2 on bad input).

    Warnings (a watched folder changed while grading) are printed and written into the summary.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["no-such.ipynb", "--out", "g.csv", "--no-data"]))  # doctest: +SKIP
    2
    """
    from .grading_report import write_reports
    from .paths import DataNotFoundError, find_data_dir

    if args.timeout <= 0 or args.cell_timeout <= 0 or (args.jobs is not None and args.jobs < 1):
        print("ccdlab grade: --timeout and --cell-timeout must be positive seconds and --jobs at least 1.", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        print(f"ccdlab grade: --out {out} should be a .csv file name, e.g. --out grades.csv.", file=sys.stderr)
        return 2
    data_dir = None
    if not args.no_data:
        try:
            data_dir = find_data_dir(args.data)
        except DataNotFoundError as exc:
            first = str(exc).splitlines()[0]
            print(f"ccdlab grade: {first} Pass --data DIR (e.g. made with 'python data_fetch.py --size tiny --dest DIR'), "
                  "or --no-data.", file=sys.stderr)
            return 2
    try:
        book = grade(args.submissions, args.solutions, data_dir, timeout=args.timeout, cell_timeout=args.cell_timeout,
                     jobs=args.jobs, lesson=args.lesson, executed_dir=args.executed, progress=not args.no_progress)
        paths = write_reports(book, out)
    except GradingError as exc:
        print(f"ccdlab grade: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ccdlab grade: could not write {out} ({exc.strerror or exc}): choose a writable --out.", file=sys.stderr)
        return 2
    students = len({sub.student for sub in book.submissions})
    print(f"Graded {len(book.submissions)} notebook(s) from {students} student(s) in {book.elapsed:.0f} s.")
    for path in paths:
        print(f"  wrote {path}")
    for warning in book.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    return 0

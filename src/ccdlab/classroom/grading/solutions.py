"""The solution notebooks, reduced to what grading needs: each lesson's exercises, points and check
lines, its written questions (:mod:`.written`), and each exercise's solution code (for the feedback
pages' ``--feedback-solutions``)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from ccdlab.classroom.grading.written import handout_markdown, written_questions
from ccdlab.course.markers import BEGIN_SOLUTION, END_SOLUTION, EXERCISE_RE, cell_source, check_answers, exercises_in
from ccdlab.errors import AuthoringError, GradingError

__all__ = ["Lesson", "default_solutions_dir", "load_solutions", "solution_code"]


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
    written : tuple of WrittenQuestion
        The written answers with points, in notebook order.
    solutions : dict
        ``{exercise id: the solution's code}`` (the lines between ``### BEGIN SOLUTION`` and
        ``### END SOLUTION`` from the exercise's marker to the next one).
    handout : frozenset of str
        The markdown cells as the student notebook has them (to tell cells a student added).

    Examples
    --------
    >>> from ccdlab.course.markers import Exercise
    >>> Lesson("01_fits_files", (Exercise("1.1", 2.0),)).max_points
    2.0
    """

    name: str
    exercises: tuple = ()
    source: str = ""
    answers: dict = field(default_factory=dict, compare=False, hash=False)
    written: tuple = ()
    solutions: dict = field(default_factory=dict, compare=False, hash=False)
    handout: frozenset = field(default_factory=frozenset, compare=False, hash=False)

    @property
    def max_points(self) -> float:
        """Points of the lesson's exercises (the grader's part).

        Examples
        --------
        >>> from ccdlab.course.markers import Exercise
        >>> Lesson("x", (Exercise("1", 1.0), Exercise("2", 2.5))).max_points
        3.5
        """
        return float(sum(e.points for e in self.exercises))

    @property
    def written_points(self) -> float:
        """Points of the lesson's written answers (the instructor's part).

        Examples
        --------
        >>> from ccdlab.classroom.grading.written import WrittenQuestion
        >>> Lesson("x", written=(WrittenQuestion("Q1", 2.0),)).written_points
        2.0
        """
        return float(sum(q.points for q in self.written))

    @property
    def total_points(self) -> float:
        """Everything the lesson is worth: exercises and written answers.

        Examples
        --------
        >>> from ccdlab.course.markers import Exercise
        >>> from ccdlab.classroom.grading.written import WrittenQuestion
        >>> Lesson("x", (Exercise("1", 3.0),), written=(WrittenQuestion("Q1", 2.0),)).total_points
        5.0
        """
        return self.max_points + self.written_points

    @property
    def ids(self) -> list:
        """Exercise IDs in order.

        Examples
        --------
        >>> from ccdlab.course.markers import Exercise
        >>> Lesson("x", (Exercise("1.1", 1.0),)).ids
        ['1.1']
        """
        return [e.id for e in self.exercises]


def solution_code(notebook) -> dict:
    """Each exercise's solution code: the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
    in the code cells from the exercise's marker to the next marker (cells made only of a solution
    region, the solution's own self-checks, left out).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "# EXERCISE 1.1 (2 points): size\\n### BEGIN SOLUTION\\nx_len = header['NAXIS1']\\n### END SOLUTION\\ncheck('1.1', x_len=x_len)")])
    >>> solution_code(nb)
    {'1.1': "x_len = header['NAXIS1']"}
    """
    found: dict = {}
    current = None
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        lines = cell_source(cell).split("\n")
        markers = [m["id"] for line in lines if (m := EXERCISE_RE.match(line))]
        current = markers[0] if markers else current
        region, inside, outside = [], False, False
        for line in lines:
            if line.strip() == BEGIN_SOLUTION:
                inside = True
            elif line.strip() == END_SOLUTION:
                inside = False
            elif inside:
                region.append(line)
            elif line.strip():
                outside = True
        if current is None or not region or not (markers or outside):
            continue
        found[current] = "\n".join(filter(None, [found.get(current, ""), textwrap.dedent("\n".join(region)).strip()]))
    return found


def default_solutions_dir() -> Path:
    """Return the project's ``solutions/`` folder (or ``./solutions`` outside a checkout).

    Examples
    --------
    >>> default_solutions_dir().name
    'solutions'
    """
    from ccdlab.paths import project_root

    return (project_root() or Path.cwd()) / "solutions"


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
            try:
                written = tuple(written_questions(notebook, path.name))
                handout = frozenset(handout_markdown(notebook, path.name))
            except AuthoringError as exc:
                raise GradingError(f"{exc} Fix the solution notebook, then grade again.") from exc
            lessons[path.stem] = Lesson(path.stem, tuple(exercises), "\n".join(code), answers, written,
                                        solution_code(notebook), handout)
    if not lessons:
        raise GradingError(
            f"No solution notebook in {folder} declares an exercise ('# EXERCISE 1.1 (2 points): title'): "
            "pass --solutions DIR pointing at the course's solutions/ folder."
        )
    return lessons


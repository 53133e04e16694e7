"""Grading a class's returned notebooks: ``ccdlab grade SUBMISSIONS... --out grades.csv``.

Each returned notebook is

1. read and identified (:mod:`ccdlab.classroom.grading.identify`);
2. run from the top in a fresh kernel inside the sandbox, its answers judged outside the kernel
   against the grader's own copy of the night (:mod:`ccdlab.classroom.grading.run`);
3. scored (:mod:`ccdlab.classroom.grading.score`) against the points declared by the markers in
   the lesson's solution notebook (:mod:`ccdlab.classroom.grading.solutions`).

Notebooks run several at a time, each in its own sandbox. The batch checks its own integrity: the
watched folders (the solutions, the data, the package) are fingerprinted by content before and
after; a notebook cannot delay the batch beyond its own timeout plus a few seconds (its sandbox,
and every process in it, is killed); nothing of a notebook runs after the grader returns.

A broken or hostile notebook is reported, not fatal, and the batch goes on.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ccdlab.classroom.grading.cascade import cell_errors
from ccdlab.classroom.grading.identify import (
    find_submissions,
    identify_lesson,
    identify_student,
    read_submission,
    safe_name,
)
from ccdlab.classroom.grading.process import LIVE as _LIVE  # noqa: F401 - the running workers, for tests
from ccdlab.classroom.grading.process import LocalRunner, run_worker, stop_workers
from ccdlab.classroom.grading.run import RunRecord
from ccdlab.classroom.grading.sandbox import Limits
from ccdlab.classroom.grading.score import grade_record, not_counted, rows_without_run
from ccdlab.classroom.grading.similarity import copies_in_book
from ccdlab.classroom.grading.solutions import default_solutions_dir, load_solutions
from ccdlab.errors import GradingError, SandboxError

__all__ = ["SANDBOX_MODES", "Submission", "GradeBook", "grade", "run_worker", "stop_workers", "fingerprint"]

#: How grading uses the sandbox: ``auto`` (when it can run here, loudly without), ``require``
#: (refuse to grade without it) or ``off`` (never: only for notebooks you trust).
SANDBOX_MODES = ("auto", "require", "off")

_STOP = threading.Event()  # set on Ctrl-C: no new notebook starts
_SLACK_SECONDS = 60  # a worker's time beyond the notebook's own timeout: starting, judging the last answers


def _run_here(job: dict, path, deadline: float) -> RunRecord:
    """One job in a local worker process (looked up at call time, so tests can stand in for it)."""
    return run_worker(job, path, deadline)


def _runner(scheduler: str | None, jobs: int | None):
    """Where the jobs run: worker processes here (``jobs`` at a time), or a Dask cluster."""
    if scheduler:
        from ccdlab.classroom.grading.cluster import connect

        return connect(scheduler, jobs=jobs)
    return LocalRunner(max(1, int(jobs or os.cpu_count() or 1)), run=_run_here)


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
    cell_errors: list = field(default_factory=list)  # the cells that raised (cascade.CellError), root causes marked
    record: RunRecord | None = None

    @property
    def points(self) -> float:
        """Points earned in this submission.

        Examples
        --------
        >>> from ccdlab.classroom.grading.score import GradeRow
        >>> Submission(Path("a.ipynb"), "a", rows=[GradeRow("a", "l", "1", 1.5, 2, "partial")]).points
        1.5
        """
        return float(sum(row.points for row in self.rows))

    @property
    def max_points(self) -> float:
        """Points available in this submission's lesson.

        Examples
        --------
        >>> from ccdlab.classroom.grading.score import GradeRow
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
    copies: list = field(default_factory=list)  # similarity.Copy: notebooks whose answers coincide

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


def fingerprint(*folders) -> dict:
    """SHA-256 of every file in some folders (links not followed), to notice any change.

    Examples
    --------
    >>> fingerprint("no-such-folder")
    {}
    """
    from ccdlab.files import file_hash

    prints = {}
    for folder in folders:
        if folder is None or not Path(folder).is_dir():
            continue
        for root, dirs, files in os.walk(folder, followlinks=False):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", ".ipynb_checkpoints")]
            for name in files:
                path = Path(root) / name
                try:
                    prints[str(path)] = "link:" + os.readlink(path) if path.is_symlink() else file_hash(path)
                except OSError:
                    prints[str(path)] = "unreadable"
    return prints


def _changes(before: dict, after: dict) -> list:
    return sorted(set(before) ^ set(after) | {p for p in before if p in after and before[p] != after[p]})


def _check_sandbox_mode(mode: str) -> None:
    if mode not in SANDBOX_MODES:
        raise GradingError(f"Unknown sandbox mode {mode!r}: use one of {', '.join(SANDBOX_MODES)}.")


def _sandbox_in_use(mode: str, book: GradeBook, runner=None) -> bool:
    """Whether the notebooks run sandboxed where ``runner`` runs them (default: this machine)."""
    runner = runner if runner is not None else LocalRunner(1)
    _check_sandbox_mode(mode)
    if mode == "off":
        book.warnings.append("The notebooks ran without the sandbox (--sandbox off): a hostile notebook could read "
                             "and change files of this machine. Use it only for notebooks you trust.")
        return False
    reason = runner.sandbox_status()
    if not reason:
        return True
    if mode == "require":
        raise SandboxError(f"The grading sandbox cannot run on {runner.where}: {reason}. Nothing was graded.")
    book.warnings.append(f"NO SANDBOX: {reason}. The notebooks ran unconfined: grades still come from the grader's "
                         f"own judging, but a hostile notebook could read and change files of {runner.where}.")
    return False


def grade(submissions, solutions_dir=None, data_dir=None, *, timeout: float = 600, cell_timeout: float = 180,
          jobs: int | None = None, lesson: str | None = None, executed_dir=None, progress: bool = True,
          workdir=None, sandbox: str = "auto", memory: int | None = None, student_nights: bool = False,
          night_size: str | None = None, scheduler: str | None = None, lessons: dict | None = None) -> GradeBook:
    """Grade returned notebooks.

    Parameters
    ----------
    submissions : list of path-like
        Notebooks and/or folders of notebooks.
    solutions_dir : path-like, optional
        The solution notebooks (default: the project's ``solutions/``).
    data_dir : path-like, optional
        The night every notebook works on (shown to it read-only, without ``reduced/`` and
        ``truth/``) and the grader judges with. None: an empty data folder.
    timeout, cell_timeout : float
        Seconds allowed per notebook and per cell.
    jobs : int, optional
        Notebooks run at the same time (default: the number of cores, or with ``scheduler`` the
        cluster's worker threads).
    lesson : str, optional
        The lesson being graded: a notebook of another lesson gets status ``wrong lesson``.
    executed_dir : path-like, optional
        Save each executed notebook there, for reading what a student's code printed.
    progress : bool
        Show a progress bar.
    workdir : path-like, optional
        Where sandboxes are made (default: a temporary folder, deleted afterwards).
    sandbox : {"auto", "require", "off"}
        See :data:`SANDBOX_MODES`.
    memory : int, optional
        Memory limit of each notebook, bytes (default 4 GiB).
    student_nights : bool
        Grade each notebook on its own student's night (:mod:`ccdlab.data.simulate.students`),
        made again here from the student's name (as identified from the hand-in), and list
        answers that match another student's night.
    night_size : str, optional
        With ``student_nights``: the size of the nights (default: the size of ``data_dir``'s
        night, else ``workshop``).
    scheduler : str, optional
        A Dask scheduler's address (``tcp://HOST:PORT``): the notebooks run on its workers
        (:mod:`ccdlab.classroom.grading.cluster`, the ``cluster`` extra) instead of this machine,
        with the same grades.
    lessons : dict, optional
        ``{lesson name: Lesson}`` to grade against, instead of reading ``solutions_dir`` (e.g. from
        a points manifest: :mod:`ccdlab.classroom.grading.points`).

    Returns
    -------
    GradeBook

    Raises
    ------
    ccdlab.errors.GradingError
        No solutions, no submissions, an unknown ``lesson``; :class:`~ccdlab.errors.SandboxError`
        with ``sandbox="require"`` where the sandbox cannot run.

    Examples
    --------
    >>> book = grade(["returned/"], "solutions/", "data/", jobs=2)  # doctest: +SKIP
    >>> book.rows[0].status  # doctest: +SKIP
    'correct'
    """
    start = time.monotonic()
    _check_sandbox_mode(sandbox)
    given_lessons = lessons is not None
    lessons = dict(lessons) if given_lessons else load_solutions(solutions_dir)
    if lesson is not None and lesson not in lessons:
        raise GradingError(f"No solution notebook for lesson {lesson!r}: use one of {', '.join(lessons)}.")
    skipped: list = []
    found = find_submissions(submissions, skipped)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise GradingError(f"The data folder {data_dir} does not exist: pass --data DIR with bias/, flats/, science/.")
    data_dir = Path(data_dir).resolve() if data_dir is not None else None  # the sandbox binds it from elsewhere
    solutions_folder = None if given_lessons else (Path(solutions_dir) if solutions_dir is not None
                                                   else default_solutions_dir())
    size_of_nights = _size_of_nights(night_size, data_dir) if student_nights else None
    import ccdlab

    watched = [solutions_folder, data_dir, Path(ccdlab.__file__).parent, *[Path(s) for s in submissions]]
    before = fingerprint(*watched)
    runner = _runner(scheduler, jobs)  # connects to the cluster (or says why not) before anything runs
    try:
        book = _grade_with(runner, found, lessons, data_dir, timeout=timeout, cell_timeout=cell_timeout,
                           lesson=lesson, executed_dir=executed_dir, progress=progress, workdir=workdir,
                           sandbox=sandbox, memory=memory, student_nights=student_nights, size_of_nights=size_of_nights)
    finally:
        runner.close()
    book.warnings[:0] = [f"{path} is a symbolic link (or not a file): not graded. Ask for the notebook itself."
                         for path in skipped]
    book.settings["solutions"] = str(solutions_folder) if solutions_folder else "(given lessons)"
    _note_duplicates(book)
    if student_nights:
        _note_copied_answers(book)
    book.copies = copies_in_book(book, solutions_folder)
    after = fingerprint(*watched)
    for folder in watched:
        if folder is None:
            continue
        prefix = str(Path(folder)) + os.sep
        changed = [p for p in _changes(before, after) if p.startswith(prefix)]
        if changed:
            book.warnings.append(
                f"{len(changed)} file(s) in {folder} changed while grading (e.g. {changed[0]}): something wrote "
                "there. Restore the folder (git checkout, or copy the data again) and grade again."
            )
    book.elapsed = time.monotonic() - start
    return book


def _grade_with(runner, found: list, lessons: dict, data_dir, *, timeout, cell_timeout, lesson, executed_dir,
                progress, workdir, sandbox, memory, student_nights, size_of_nights) -> GradeBook:
    """Identify, run (through ``runner``) and score every found submission."""
    import nbformat
    from tqdm.auto import tqdm

    book = GradeBook(lessons=lessons, settings={
        "timeout": timeout, "cell_timeout": cell_timeout, "jobs": runner.slots, "data": str(data_dir) if data_dir else "",
        "lesson": lesson or "", "sandbox": sandbox, "where": runner.where,
    })
    use_sandbox = _sandbox_in_use(sandbox, book, runner)
    book.settings["sandboxed"] = use_sandbox
    limits = Limits(memory=int(memory)) if memory else Limits()
    book.settings["student_nights"] = size_of_nights or ""

    owned_tmp = workdir is None
    root = Path(tempfile.mkdtemp(prefix="ccdlab-grade-")) if owned_tmp else Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    empty_data = root / "empty-data"
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
                sub.rows = rows_without_run(the_lesson, student, "invalid notebook", problem, str(path))
                continue
            if the_lesson is None:
                sub.status = "unknown lesson"
                sub.message = (f"{path.name}: {how}. Check that it is a course notebook, or pass --lesson.")
                if lesson is not None:
                    the_lesson, sub.lesson = lessons[lesson], lesson
                sub.rows = rows_without_run(the_lesson, student, "unknown lesson", sub.message, str(path))
                continue
            if lesson is not None and lesson_name != lesson:
                sub.status = "wrong lesson"
                sub.message = f"{path.name} is the notebook of lesson {lesson_name}, not {lesson}: ask for the right file."
                sub.lesson = lesson
                sub.rows = rows_without_run(lessons[lesson], student, "wrong lesson", sub.message, str(path))
                continue
            if how.startswith("notebook metadata;"):
                sub.notes.append(how.replace("notebook metadata; ", "graded as " + lesson_name + " from its metadata; "))
            executed = None
            if executed_dir is not None:
                executed = Path(executed_dir).resolve() / f"{safe_name(student)}__{lesson_name}__{number:04d}.ipynb"
            to_run.append((sub, notebook, the_lesson, root / f"sub{number:04d}", executed))

        def work(item):
            sub, notebook, the_lesson, folder, executed = item
            if _STOP.is_set():
                return item, RunRecord("kernel failed", message="Grading was interrupted before this notebook ran.")
            folder.mkdir(parents=True, exist_ok=True)
            copy = folder / "submission.ipynb"
            nbformat.write(notebook, copy)
            night_dir, cache, recipe = data_dir if data_dir is not None else empty_data, root / "cache", None
            if student_nights and runner.remote:  # made where the notebook runs, from its recipe
                recipe = _night_recipe(sub.student, size_of_nights)
            elif student_nights:
                night_dir, cache = _night_of(sub.student, root / "nights", size_of_nights)
                cache = night_dir.parent / f"{night_dir.name}-cache"
            job = {"notebook": str(copy), "folder": str(folder / "run"), "lesson": the_lesson.name,
                   "data": str(night_dir), "cache": str(cache),
                   "expected": {key: sorted(names) for key, names in the_lesson.answers.items()},
                   "cell_timeout": cell_timeout, "timeout": timeout, "sandbox": use_sandbox, "memory": limits.memory,
                   "executed": str(executed) if executed else None}
            if recipe:
                job["night"] = recipe
            record = runner(job, folder, timeout + _SLACK_SECONDS)
            shutil.rmtree(folder, ignore_errors=True)
            return item, record

        empty_data.mkdir(exist_ok=True)
        if not student_nights and to_run:
            runner.prepare(data_dir if data_dir is not None else empty_data)
        pool = ThreadPoolExecutor(max_workers=runner.slots)
        try:
            futures = [pool.submit(work, item) for item in to_run]
            bar = tqdm(total=len(futures), desc="grading", unit="notebook", disable=not progress)
            for future in as_completed(futures):
                (sub, notebook, the_lesson, *_), record = future.result()
                sub.record = record
                sub.status, sub.message, sub.elapsed = record.status, record.message, record.elapsed
                sub.cell_errors = cell_errors(record, notebook)
                if record.status in ("kernel failed", "invalid notebook"):
                    status_ = "grader error" if record.status == "kernel failed" else "invalid notebook"
                    sub.rows = rows_without_run(the_lesson, sub.student, status_, record.message, str(sub.path))
                else:
                    sub.rows = grade_record(record, notebook, the_lesson, sub.student, str(sub.path))
                sub.notes.extend(not_counted(record))
                bar.update(1)
            bar.close()
        except BaseException:  # Ctrl-C or a bug: stop the running notebooks now, not at their timeout
            _STOP.set()
            pool.shutdown(wait=False, cancel_futures=True)
            runner.stop()
            raise
        finally:
            pool.shutdown(wait=True)
            _STOP.clear()
    finally:
        if owned_tmp:
            shutil.rmtree(root, ignore_errors=True)
    return book


def _note_duplicates(book: GradeBook) -> None:
    seen = {}
    for sub in book.submissions:
        key = (sub.student, sub.lesson)
        if key in seen and sub.lesson:
            sub.notes.append(f"{sub.student} handed in more than one notebook for {sub.lesson} (also {seen[key].path.name})")
        seen.setdefault(key, sub)


def _size_of_nights(size: str | None, data_dir) -> str:
    from ccdlab.data.simulate import SIZES

    if size is not None:
        if size not in SIZES:
            raise GradingError(f"Unknown night size {size!r}: use one of {', '.join(SIZES)}.")
        return size
    try:
        from ccdlab.data.manifest import read_manifest

        found = read_manifest(data_dir).get("meta", {}).get("size") if data_dir is not None else None
    except Exception:  # noqa: BLE001 - no manifest: the default size
        found = None
    return found if found in SIZES else "workshop"


_NIGHT_LOCKS: dict = {}
_NIGHT_LOCK = threading.Lock()


def _night_recipe(student: str, size: str) -> dict:
    """How to make a student's night anywhere: what :func:`_night_of` passes to ``make_night``."""
    from ccdlab.data.simulate.students import student_seed

    return {"size": size, "seed": student_seed(student), "student": student}


def _night_of(student: str, folder: Path, size: str) -> tuple:
    """The grader's own copy (with its truth) of a student's night, made once per batch."""
    from ccdlab.data.simulate import make_night
    from ccdlab.data.simulate.students import student_seed

    seed = student_seed(student)
    night = folder / f"{size}-{seed}"
    with _NIGHT_LOCK:
        lock = _NIGHT_LOCKS.setdefault(str(night), threading.Lock())
    with lock:
        if not (night / "manifest.json").is_file():
            folder.mkdir(parents=True, exist_ok=True)
            make_night(night, size=size, seed=seed, progress=False, overwrite=True, student=student)
    return night, None


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-3 * max(abs(float(a)), abs(float(b)), 1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _note_copied_answers(book: GradeBook) -> None:
    """With a night per student: an answer that is wrong on its own night but right on a classmate's."""
    right = {}  # exercise -> [(student, values)]
    for sub in book.submissions:
        for item in (sub.record.submissions if sub.record else []):
            if item.counted and item.status == "correct" and item.values and all(v is not None for v in item.values.values()):
                right.setdefault(item.exercise, []).append((sub.student, item.values))
    for sub in book.submissions:
        for item in (sub.record.submissions if sub.record else []):
            if not item.counted or item.status == "correct" or not item.values:
                continue
            for other, values in right.get(item.exercise, []):
                if other != sub.student and set(values) == set(item.values) and all(
                        _same(item.values[k], values[k]) for k in values):
                    sub.notes.append(f"the answers to exercise {item.exercise} match the night of {other}, not "
                                     f"{sub.student}'s own (numbers copied from {other}?)")
                    break
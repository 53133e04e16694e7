"""Grading a class's returned notebooks: ``ccdlab grade SUBMISSIONS... --out grades.csv``.

Each returned notebook is

1. read and identified (:mod:`ccdlab.classroom.grading.identify`);
2. run from the top in a fresh kernel, in a sandbox of its own (:mod:`ccdlab.classroom.grading.run`);
3. scored (:mod:`ccdlab.classroom.grading.score`) against the points declared by the markers in
   the lesson's solution notebook (:mod:`ccdlab.classroom.grading.solutions`).

A broken or hostile notebook is reported, not fatal, and the batch goes on. The CSV and the summary
(markdown and HTML) are written by :mod:`ccdlab.classroom.grading.report`.
"""

from __future__ import annotations

import json
import os
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

from ccdlab.classroom.grading.identify import (
    find_submissions,
    identify_lesson,
    identify_student,
    read_submission,
    safe_name,
)
from ccdlab.classroom.grading.run import RunRecord, make_writable
from ccdlab.classroom.grading.score import grade_record, rows_without_run
from ccdlab.classroom.grading.solutions import (
    default_solutions_dir,
    load_solutions,
)
from ccdlab.errors import GradingError

__all__ = ["Submission", "GradeBook", "run_submission", "grade", "fingerprint"]


_EXTRA_SECONDS = 60  # slack the batch gives a worker beyond the notebook timeout
_LIVE: set = set()  # running worker processes, stopped all at once on Ctrl-C
_LIVE_LOCK = threading.Lock()


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
    cell_errors: list = field(default_factory=list)  # (cell index, exception name, message) of cells that raised

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


# What browsers, Colab and students add to a file name that says nothing about who sent it:
# "Copy of 01_fits_files.ipynb", "01_fits_files (1).ipynb", "01_fits_files_solved-checkpoint.ipynb".


# --------------------------------------------------------------------------------------------
# From a run record to grade rows


# --------------------------------------------------------------------------------------------
# Running submissions


def run_submission(notebook_path, sandbox, data_dir=None, timeout: float = 600, cell_timeout: float = 180,
                   executed=None) -> RunRecord:
    """Run one notebook in a separate worker process and return its record.

    The worker (``python -m ccdlab.classroom.grading.run``) starts in its own process session; if it is not
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
        [sys.executable, "-m", "ccdlab.classroom.grading.run", str(job_path)],
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
            private = root / f"sub{number:04d}"
            private.mkdir(parents=True, exist_ok=True)
            import nbformat

            copy = private / "submission.ipynb"
            nbformat.write(notebook, copy)
            executed = None
            if executed_dir is not None:
                executed = Path(executed_dir) / f"{safe_name(student)}__{lesson_name}__{number:04d}.ipynb"
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
                sub.cell_errors = [(c.index, c.ename, c.evalue) for c in record.cells if c.status == "error"]
                if record.status in ("kernel failed", "invalid notebook"):
                    status = "grader error" if record.status == "kernel failed" else "invalid notebook"
                    sub.rows = rows_without_run(the_lesson, sub.student, status, record.message, str(sub.path))
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

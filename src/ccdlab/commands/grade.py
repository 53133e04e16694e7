"""``ccdlab grade``: grade a class's returned notebooks into a CSV and a report."""

from __future__ import annotations

import argparse
from pathlib import Path

#: The LMS ``--lms`` writes an import file for (as ccdlab.classroom.grading.lms.LMS_FORMATS, without importing it here).
LMS_CHOICES = ("canvas", "gradescope", "moodle")


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
    parser.add_argument("--sandbox", choices=("auto", "require", "off"), default="auto",
                        help="run each notebook in the bubblewrap sandbox: auto (when it can run here, and say so loudly "
                        "when not), require (refuse to grade without it), off (only for notebooks you trust)")
    parser.add_argument("--memory", type=float, default=4.0, metavar="GB",
                        help="memory each notebook may use, in GB (default 4)")
    parser.add_argument("--student-nights", action="store_true",
                        help="grade each notebook on its student's own night (made again here from the student's "
                        "name, as in 'python data_fetch.py --student NAME'), and list answers matching another's night")
    parser.add_argument("--size", choices=("tiny", "workshop", "full"), default=None,
                        help="with --student-nights: the size of the nights (default: the size of --data's night)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    after = parser.add_argument_group("after grading: feedback, written answers, the LMS")
    after.add_argument("--feedback", default=None, metavar="DIR",
                       help="write a feedback page for each student into DIR (NAME.html and NAME.md), safe to e-mail")
    after.add_argument("--feedback-solutions", action="store_true",
                       help="with --feedback: add the solution of each exercise not fully right, and the model answer "
                       "of each written answer without full points")
    after.add_argument("--manual", default=None, metavar="SHEET",
                       help="merge the points you gave the written answers (the sheet written beside the grades, "
                       "e.g. grades-written.csv, with its points column filled in)")
    after.add_argument("--roster", default=None, metavar="FILE",
                       help="the class roster, a CSV with the header name,lms_id,email,section (name as in the hand-in files)")
    after.add_argument("--lms", choices=LMS_CHOICES, default=None,
                       help="with --roster: also write the grades as an import file for this LMS (grades-canvas.csv...)")
    # a Dask cluster: the same jobs on other machines, the same grades
    parser.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                        help="run the notebooks on the workers of this Dask scheduler instead of this machine (needs "
                        "'pip install ccdlab[cluster]' here and on the workers; see docs/grading.md)")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab grade``; return 0 when the grades were written (bad input raises a CcdlabError).

    Warnings (a watched folder changed while grading) are printed and written into the summary.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["no-such.ipynb", "--out", "g.txt", "--no-data"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.GradingError: --out g.txt should be a .csv file name, e.g. --out grades.csv.
    """
    import sys

    from ccdlab.errors import DataNotFoundError, GradingError

    if args.timeout <= 0 or args.cell_timeout <= 0 or (args.jobs is not None and args.jobs < 1):
        raise GradingError("--timeout and --cell-timeout must be positive seconds and --jobs at least 1.")
    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise GradingError(f"--out {out} should be a .csv file name, e.g. --out grades.csv.")
    if args.memory <= 0:
        raise GradingError("--memory must be a positive number of GB, e.g. --memory 4.")
    _check_writable(out)  # before any notebook runs
    roster = _check_after_options(args)
    from ccdlab.classroom.grading import grade, write_reports
    from ccdlab.paths import find_data_dir

    data_dir = None
    if not args.no_data:
        try:
            data_dir = find_data_dir(args.data)
        except DataNotFoundError as exc:
            first = str(exc).splitlines()[0]
            raise GradingError(f"{first} Pass --data DIR (e.g. made with 'python data_fetch.py --size tiny --dest DIR'), "
                               "or --no-data.") from None
    book = grade(args.submissions, args.solutions, data_dir, timeout=args.timeout, cell_timeout=args.cell_timeout,
                 jobs=args.jobs, lesson=args.lesson, executed_dir=args.executed, progress=not args.no_progress,
                 sandbox=args.sandbox, memory=int(args.memory * 2**30),
                 student_nights=args.student_nights, night_size=args.size, scheduler=args.scheduler)
    paths, notes = _after_grading(book, out, args, roster)
    paths = write_reports(book, out) + paths
    students = len({sub.student for sub in book.submissions})
    print(f"Graded {len(book.submissions)} notebook(s) from {students} student(s) in {book.elapsed:.0f} s.")
    for note in notes:
        print(f"  {note}")
    for path in paths:
        print(f"  wrote {path}")
    for warning in book.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    return 0


def _check_after_options(args) -> list | None:
    """Check the options of what follows grading before any notebook runs; return the roster read."""
    from ccdlab.errors import GradingError

    if args.lms and not args.roster:
        raise GradingError(f"--lms {args.lms} needs --roster FILE: the CSV (name,lms_id,email,section) that says who "
                           "each student is in the LMS.")
    if args.feedback_solutions and not args.feedback:
        raise GradingError("--feedback-solutions adds to the feedback pages: pass --feedback DIR too.")
    if args.manual and not Path(args.manual).is_file():
        raise GradingError(f"--manual {args.manual}: no such file. Pass the written-answers sheet ccdlab grade wrote "
                           "beside the grades (e.g. grades-written.csv), with its points filled in.")
    if args.feedback:
        folder = Path(args.feedback)
        if folder.exists() and not folder.is_dir():
            raise GradingError(f"--feedback {folder} is a file: give a folder for the feedback pages.")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GradingError(f"Could not make the feedback folder {folder}: {exc}. Choose another --feedback DIR.") from None
        _check_writable(folder / "probe.html")
    if args.roster:
        from ccdlab.classroom.grading.roster import read_roster

        return read_roster(args.roster)
    return None


def _after_grading(book, out: Path, args, roster) -> tuple:
    """Merge the manual points, then write the written-answers sheet, the LMS file and the feedback pages."""
    from ccdlab.classroom.grading.manual import apply_manual, sheet_path, write_sheet

    paths, notes = [], []
    if args.manual:
        graded = apply_manual(book, args.manual)
        notes.append(f"merged the points of {graded} written answer(s) from {args.manual}")
    paths.append(write_sheet(book, sheet_path(out)))
    if roster is not None and args.lms:
        from ccdlab.classroom.grading.lms import lms_path, write_lms

        path, match = write_lms(book, roster, args.lms, lms_path(out, args.lms))
        paths.append(path)
        notes.append(f"{len(match['matched'])} graded student(s) matched with the roster")
    elif roster is not None:
        from ccdlab.classroom.grading.roster import match_roster

        match = match_roster(book, roster)
        if match["not_on_roster"]:
            book.warnings.append(f"{len(match['not_on_roster'])} graded student(s) are not on the roster: "
                                 f"{', '.join(match['not_on_roster'])}.")
    if args.feedback:
        from ccdlab.classroom.grading.feedback_pages import write_feedback

        pages = write_feedback(book, args.feedback, solutions=args.feedback_solutions)
        notes.append(f"{len(pages) // 2} feedback page(s) in {args.feedback}")
    return paths, notes


def _check_writable(out: Path) -> None:
    """Fail now, not after an hour of grading, when the reports cannot be written beside ``out``."""
    from ccdlab.errors import GradingError
    from ccdlab.files import atomic_write_text

    probe = out.with_name(f".{out.name}.probe")
    try:
        atomic_write_text(probe, "")
        probe.unlink()
    except Exception as exc:  # noqa: BLE001 - any failure is the same sentence
        raise GradingError(f"Could not write the grades at {out}: {exc}. Choose a writable --out.") from None

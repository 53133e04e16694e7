"""``ccdlab student``: generate the student notebooks from the solution notebooks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``ccdlab student`` to ``parser``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser)
    >>> parser.parse_args(["solutions", "--check"]).out
    'notebooks'
    """
    parser.add_argument("solutions", metavar="SOLUTIONS_DIR", help="folder of solution notebooks (solutions/)")
    parser.add_argument("--out", default="notebooks", help="folder for the student notebooks (default: notebooks)")
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 if the student notebooks are out of sync with the solutions",
    )
    parser.add_argument(
        "--refresh-setup", action="store_true",
        help="first rewrite each solution's setup cell from ccdlab.course.setup (after changing COURSE_REPOSITORY)",
    )


def run(args: argparse.Namespace) -> int:
    """Generate or check the student notebooks; return the exit code.

    Returns 0 when done (or in sync) and 1 when ``--check`` finds notebooks out of sync; bad input
    (missing folder, malformed markers) raises a :class:`ccdlab.errors.CcdlabError`.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["no-such-folder"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.MissingFileError: no-such-folder is not a folder...
    """
    from ccdlab.classroom.authoring import generate, refresh_setup_cell

    if getattr(args, "refresh_setup", False) and not args.check:
        for path in sorted(Path(args.solutions).glob("*.ipynb")):
            if refresh_setup_cell(path):
                print(f"refreshed the setup cell of {path}")
    report = generate(args.solutions, args.out, check=args.check)
    if args.check:
        problems = [f"{args.out}/{name} is out of date" for name in report["stale"]]
        problems += [f"{args.out}/{name} has no solution notebook behind it" for name in report["extra"]]
        if problems:
            print("\n".join(problems), file=sys.stderr)
            print("Run 'make notebooks' (ccdlab student solutions --out notebooks) and commit the result.", file=sys.stderr)
            return 1
        print(f"{len(report['unchanged'])} student notebooks are in sync with {args.solutions}.")
        return 0
    for name in report["written"]:
        print(f"wrote {Path(args.out) / name}")
    print(f"{len(report['written'])} written, {len(report['unchanged'])} already up to date.")
    for name in report["extra"]:
        print(f"note: {Path(args.out) / name} has no solution notebook behind it; remove it if it is stale.")
    return 0

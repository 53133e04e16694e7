"""``ccdlab release``: package the student notebooks and the package for handing out."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``ccdlab release``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> parser.parse_args(["handout"]).outdir
    'handout'
    """
    parser.add_argument("outdir", metavar="OUTDIR", help="folder for ccdlab-course/ and ccdlab-course.zip")
    parser.add_argument("--notebooks", default=None, help="the student notebooks (default: the project's notebooks/)")
    parser.add_argument("--solutions", default=None, help="the solutions, to check the notebooks are up to date "
                        "(default: the project's solutions/; nothing from it is copied)")
    parser.add_argument("--no-package", action="store_true", help="only the notebooks and README, without the ccdlab package")
    parser.add_argument("--github-classroom", action="store_true",
                        help="make a GitHub Classroom template repository: a workflow grades the notebooks on each push "
                        "(in the sandbox, on the tiny night) and reports the points; adds the grader and a points "
                        "manifest made from --solutions (never the solutions themselves)")
    parser.add_argument("--python", default=None, metavar="X.Y",
                        help="with --github-classroom: the Python version the workflow sets up (default: this one's)")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab release``; return the exit code (bad input raises a :class:`ccdlab.errors.CcdlabError`).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["handout", "--notebooks", "no-such-folder"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ccdlab.errors.ReleaseError: ...
    """
    from ccdlab.classroom.release import build_release

    made = build_release(args.outdir, args.notebooks, args.solutions, include_package=not args.no_package,
                         github_classroom=args.github_classroom, python=args.python)
    print(f"Released {len(made['notebooks'])} notebook(s): {made['folder']}")
    print(f"Hand out {made['zip']}")
    if "autograding" in made:
        auto = made["autograding"]
        print(f"GitHub Classroom: {auto['workflow'].relative_to(made['folder'])} grades each push out of "
              f"{auto['max_score']:g} points; push {made['folder']} as the assignment's template repository "
              "and protect .github/**/*, src/**/*, pyproject.toml and data_fetch.py.")
    return 0

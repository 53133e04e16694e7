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

    made = build_release(args.outdir, args.notebooks, args.solutions, include_package=not args.no_package)
    print(f"Released {len(made['notebooks'])} notebook(s): {made['folder']}")
    print(f"Hand out {made['zip']}")
    return 0

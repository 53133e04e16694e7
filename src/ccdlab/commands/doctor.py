"""``ccdlab doctor``: is this machine and this data folder ready for the course?"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ccdlab doctor`` options to a parser.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="ccdlab doctor")
    >>> add_arguments(parser)
    >>> parser.parse_args(["--data", "night1"]).data
    'night1'
    """
    parser.add_argument(
        "--data", metavar="DIR", default=None,
        help="data folder to check (default: CCDLAB_DATA, the Colab Drive folder, or data/ in the course folder)",
    )
    parser.add_argument("--ascii", action="store_true", help="plain ASCII marks instead of \u2714 / \u2718")


def _can_print(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab doctor``: print the report; return 0 when ready, 1 when something is missing.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     code = run(argparse.Namespace(data=empty, ascii=True))  # doctest: +ELLIPSIS
    ccdlab doctor
    ...
    >>> code
    1
    """
    from ccdlab.data.doctor import SYMBOLS, diagnose

    report = diagnose(getattr(args, "data", None))
    ascii_only = bool(getattr(args, "ascii", False)) or not _can_print("".join(SYMBOLS.values()) + "\u00b1")
    print(report.format(ascii_only=ascii_only))
    return report.exit_code

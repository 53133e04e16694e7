"""The ``ccdlab`` command line: this file only lists the commands; each lives in :mod:`ccdlab.commands`.

``ccdlab --help`` imports nothing but the standard library: a command's module is imported only
when that command runs (or its ``--help`` is asked for), and the module itself imports the
scientific packages inside its ``run``. Every ccdlab error (:class:`ccdlab.errors.CcdlabError`) is
caught here, once, and printed as one sentence naming the file and the fix.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ccdlab._version import __version__

__all__ = ["COMMANDS", "INSTRUCTOR_COMMANDS", "build_parser", "main", "run_command"]

#: Command name -> one-line help. Each is the module ``ccdlab.commands.<name>``.
COMMANDS = {
    "doctor": "check the installation, the data folder and the output folder",
    "fetch": "create the default synthetic night, or download and verify real data",
    "reduce": "reduce a night: masters, calibrated and cosmic-ray-cleaned frames",
    "detector": "measure the camera: gain, read noise, full well, dark current (photon transfer curve)",
    "photometry": "calibrated magnitudes of every star of a frame, against a reference catalogue",
    "solve": "plate-solve a frame offline against a reference catalogue (writes it with its WCS)",
    "lab": "start JupyterLab on the course, at lesson 00",
    "student": "generate the student notebooks from the solution notebooks",
    "grade": "grade a class's returned notebooks into a CSV and a report",
    "release": "package the student notebooks for handing out (zip)",
}

#: Commands that need the instructor's tools (:mod:`ccdlab.classroom`), left out of the hand-out.
INSTRUCTOR_COMMANDS = ("student", "grade", "release")


def _load(name: str):
    return importlib.import_module(f"ccdlab.commands.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser; only the chosen command's module is imported.

    Parameters
    ----------
    command : str, optional
        The subcommand about to run; its options are added. Others are listed by name only.

    Examples
    --------
    >>> parser = build_parser()
    >>> parser.prog
    'ccdlab'
    """
    parser = argparse.ArgumentParser(
        prog="ccdlab",
        description="ccdlab: learn CCD image reduction. Run 'ccdlab COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"ccdlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _load(name).add_arguments(command_parser)
    return parser


def _instructor_only(name: str) -> str:
    return (f"'ccdlab {name}' is an instructor's command and is not part of this copy of the course "
            "(the student hand-out); run it from the full course folder.")


def main(argv: list[str] | None = None) -> int:
    """Run the ``ccdlab`` command line and return its exit code.

    Exit codes: 0 done, 1 a ccdlab error (one sentence on stderr), 2 a usage error, 130 interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    ccdlab 0.2.0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return run_command(args.command, args)


def run_command(name: str, args: argparse.Namespace) -> int:
    """Run one command with parsed arguments; a ccdlab error becomes one sentence on stderr.

    Exit codes: 0 done, 1 a ccdlab error or a file that could not be used, 2 an instructor's
    command missing from the hand-out, 130 interrupted.

    Examples
    --------
    >>> run_command("fetch", argparse.Namespace(sha256=["ab"], url=None))
    1
    """
    try:
        return int(_load(name).run(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted; nothing half-written was left behind. Run the command again to resume.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `ccdlab doctor | head`: the reader left, which is fine
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except ModuleNotFoundError as exc:
        if name in INSTRUCTOR_COMMANDS and (exc.name or "").startswith("ccdlab.classroom"):
            print(_instructor_only(name), file=sys.stderr)
            return 2
        raise
    except Exception as exc:  # noqa: BLE001 - only ccdlab's own errors and file errors are sentences
        from ccdlab.errors import CcdlabError

        if isinstance(exc, CcdlabError):
            print(f"ccdlab {name}: {exc}", file=sys.stderr)
            return 1
        if isinstance(exc, OSError) and exc.strerror:
            where = f" {exc.filename}" if exc.filename else ""
            print(f"ccdlab {name}: could not use{where}: {exc.strerror}. Check the path, its permissions "
                  "and the free disk space, then run the command again.", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

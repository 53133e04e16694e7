"""The ``ccdlab`` command line: one subcommand per job, each living in its own module.

Each subcommand's module provides ``add_arguments(parser)`` and ``run(args) -> int``; this file
only lists them, so ``ccdlab --help`` stays fast (modules are imported when their command runs).
"""

from __future__ import annotations

import argparse
import os
import importlib
import sys

from . import __version__

__all__ = ["COMMANDS", "CommandUnavailable", "build_parser", "main"]

#: Subcommand name -> (module, one-line help).
COMMANDS = {
    "doctor": ("ccdlab.doctor", "check the installation, the data folder and the output folder"),
    "fetch": ("ccdlab.fetch", "create the default synthetic night, or download and verify real data"),
    "reduce": ("ccdlab.reduce", "reduce a night: masters, calibrated and cosmic-ray-cleaned frames"),
    "student": ("ccdlab.authoring", "generate the student notebooks from the solution notebooks"),
    "grade": ("ccdlab.grading", "grade a class's returned notebooks into a CSV and a report"),
    "release": ("ccdlab.release", "package the student notebooks for handing out (zip)"),
}


class CommandUnavailable(RuntimeError):
    """A command whose module is not installed (the student hand-out leaves out instructor tools)."""


def _load(name: str):
    module_name, _ = COMMANDS[name]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise CommandUnavailable(
            f"'ccdlab {name}' is an instructor's command and is not part of this copy of the course "
            "(the student hand-out); run it from the full course folder."
        ) from None


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
    for name, (_, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _load(name).add_arguments(command_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``ccdlab`` command line and return its exit code.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    ccdlab 0.1.0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command not in COMMANDS:
        command = None
    try:
        parser = build_parser(command)
    except CommandUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(_load(args.command).run(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted; nothing half-written was left behind. Run the command again to resume.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `ccdlab doctor | head`: the reader left, which is fine
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

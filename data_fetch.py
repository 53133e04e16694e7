#!/usr/bin/env python3
"""Get the course data: ``python data_fetch.py`` (the synthetic night) or ``--url URL`` (real data).

Examples::

    python data_fetch.py                      # keep the verified night in data/, or create the workshop one
    python data_fetch.py --size tiny --dest /tmp/night
    python data_fetch.py --url https://example.org/night.zip --sha256 HEX

This is a thin front of ``ccdlab fetch`` (:mod:`ccdlab.commands.fetch`, the same options); run it with
``--help`` for every option. Run with a Python that lacks ccdlab's dependencies (the system
``python3``, say), it hands over to the course's ``.venv`` when there is one, or says in one
sentence how to install them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Set while handing over to the course's virtual environment, so that it happens once at most.
REEXEC_ENV = "CCDLAB_DATA_FETCH_REEXEC"


def venv_python(folder: Path = HERE) -> Path:
    """Return the interpreter of the course's virtual environment beside this script (may not exist).

    Examples
    --------
    >>> venv_python(Path("/course")).as_posix()  # doctest: +SKIP
    '/course/.venv/bin/python'
    """
    if os.name == "nt":
        return folder / ".venv" / "Scripts" / "python.exe"
    return folder / ".venv" / "bin" / "python"


def _running(python: Path) -> bool:
    """True when this process already runs ``python`` (its own path, or its virtual environment)."""
    if os.path.abspath(sys.executable) == os.path.abspath(python):
        return True
    try:
        return Path(sys.prefix).resolve() == python.parent.parent.resolve()
    except OSError:
        return False


def _import_ccdlab():
    """Import ccdlab and its scientific dependencies; from the source tree beside this script when
    ccdlab is not installed. Return the command line module."""
    try:
        import ccdlab  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "ccdlab":
            raise
        sys.path.insert(0, str(HERE / "src"))  # a fresh checkout without `pip install -e .`
    import ccdlab.data.fetch  # noqa: F401  (numpy, astropy...: missing ones are reported below)
    from ccdlab import cli
    from ccdlab.commands import fetch

    return cli, fetch


def _missing_dependencies(argv: list[str] | None) -> int:
    """Hand over to ``.venv/bin/python`` when possible; otherwise say how to install; return 1."""
    python = venv_python()
    if python.is_file() and not _running(python) and not os.environ.get(REEXEC_ENV):
        os.environ[REEXEC_ENV] = "1"
        arguments = sys.argv[1:] if argv is None else list(argv)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *arguments])
    print(
        f"ccdlab's dependencies are not installed for {sys.executable}: run `make lab` (or `make data`) once, "
        "or `pip install -e .`.",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    """Parse the options, fetch or verify the data, and return the exit code.

    Examples
    --------
    >>> main(["--size", "tiny", "--dest", "/tmp/night"])  # doctest: +SKIP
    Wrote the tiny synthetic night (seed 20181013) into /tmp/night.
    0
    """
    if sys.version_info < (3, 10):
        return _missing_dependencies(argv)
    try:
        cli, fetch = _import_ccdlab()
    except ImportError as exc:  # numpy, astropy, ... missing (or built for another Python)
        if (exc.name or "").startswith("ccdlab."):
            raise  # a broken checkout, not a missing dependency: show it
        return _missing_dependencies(argv)

    parser = argparse.ArgumentParser(
        prog="data_fetch.py",
        description="Create the course's synthetic night (offline, seeded, verified by checksums), "
        "or get real data safely and sort it into bias/, flats/ and science/.",
    )
    fetch.add_arguments(parser)
    return cli.run_command("fetch", parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""``ccdlab lab``: start JupyterLab on the student notebooks, opened at lesson 00."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

#: The notebook a new student starts with.
FIRST_LESSON = "00_getting_started.ipynb"


def notebooks_folder(given: str | None = None) -> Path:
    """The folder of student notebooks: ``given``, else ``notebooks/`` of the course checkout or of the current folder.

    Examples
    --------
    >>> notebooks_folder("somewhere").name
    'somewhere'
    """
    if given:
        return Path(given)
    from ccdlab.paths import project_root

    root = project_root()
    return (root if root is not None else Path.cwd()) / "notebooks"


def lab_command(folder: Path, port: int = 8888, ip: str = "127.0.0.1", browser: bool = False) -> list[str]:
    """The ``jupyter lab`` command line: rooted at ``folder``, opening lesson 00, without the news pop-up.

    The file browser shows the student notebooks only (not ``solutions/``); the printed URL opens
    lesson 00 itself, token included, so it works on a headless or remote machine too.

    Examples
    --------
    >>> cmd = lab_command(Path("notebooks"), port=8890)
    >>> "--LabApp.default_url=/lab/tree/00_getting_started.ipynb" in cmd
    True
    """
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={folder}",
        f"--LabApp.default_url=/lab/tree/{FIRST_LESSON}",
        f"--ServerApp.ip={ip}", f"--ServerApp.port={port}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if not browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and some workshop servers run as root
        command.append("--allow-root")
    return command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``ccdlab lab``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> parser.parse_args([]).port
    8888
    """
    parser.add_argument("--notebooks", default=None, metavar="DIR",
                        help="folder of the student notebooks (default: notebooks/ of the course folder)")
    parser.add_argument("--port", type=int, default=8888, help="port to serve on (default 8888, or the next free one)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to serve on (default 127.0.0.1, this machine only)")
    parser.add_argument("--browser", action="store_true", help="also open a web browser on this machine")


def run(args: argparse.Namespace) -> int:
    """Start JupyterLab (until Ctrl-C); return its exit code.

    Examples
    --------
    >>> run(argparse.Namespace(notebooks="no-such-folder", port=8888, ip="127.0.0.1", browser=False))
    Traceback (most recent call last):
    ...
    ccdlab.errors.MissingFileError: no-such-folder has no 00_getting_started.ipynb: pass --notebooks DIR, the folder of the student notebooks.
    """
    import importlib.util

    from ccdlab.errors import MissingFileError, SetupError

    folder = notebooks_folder(args.notebooks)
    if not (folder / FIRST_LESSON).is_file():
        raise MissingFileError(f"{folder} has no {FIRST_LESSON}: pass --notebooks DIR, the folder of the student notebooks.")
    if importlib.util.find_spec("jupyterlab") is None:
        raise SetupError("JupyterLab is not installed: run 'make lab' in the course folder, or pip install 'ccdlab[lab]'.")
    print(f"Starting JupyterLab on {folder}; open the link below (it opens lesson 00). Stop it with Ctrl-C.", flush=True)
    try:
        return subprocess.call(lab_command(folder, args.port, args.ip, args.browser))
    except KeyboardInterrupt:
        return 0

"""The command line: the list of commands, one error sentence, a fast --help, and `ccdlab lab`."""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ccdlab import __version__, cli
from ccdlab.commands import lab
from ccdlab.errors import CcdlabError, FrameError

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_every_command_module_has_the_interface():
    import importlib

    for name in cli.COMMANDS:
        module = importlib.import_module(f"ccdlab.commands.{name}")
        assert callable(module.add_arguments) and callable(module.run), name


def _modules_after(code: str) -> set:
    script = f"import sys\n{code}\nprint(__import__('json').dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return {name.split(".")[0] for name in json.loads(result.stdout.strip().splitlines()[-1])}


@pytest.mark.parametrize("code", [
    "import ccdlab",
    "import ccdlab.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit:\n    pass",
    "import ccdlab.cli as c\nfor name in c.COMMANDS:\n    try:\n        c.main([name, '--help'])\n    except SystemExit:\n        pass",
])
def test_import_and_help_load_no_scientific_package(code):
    loaded = _modules_after(code)
    assert not loaded & {"astropy", "matplotlib", "numpy", "tqdm", "scipy", "nbformat", "jupyter_client"}, loaded


def test_lazy_package_attributes_and_the_callable_combine_module():
    import ccdlab
    import ccdlab.combine as module

    assert type(module).__name__ == "_CallableModule" and hasattr(module, "combine")
    assert ccdlab.combine is module and callable(ccdlab.combine)
    assert ccdlab.io.read_frame is not None
    with pytest.raises(AttributeError):
        ccdlab.no_such_thing  # noqa: B018


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("ccdlab")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "doctor" in result.stdout


def test_a_ccdlab_error_is_one_sentence(monkeypatch, capsys):
    import types

    def run(args):
        raise FrameError("bias/a.fits is truncated: copy it again.")

    monkeypatch.setattr(cli, "_load", lambda name: types.SimpleNamespace(add_arguments=lambda parser: None, run=run))
    assert cli.main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "ccdlab doctor: bias/a.fits is truncated: copy it again." and "Traceback" not in err


def test_an_os_error_is_one_sentence(monkeypatch, capsys):
    import types

    def run(args):
        raise PermissionError(13, "Permission denied", "/data/reduced/x.fits")

    monkeypatch.setattr(cli, "_load", lambda name: types.SimpleNamespace(add_arguments=lambda parser: None, run=run))
    assert cli.main(["reduce"]) == 1
    assert "could not use /data/reduced/x.fits: Permission denied" in capsys.readouterr().err


def test_a_bug_is_not_hidden(monkeypatch):
    import types

    def run(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "_load", lambda name: types.SimpleNamespace(add_arguments=lambda parser: None, run=run))
    with pytest.raises(ZeroDivisionError):
        cli.main(["doctor"])


def test_closed_pipe_is_not_a_traceback(monkeypatch):
    import types

    def run(args):
        raise BrokenPipeError(32, "Broken pipe")

    fake = types.SimpleNamespace(add_arguments=lambda parser: None, run=run)
    monkeypatch.setattr(cli, "_load", lambda name: fake)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after main() swaps it
    assert cli.main(["doctor"]) == 0


def test_an_instructor_command_missing_from_the_hand_out_is_one_sentence(tmp_path):
    """A copy of the package without ccdlab.classroom, as `ccdlab release` makes it."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "ccdlab", copy / "ccdlab",
                    ignore=lambda folder, names: [n for n in names if n in ("classroom", "__pycache__")])
    env = dict(os.environ, PYTHONPATH=str(copy))
    script = "import sys, ccdlab.cli; sys.exit(ccdlab.cli.main(sys.argv[1:]))"
    for argv in (["grade", "x.ipynb", "--out", "g.csv"], ["student", "solutions"], ["release", "out"]):
        result = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env,
                                cwd=tmp_path, timeout=120)
        assert result.returncode == 2, result.stderr
        assert "instructor's command" in result.stderr and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "-c", "import ccdlab.classroom"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=60)
    assert result.returncode != 0


def test_lab_command_line():
    command = lab.lab_command(Path("notebooks"), port=8899)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.root_dir=notebooks" in command and "--no-browser" in command
    assert "--LabApp.news_url=None" in command
    assert "--LabApp.default_url=/lab/tree/00_getting_started.ipynb" in command


def test_lab_refuses_a_folder_without_lesson_00(tmp_path, capsys):
    args = argparse.Namespace(notebooks=str(tmp_path), port=8888, ip="127.0.0.1", browser=False)
    assert cli.run_command("lab", args) == 1
    assert "has no 00_getting_started.ipynb" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(300)
def test_lab_starts_and_prints_the_url_of_lesson_00(tmp_path):
    """What `make lab` runs: JupyterLab on notebooks/, its printed URL opens lesson 00 with the token."""
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    script = Path(sys.executable).with_name("ccdlab")
    process = subprocess.Popen([str(script), "lab", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path, start_new_session=True)
    url, seen = None, []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and url is None:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = re.search(r"(http://127\.0\.0\.1:\d+/lab/tree/00_getting_started\.ipynb\?token=\w+)", line)
            url = match.group(1) if match else None
        assert url, "".join(seen)
        for attempt in range(30):  # the server may print its address a moment before it answers
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    assert response.status == 200
                break
            except urllib.error.URLError:
                if attempt == 29:
                    raise
                time.sleep(1)
        api = url.replace("/lab/tree/00_getting_started.ipynb", "/api/contents")
        with urllib.request.urlopen(api, timeout=60) as response:
            names = {item["name"] for item in json.load(response)["content"]}
        assert "00_getting_started.ipynb" in names and "solutions" not in names
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=60)


def test_ccdlab_errors_share_one_base():
    import ccdlab.errors as errors

    classes = [getattr(errors, name) for name in errors.__all__]
    exceptions = [c for c in classes if issubclass(c, Exception) and not issubclass(c, Warning)]
    warnings_ = [c for c in classes if issubclass(c, Warning)]
    assert exceptions and all(issubclass(c, CcdlabError) for c in exceptions)
    assert warnings_ and all(issubclass(c, errors.CcdlabWarning) for c in warnings_)

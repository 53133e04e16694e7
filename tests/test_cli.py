import subprocess
import sys
from pathlib import Path

import pytest

from ccdlab import __version__, cli


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

    for name, (module_name, _) in cli.COMMANDS.items():
        module = importlib.import_module(module_name)
        assert callable(module.add_arguments) and callable(module.run), name


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("ccdlab")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "doctor" in result.stdout


def test_lab_command_would_start():
    jupyter = Path(sys.executable).with_name("jupyter")
    result = subprocess.run([str(jupyter), "lab", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()[0].isdigit()


def test_closed_pipe_is_not_a_traceback(monkeypatch):
    import types

    def run(args):
        raise BrokenPipeError(32, "Broken pipe")

    fake = types.SimpleNamespace(add_arguments=lambda parser: None, run=run)
    monkeypatch.setattr(cli, "_load", lambda name: fake)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # restored after main() swaps it
    assert cli.main(["doctor"]) == 0


def test_a_command_left_out_of_the_hand_out_is_one_sentence(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "grade", ("ccdlab.not_in_this_copy", "grade"))
    assert cli.main(["grade", "x.ipynb", "--out", "g.csv"]) == 2
    err = capsys.readouterr().err
    assert "instructor's command" in err and "Traceback" not in err

"""Tests of the data_fetch.py front: main(argv) and the script as a student runs it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccdlab import fetch, manifest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data_fetch.py"


@pytest.fixture(scope="module")
def data_fetch():
    spec = importlib.util.spec_from_file_location("data_fetch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_main_creates_then_verifies(data_fetch, tmp_path, capsys):
    dest = tmp_path / "night"
    assert data_fetch.main(["--size", "tiny", "--dest", str(dest), "--no-progress"]) == 0
    assert "Wrote the tiny synthetic night" in capsys.readouterr().out
    assert manifest.verify_manifest(dest) == []
    assert data_fetch.main(["--size", "tiny", "--dest", str(dest)]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_main_error_is_one_sentence(data_fetch, tmp_path, capsys):
    assert data_fetch.main(["--sha256", "0" * 64, "--dest", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1


def test_main_interrupted(data_fetch, tmp_path, capsys, monkeypatch):
    def interrupt(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch, "run", interrupt)
    assert data_fetch.main(["--dest", str(tmp_path)]) == 130
    assert "nothing half-written" in capsys.readouterr().err


def test_main_rejects_unknown_size(data_fetch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        data_fetch.main(["--size", "huge"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CCDLAB_DATA"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_script_end_to_end(tmp_path):
    dest = tmp_path / "x"
    first = run_script("--size", "tiny", "--dest", str(dest), "--no-progress", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["bias", "flats", "manifest.json", "science", "truth"]
    again = run_script("--size", "tiny", "--dest", str(dest), cwd=tmp_path)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    other = run_script("--dest", str(dest), cwd=tmp_path)
    assert other.returncode == 1
    assert "Traceback" not in other.stderr and "--force" in other.stderr


def test_script_help_lists_the_options(tmp_path):
    result = run_script("--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--size", "--dest", "--url", "--sha256", "--name", "--force", "--seed"):
        assert option in result.stdout

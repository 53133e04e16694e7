"""Tests of the data_fetch.py front: main(argv) and the script as a student runs it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccdlab.commands import fetch as fetch_command
from ccdlab.data import fetch, manifest

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
    assert err.startswith("ccdlab fetch: ") and err.count("\n") == 1


def test_main_interrupted(data_fetch, tmp_path, capsys, monkeypatch):
    def interrupt(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch_command, "run", interrupt)
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
    assert sorted(p.name for p in dest.iterdir()) == ["bias", "catalog", "detector", "flats", "manifest.json", "science", "truth"]
    again = run_script("--size", "tiny", "--dest", str(dest), cwd=tmp_path)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    kept = run_script("--dest", str(dest), cwd=tmp_path)  # what `make lab` runs: any verified night is kept
    assert kept.returncode == 0 and "holds the tiny synthetic night" in kept.stdout
    other = run_script("--size", "workshop", "--dest", str(dest), cwd=tmp_path)
    assert other.returncode == 1
    assert "Traceback" not in other.stderr and "--force" in other.stderr
    flat = sorted((dest / "flats").glob("*.fits"))[0]
    flat.write_bytes(flat.read_bytes()[:-2880])
    warned = run_script("--dest", str(dest), cwd=tmp_path)
    assert warned.returncode == 0 and warned.stderr.startswith("Warning: ") and flat.name in warned.stderr
    assert "--force --size tiny" in warned.stderr and "Traceback" not in warned.stderr


def test_script_help_lists_the_options(tmp_path):
    result = run_script("--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--size", "--dest", "--url", "--sha256", "--force", "--seed"):
        assert option in result.stdout


# --- run with a Python that lacks ccdlab's dependencies ------------------------------------------


@pytest.fixture
def without_numpy(tmp_path) -> dict:
    """An environment in which `import numpy` fails, as in a Python where it is not installed."""
    fake = tmp_path / "fake-site"
    fake.mkdir()
    (fake / "numpy.py").write_text('raise ModuleNotFoundError("No module named \'numpy\'", name="numpy")\n')
    env = {k: v for k, v in os.environ.items() if k not in ("CCDLAB_DATA", data_fetch_module().REEXEC_ENV)}
    env["PYTHONPATH"] = str(fake)
    return env


def data_fetch_module():
    spec = importlib.util.spec_from_file_location("data_fetch_for_env", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def course_copy(tmp_path: Path) -> Path:
    """data_fetch.py alone in a folder (a hand-out, a fresh checkout)."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "data_fetch.py").write_bytes(SCRIPT.read_bytes())
    return folder


def test_missing_dependencies_without_venv_is_one_sentence(tmp_path, without_numpy):
    folder = course_copy(tmp_path)
    result = subprocess.run([sys.executable, str(folder / "data_fetch.py"), "--size", "tiny", "--dest", str(tmp_path / "d")],
                            cwd=folder, env=without_numpy, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"ccdlab's dependencies are not installed for {sys.executable}: run `make lab` "
                             "(or `make data`) once, or `pip install -e .`.\n")
    assert not (tmp_path / "d").exists()


def test_missing_dependencies_hand_over_to_the_course_venv(tmp_path, without_numpy):
    folder = course_copy(tmp_path)
    venv_python = folder / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    # Stands for the venv's interpreter: notes that it ran, then runs a Python that has numpy.
    venv_python.write_text(f'#!/bin/sh\necho "venv python ran" >&2\nunset PYTHONPATH\nexec "{sys.executable}" "$@"\n')
    venv_python.chmod(0o755)
    result = subprocess.run([sys.executable, str(folder / "data_fetch.py"), "--size", "tiny", "--dest", str(tmp_path / "d"),
                             "--no-progress"], cwd=tmp_path, env=without_numpy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "venv python ran\n" and "Wrote the tiny synthetic night" in result.stdout
    assert manifest.verify_manifest(tmp_path / "d") == []


def test_missing_dependencies_in_the_venv_itself_do_not_loop(tmp_path, without_numpy):
    folder = course_copy(tmp_path)
    venv_python = folder / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)
    (folder / "src").symlink_to(ROOT / "src")  # ccdlab is found, numpy is not
    result = subprocess.run([str(venv_python), str(folder / "data_fetch.py"), "--help"],
                            cwd=tmp_path, env=without_numpy, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and f"not installed for {venv_python}:" in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_dependencies_hand_over_once_only(tmp_path, without_numpy):
    folder = course_copy(tmp_path)
    venv_python = folder / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    # A venv that lacks numpy too: it is tried once, then the one sentence.
    venv_python.write_text(f'#!/bin/sh\necho "venv python ran" >&2\nexec "{sys.executable}" "$@"\n')
    venv_python.chmod(0o755)
    result = subprocess.run([sys.executable, str(folder / "data_fetch.py")], cwd=tmp_path, env=without_numpy,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("venv python ran\nccdlab's dependencies are not installed for ")


def test_without_ccdlab_at_all_is_one_sentence(tmp_path):
    folder = course_copy(tmp_path)  # no src/ beside it, and (-S: no site-packages) no ccdlab installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", data_fetch_module().REEXEC_ENV)}
    result = subprocess.run([sys.executable, "-S", str(folder / "data_fetch.py"), "--dest", str(tmp_path / "d")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.startswith("ccdlab's dependencies are not installed for ")
    assert result.stderr.count("\n") == 1 and not (tmp_path / "d").exists()


def test_venv_python_path(data_fetch, tmp_path):
    expected = tmp_path / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert data_fetch.venv_python(tmp_path) == expected
    assert data_fetch.venv_python().parent.parent == ROOT / ".venv"

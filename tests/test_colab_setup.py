"""Tests for the notebooks' setup cell, on a simulated Colab (a fake google.colab module)."""

import importlib.machinery
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from ccdlab import exercises, paths, setup_cell
from ccdlab.setup_cell import SetupError, cell_source, start

ROOT = Path(__file__).resolve().parents[1]


def make_raw(folder: Path) -> Path:
    for kind in paths.RAW_FOLDERS:
        (folder / kind).mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def fake_colab(tmp_path, monkeypatch):
    """A fake google.colab with drive.mount, and Drive/working-copy folders under tmp_path."""
    drive_data = tmp_path / "content" / "drive" / "MyDrive" / "ccdlab-data"
    monkeypatch.setattr(paths, "DRIVE_DATA", drive_data)
    monkeypatch.setattr(paths, "COLAB_LOCAL_DATA", tmp_path / "content" / "ccdlab-data")
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    mounts = []

    def mount(where, **kwargs):
        mounts.append(where)
        drive_data.parent.mkdir(parents=True, exist_ok=True)  # MyDrive appears

    google = types.ModuleType("google")
    google.__path__ = []
    colab = types.ModuleType("google.colab")
    colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", loader=None)
    colab.drive = types.SimpleNamespace(mount=mount)
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "ccdlab.colab", None)  # no working-copy helper: plain Drive
    yield types.SimpleNamespace(mounts=mounts, drive_data=drive_data)
    exercises.set_lesson(None)


def test_cell_source_is_the_template_for_the_lesson():
    text = cell_source("03_master_bias")
    assert text.splitlines()[-1] == 'data_dir = start("03_master_bias")'
    assert setup_cell.COURSE_REPOSITORY in text and setup_cell.DRIVE_COURSE in text
    compile(text, "setup", "exec")


def test_every_notebook_starts_with_the_setup_cell():
    for folder in ("solutions", "notebooks"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
            assert first_code.source == cell_source(path.stem), f"{folder}/{path.name}: refresh its setup cell"


def test_locally_start_sets_the_lesson_and_prints_nothing(tmp_path, monkeypatch, capsys):
    data = make_raw(tmp_path / "data")
    monkeypatch.setenv("CCDLAB_DATA", str(data))
    try:
        assert start("02_statistics_display") == data.resolve()
        assert exercises.current_lesson() == "02_statistics_display"
        assert capsys.readouterr().out == ""
    finally:
        exercises.set_lesson(None)


def test_locally_missing_data_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "missing"))
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    with pytest.raises(SetupError, match="No course data found") as info:
        start("01_fits_files")
    rendered = info.value._render_traceback_()
    assert len(rendered) == 1 and "data_fetch.py" in rendered[0] and "Traceback" not in rendered[0]
    exercises.set_lesson(None)


def test_the_cell_on_a_fresh_colab_mounts_installs_and_finds_drive_data(fake_colab, monkeypatch, capsys):
    make_raw(fake_colab.drive_data)
    runs = []
    monkeypatch.setattr(subprocess, "run", lambda command, check=False, **kw: runs.append(command))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *a: None if name == "ccdlab" else real_find_spec(name, *a),
    )
    namespace = {}
    exec(compile(cell_source("01_fits_files"), "setup-cell", "exec"), namespace)
    assert fake_colab.mounts == ["/content/drive"]
    assert len(runs) == 1
    assert runs[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert runs[0][-1] == setup_cell.COURSE_REPOSITORY  # no course copy on this Drive
    assert namespace["data_dir"] == fake_colab.drive_data.resolve()
    assert exercises.current_lesson() == "01_fits_files"
    assert "the data is in" in capsys.readouterr().out


def test_the_cell_installs_from_a_course_copy_on_drive(fake_colab, monkeypatch, tmp_path):
    make_raw(fake_colab.drive_data)
    runs = []
    monkeypatch.setattr(subprocess, "run", lambda command, check=False, **kw: runs.append(command))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ccdlab" else real_find_spec(name, *a))
    course = tmp_path / "course"
    course.mkdir()
    (course / "pyproject.toml").write_text("[project]\n")
    source = cell_source("01_fits_files").replace(setup_cell.DRIVE_COURSE, str(course))
    exec(compile(source, "setup-cell", "exec"), {})
    assert runs[0][-1] == str(course)


def test_the_cell_with_ccdlab_installed_skips_install_and_mounts_once(fake_colab, monkeypatch):
    drive = sys.modules["google.colab"].drive
    plain_mount = drive.mount
    monkeypatch.setattr(drive, "mount", lambda where: (plain_mount(where), make_raw(fake_colab.drive_data)))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip must not run when ccdlab is installed"))
    exec(compile(cell_source("05_calibration"), "setup-cell", "exec"), {})
    mount_point = str(fake_colab.drive_data.parents[1])  # /content/drive on Colab
    assert fake_colab.mounts == [mount_point]  # mounted by start(), not by the install branch
    exec(compile(cell_source("05_calibration"), "setup-cell", "exec"), {})
    assert fake_colab.mounts == [mount_point]  # already mounted: not again


def test_on_colab_without_data_the_data_is_created_on_drive(fake_colab, monkeypatch, capsys):
    created = []

    def fetch_default(dest=None, size="workshop"):
        created.append((Path(dest), size))
        return make_raw(Path(dest))

    monkeypatch.setitem(sys.modules, "ccdlab.fetch", types.SimpleNamespace(fetch_default=fetch_default))
    found = start("00_getting_started", size="tiny")
    assert created == [(fake_colab.drive_data, "tiny")]
    assert found == fake_colab.drive_data.resolve()
    assert "creating the tiny dataset" in capsys.readouterr().out


def test_on_colab_a_working_copy_helper_is_used_when_there_is_one(fake_colab, monkeypatch, tmp_path):
    make_raw(fake_colab.drive_data)
    local = make_raw(tmp_path / "local-copy")
    monkeypatch.setitem(sys.modules, "ccdlab.colab", types.SimpleNamespace(working_copy=lambda: local))
    assert start("04_master_flat") == local


def test_on_colab_a_failure_is_one_sentence(fake_colab, monkeypatch):
    def broken(dest=None, size="workshop"):
        raise OSError("Drive is full")

    monkeypatch.setitem(sys.modules, "ccdlab.fetch", types.SimpleNamespace(fetch_default=broken))
    with pytest.raises(SetupError, match="could not be prepared on Colab \\(Drive is full\\)"):
        start("00_getting_started")

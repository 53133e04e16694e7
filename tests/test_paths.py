import importlib.machinery
import sys
import types
from pathlib import Path

import pytest

from ccdlab import paths


def test_explicit_argument_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "elsewhere"))
    assert paths.find_data_dir(tmp_path) == tmp_path.resolve()


def test_explicit_missing_folder_says_how_to_fetch(tmp_path):
    with pytest.raises(paths.DataNotFoundError) as info:
        paths.find_data_dir(tmp_path / "nope")
    message = str(info.value)
    assert "nope" in message and "data_fetch.py --dest" in message


def test_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path))
    assert paths.find_data_dir() == tmp_path.resolve()


def test_nothing_found_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    with pytest.raises(paths.DataNotFoundError) as info:
        paths.find_data_dir()
    message = str(info.value)
    assert str(tmp_path / "checkout" / "data") in message and "CCDLAB_DATA" in message
    assert paths.FETCH_COMMAND in message


def test_a_missing_ccdlab_data_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    (tmp_path / "checkout" / "data").mkdir(parents=True)
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "missing"))
    with pytest.raises(paths.DataNotFoundError, match="CCDLAB_DATA points to .*missing.*--dest"):
        paths.find_data_dir()
    assert paths.find_data_dir(must_exist=False) == (tmp_path / "missing").resolve()


def test_must_exist_false_returns_first_candidate(tmp_path, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "new"))
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    assert paths.find_data_dir(must_exist=False) == (tmp_path / "new").resolve()


def test_project_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path)
    assert paths.find_data_dir() == (tmp_path / "data").resolve()


def test_project_root_is_this_checkout():
    root = paths.project_root()
    assert root is not None and (root / "pyproject.toml").is_file()


def fake_colab(monkeypatch):
    """Make ``google.colab`` importable, as on a Colab machine."""
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", None)
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)


def test_colab_drive_comes_before_project_data(tmp_path, monkeypatch):
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    fake_colab(monkeypatch)
    assert paths.on_colab() is True
    drive = tmp_path / "drive"
    drive.mkdir()
    monkeypatch.setattr(paths, "COLAB_LOCAL_DATA", tmp_path / "content-missing")
    monkeypatch.setattr(paths, "DRIVE_DATA", drive)
    assert paths.find_data_dir() == drive.resolve()
    labels = [label for label, _ in paths.candidate_data_dirs()]
    assert labels.index("Google Drive (MyDrive/ccdlab-data)") < labels.index("project data/ folder")


def test_on_colab_false_here():
    assert paths.on_colab() is False


def test_reduced_dir_is_idempotent(tmp_path):
    first = paths.reduced_dir(tmp_path)
    second = paths.reduced_dir(tmp_path)
    assert first == second == tmp_path.resolve() / "reduced" and first.is_dir()


def test_pipeline_dir_sits_inside_reduced_and_is_idempotent(tmp_path):
    assert not paths.pipeline_dir(tmp_path, create=False).exists()
    first = paths.pipeline_dir(tmp_path)
    assert first == paths.pipeline_dir(tmp_path) == tmp_path.resolve() / "reduced" / "ccdlab"
    assert first.is_dir() and not paths.is_raw_folder(first)


def test_ensure_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        paths.ensure_dir(tmp_path / "f")


def test_raw_dir(tmp_path):
    assert paths.raw_dir("flats", tmp_path) == tmp_path.resolve() / "flats"
    with pytest.raises(ValueError, match="bias, flats, science"):
        paths.raw_dir("darks", tmp_path)


@pytest.mark.parametrize("folder,raw", [("data/bias", True), ("x/FLATS", True), ("science", True), ("data/reduced", False), ("out", False)])
def test_is_raw_folder(folder, raw):
    assert paths.is_raw_folder(Path(folder)) is raw


def test_installed_package_finds_data_in_a_parent_of_the_notebooks_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    monkeypatch.setattr(paths, "project_root", lambda: None)
    (tmp_path / "data").mkdir()
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert paths.find_data_dir() == (tmp_path / "data").resolve()


def test_installed_package_without_data_would_create_it_here(tmp_path, monkeypatch):
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    monkeypatch.setattr(paths, "project_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert paths.find_data_dir(must_exist=False) == (tmp_path / "data").resolve()

"""Tests of ccdlab.data.colab with a stand-in google.colab module and temporary Drive and /content folders."""

from __future__ import annotations

import argparse
import doctest
import importlib.machinery
import sys
import types
from pathlib import Path

import pytest

from ccdlab.data import colab, fetch, manifest
from ccdlab import cli
from ccdlab.commands import fetch as fetch_command
from ccdlab import paths
from ccdlab.data.colab import ColabError, prepare_colab_data, save_to_drive, sync_folder
from ccdlab.data.fetch import DatasetExistsError
from ccdlab.data.manifest import ManifestError


@pytest.fixture
def fake_colab(tmp_path, monkeypatch):
    """Pretend to be on Colab: google.colab importable, Drive mounted under tmp_path/drive on request,
    the local disk at tmp_path/content."""
    mount_point = tmp_path / "drive"
    calls: list[str] = []
    google = types.ModuleType("google")
    google.__path__ = []
    module = types.ModuleType("google.colab")
    module.__spec__ = importlib.machinery.ModuleSpec("google.colab", None)
    drive = types.ModuleType("google.colab.drive")

    def mount(path, **kwargs):
        calls.append(path)
        if not state.refuse:
            (Path(path) / "MyDrive").mkdir(parents=True, exist_ok=True)

    drive.mount = mount
    module.drive = drive
    google.colab = module
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", module)
    monkeypatch.setitem(sys.modules, "google.colab.drive", drive)
    state = types.SimpleNamespace(
        calls=calls, refuse=False, mount=mount_point,
        drive=mount_point / "MyDrive" / "ccdlab-data", local=tmp_path / "content" / "ccdlab-data",
    )
    monkeypatch.setattr(colab, "DRIVE_MOUNT", state.mount)
    monkeypatch.setattr(colab, "DRIVE_DATA", state.drive)
    monkeypatch.setattr(colab, "LOCAL_DATA", state.local)
    monkeypatch.setattr(paths, "DRIVE_DATA", state.drive)
    monkeypatch.setattr(paths, "COLAB_LOCAL_DATA", state.local)
    return state


def test_fake_colab_is_detected(fake_colab):
    assert paths.on_colab() is True


def test_first_session_creates_data_on_drive_and_a_local_copy(fake_colab):
    local = prepare_colab_data(size="tiny", progress=False)
    assert local == fake_colab.local
    assert fake_colab.calls == [str(fake_colab.mount)], "Drive is mounted once"
    assert manifest.verify_manifest(fake_colab.drive) == []
    assert manifest.verify_manifest(local) == []
    assert (fake_colab.drive / "manifest.json").read_bytes() == (local / "manifest.json").read_bytes()
    assert paths.find_data_dir() == local.resolve(), "notebooks read the local working copy"


def test_second_run_copies_nothing(fake_colab, monkeypatch):
    prepare_colab_data(size="tiny", progress=False)
    copied = []
    monkeypatch.setattr(colab, "_copy", lambda source, target: copied.append(source))
    assert prepare_colab_data(progress=False) == fake_colab.local
    assert copied == []
    assert len(fake_colab.calls) == 1, "an already mounted Drive is not mounted again"


def test_new_session_copies_drive_to_local_and_repairs_changes(fake_colab):
    prepare_colab_data(size="tiny", progress=False)
    import shutil

    shutil.rmtree(fake_colab.local)  # a new Colab machine: the local disk is empty
    local = prepare_colab_data(progress=False)
    assert manifest.verify_manifest(local) == []
    victim = sorted((local / "science").glob("*.fits"))[0]
    victim.write_bytes(b"x" * victim.stat().st_size)
    prepare_colab_data(progress=False)
    assert manifest.verify_manifest(local) == []


def test_damaged_drive_data_is_reported(fake_colab):
    prepare_colab_data(size="tiny", progress=False)
    victim = sorted((fake_colab.drive / "flats").glob("*.fits"))[0]
    victim.write_bytes(b"broken")
    with pytest.raises(ManifestError, match="does not match its manifest.*--force"):
        prepare_colab_data(progress=False)


def test_own_frames_on_drive_are_mirrored(fake_colab):
    (fake_colab.drive / "bias").mkdir(parents=True)
    (fake_colab.drive / "bias" / "b1.fits").write_bytes(b"frame")
    (fake_colab.local / "bias").mkdir(parents=True)
    (fake_colab.local / "bias" / "stale.fits").write_bytes(b"old")
    (fake_colab.local / "reduced").mkdir()
    (fake_colab.local / "reduced" / "work.fits").write_bytes(b"work")
    local = prepare_colab_data(progress=False)
    assert sorted(p.name for p in (local / "bias").iterdir()) == ["b1.fits"]
    assert (local / "reduced" / "work.fits").read_bytes() == b"work", "results are never deleted"
    assert not (fake_colab.drive / "manifest.json").exists(), "your own data on Drive is left as it is"


def test_other_size_on_drive_needs_force(fake_colab):
    prepare_colab_data(size="tiny", progress=False)
    with pytest.raises(DatasetExistsError, match="holds the tiny synthetic night.*--force"):
        prepare_colab_data(size="tiny", seed=9, progress=False)
    prepare_colab_data(size="tiny", seed=9, force=True, progress=False)
    meta = manifest.read_manifest(fake_colab.drive)["meta"]
    assert meta["seed"] == 9
    assert manifest.read_manifest(fake_colab.local)["meta"]["seed"] == 9


def test_stale_local_copy_is_rebuilt_when_drive_is_empty(fake_colab):
    fetch.fetch_default(fake_colab.local, size="tiny", seed=4, progress=False)
    fake_colab.drive.parent.mkdir(parents=True)
    local = prepare_colab_data(size="tiny", progress=False)
    assert manifest.read_manifest(local)["meta"]["seed"] == 20181013
    assert manifest.verify_manifest(fake_colab.drive) == []


def test_refused_drive_permission(fake_colab):
    fake_colab.refuse = True
    with pytest.raises(ColabError, match="allow"):
        prepare_colab_data(size="tiny", progress=False)


def test_mount_drive_off_colab(tmp_path):
    with pytest.raises(ColabError, match="only be mounted inside Google Colab"):
        colab.mount_drive(tmp_path / "drive")
    (tmp_path / "drive" / "MyDrive").mkdir(parents=True)
    assert colab.mount_drive(tmp_path / "drive") == tmp_path / "drive"


def test_off_colab_prepare_is_fetch_default(tmp_path, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "data"))
    assert prepare_colab_data(size="tiny", progress=False) == (tmp_path / "data").resolve()
    assert manifest.verify_manifest(tmp_path / "data") == []


def test_save_to_drive(fake_colab):
    prepare_colab_data(size="tiny", progress=False)
    (fake_colab.local / "reduced").mkdir()
    (fake_colab.local / "reduced" / "master_bias.fits").write_bytes(b"mb")
    saved = save_to_drive(progress=False)
    assert saved == fake_colab.drive / "reduced"
    assert (saved / "master_bias.fits").read_bytes() == b"mb"


def test_save_to_drive_bad_inputs(fake_colab, tmp_path):
    with pytest.raises(FileNotFoundError, match="Run the reduction first"):
        save_to_drive(progress=False)
    (fake_colab.local / "reduced").mkdir(parents=True)
    with pytest.raises(ColabError, match="not mounted"):
        save_to_drive(progress=False)


def test_sync_folder_mirror_and_errors(tmp_path):
    source, target = tmp_path / "a", tmp_path / "b"
    (source / "bias").mkdir(parents=True)
    (source / "bias" / "one.fits").write_bytes(b"1")
    (source / "manifest.json").write_text("{}")
    (target / "bias").mkdir(parents=True)
    (target / "bias" / "extra.fits").write_bytes(b"e")
    assert sync_folder(source, target, progress=False) == 2
    assert (target / "bias" / "extra.fits").exists(), "without mirror nothing is deleted"
    assert sync_folder(source, target, mirror=True, progress=False) == 0
    assert not (target / "bias" / "extra.fits").exists()
    with pytest.raises(FileNotFoundError, match="nothing to copy"):
        sync_folder(tmp_path / "missing", target, progress=False)


def test_run_on_colab_prepares_drive_data(fake_colab, capsys):
    parser = argparse.ArgumentParser()
    fetch_command.add_arguments(parser)
    assert cli.run_command("fetch", parser.parse_args(["--size", "tiny", "--no-progress"])) == 0
    out = capsys.readouterr().out
    assert str(fake_colab.local) in out and "Google Drive" in out
    assert manifest.verify_manifest(fake_colab.drive) == []


def test_docstring_examples_run():
    assert doctest.testmod(colab, optionflags=doctest.ELLIPSIS).failed == 0

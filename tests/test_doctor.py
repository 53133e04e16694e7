"""Tests for ccdlab.data.doctor, on tiny nights written into temporary folders."""

import argparse
import hashlib
import io
import sys
import warnings
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import ccdlab.io
import ccdlab.paths
from ccdlab import cli, inventory
from ccdlab.data import doctor
from ccdlab import cli
from ccdlab.commands.doctor import add_arguments
from ccdlab.data.doctor import MINIMUM_VERSIONS, Check, Report, diagnose


def run(args):
    return cli.run_command("doctor", args)
from ccdlab.paths import FETCH_COMMAND

ROOT = Path(__file__).resolve().parents[1]


def write_tiny_frame(path, imagetyp="BIAS", exptime=0.0, shape=(8, 10), value=300, header=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    hdr = fits.Header()
    if imagetyp is not None:
        hdr["IMAGETYP"] = imagetyp
    if exptime is not None:
        hdr["EXPTIME"] = exptime
    for key, val in (header or {}).items():
        hdr[key] = val
    fits.PrimaryHDU(np.full(shape, value, dtype=np.int16), header=hdr).writeto(path)
    return path


def make_night(root, n_bias=3, n_flat=3, n_science=2, shape=(8, 10)):
    """A tiny night in RTS2 style: bias frames are IMAGETYP 'dark' with EXPTIME 0.001 s."""
    for i in range(n_bias):
        write_tiny_frame(root / "bias" / f"bias_{i}.fits", "dark", 0.001, shape)
    for i in range(n_flat):
        write_tiny_frame(root / "flats" / f"flat_{i}.fits", "flat", 3.0, shape, value=20000)
    for i in range(n_science):
        write_tiny_frame(root / "science" / f"sci_{i}.wcs.fits", "object", 120.0, shape, value=800)
    for name in ("bias", "flats", "science"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(autouse=True)
def plenty_of_disk(monkeypatch):
    """Results must not depend on the free space of the machine running the tests."""

    class Usage:
        total, used, free = 10**12, 10**11, 9 * 10**11

    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: Usage)


@pytest.fixture
def night(tmp_path):
    return make_night(tmp_path / "night")


def statuses(report):
    return {check.name: check.status for check in report}


# -- a complete night --------------------------------------------------------------------------


def test_complete_night_is_ready(night):
    report = diagnose(night)
    assert isinstance(report, Report) and all(isinstance(c, Check) for c in report)
    found = statuses(report)
    for name in ("Python", "data folder", "layout", "bias frames", "flat frames", "science frames",
                 "frame sizes", "output folder", *MINIMUM_VERSIONS):
        assert found[name] == "ok", report.find(name)
    assert report.ok and report.exit_code == 0
    assert report.find("bias frames").message == "3 bias frames"  # IMAGETYP 'dark', 0.001 s: bias
    assert report.find("science frames").message == "2 science frames"
    assert report.find("frame sizes").message == "all frames are 10 x 8 pixels (NAXIS1 x NAXIS2)"
    assert "damaged files" not in statuses(report) and "frame types" not in statuses(report)
    assert str(night.resolve()) in report.find("data folder").message
    assert "given with --data" in report.find("data folder").message


def test_output_check_leaves_no_trace(night):
    diagnose(night)
    assert not (night / "reduced").exists()  # created for the test, then removed
    (night / "reduced").mkdir()
    (night / "reduced" / "master_bias.fits").write_bytes(b"keep me")
    report = diagnose(night)
    assert report.find("output folder").status == "ok"
    assert "writable" in report.find("output folder").message
    assert sorted(p.name for p in (night / "reduced").iterdir()) == ["master_bias.fits"]


def fingerprint(folder):
    """Every path under ``folder`` (files and folders), with the SHA-256 of each file's bytes."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        for path in sorted(folder.rglob("*"))
    }


def add_bad_files(night):
    """Everything a real data folder may hold besides good frames."""
    truncate(write_tiny_frame(night / "bias" / "cut.fits", "BIAS", 0.0, shape=(64, 64)))
    (night / "bias" / "zero_bytes.fits").write_bytes(b"")
    (night / "science" / "broken.fits").write_bytes(b"SIMPLE  =  this is not FITS")
    table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.ones(3))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(night / "science" / "catalog.fits")
    fits.PrimaryHDU().writeto(night / "flats" / "empty.fits")
    (night / "bias" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (night / "bias" / "notes.txt").write_text("seeing 1.2 arcsec")
    write_tiny_frame(night / "bias" / "odd_bias.fits", "Flat Field", 5.0)
    write_tiny_frame(night / "extra" / "mystery.fits", imagetyp=None, exptime=30.0)
    return night


@pytest.mark.parametrize("bad", [False, True], ids=["good night", "night with bad files"])
def test_raw_files_are_not_changed(tmp_path, bad):
    night = make_night(tmp_path / "night")
    if bad:
        add_bad_files(night)
    before = fingerprint(night)
    assert len(before) == (21 if bad else 11)  # 3 folders and 8 frames, and 10 bad files and folders
    report = diagnose(night)
    assert report.ok and report.find("output folder").status == "ok"
    if bad:  # every kind of bad file was read (and reported), and still nothing changed
        for name in ("damaged files", "not frames", "other files", "untyped files", "frame types"):
            assert name in statuses(report), name
    assert fingerprint(night) == before  # same paths, same bytes: nothing written, nothing left behind


def test_package_versions_are_reported(night):
    check = diagnose(night).find("numpy")
    assert check.message.startswith(np.__version__) and "1.24" in check.message


# -- the data folder ---------------------------------------------------------------------------


def test_missing_explicit_data_folder(tmp_path):
    missing = tmp_path / "nowhere"
    report = diagnose(missing)
    check = report.find("data folder")
    assert check.status == "fail" and str(missing) in check.message
    assert FETCH_COMMAND in check.fix and f"--dest {missing}" in check.fix
    assert report.exit_code == 1
    assert "layout" not in statuses(report) and "output folder" not in statuses(report)
    assert not missing.exists()


def test_no_data_anywhere_names_the_places_and_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setattr(ccdlab.paths, "project_root", lambda: tmp_path)
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    report = diagnose()
    check = report.find("data folder")
    assert check.status == "fail"
    assert "Looked in" in check.message and str(tmp_path / "data") in check.message
    assert FETCH_COMMAND in check.fix
    assert report.exit_code == 1


def test_default_data_folder_is_found_and_labelled(tmp_path, monkeypatch):
    make_night(tmp_path / "data")
    monkeypatch.setattr(ccdlab.paths, "project_root", lambda: tmp_path)
    monkeypatch.delenv("CCDLAB_DATA", raising=False)
    report = diagnose()
    assert report.ok
    assert report.find("data folder").message.endswith("(project data/ folder)")


def test_ccdlab_data_environment_variable_is_used(tmp_path, monkeypatch):
    night = make_night(tmp_path / "mynight")
    monkeypatch.setenv("CCDLAB_DATA", str(night))
    report = diagnose()
    assert report.ok
    assert "CCDLAB_DATA environment variable" in report.find("data folder").message


def test_a_file_given_as_the_data_folder_is_named_a_file(tmp_path, monkeypatch):
    (tmp_path / "some_file.json").write_text("{}")
    report = diagnose(tmp_path / "some_file.json")
    check = report.find("data folder")
    assert check.status == "fail" and "does not exist" not in check.message
    assert check.message == f"--data gives {tmp_path / 'some_file.json'}, which is a file, not a folder"
    assert check.fix == f"Give with --data the folder that holds bias/, flats/ and science/ instead (e.g. {tmp_path})."
    assert "layout" not in statuses(report)
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "some_file.json"))
    assert diagnose().find("data folder").message.startswith("CCDLAB_DATA points to ")
    assert diagnose().find("data folder").message.endswith("which is a file, not a folder")
    assert diagnose().find("data folder").fix.startswith("Point CCDLAB_DATA at the folder that holds bias/")


@pytest.mark.parametrize("raw", ["bias", "flats", "science"])
def test_a_raw_folder_given_as_the_data_folder_fails_and_names_its_parent(night, raw, monkeypatch):
    created = []
    monkeypatch.setattr(doctor, "_check_output", lambda folder: created.append(folder))
    before = fingerprint(night)
    report = diagnose(night / raw)
    check = report.find("data folder")
    assert check.status == "fail" and report.exit_code == 1
    assert check.message == f"{night / raw} is a raw folder ({raw}/), not the folder that holds bias/, flats/ and science/"
    assert check.fix == f"Check the night that holds it instead: ccdlab doctor --data {night}"
    assert created == [] and "output folder" not in statuses(report) and "layout" not in statuses(report)
    assert fingerprint(night) == before


def test_a_raw_folder_given_on_the_command_line_creates_nothing(night, capsys):
    assert run(parse(["--data", str(night / "bias"), "--ascii"])) == 1
    out = capsys.readouterr().out
    assert f"fix: Check the night that holds it instead: ccdlab doctor --data {night}" in out
    assert sorted(p.name for p in (night / "bias").iterdir()) == ["bias_0.fits", "bias_1.fits", "bias_2.fits"]


def test_a_night_in_a_folder_named_raw_is_accepted(tmp_path):
    night = make_night(tmp_path / "raw")  # raw/bias, raw/flats, raw/science: a night, not a raw folder
    report = diagnose(night)
    assert report.ok and report.find("output folder").status == "ok"


def test_ccdlab_data_pointing_nowhere_fails_and_says_so(tmp_path, monkeypatch):
    make_night(tmp_path / "data")
    monkeypatch.setattr(ccdlab.paths, "project_root", lambda: tmp_path)
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "typo"))
    report = diagnose()
    check = report.find("data folder")
    assert check.status == "fail" and "CCDLAB_DATA points to" in check.message and "typo" in check.message
    assert "--dest" in check.fix and "unset CCDLAB_DATA" in check.fix
    assert not report.ok  # never a silent fall-back to another folder


# -- layout ------------------------------------------------------------------------------------


def test_empty_data_folder(tmp_path):
    report = diagnose(tmp_path)
    layout = report.find("layout")
    assert layout.status == "fail"
    assert "bias/, flats/, science/" in layout.message and FETCH_COMMAND in layout.fix
    for name in ("bias frames", "flat frames", "science frames"):
        assert report.find(name).status == "fail"
    assert report.exit_code == 1


def test_empty_raw_folders(tmp_path):
    for name in ("bias", "flats", "science"):
        (tmp_path / name).mkdir()
    report = diagnose(tmp_path)
    assert report.find("layout").status == "ok"
    check = report.find("flat frames")
    assert check.status == "fail" and "no flat frame" in check.message
    assert str(tmp_path / "flats") in check.fix and FETCH_COMMAND in check.fix
    assert "frame sizes" not in statuses(report)
    assert report.exit_code == 1


def test_misnamed_folder_gets_a_rename_hint(night):
    (night / "flats").rename(night / "flat")
    report = diagnose(night)
    layout = report.find("layout")
    assert layout.status == "fail" and "flats/" in layout.message
    assert "rename flat/ to flats/" in layout.fix.lower()


def test_a_file_where_a_folder_should_be(night):
    for path in (night / "science").iterdir():
        path.unlink()
    (night / "science").rmdir()
    (night / "science").write_text("not a folder")
    layout = diagnose(night).find("layout")
    assert layout.status == "fail" and "is a file" in layout.fix


# -- frames ------------------------------------------------------------------------------------


def test_few_bias_and_flat_frames_are_a_warning(tmp_path):
    night = make_night(tmp_path, n_bias=2, n_flat=1, n_science=1)
    report = diagnose(night)
    assert report.find("bias frames").status == "warn"
    assert "only 2 bias frames" in report.find("bias frames").message
    assert report.find("flat frames").status == "warn"
    assert "only 1 flat frame:" in report.find("flat frames").message
    assert report.find("science frames").status == "ok"
    assert report.ok and report.exit_code == 0


def test_missing_science_frames_fail(tmp_path):
    night = make_night(tmp_path, n_science=0)
    report = diagnose(night)
    check = report.find("science frames")
    assert check.status == "fail" and str(night / "science") in check.fix and "3 or more" not in check.fix
    assert report.exit_code == 1


def test_untyped_and_damaged_files_are_listed(night):
    write_tiny_frame(night / "extra" / "mystery.fits", imagetyp=None, exptime=30.0)
    write_tiny_frame(night / "extra" / "mystery2.fits", imagetyp=None, exptime=30.0)
    (night / "science" / "broken.fits").write_bytes(b"")  # an interrupted copy
    report = diagnose(night)
    check = report.find("untyped files")
    assert check.status == "warn"
    assert "2 files" in check.message and "mystery.fits" in check.message and "broken.fits" not in check.message
    assert "inventory.scan" in check.fix
    damaged = report.find("damaged files")
    assert damaged.status == "warn" and "1 file cannot be read" in damaged.message
    assert damaged.message.endswith("broken.fits could not be read as FITS (Empty or corrupt FITS file)")
    assert str(night) not in damaged.message
    assert damaged.fix.startswith("Download or copy it again")
    assert report.ok


def test_table_only_empty_and_non_fits_files_are_not_frames_not_damaged(night):
    table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.ones(3))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(night / "science" / "catalog.fits")
    fits.PrimaryHDU().writeto(night / "flats" / "empty.fits")
    (night / "science" / "page.fits").write_text("<html>404 Not Found</html>")
    report = diagnose(night)
    assert "damaged files" not in statuses(report) and "untyped files" not in statuses(report)
    check = report.find("not frames")
    assert check.status == "warn" and report.ok
    assert check.message == (
        "3 files left out, not camera frames: empty.fits holds no image HDU (only tables or empty HDUs); "
        "catalog.fits holds no image HDU (only tables or empty HDUs); "
        "page.fits is not a FITS file (it does not start like one)"
    )
    assert check.fix.startswith("Move them out of the data folder: they are not camera frames")
    assert "download" not in check.fix.lower()
    assert report.find("science frames").message == "2 science frames"
    assert report.find("flat frames").message == "3 flat frames"


def test_a_file_that_may_not_be_read_is_no_damage(night, monkeypatch):
    opened = fits.open

    def guarded_open(path, *args, **kwargs):
        if str(path).endswith("sci_1.wcs.fits"):
            raise PermissionError(13, "Permission denied", str(path))
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(ccdlab.io.fits, "open", guarded_open)
    report = diagnose(night)
    check = report.find("unreadable files")
    assert check.status == "warn"
    assert check.message == "1 file may not be read and will be left out: sci_1.wcs.fits cannot be read (Permission denied)"
    assert "chmod" in check.fix and "download" not in check.fix.lower()
    assert "damaged files" not in statuses(report) and "not frames" not in statuses(report)
    assert report.find("science frames").message == "1 science frame"


def test_non_fits_files_in_a_raw_folder_are_ignored_in_one_info_line(night):
    (night / "bias" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (night / "bias" / "notes.txt").write_text("seeing 1.2 arcsec")
    report = diagnose(night)
    assert report.ok and not report.warnings
    assert report.find("bias frames").message == "3 bias frames"
    check = report.find("other files")
    assert check.status == "ok"
    assert check.message == "2 files ignored, not FITS frames: bias/.DS_Store, bias/notes.txt"
    lines = [line for line in report.format(ascii_only=True).splitlines() if ".DS_Store" in line or "notes.txt" in line]
    assert lines == ["+ other files:    2 files ignored, not FITS frames: bias/.DS_Store, bias/notes.txt"]
    clean = make_night(night.parent / "clean")
    (clean / "manifest.json").write_text("{}")  # the data folder's own checksums: not worth a line
    assert "other files" not in statuses(diagnose(clean))


def truncate(path):
    """Cut a file in half, as an interrupted download or copy leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_truncated_frame_is_named_with_what_to_do(night):
    path = night / "bias" / "cut.fits"
    fits.PrimaryHDU(np.full((64, 64), 300, dtype=np.uint16), header=fits.Header({"IMAGETYP": "BIAS"})).writeto(path)
    truncate(path)
    report = diagnose(night)
    check = report.find("damaged files")
    assert check.status == "warn"
    assert "cut.fits is truncated" in check.message
    assert "download or copy it again" in check.fix.lower()
    assert report.find("bias frames").message == "3 bias frames"  # the cut frame is not counted
    assert "untyped files" not in statuses(report)
    text = report.format(ascii_only=True)
    assert "! damaged files" in text and "cut.fits is truncated" in text


def test_many_damaged_files_are_summarised(night):
    for i in range(7):
        truncate(write_tiny_frame(night / "science" / f"broken{i}.fits", "object", 60.0, shape=(64, 64)))
    check = diagnose(night).find("damaged files")
    assert "7 files cannot be read" in check.message and check.message.endswith("; and 2 more")
    assert check.fix.startswith("Download or copy them again")


def test_many_files_that_are_not_frames_are_summarised(night):
    for i in range(6):
        fits.PrimaryHDU().writeto(night / "science" / f"empty{i}.fits")
    check = diagnose(night).find("not frames")
    assert check.message.startswith("6 files left out") and check.message.endswith("; and 1 more")


def test_a_frame_whose_header_contradicts_its_folder_is_flagged(night):
    write_tiny_frame(night / "bias" / "odd_bias.fits", "Flat Field", 5.0)
    report = diagnose(night)
    check = report.find("frame types")
    assert check.status == "warn"
    assert check.message.startswith("1 frame whose header disagrees with its folder: odd_bias.fits (")
    assert "IMAGETYP 'Flat Field' says flat" in check.message
    assert report.find("bias frames").message == "4 bias frames"  # the folder still decides
    assert report.ok
    assert "! frame types:" in report.format(ascii_only=True)


def test_conflicts_are_reported_once_not_warned_again(night):
    write_tiny_frame(night / "bias" / "odd_bias.fits", "Flat Field", 5.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = diagnose(night)
    assert report.find("frame types").status == "warn"
    assert [w for w in caught if issubclass(w.category, inventory.InventoryWarning)] == []


def test_an_unrecognised_imagetyp_is_flagged(night):
    write_tiny_frame(night / "science" / "arc.fits", "comp", 30.0)
    check = diagnose(night).find("frame types")
    assert "arc.fits (IMAGETYP 'comp' not recognised: typed science from the folder science/)" in check.message


def test_many_conflicts_are_summarised(night):
    for i in range(8):
        write_tiny_frame(night / "science" / f"flat_{i}.fits", "flat", 3.0)
    check = diagnose(night).find("frame types")
    assert check.message.startswith("8 frames whose header")
    assert check.message.count("says flat") == 5 and check.message.endswith("; and 3 more")


def test_many_untyped_files_are_summarised(night):
    for i in range(5):
        write_tiny_frame(night / "extra" / f"m{i}.fits", imagetyp=None, exptime=30.0)
    assert "and 2 more" in diagnose(night).find("untyped files").message


def test_frames_of_different_sizes_are_a_warning(night):
    write_tiny_frame(night / "flats" / "binned.fits", "flat", 3.0, shape=(4, 5))
    check = diagnose(night).find("frame sizes")
    assert check.status == "warn"
    assert "(NAXIS1 x NAXIS2): 10 x 8 (8 frames), 5 x 4 (1 frame)" in check.message


def test_frames_in_reduced_are_not_counted(night):
    write_tiny_frame(night / "reduced" / "master_bias.fits", "BIAS", 0.0)
    assert diagnose(night).find("bias frames").message == "3 bias frames"


# -- output folder -----------------------------------------------------------------------------


def test_output_folder_that_is_a_file(night):
    (night / "reduced").write_text("oops")
    report = diagnose(night)
    check = report.find("output folder")
    assert check.status == "fail" and "is a file" in check.message
    assert "Move or rename" in check.fix
    assert report.exit_code == 1


def test_unwritable_output_folder(night, monkeypatch):
    def refuse(folder):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(doctor, "_write_probe", refuse)
    report = diagnose(night)
    check = report.find("output folder")
    assert check.status == "fail"
    assert "cannot write into" in check.message and "Permission denied" in check.message
    assert "chmod" in check.fix and "CCDLAB_DATA" in check.fix
    assert report.exit_code == 1
    assert not (night / "reduced").exists()  # the folder created for the test is removed again


def test_low_disk_space_is_a_warning(night, monkeypatch):
    class Usage:
        total, used, free = 10**10, 10**10 - 10**8, 10**8

    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: Usage)
    check = diagnose(night).find("output folder")
    assert check.status == "warn" and "0.1 GB free" in check.message


# -- packages and Python -----------------------------------------------------------------------


def test_minimum_versions_match_pyproject():
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {}
    for requirement in spec["dependencies"]:
        name, _, version = requirement.partition(">=")
        declared[name.strip().lower()] = version.strip()
    for name, minimum in MINIMUM_VERSIONS.items():
        assert declared.get(name) == minimum, name
    assert set(declared) == set(MINIMUM_VERSIONS), "doctor must check every runtime dependency"
    python = spec["requires-python"].removeprefix(">=")
    assert tuple(int(v) for v in python.split(".")) == doctor.MIN_PYTHON


def test_missing_old_and_broken_packages(night, monkeypatch, tmp_path):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "ccdlab_broken_pkg.py").write_text("raise RuntimeError('compiled for another numpy')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    monkeypatch.setattr(doctor, "MINIMUM_VERSIONS", {
        "numpy": "999.1", "ccdlab-no-such-package": "1.0", "ccdlab_broken_pkg": "1.0",
    })
    monkeypatch.setattr(doctor, "LAB_VERSIONS", {"jupyterlab": "999"})
    monkeypatch.setattr(doctor, "IMPORT_NAMES", {"ccdlab-no-such-package": "ccdlab_no_such_package"})
    report = diagnose(night)
    old = report.find("numpy")
    assert old.status == "fail" and "older than the 999.1" in old.message
    assert "--upgrade 'numpy>=999.1'" in old.fix
    missing = report.find("ccdlab-no-such-package")
    assert missing.status == "fail" and "ModuleNotFoundError" in missing.message
    assert "pip install 'ccdlab-no-such-package>=1.0'" in missing.fix
    broken = report.find("ccdlab_broken_pkg")
    assert broken.status == "fail" and "RuntimeError: compiled for another numpy" in broken.message
    lab = report.find("jupyterlab")  # only needed to run the notebooks locally
    assert lab.status == "warn" and "needed to run the notebooks on this computer" in lab.message
    assert report.exit_code == 1


def test_package_with_unknown_version_is_a_warning(monkeypatch, tmp_path):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "ccdlab_unversioned.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    monkeypatch.setattr(doctor, "MINIMUM_VERSIONS", {"ccdlab_unversioned": "1.0"})
    check = diagnose(tmp_path / "none").find("ccdlab_unversioned")
    assert check.status == "warn" and "version is unknown" in check.message


def test_on_colab_jupyterlab_is_not_needed_and_fixes_use_pip_magic(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "on_colab", lambda: True)
    monkeypatch.setattr(doctor, "MINIMUM_VERSIONS", {"numpy": "999"})
    monkeypatch.setattr(doctor, "LAB_VERSIONS", {"jupyterlab": "999"})
    report = diagnose(tmp_path)
    assert report.find("jupyterlab").status == "ok" and "Colab" in report.find("jupyterlab").message
    assert report.find("numpy").fix.startswith("%pip install --upgrade") and "restart the runtime" in report.find("numpy").fix


def test_old_python_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "MIN_PYTHON", (99, 0))
    check = diagnose(tmp_path).find("Python")
    assert check.status == "fail" and "99.0" in check.message and "Install Python 99.0" in check.fix


@pytest.mark.parametrize(
    "found, minimum, older",
    [("1.24.0", "1.24", False), ("1.23.5", "1.24", True), ("2.0rc1", "1.24", False), ("0.9", "0.10", True),
     ("4.67.1", "4.60", False), ("8", "8.0", False), ("1.24.0.dev0+abc", "1.24", False)],
)
def test_version_comparison(found, minimum, older):
    assert doctor._older(found, minimum) is older


def test_a_crashing_check_becomes_a_failed_line(night, monkeypatch):
    def crash(folder):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(doctor, "_check_layout", crash)
    report = diagnose(night)
    check = report.find("layout")
    assert check.status == "fail" and "RuntimeError: unexpected" in check.message
    assert report.find("output folder").status == "ok"  # the other checks still ran


# -- Check and Report --------------------------------------------------------------------------


def test_check_rejects_unknown_status():
    with pytest.raises(ValueError, match="Unknown check status"):
        Check("x", "maybe", "?")


def test_check_format_symbols_and_fix_lines():
    assert Check("numpy", "ok", "2.0", "ignored when ok").format() == "\u2714 numpy: 2.0"
    assert Check("numpy", "fail", "missing", "pip install numpy").format() == "\u2718 numpy: missing\n    fix: pip install numpy"
    assert Check("bias frames", "warn", "only 2").format(ascii_only=True, width=12) == "! bias frames:  only 2"


def test_report_summary_and_lookup():
    good = Report([Check("a", "ok", "fine")])
    assert good.summary() == "All good: ready for the course." and good.exit_code == 0
    warned = Report([Check("a", "ok", "fine"), Check("b", "warn", "hmm")])
    assert warned.ok and "1 warning" in warned.summary() and warned.warnings[0].name == "b"
    bad = Report([Check("a", "fail", "no"), Check("b", "fail", "no"), Check("c", "warn", "hmm")])
    assert bad.summary().startswith("Not ready: 2 problems and 1 warning")
    assert bad.exit_code == 1 and [c.name for c in bad.failures] == ["a", "b"]
    with pytest.raises(KeyError, match="No check called 'z'"):
        bad.find("z")


def test_report_text_is_aligned():
    text = Report([Check("Python", "ok", "3.11"), Check("output folder", "ok", "writable")]).format()
    lines = text.splitlines()
    assert lines[0] == "ccdlab doctor"
    assert lines[1].index("3.11") == lines[2].index("writable")
    assert repr(Report([Check("a", "ok", "b")])) == str(Report([Check("a", "ok", "b")]))


# -- command line ------------------------------------------------------------------------------


def parse(argv):
    return cli.build_parser("doctor").parse_args(["doctor", *argv])


def test_add_arguments():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--data", "somewhere", "--ascii"])
    assert args.data == "somewhere" and args.ascii is True
    assert parser.parse_args([]).data is None


def test_run_ready_night_exits_0(night, capsys):
    assert run(parse(["--data", str(night)])) == 0
    out = capsys.readouterr().out
    assert out.startswith("ccdlab doctor\n")
    assert "\u2714 bias frames:" in out and "\u2714 output folder:" in out
    assert "All good: ready for the course." in out
    assert "Traceback" not in out


def test_run_missing_data_exits_1_with_a_fix(tmp_path, capsys):
    assert run(parse(["--data", str(tmp_path / "absent"), "--ascii"])) == 1
    out = capsys.readouterr().out
    assert "x data folder:" in out and f"fix: Create the default dataset there with: {FETCH_COMMAND}" in out
    assert "Not ready: 1 problem." in out
    assert "\u2718" not in out


def test_run_through_cli_main(night, capsys):
    assert cli.main(["doctor", "--data", str(night)]) == 0
    assert "output folder" in capsys.readouterr().out


def test_run_falls_back_to_ascii_on_a_plain_console(night, monkeypatch):
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="ascii"))
    code = run(argparse.Namespace(data=str(night), ascii=False))
    sys.stdout.flush()
    text = buffer.getvalue().decode("ascii")
    assert code == 0 and "+ layout:" in text


def test_the_reference_catalogue_gets_its_own_line(night):
    (night / "catalog").mkdir()
    (night / "catalog" / "field.csv").write_text("RAJ2000,DEJ2000,rmag\n150.0,32.0,15.1\n150.01,32.0,16.2\n")
    report = diagnose(night)
    assert report.find("catalogue").message == "catalog/field.csv: 2 stars (columns RAJ2000, DEJ2000, rmag)"
    assert "other files" not in statuses(report)
    (night / "catalog" / "field.csv").write_text("x,y\n1,2\n")
    check = diagnose(night).find("catalogue")
    assert check.status == "warn" and "no ra, dec, mag column" in check.message

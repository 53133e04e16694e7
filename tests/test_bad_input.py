"""Bad input found by trying the commands as a new user would: each is one sentence, hangs nothing,
loses nothing, and leaves the raw frames as they were."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import synthetic
from ccdlab import cli
from ccdlab.commands import reduce as reduce_command
from ccdlab.data.doctor import diagnose
from ccdlab.errors import FetchError
from ccdlab.reduce import RECORD_NAME, read_record, reduce

ROOT = Path(__file__).resolve().parents[1]


def digests(folder: Path) -> dict:
    """SHA-256 of every regular raw file below ``folder`` (links and pipes left out)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or "reduced" in path.parts:
            continue
        found[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def reduce_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    reduce_command.add_arguments(parser)
    return parser.parse_args([*argv, "--no-progress", "--jobs", "1", "--no-summary"])


@pytest.fixture
def night(tmp_path):
    return synthetic.make_night(tmp_path / "night", n_bias=3, n_flats=3, n_science=1, n_cosmics=3)


def run_guarded(command: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    """Run a command line that must not hang: it is killed (and the test fails) after ``timeout``."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{' '.join(command)} hung for {timeout} s")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


CCDLAB = [sys.executable, "-m", "ccdlab.cli"]


def test_a_named_pipe_among_the_frames_neither_hangs_doctor_nor_reduce(night, tmp_path):
    os.mkfifo(night.folder / "bias" / "pipe.fits")
    doctor = run_guarded([*CCDLAB, "doctor", "--data", str(night.folder), "--ascii"])
    assert "pipe.fits" in doctor.stdout and "not regular files" in doctor.stdout, doctor.stdout
    result = run_guarded([*CCDLAB, "reduce", str(night.folder), "--jobs", "1", "--no-progress", "--no-summary"])
    assert result.returncode == 0, result.stderr
    assert "pipe.fits (unknown, rejected): not a file:" in result.stdout and "named pipe" in result.stdout


def test_a_symbolic_link_loop_is_a_note_not_a_traceback(night, capsys):
    bias = night.folder / "bias"
    os.symlink(bias / "b.fits", bias / "a.fits")
    os.symlink(bias / "a.fits", bias / "b.fits")
    before = digests(night.folder)
    assert cli.run_command("reduce", reduce_args(str(night.folder))) == 0
    out = capsys.readouterr().out
    assert "a.fits (unknown, rejected): not a file:" in out and "loops back on itself" in out
    report = diagnose(night.folder)
    assert report.find("not files").status == "warn" and "a.fits" in report.find("not files").message
    assert digests(night.folder) == before


@pytest.mark.parametrize("spoil, words", [
    ("zero flats", "no flat is usable"),
    ("saturated flats", "no flat is usable"),
    ("nan bias", "no bias frame is usable"),
])
def test_doctor_says_a_night_that_cannot_be_reduced_cannot_be(night, spoil, words):
    kind, files = ("bias", night.bias) if "bias" in spoil else ("flats", night.flats)
    for path in files:
        with fits.open(path, mode="update") as hdul:
            data = hdul[0].data.astype(np.float32)
            if spoil == "zero flats":
                hdul[0].data = np.zeros_like(data).astype(np.uint16)
            elif spoil == "saturated flats":
                hdul[0].data = np.full(data.shape, 65535, dtype=np.uint16)
            else:
                hdul[0].data = np.full(data.shape, np.nan, dtype=np.float32)
    report = diagnose(night.folder)
    usable = report.find("usable frames")
    assert usable.status == "fail" and words in usable.message, usable
    assert report.exit_code == 1 and report.summary().startswith("Not ready")


def test_doctor_says_a_good_night_is_usable(night):
    usable = diagnose(night.folder).find("usable frames")
    assert usable.status == "ok" and "3 of 3 bias frames and 3 of 3 flats" in usable.message


def test_a_string_wcs_is_named_in_a_warning(night):
    science = night.science[0]
    with fits.open(science, mode="update") as hdul:
        hdul[0].header["CRVAL1"] = "twelve"
    result = reduce(night.folder, progress=False, jobs=1, verbose=False)
    notes = " ".join(result.notes)
    assert str(science) in notes and "CRVAL1 = 'twelve'" in notes and "not a number" in notes


def _immutable(folder: Path):
    """Make ``folder`` unwritable even for root (chattr +i) or, for a user, by its permissions."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o555)
    return lambda: folder.chmod(0o755)


def test_an_unwritable_output_folder_is_one_sentence(night, tmp_path, capsys):
    out = tmp_path / "locked"
    out.mkdir()
    undo = _immutable(out)
    try:
        assert cli.run_command("reduce", reduce_args(str(night.folder), "--out", str(out))) == 1
    finally:
        undo()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and ".tmp" not in err
    assert f"Could not write {out}" in err and "read-only or not yours" in err
    assert list(out.iterdir()) == []


def test_an_output_folder_that_cannot_be_created_is_one_sentence(night, tmp_path, capsys):
    parent = tmp_path / "locked"
    parent.mkdir()
    undo = _immutable(parent)
    try:
        assert cli.run_command("reduce", reduce_args(str(night.folder), "--out", str(parent / "new" / "out"))) == 1
    finally:
        undo()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not be created" in err and "Traceback" not in err


def test_an_output_folder_under_a_missing_folder_is_created(night, tmp_path):
    out = tmp_path / "not" / "yet" / "there"
    assert cli.run_command("reduce", reduce_args(str(night.folder), "--out", str(out))) == 0
    assert (out / "master_bias.fits").is_file() and read_record(out)["complete"] is True


def test_an_interrupted_reduction_is_known_to_be_incomplete(night, monkeypatch):
    import ccdlab.reduce

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out = night.folder / "reduced"
    reduce(night.folder, progress=False, jobs=1, verbose=False)
    assert read_record(out)["complete"] is True and "usable" not in diagnose(night.folder).find("output folder").message
    monkeypatch.setattr(ccdlab.reduce, "_clean_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reduce(night.folder, progress=False, jobs=1, verbose=False)
    assert read_record(out)["complete"] is False
    check = diagnose(night.folder).find("output folder")
    assert check.status == "warn" and "did not finish" in check.message and "ccdlab reduce" in check.fix
    monkeypatch.undo()
    reduce(night.folder, progress=False, jobs=1, verbose=False)  # running again mends it
    assert read_record(out)["complete"] is True and diagnose(night.folder).find("output folder").status == "ok"
    (out / "master_bias.fits").unlink()
    assert "missing" in diagnose(night.folder).find("output folder").message


def test_out_equal_to_the_data_folder_does_not_count_outputs_as_raw_frames(night):
    reduce(night.folder, out=night.folder, progress=False, jobs=1, verbose=False)
    assert (night.folder / "master_bias.fits").is_file()
    report = diagnose(night.folder)
    assert report.find("bias frames").message == "3 bias frames"
    assert report.find("flat frames").message == "3 flat frames"
    assert report.find("outputs among raw frames").status == "warn"
    again = reduce(night.folder, out=night.folder, progress=False, jobs=1, verbose=False)  # and re-running is safe
    assert len(again.used) == 3 + 3 + 1


def test_a_local_archive_is_accepted_by_path_and_by_file_url(night, tmp_path):
    archive = tmp_path / "night.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in [*night.bias, *night.flats, *night.science]:
            zf.write(path, path.name)
    before = archive.read_bytes()
    script = ROOT / "data_fetch.py"
    for source, dest in ((str(archive), "by-path"), (archive.as_uri(), "by-url")):
        done = run_guarded([sys.executable, str(script), "--url", source, "--dest", str(tmp_path / dest), "--no-progress"])
        assert done.returncode == 0, done.stderr
        assert len(list((tmp_path / dest / "bias").glob("*.fits"))) == 3
        assert len(list((tmp_path / dest / "flats").glob("*.fits"))) == 3
    assert archive.read_bytes() == before  # never moved, changed or deleted


def test_a_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    from ccdlab.data.archive import safe_extract
    from ccdlab.data.fetch import fetch_url

    bomb = tmp_path / "night.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bias/zeros.fits", "w", force_zip64=True) as member:
            chunk = bytes(1 << 24)
            for _ in range(64):  # 1 GiB of zeros, about 1 MB compressed
                member.write(chunk)
    assert bomb.stat().st_size < 5_000_000
    with pytest.raises(FetchError, match="decompression bomb"):
        safe_extract(bomb, tmp_path / "out")
    assert not any((tmp_path / "out").rglob("*.fits"))
    dest = tmp_path / "data"
    done = run_guarded([sys.executable, str(ROOT / "data_fetch.py"), "--url", str(bomb), "--dest", str(dest), "--no-progress"])
    assert done.returncode == 1 and "decompression bomb" in done.stderr and done.stderr.count("\n") == 1
    assert not dest.exists() or not any(p.is_file() for p in dest.rglob("*"))


def test_an_archive_larger_than_the_free_space_is_refused(tmp_path, monkeypatch):
    from ccdlab.data import archive

    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bias/b.fits", os.urandom(200_000))
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(FetchError, match="only 0 MB are free"):
        archive.safe_extract(path, tmp_path / "out")

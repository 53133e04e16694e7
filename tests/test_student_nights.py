"""A night for each student: made from the name, graded on it, and copied numbers caught."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from astropy.io import fits

from ccdlab import cli
from ccdlab.classroom.authoring import make_student
from ccdlab.classroom.grading import grade
from ccdlab.commands import fetch as fetch_command
from ccdlab.course import setup as setup_cell
from ccdlab.data.fetch import ensure_default
from ccdlab.data.simulate.students import normalise_name, student_seed
from ccdlab.errors import DatasetExistsError
from ccdlab.inventory import frames_of_type, scan

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


def test_a_student_night_is_a_pure_function_of_the_name(tmp_path):
    first = ensure_default(tmp_path / "a", size="tiny", progress=False, student="Ada Lovelace")
    again = ensure_default(tmp_path / "b", size="tiny", progress=False, student="  ada  lovelace ")
    assert first.status == again.status == "created"
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.fits"))
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.fits"))
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
    assert not (tmp_path / "a" / "truth").exists()  # the grader keeps the truth
    assert ensure_default(tmp_path / "a", size="tiny", progress=False, student="Ada Lovelace").status == "verified"
    with pytest.raises(DatasetExistsError):
        ensure_default(tmp_path / "a", size="tiny", progress=False, student="Grace Hopper")


def test_a_student_night_has_the_structure_of_the_default_and_its_own_numbers(tmp_path, tiny_night):
    ensure_default(tmp_path / "grace", size="tiny", progress=False, student="Grace Hopper")
    mine, default = scan(tmp_path / "grace", warn=False), scan(tiny_night, warn=False)
    for kind in ("bias", "flat", "science"):
        assert len(frames_of_type(mine, kind)) == len(frames_of_type(default, kind))
    ours = fits.getdata(frames_of_type(mine, "science")[0]).astype(float)
    theirs = fits.getdata(frames_of_type(default, "science")[0]).astype(float)
    assert ours.shape == theirs.shape and not np.allclose(ours, theirs)
    from ccdlab.course.checks import Night

    unusable = [str(r["name"]) for r in Night(tmp_path / "grace").flat_screening() if not r["used"]]
    assert len(unusable) == 1  # one flat is unusable, as on the default night (not the same one)


def test_names_fold_case_spaces_and_underscores():
    assert normalise_name("Ada_Lovelace") == normalise_name("ada lovelace") == "ada lovelace"
    assert student_seed("Ada_Lovelace") == student_seed("ada lovelace")


def test_data_fetch_student_option(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    fetch_command.add_arguments(parser)
    args = parser.parse_args(["--student", "Emmy Noether", "--size", "tiny", "--dest", str(tmp_path), "--no-progress"])
    assert cli.run_command("fetch", args) == 0
    assert "the tiny night of Emmy Noether" in capsys.readouterr().out
    meta = json.loads((tmp_path / "manifest.json").read_text())["meta"]
    assert meta["student"] == "Emmy Noether" and meta["seed"] == student_seed("Emmy Noether")
    bad = parser.parse_args(["--student", "x", "--seed", "3", "--dest", str(tmp_path)])
    assert cli.run_command("fetch", bad) == 1


def test_the_setup_cell_asks_the_name_once_and_makes_the_night(tmp_path, monkeypatch):
    monkeypatch.setattr(setup_cell, "STUDENT_NIGHTS", True)
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "data"))
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "Vera Rubin")
    import ccdlab.data.fetch

    made = []
    real = ccdlab.data.fetch.ensure_default
    monkeypatch.setattr(ccdlab.data.fetch, "ensure_default",
                        lambda *a, **k: made.append(k["student"]) or real(*a, **{**k, "size": "tiny", "progress": False}))
    try:
        assert setup_cell.start("01_fits_files") == (tmp_path / "data").resolve()
        assert setup_cell.start("01_fits_files") == (tmp_path / "data").resolve()
    finally:
        from ccdlab.course.exercises import set_lesson

        set_lesson(None)
    assert len(asked) == 1 and made == ["Vera Rubin", "Vera Rubin"]
    assert json.loads((tmp_path / "data" / "student.json").read_text()) == {"name": "Vera Rubin"}
    assert json.loads((tmp_path / "data" / "manifest.json").read_text())["meta"]["student"] == "Vera Rubin"


@pytest.mark.slow
def test_grading_on_student_nights(tmp_path, tiny_night):
    """Solutions score full marks and blanks nothing on each one's night; copied numbers score 0 and are flagged."""
    returned = tmp_path / "returned"
    returned.mkdir()
    solution = nbformat.read(SOLUTIONS / "01_fits_files.ipynb", as_version=4)
    nbformat.write(solution, returned / "Ada_Lovelace_01_fits_files.ipynb")
    nbformat.write(solution, returned / "Grace_Hopper_01_fits_files.ipynb")
    nbformat.write(make_student(solution, "01_fits_files"), returned / "Emmy_Noether_01_fits_files.ipynb")
    ensure_default(tmp_path / "ada", size="tiny", progress=False, student="Ada Lovelace")
    header = fits.getheader(frames_of_type(scan(tmp_path / "ada", warn=False), "bias")[0])
    copied = nbformat.read(SOLUTIONS / "01_fits_files.ipynb", as_version=4)
    cell = next(c for c in copied.cells if "EXERCISE 1.2" in c.source)
    typed = (f'date_obs = {header["DATE-OBS"]!r}\nexptime = {header["EXPTIME"]!r}\nccd_temp = {header["CCD_TEMP"]!r}\n'
             f'imagetyp = {header["IMAGETYP"]!r}\naltitude = {header["ALTITUDE"]!r}\n')
    start, end = cell.source.index("### BEGIN SOLUTION\n") + len("### BEGIN SOLUTION\n"), cell.source.index("### END SOLUTION")
    cell.source = cell.source[:start] + typed + cell.source[end:]
    nbformat.write(copied, returned / "Vera_Rubin_01_fits_files.ipynb")
    book = grade([returned], SOLUTIONS, tiny_night, timeout=300, cell_timeout=120, jobs=2, progress=False,
                 student_nights=True, night_size="tiny", sandbox="require")
    points = {sub.student: sub.points for sub in book.submissions}
    assert (points["Ada_Lovelace"], points["Grace_Hopper"], points["Emmy_Noether"]) == (5, 5, 0)
    vera = next(s for s in book.submissions if s.student == "Vera_Rubin")
    rows = {row.exercise: row for row in vera.rows}
    assert rows["1.1"].status == "correct"  # the same image size on every night: nothing to copy
    assert rows["1.2"].status != "correct" and points["Vera_Rubin"] < 5
    assert "date_obs" in rows["1.2"].hint and "ccd_temp" in rows["1.2"].hint  # the parts that differ score nothing
    assert any("exercise 1.2 match the night of Ada_Lovelace" in note for note in vera.notes)
    assert book.settings["student_nights"] == "tiny"

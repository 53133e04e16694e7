import math

import numpy as np
import pytest
from astropy.io import fits

from ccdlab import inventory


def frame(path, shape=(8, 10), **cards):
    path.parent.mkdir(parents=True, exist_ok=True)
    hdu = fits.PrimaryHDU(np.zeros(shape, np.uint16))
    for key, value in cards.items():
        hdu.header[key] = value
    hdu.writeto(path)
    return path


@pytest.mark.parametrize(
    "imagetyp,exptime,expected",
    [
        ("BIAS", 0.0, "bias"), ("zero", 0.0, "bias"), ("Bias Frame", 0.0, "bias"),
        ("FLAT", 5.0, "flat"), ("SKYFLAT", 5.0, "flat"), ("Flat Field", 5.0, "flat"),
        ("OBJECT", 60.0, "science"), ("Light Frame", 60.0, "science"), ("science", 60.0, "science"),
        ("dark", 0.001, "bias"), ("dark", 60.0, "dark"), ("Dark Frame", 300.0, "dark"),
    ],
)
def test_classify_dialects(imagetyp, exptime, expected):
    kind, note = inventory.classify(fits.Header({"IMAGETYP": imagetyp, "EXPTIME": exptime}))
    assert kind == expected
    assert note


def test_git_bias_note_explains():
    kind, note = inventory.classify(fits.Header({"IMAGETYP": "dark", "EXPTIME": 0.001}))
    assert kind == "bias" and "GROWTH-India" in note


def test_folder_is_a_hint_when_header_is_silent(tmp_path):
    kind, note = inventory.classify(fits.Header({"EXPTIME": 5.0}), tmp_path / "flats" / "a.fits")
    assert kind == "flat" and "folder" in note


def test_folder_wins_when_header_contradicts(tmp_path):
    kind, note = inventory.classify(fits.Header({"IMAGETYP": "object", "EXPTIME": 5.0}), tmp_path / "flats" / "a.fits")
    assert kind == "flat" and "says science" in note


def test_object_name_hint():
    assert inventory.classify(fits.Header({"OBJECT": "twilight flat", "EXPTIME": 3.0}))[0] == "flat"


def test_silent_frame_is_unknown():
    kind, note = inventory.classify(fits.Header({"EXPTIME": 30.0}))
    assert kind == "unknown" and "not guessed" in note


def test_header_value_prefers_first_and_skips_blank():
    header = fits.Header({"FILTER": " ", "FILTNAME": "r'"})
    assert inventory.header_value(header, ("FILTER", "FILTNAME")) == "r'"
    assert inventory.header_value(header, ("NOPE",), default=1) == 1


def test_scan_a_night(tmp_path):
    frame(tmp_path / "bias" / "b1.fits", IMAGETYP="dark", EXPTIME=0.001, CCD_TEMP=-60.0, **{"DATE-OBS": "2018-10-13T13:04:40"})
    frame(tmp_path / "flats" / "f1.fits", IMAGETYP="FLAT", EXPTIME=5.0, FILTNAME="r'")
    frame(tmp_path / "science" / "s1.wcs.fits", IMAGETYP="object", EXPTIME=60.0, OBJECT="M31", FILTER="r'", DETTEMP=-59.5)
    frame(tmp_path / "reduced" / "s1.wcs.fb.fits", IMAGETYP="object")  # outputs are not raw frames
    frame(tmp_path / "truth" / "flat.fits")
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / "science" / "broken.fits").write_text("garbage")
    table = inventory.scan(tmp_path)
    assert list(table["name"]) == ["b1.fits", "f1.fits", "broken.fits", "s1.wcs.fits"]
    row = {name: table[table["name"] == name][0] for name in table["name"]}
    assert row["b1.fits"]["frame_type"] == "bias" and row["b1.fits"]["ccd_temp"] == -60.0
    assert row["b1.fits"]["date_obs"] == "2018-10-13T13:04:40"
    assert row["f1.fits"]["filter"] == "r'" and row["f1.fits"]["frame_type"] == "flat"
    assert row["s1.wcs.fits"]["object"] == "M31" and row["s1.wcs.fits"]["ccd_temp"] == -59.5
    assert (row["s1.wcs.fits"]["naxis1"], row["s1.wcs.fits"]["naxis2"]) == (10, 8)
    assert row["broken.fits"]["frame_type"] == "unknown" and "unreadable" in row["broken.fits"]["note"]
    assert math.isnan(row["broken.fits"]["exptime"])
    assert inventory.frames_of_type(table, "science") == [str(tmp_path / "science" / "s1.wcs.fits")]


def test_scan_is_deterministic_and_non_recursive_option(tmp_path):
    for name in ["c.fits", "a.fits", "b.fits"]:
        frame(tmp_path / name, IMAGETYP="BIAS")
    frame(tmp_path / "sub" / "d.fits", IMAGETYP="BIAS")
    assert list(inventory.scan(tmp_path)["name"]) == ["a.fits", "b.fits", "c.fits", "d.fits"]
    assert list(inventory.scan(tmp_path, recursive=False)["name"]) == ["a.fits", "b.fits", "c.fits"]


def test_scan_empty_folder_has_columns(tmp_path):
    table = inventory.scan(tmp_path)
    assert len(table) == 0 and "frame_type" in table.colnames


def test_scan_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_fetch.py"):
        inventory.scan(tmp_path / "nope")


def test_frames_of_type_rejects_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="bias"):
        inventory.frames_of_type(inventory.scan(tmp_path), "lights")


@pytest.mark.parametrize("folder", ["science", "flats"])
def test_a_real_dark_misfiled_stays_a_dark(tmp_path, folder):
    kind, note = inventory.classify(fits.Header({"IMAGETYP": "dark", "EXPTIME": 180.0}), tmp_path / folder / "a.fits")
    assert kind == "dark" and folder in note


def test_a_git_bias_misfiled_in_science_follows_the_folder(tmp_path):
    kind, note = inventory.classify(fits.Header({"IMAGETYP": "dark", "EXPTIME": 0.001}), tmp_path / "science" / "a.fits")
    assert kind == "science" and "folder" in note

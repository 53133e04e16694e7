import math
import warnings

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
    (tmp_path / "science" / "cut.fits").write_bytes(b"")
    table = inventory.scan(tmp_path)
    assert list(table["name"]) == ["b1.fits", "f1.fits", "broken.fits", "cut.fits", "s1.wcs.fits"]
    row = {name: table[table["name"] == name][0] for name in table["name"]}
    assert row["b1.fits"]["frame_type"] == "bias" and row["b1.fits"]["ccd_temp"] == -60.0
    assert row["b1.fits"]["date_obs"] == "2018-10-13T13:04:40"
    assert row["f1.fits"]["filter"] == "r'" and row["f1.fits"]["frame_type"] == "flat"
    assert row["s1.wcs.fits"]["object"] == "M31" and row["s1.wcs.fits"]["ccd_temp"] == -59.5
    assert (row["s1.wcs.fits"]["naxis1"], row["s1.wcs.fits"]["naxis2"]) == (10, 8)
    assert row["broken.fits"]["frame_type"] == "unknown" and row["broken.fits"]["note"].startswith("not a frame: ")
    assert row["cut.fits"]["frame_type"] == "unknown" and row["cut.fits"]["note"].startswith("unreadable: ")
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


# -- conflicts between header and folder -------------------------------------------------------


def test_classify_still_returns_two_values(tmp_path):
    result = inventory.classify(fits.Header({"IMAGETYP": "Flat Field"}), tmp_path / "bias" / "a.fits")
    assert result == ("bias", "IMAGETYP 'Flat Field' says flat, but the frame is in bias/: typed bias from the folder")


def test_type_frame_flags_a_header_that_contradicts_the_folder(tmp_path):
    typing = inventory.type_frame(fits.Header({"IMAGETYP": "Flat Field", "EXPTIME": 5.0}), tmp_path / "bias" / "a.fits")
    assert isinstance(typing, inventory.FrameTyping)
    assert typing.frame_type == "bias" and typing.conflict is True  # the folder still wins
    assert "says flat" in typing.note and "bias/" in typing.note


@pytest.mark.parametrize(
    "header,folder,expected",
    [
        ({"IMAGETYP": "dark", "EXPTIME": 0.001}, "bias", "bias"),  # GROWTH-India bias: no conflict
        ({"IMAGETYP": "FLAT", "EXPTIME": 5.0}, "flats", "flat"),
        ({"IMAGETYP": "object", "EXPTIME": 60.0}, "science", "science"),
        ({"EXPTIME": 5.0}, "flats", "flat"),  # a silent header is not a conflict
        ({"IMAGETYP": "BIAS"}, "misc", "bias"),  # a folder that is no hint
    ],
)
def test_agreeing_or_silent_headers_are_no_conflict(tmp_path, header, folder, expected):
    typing = inventory.type_frame(fits.Header(header), tmp_path / folder / "a.fits")
    assert (typing.frame_type, typing.conflict) == (expected, False)


def test_a_misfiled_dark_is_a_conflict(tmp_path):
    typing = inventory.type_frame(fits.Header({"IMAGETYP": "dark", "EXPTIME": 180.0}), tmp_path / "science" / "a.fits")
    assert typing.frame_type == "dark" and typing.conflict is True


def test_a_git_bias_among_science_frames_is_a_conflict(tmp_path):
    typing = inventory.type_frame(fits.Header({"IMAGETYP": "dark", "EXPTIME": 0.001}), tmp_path / "science" / "a.fits")
    assert typing.frame_type == "science" and typing.conflict is True


def test_an_unrecognised_imagetyp_is_named_and_flagged(tmp_path):
    typing = inventory.type_frame(fits.Header({"IMAGETYP": "comp", "EXPTIME": 30.0}), tmp_path / "science" / "arc.fits")
    assert typing == ("science", "IMAGETYP 'comp' not recognised: typed science from the folder science/", True)
    alone = inventory.type_frame(fits.Header({"IMAGETYP": "comp", "EXPTIME": 30.0}))
    assert alone.frame_type == "unknown" and alone.conflict is True
    assert alone.note.startswith("IMAGETYP 'comp' not recognised") and "no usable IMAGETYP" not in alone.note
    short = inventory.type_frame(fits.Header({"IMAGETYP": "comp", "EXPTIME": 0.0}))
    assert short.frame_type == "bias" and short.conflict is True and "'comp' not recognised" in short.note


def test_an_unrecognised_imagetyp_with_an_object_hint(tmp_path):
    header = fits.Header({"IMAGETYP": "cal", "OBJECT": "twilight flat", "EXPTIME": 3.0})
    typing = inventory.type_frame(header, tmp_path / "flats" / "a.fits")
    assert typing.frame_type == "flat" and typing.conflict is True
    assert typing.note == "IMAGETYP 'cal' not recognised; OBJECT 'twilight flat'"


def test_no_imagetyp_and_no_hint_is_no_conflict():
    assert inventory.type_frame(fits.Header({"EXPTIME": 30.0})) == (
        "unknown", "no IMAGETYP, OBJECT or folder hint: left aside, not guessed", False)


def test_scan_has_a_conflict_column(tmp_path):
    frame(tmp_path / "bias" / "b1.fits", IMAGETYP="dark", EXPTIME=0.001)
    frame(tmp_path / "bias" / "b2.fits", IMAGETYP="Flat Field", EXPTIME=5.0)
    frame(tmp_path / "science" / "arc.fits", IMAGETYP="comp", EXPTIME=30.0)
    frame(tmp_path / "misc" / "mystery.fits", IMAGETYP="comp", EXPTIME=30.0)
    (tmp_path / "science" / "broken.fits").write_text("garbage")
    with pytest.warns(inventory.InventoryWarning):
        table = inventory.scan(tmp_path)
    assert ("conflict", bool) in inventory.COLUMNS and table["conflict"].dtype == bool
    flagged = dict(zip(table["name"], table["conflict"]))
    assert flagged == {"b1.fits": False, "b2.fits": True, "mystery.fits": True, "arc.fits": True, "broken.fits": False}
    note = table[table["name"] == "arc.fits"][0]["note"]
    assert note == "IMAGETYP 'comp' not recognised: typed science from the folder science/"
    assert table[table["name"] == "b2.fits"][0]["frame_type"] == "bias"
    assert inventory.scan(tmp_path / "misc")["conflict"].dtype == bool
    (tmp_path / "empty").mkdir()
    assert inventory.scan(tmp_path / "empty")["conflict"].dtype == bool


def test_conflicts_leaves_out_unknown_frames(tmp_path):
    frame(tmp_path / "bias" / "b2.fits", IMAGETYP="Flat Field", EXPTIME=5.0)
    frame(tmp_path / "misc" / "mystery.fits", IMAGETYP="comp", EXPTIME=30.0)
    frame(tmp_path / "flats" / "f1.fits", IMAGETYP="flat", EXPTIME=5.0)
    table = inventory.scan(tmp_path, warn=False)
    assert list(inventory.conflicts(table)["name"]) == ["b2.fits"]
    assert len(inventory.conflicts(table[:0])) == 0


def test_describe_conflicts_lists_at_most_limit(tmp_path):
    for i in range(7):
        frame(tmp_path / "bias" / f"b{i}.fits", IMAGETYP="Flat Field", EXPTIME=5.0)
    table = inventory.scan(tmp_path, warn=False)
    text = inventory.describe_conflicts(table)
    assert text.startswith("b0.fits (IMAGETYP 'Flat Field' says flat, but the frame is in bias/")
    assert text.count(".fits (") == 5 and text.endswith("; and 2 more")
    assert inventory.describe_conflicts(table, limit=10).count(".fits (") == 7
    assert inventory.describe_conflicts(inventory.scan(tmp_path / "bias", warn=False)[:0]) == ""


def test_an_object_named_like_a_dark_in_science_follows_the_folder(tmp_path):
    kind, note = inventory.classify(fits.Header({"OBJECT": "Dark nebula LDN 1622", "EXPTIME": 180.0}), tmp_path / "science" / "a.fits")
    assert kind == "science" and "folder" in note


# -- only folders at or below the scanned one are hints -------------------------------------------


def a_night_below(base):
    """bias, flat and science frames side by side in base/, each typed by its header only."""
    frame(base / "b1.fits", IMAGETYP="BIAS", EXPTIME=0.0)
    frame(base / "f1.fits", IMAGETYP="FLAT", EXPTIME=5.0)
    frame(base / "s1.fits", IMAGETYP="object", EXPTIME=60.0)
    frame(base / "silent.fits", EXPTIME=30.0)
    return base


def test_a_folder_above_the_scanned_one_is_no_hint(tmp_path):
    night = a_night_below(tmp_path / "x" / "science" / "2018-10-13")
    with warnings.catch_warnings():
        warnings.simplefilter("error", inventory.InventoryWarning)  # nothing disagrees
        table = inventory.scan(night)
    kinds = dict(zip(table["name"], table["frame_type"]))
    assert kinds == {"b1.fits": "bias", "f1.fits": "flat", "s1.fits": "science", "silent.fits": "unknown"}
    assert not any(table["conflict"])
    assert not any("science/" in note for note in table["note"])


def test_only_sub_folders_of_a_root_below_a_raw_name_are_hints(tmp_path):
    night = tmp_path / "science" / "night1"
    frame(night / "bias" / "b1.fits", EXPTIME=0.0)
    frame(night / "flats" / "f1.fits", IMAGETYP="object", EXPTIME=5.0)  # sky flat typed object
    frame(night / "misc" / "m1.fits", EXPTIME=30.0)
    table = inventory.scan(night, warn=False)
    row = {name: table[table["name"] == name][0] for name in table["name"]}
    assert row["b1.fits"]["frame_type"] == "bias" and row["b1.fits"]["note"].endswith("folder bias/")
    assert row["f1.fits"]["frame_type"] == "flat" and "in flats/" in row["f1.fits"]["note"]
    assert row["m1.fits"]["frame_type"] == "unknown"  # science/ above the root is no hint


def test_the_scanned_folder_own_name_is_a_hint(tmp_path, monkeypatch):
    frame(tmp_path / "data" / "bias" / "b1.fits", EXPTIME=30.0)
    table = inventory.scan(tmp_path / "data" / "bias")
    assert table["frame_type"][0] == "bias" and table["note"][0] == "no usable IMAGETYP: typed bias from the folder bias/"
    monkeypatch.chdir(tmp_path / "data" / "bias")
    assert inventory.scan(".")["frame_type"][0] == "bias"  # '.' is named for what it is


def test_the_note_names_the_folder_that_gave_the_hint(tmp_path):
    path = frame(tmp_path / "flats" / "2018-10-13" / "f1.fits", IMAGETYP="object", EXPTIME=5.0)
    expected = "IMAGETYP 'object' says science, but the frame is in flats/: typed flat from the folder"
    assert inventory.type_frame(fits.getheader(path), path) == ("flat", expected, True)
    assert inventory.scan(tmp_path, warn=False)["note"][0] == expected
    silent = inventory.type_frame(fits.Header({"EXPTIME": 5.0}), "night/flats/2018-10-13/f2.fits")
    assert silent.note == "no usable IMAGETYP: typed flat from the folder flats/"


def test_type_frame_with_a_root(tmp_path):
    header = fits.Header({"EXPTIME": 30.0})
    path = tmp_path / "science" / "n1" / "a.fits"
    assert inventory.type_frame(header, path).frame_type == "science"  # no root: the parents hint
    assert inventory.type_frame(header, path, root=tmp_path / "science" / "n1").frame_type == "unknown"
    assert inventory.type_frame(header, path, root=tmp_path / "science").frame_type == "science"
    assert inventory.classify(header, path, tmp_path / "science" / "n1")[0] == "unknown"
    elsewhere = inventory.type_frame(header, tmp_path / "flats" / "a.fits", root=tmp_path / "science")
    assert elsewhere.frame_type == "flat"  # not under the root: its own folder only


# -- one warning for the frames typed against their header ---------------------------------------


def test_scan_warns_once_listing_the_conflicts(tmp_path):
    frame(tmp_path / "bias" / "b1.fits", IMAGETYP="dark", EXPTIME=0.001)
    frame(tmp_path / "bias" / "b2.fits", IMAGETYP="Flat Field", EXPTIME=5.0)
    frame(tmp_path / "science" / "arc.fits", IMAGETYP="comp", EXPTIME=30.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = inventory.scan(tmp_path)
    assert issubclass(inventory.InventoryWarning, UserWarning)
    assert [w.category for w in caught] == [inventory.InventoryWarning]
    text = str(caught[0].message)
    assert text.startswith(f"2 frames in {tmp_path} typed from the folder, not the header")
    assert "move that frame into the folder of its type" in text
    assert text.endswith(inventory.describe_conflicts(table))
    assert caught[0].filename == __file__  # points at the caller's line


def test_scan_is_silent_without_conflicts_or_when_asked(tmp_path):
    frame(tmp_path / "bias" / "b1.fits", IMAGETYP="dark", EXPTIME=0.001)
    frame(tmp_path / "misc" / "mystery.fits", IMAGETYP="comp", EXPTIME=30.0)  # unknown: not a conflict
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inventory.scan(tmp_path)
        frame(tmp_path / "bias" / "b2.fits", IMAGETYP="Flat Field", EXPTIME=5.0)
        assert inventory.scan(tmp_path, warn=False)["conflict"].sum() == 2


def test_other_files_lists_what_scan_skips(tmp_path):
    frame(tmp_path / "bias" / "b1.fits", IMAGETYP="BIAS")
    (tmp_path / "bias" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "bias" / "notes.txt").write_text("seeing 1.2 arcsec")
    (tmp_path / "bias" / "._b1.fits").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork
    (tmp_path / "reduced").mkdir()
    (tmp_path / "reduced" / "log.txt").write_text("an output")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "x.txt").write_text("hidden folder")
    assert list(inventory.scan(tmp_path)["name"]) == ["b1.fits"]
    names = [p.relative_to(tmp_path).as_posix() for p in inventory.other_files(tmp_path)]
    assert names == ["bias/.DS_Store", "bias/._b1.fits", "bias/notes.txt"]
    assert inventory.other_files(tmp_path, recursive=False) == []


def test_folder_hints_with_a_relative_path_and_an_absolute_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    header = fits.Header()
    typing = inventory.type_frame(header, "data/science/M31/x.fits", root=str(tmp_path / "data"))
    assert typing.frame_type == "science" and "science/" in typing.note
    assert inventory.type_frame(header, tmp_path / "data" / "science" / "x.fits", root="data/science").frame_type == "science"

"""Tests of ccdlab.screening: which bias frames and flats are used, and the reasons for the others."""

import numpy as np
import pytest
from astropy.io import fits

import synthetic
from ccdlab.calibrate import master_bias
from ccdlab.screening import CalibrationError, illuminated_region, screen_biases, screen_flats


@pytest.fixture(scope="module")
def bias(calibration_night):
    return master_bias(calibration_night.bias)


def test_illuminated_region():
    assert illuminated_region((100, 200)) == (slice(25, 75), slice(50, 150))
    assert illuminated_region((10, 10), 1.0) == (slice(0, 10), slice(0, 10))
    with pytest.raises(CalibrationError, match="between 0 and 1"):
        illuminated_region((10, 10), 0)


def test_screening_gives_reasons(tmp_path, calibration_night, bias):
    rng = np.random.default_rng(1)
    good = calibration_night.flats[0]
    faint = tmp_path / "faint.fits"
    fits.PrimaryHDU(synthetic.flat_frame(rng, calibration_night.flat, 300.0), header=fits.Header({"FILTER": "R"})).writeto(faint)
    bright = tmp_path / "bright.fits"
    fits.PrimaryHDU(synthetic.flat_frame(rng, calibration_night.flat, 52000.0), header=fits.Header({"FILTER": "R"})).writeto(bright)
    dark = tmp_path / "dark.fits"
    fits.PrimaryHDU(synthetic.bias_frame(rng), header=fits.Header({"FILTER": "R"})).writeto(dark)
    small = tmp_path / "small.fits"
    fits.PrimaryHDU(np.zeros((64, 64), np.uint16) + 20000, header=fits.Header({"FILTER": "R"})).writeto(small)
    other = tmp_path / "other.fits"
    fits.PrimaryHDU(synthetic.flat_frame(rng, calibration_night.flat, 18000.0), header=fits.Header({"FILTER": "V"})).writeto(other)
    empty = np.full(synthetic.SHAPE, np.nan, np.float32)
    junk = tmp_path / "junk.fits"
    junk.write_text("not a FITS file")
    table = screen_flats([good, faint, bright, dark, small, other, empty, junk], bias, filter="R")
    reasons = dict(zip(table["name"], table["reason"]))
    assert list(table["used"]) == [True] + [False] * 7
    assert reasons["faint.fits"].startswith("too faint: 3")
    assert reasons["bright.fits"].startswith("saturated or non-linear: 52")
    assert "<= 0" in reasons["dark.fits"]
    assert reasons["small.fits"].startswith("different shape: 64 x 64")
    assert reasons["other.fits"] == "wrong filter: V (wanted R)"
    assert reasons["flat #6 (an array)"].startswith("all-NaN illuminated region")
    assert reasons["junk.fits"].startswith("unreadable")
    assert 15000 < table["level"][0] < 21000


# -- screening biases ---------------------------------------------------------------------------


def write(path, data, **cards):
    fits.PrimaryHDU(data, header=fits.Header(cards)).writeto(path)
    return path


def test_bias_screening_keeps_the_biases_of_a_normal_night(calibration_night):
    table = screen_biases(calibration_night.bias)
    assert list(table["used"]) == [True] * 5 and set(table["reason"]) == {""}
    assert all(abs(level - synthetic.BIAS_LEVEL) < 2 for level in table["level"])
    assert list(table["exptime"]) == [0.001] * 5 and set(table["imagetyp"]) == {"dark"}


def test_bias_screening_rejects_long_exposures_not_called_biases(tmp_path, calibration_night):
    rng = np.random.default_rng(4)
    bias = synthetic.bias_frame(rng)
    files = list(calibration_night.bias) + [
        write(tmp_path / "object.fits", bias, IMAGETYP="object", EXPTIME=180.0),
        write(tmp_path / "flat.fits", bias, IMAGETYP="flat", EXPTIME=5.0),
        write(tmp_path / "dark.fits", bias, IMAGETYP="dark", EXPTIME=60.0),
        write(tmp_path / "untyped.fits", bias, EXPTIME=30.0),
        write(tmp_path / "long_bias.fits", bias, IMAGETYP="BIAS", EXPTIME=30.0),  # the header says bias: kept
        write(tmp_path / "short_object.fits", bias, IMAGETYP="object", EXPTIME=0.0),  # ~0 s: a bias in effect
    ]
    table = screen_biases(files)
    reasons = dict(zip(table["name"], table["reason"]))
    assert reasons["object.fits"] == "180 s exposure with IMAGETYP 'object': a science frame, not a bias (a bias is ~0 s)"
    assert reasons["flat.fits"] == "5 s exposure with IMAGETYP 'flat': a flat, not a bias (a bias is ~0 s)"
    assert reasons["dark.fits"] == "60 s exposure with IMAGETYP 'dark': a dark, not a bias (a bias is ~0 s)"
    assert reasons["untyped.fits"] == "30 s exposure with no IMAGETYP: not a bias (a bias is ~0 s)"
    assert reasons["long_bias.fits"] == reasons["short_object.fits"] == ""


def test_bias_screening_rejects_a_level_unlike_the_others(tmp_path, calibration_night):
    lit = write(tmp_path / "lit.fits", synthetic.bias_frame(np.random.default_rng(6)) + np.uint16(12))
    table = screen_biases(list(calibration_night.bias) + [lit])
    assert list(table["used"]) == [True] * 5 + [False]
    assert table["reason"][5].startswith("level 282.0 ADU, 12.0 ADU from the biases' median 270.0 (more than ")
    # the test needs three frames: with two, neither can be told to be the odd one
    assert list(screen_biases([calibration_night.bias[0], lit])["used"]) == [True, True]
    # biases agreeing to within the margin (a few ADU) all pass, however small their scatter
    steady = [np.full((8, 8), 270.0)] * 4 + [np.full((8, 8), 274.0)]
    assert all(screen_biases(steady)["used"])


def test_bias_screening_rejects_other_sizes_and_unreadable_files(tmp_path, calibration_night):
    junk = tmp_path / "junk.fits"
    junk.write_text("not a FITS file")
    small = write(tmp_path / "small.fits", np.zeros((64, 64), np.uint16) + 270)
    table = screen_biases(list(calibration_night.bias) + [small, junk])
    reasons = dict(zip(table["name"], table["reason"]))
    assert reasons["small.fits"] == "64 x 64 pixels, unlike the other biases (256 x 256)"
    assert reasons["junk.fits"].startswith("unreadable")


def test_an_array_that_is_not_an_image_is_said_so_not_called_unreadable():
    biases = [np.full((8, 8), 270.0)] * 3 + [np.zeros(8)]
    reason = str(screen_biases(biases)["reason"][3])
    assert reason == "The frame must be a 2-D image; got an array of shape (8,)."
    flats = screen_flats([np.full((8, 8), 20000.0), np.zeros(8)], min_level=1.0)
    assert str(flats["reason"][1]) == "The frame must be a 2-D image; got an array of shape (8,)."

"""Tests of ccdlab.calibrate: masters, vignetting mask, calibrated frames (screening: test_screening)."""

import re

import numpy as np
import pytest
from astropy.io import fits

import synthetic
from ccdlab.calibrate import (
    DEFAULT_MAX_LEVEL,
    CalibrationError,
    MasterFlat,
    calibrate_frame,
    history_cards,
    illuminated_region,
    master_bias,
    master_bias_history,
    master_flat,
    master_flats,
    screen_biases,
    vignetting_mask,
)
from ccdlab.combine import CombineWarning


@pytest.fixture(scope="module")
def bias(calibration_night):
    return master_bias(calibration_night.bias)


def test_the_screening_can_still_be_imported_from_calibrate():
    from ccdlab import calibrate, screening

    for name in screening.__all__:
        assert name in calibrate.__all__ and getattr(calibrate, name) is getattr(screening, name)


def test_master_bias_is_the_median(calibration_night, bias):
    stack = np.array([fits.getdata(p).astype(np.float32) for p in calibration_night.bias])
    assert np.array_equal(bias, np.median(stack, axis=0))
    assert abs(np.median(bias) - synthetic.BIAS_LEVEL) < 1


def test_master_bias_needs_frames():
    with pytest.raises(CalibrationError, match="No bias frames"):
        master_bias([])


def test_master_flat_recovers_the_known_flat(calibration_night, bias):
    flat = master_flat(calibration_night.flats, bias)
    field = synthetic.unvignetted()
    rms = np.sqrt(np.mean((flat.data[field] / calibration_night.flat[field] - 1) ** 2))
    assert rms < 0.01  # measured: 0.3% with 5 flats
    rows, cols = illuminated_region(flat.shape)
    assert np.median(flat.data[rows, cols]) == pytest.approx(1.0, abs=1e-6)
    assert flat.filter == "R" and len(flat.used) == 5 and flat.rejected == []
    assert np.asarray(flat).shape == synthetic.SHAPE


def test_master_flat_skips_rejected_flats(tmp_path, calibration_night, bias):
    faint = tmp_path / "faint.fits"
    fits.PrimaryHDU(synthetic.flat_frame(np.random.default_rng(2), calibration_night.flat, 200.0), header=fits.Header({"FILTER": "R"})).writeto(faint)
    flat = master_flat(list(calibration_night.flats) + [faint], bias)
    assert len(flat.used) == 5
    assert [name for name, _ in flat.rejected] == ["faint.fits"]


def test_mixed_filters_are_an_error_or_a_dict(tmp_path, bias):
    rng = np.random.default_rng(3)
    truth = synthetic.true_flat()
    files = []
    for filt in ("R", "V"):
        for i in range(3):
            path = tmp_path / f"{filt}{i}.fits"
            fits.PrimaryHDU(synthetic.flat_frame(rng, truth, 18000.0), header=fits.Header({"FILTER": filt})).writeto(path)
            files.append(path)
    with pytest.raises(CalibrationError, match=r"2 filters \(R: 3, V: 3\).*filter='R'.*master_flats"):
        master_flat(files, bias)
    only_v = master_flat(files, bias, filter="V")
    assert only_v.filter == "V" and len(only_v.used) == 3
    assert sum("wrong filter: R" in reason for _, reason in only_v.rejected) == 3
    both = master_flats(files, bias)
    assert sorted(both) == ["R", "V"] and all(isinstance(f, MasterFlat) for f in both.values())


def test_no_usable_flat_lists_the_reasons(bias):
    with pytest.raises(CalibrationError, match=r"No usable flat among 2: flat #0 \(an array\): too faint"):
        master_flat([np.full(synthetic.SHAPE, 300.0), np.full(synthetic.SHAPE, 300.0)], bias)
    with pytest.raises(CalibrationError, match="No flat frames"):
        master_flat([], bias)
    with pytest.raises(CalibrationError, match="No flat frames"):
        master_flats([], bias)


def test_a_single_flat_is_allowed_with_a_warning(calibration_night, bias):
    with pytest.warns(CombineWarning, match="Only one frame"):
        flat = master_flat(calibration_night.flats[:1], bias)
    assert len(flat.used) == 1


def test_vignetting_mask_matches_the_truth(calibration_night, bias):
    flat = master_flat(calibration_night.flats, bias)
    mask = vignetting_mask(flat)
    truth = calibration_night.flat < 0.8
    assert (mask != truth).mean() < 0.005  # only pixels right at the edge may differ
    assert mask[:, synthetic.bad_column()].all()  # the dark column
    assert mask.dtype == bool


def test_vignetting_mask_options_and_errors():
    flat = np.ones((10, 10))
    flat[0, 0], flat[0, 1], flat[0, 2] = 0.5, np.nan, 0.85
    assert vignetting_mask(flat).sum() == 2
    assert vignetting_mask(flat, threshold=0.9).sum() == 3
    assert vignetting_mask(flat * 20000).sum() == 2  # relative to the centre: normalisation not needed
    for bad in (0, 1.5, "high"):
        with pytest.raises(CalibrationError, match="between 0 and 1"):
            vignetting_mask(flat, threshold=bad)
    with pytest.raises(CalibrationError, match="no light in its centre"):
        vignetting_mask(np.full((10, 10), np.nan))


def test_calibrate_frame_arithmetic_and_history(calibration_night, bias):
    flat = master_flat(calibration_night.flats, bias)
    mask = vignetting_mask(flat)
    data, header = calibrate_frame(calibration_night.science[0], bias, flat, mask)
    raw = fits.getdata(calibration_night.science[0]).astype(np.float32)
    good = ~mask
    np.testing.assert_allclose(data[good], ((raw - bias) / flat.data)[good], rtol=1e-6)
    assert np.isnan(data[mask]).all()
    sky = np.nanmedian(data)
    assert abs(sky - 300) < 5  # the flat took the vignetting out
    history = "\n".join(header["HISTORY"])
    assert "subtracted master bias (median 270" in history
    assert "divided by master flat (R)" in history
    assert "set to NaN: masked or flat <= 0" in history
    assert header["BUNIT"] == "adu" and header["CTYPE1"] == "RA---TAN"  # raw header kept


def test_calibrate_frame_from_files_and_bad_flat_pixels(tmp_path):
    bias_path = tmp_path / "master_bias.fits"
    fits.PrimaryHDU(np.full((3, 3), 100.0, np.float32)).writeto(bias_path)
    flat = np.ones((3, 3))
    flat[0, 0], flat[1, 1] = 0.0, np.nan
    data, header = calibrate_frame(np.full((3, 3), 1100.0), bias_path, flat, header=fits.Header({"OBJECT": "M31"}))
    assert np.isnan(data[0, 0]) and np.isnan(data[1, 1]) and data[2, 2] == 1000.0
    assert "subtracted master_bias.fits" in "\n".join(header["HISTORY"]) and header["OBJECT"] == "M31"


def test_calibrate_frame_shape_mismatch_names_the_frame(calibration_night, bias):
    with pytest.raises(CalibrationError, match=r"wcs\.fits is 256 x 256 pixels but the master bias is 10 x 10"):
        calibrate_frame(calibration_night.science[0], np.zeros((10, 10)), np.ones((10, 10)))
    with pytest.raises(CalibrationError, match="master flat is 10 x 10"):
        calibrate_frame(calibration_night.science[0], bias, np.ones((10, 10)))
    with pytest.raises(CalibrationError, match="The mask is 10 x 10"):
        calibrate_frame(calibration_night.science[0], bias, np.ones(synthetic.SHAPE), mask=np.zeros((10, 10), bool))
    with pytest.raises(CalibrationError, match="2-D image"):
        calibrate_frame(np.ones(5), bias, np.ones(synthetic.SHAPE))
    with pytest.raises(CalibrationError, match="master bias must be a 2-D image"):
        calibrate_frame(np.ones((4, 4)), np.ones(4), np.ones((4, 4)))


@pytest.mark.parametrize("value", [np.nan, 0.0, -1.0])
def test_calibrate_frame_refuses_a_flat_without_positive_pixels(tmp_path, value):
    flat = np.full((3, 3), value)
    with pytest.raises(CalibrationError, match=r"^The master flat has no positive pixels \(all NaN or <= 0\)"):
        calibrate_frame(np.full((3, 3), 1100.0), np.full((3, 3), 100.0), flat)
    flat_path = tmp_path / "master_flat.fits"
    fits.PrimaryHDU(flat.astype(np.float32)).writeto(flat_path)
    with pytest.raises(CalibrationError, match=re.escape(f"The master flat {flat_path} has no positive pixels")):
        calibrate_frame(np.full((3, 3), 1100.0), np.full((3, 3), 100.0), flat_path)


# -- HISTORY ------------------------------------------------------------------------------------


def write(path, data, **cards):
    fits.PrimaryHDU(data, header=fits.Header(cards)).writeto(path)
    return path


def test_master_bias_history_lists_the_rejected_frames(tmp_path, calibration_night):
    misfiled = write(tmp_path / "misfiled.fits", synthetic.bias_frame(np.random.default_rng(4)), IMAGETYP="object", EXPTIME=180.0)
    cards = master_bias_history(screen_biases(list(calibration_night.bias) + [misfiled]))
    assert cards == [
        "ccdlab: master bias, median of 5 bias frames",
        "ccdlab: rejected bias misfiled.fits: 180 s exposure with IMAGETYP",
        "  'object': a science frame, not a bias (a bias is ~0 s)",
    ]


def test_history_cards_fit_and_keep_every_word():
    text = "ccdlab: " + " ".join(f"word{i}" for i in range(40))
    cards = history_cards(text)
    assert len(cards) > 1 and all(len(card) <= 72 for card in cards)
    assert " ".join(card.strip() for card in cards) == text
    header = fits.Header()
    for card in cards:
        header.add_history(card)
    assert list(header["HISTORY"]) == cards  # astropy keeps each as one card


def test_master_flat_history_names_the_box_and_the_rejected_flats(tmp_path, calibration_night, bias):
    bright = write(tmp_path / "bright.fits", synthetic.flat_frame(np.random.default_rng(1), calibration_night.flat, 52000.0), FILTER="R")
    flat = master_flat(list(calibration_night.flats) + [bright], bias)
    cards = flat.history("master_bias.fits")
    assert cards[:3] == [
        "ccdlab: master flat (R), median of 5 flats minus master_bias.fits",
        "ccdlab: each flat divided by its median in the box [65:192,65:192]",
        "ccdlab: normalised to a median of 1 in that box (50% of each side)",
    ]
    rest = " ".join(card.strip() for card in cards[3:])
    assert rest.startswith("ccdlab: rejected flat bright.fits: saturated or non-linear: 52")
    assert rest.endswith(f"ADU above bias > {DEFAULT_MAX_LEVEL:g}")
    assert all(len(card) <= 72 for card in cards)
    assert DEFAULT_MAX_LEVEL == 45000.0  # the course camera's 0.75 x 60,000 ADU


def test_calibrate_frame_history_names_the_master_files_and_the_mask_threshold(calibration_night, bias):
    flat = master_flat(calibration_night.flats, bias)
    mask = vignetting_mask(flat, threshold=0.7)
    names = {"bias": "master_bias.fits", "flat": "master_flat.fits", "mask": "mask.fits"}
    _, header = calibrate_frame(calibration_night.science[0], bias, flat, mask, names=names, mask_threshold=0.7)
    cards = list(header["HISTORY"])
    assert cards[0].startswith("ccdlab: subtracted master_bias.fits (median 270")
    assert cards[1] == "ccdlab: divided by master_flat.fits (R)"
    assert cards[2].endswith("set to NaN: masked or flat <= 0")
    assert cards[3] == "ccdlab: mask mask.fits: pixels below 0.7 of the flat's central level"
    assert all(len(card) <= 72 for card in cards)

"""Tests of ccdlab.overscan: FITS sections, layouts, row-by-row subtraction, trimming (ccdproc oracle)."""

import warnings

import ccdproc  # the test-only oracle
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData

from ccdlab.calibrate import calibrate_frame
from ccdlab.combine import combine
from ccdlab.overscan import (
    OverscanLayout,
    correct_overscan,
    overscan_layout,
    overscan_levels,
    parse_section,
)

NY, NX = 60, 72  # data 60 x 64, serial overscan in the last 8 columns
SERIAL = {"BIASSEC": "[65:72,1:60]", "TRIMSEC": "[1:64,1:60]"}


def raw_with_overscan(seed=0):
    """A frame whose bias drifts from row to row; the overscan records the drift."""
    rng = np.random.default_rng(seed)
    drift = 300 + 20 * np.sin(np.arange(NY) / 7.0)[:, None]
    data = np.empty((NY, NX))
    data[:, :64] = drift + 1000 + rng.normal(0, 5, (NY, 64))
    data[:, 64:] = drift + rng.normal(0, 5, (NY, 8))
    return data.astype(np.float32)


def test_parse_section():
    assert parse_section("[1:4096,1:4108]") == (slice(0, 4108), slice(0, 4096))
    assert parse_section(" [ 10:1 , 5:20 ] ") == (slice(4, 20), slice(0, 10))  # reversed range


@pytest.mark.parametrize(
    "text, shape, message",
    [
        ("1:10,1:10", None, "not a FITS section"),
        ("[0:10,1:10]", None, "count from 1"),
        ("[1:100,1:10]", (10, 50), "outside the 50 x 10 frame"),
    ],
)
def test_parse_section_errors(text, shape, message):
    with pytest.raises(ValueError, match=message):
        parse_section(text, shape, "BIASSEC")


def test_layouts():
    assert overscan_layout(fits.Header({"BIASSEC": "[65:72,1:60]"}), (NY, NX)) is None  # no data section
    serial = overscan_layout(fits.Header(SERIAL), (NY, NX))
    assert isinstance(serial, OverscanLayout)
    assert serial.per == "row" and serial.output_shape == (60, 64) and serial.data_keyword == "TRIMSEC"
    parallel = overscan_layout(fits.Header({"BIASSEC": "[1:64,55:60]", "DATASEC": "[1:64,1:54]"}), (NY, NX))
    assert parallel.per == "column" and parallel.data_keyword == "DATASEC"
    corner = overscan_layout(fits.Header({"BIASSEC": "[65:72,1:10]", "TRIMSEC": "[1:64,1:60]"}), (NY, NX))
    assert corner.per == "frame"
    assert "row by row" in serial.describe() and "TRIMSEC [1:64,1:60]" in serial.describe()


def test_overlapping_overscan_is_an_error():
    with pytest.raises(ValueError, match="overlaps"):
        overscan_layout(fits.Header({"BIASSEC": "[60:72,1:60]", "TRIMSEC": "[1:64,1:60]"}), (NY, NX))


def test_levels_are_row_medians():
    raw = raw_with_overscan()
    layout = overscan_layout(fits.Header(SERIAL), raw.shape)
    levels = overscan_levels(raw, layout)
    assert levels.shape == (NY, 1)
    np.testing.assert_allclose(levels[:, 0], np.median(raw[:, 64:], axis=1))


def test_correct_overscan_matches_ccdproc():
    raw = raw_with_overscan()
    ours, header = correct_overscan(raw, fits.Header(SERIAL))
    ccd = CCDData(raw, unit="adu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = ccdproc.subtract_overscan(ccd, fits_section=SERIAL["BIASSEC"], median=True, overscan_axis=1)
        oracle = ccdproc.trim_image(oracle, fits_section=SERIAL["TRIMSEC"])
    np.testing.assert_allclose(ours, oracle.data, rtol=1e-6)
    assert abs(np.median(ours) - 1000) < 2  # the drift is gone
    assert "BIASSEC" not in header and "TRIMSEC" not in header
    assert "overscan subtracted row by row" in str(header["HISTORY"])


def test_overscan_history_is_a_ccdlab_step_on_whole_cards():
    header = fits.Header({"BIASSEC": "[1001:1032,1:2048]", "TRIMSEC": "[1:1000,1:2048]"})
    _, out = correct_overscan(np.zeros((2048, 1032), np.float32), header)
    cards = list(out["HISTORY"])
    assert cards[0].startswith("ccdlab: overscan subtracted row by row")  # like every other step
    assert all(len(card) <= 72 for card in cards)  # never cut mid-word by astropy
    assert " ".join(card.strip() for card in cards) == (
        "ccdlab: overscan subtracted row by row (median of BIASSEC [1001:1032,1:2048]); "
        "trimmed to TRIMSEC [1:1000,1:2048]"
    )


def test_trimming_shifts_the_wcs_reference_pixel():
    header = fits.Header({"BIASSEC": "[1:8,1:60]", "TRIMSEC": "[9:72,3:60]", "CRPIX1": 40.0, "CRPIX2": 30.0})
    out, new = correct_overscan(np.zeros((NY, NX), np.float32), header)
    assert out.shape == (58, 64)
    assert (new["CRPIX1"], new["CRPIX2"]) == (32.0, 28.0)


def test_frames_without_sections_pass_unchanged():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    out, header = correct_overscan(data, None)
    assert np.array_equal(out, data) and "HISTORY" not in header


@pytest.mark.parametrize(
    "cards",
    [SERIAL, {"BIASSEC": "[1:64,55:60]", "DATASEC": "[1:64,1:54]"}, {"BIASSEC": "[65:72,1:10]", "TRIMSEC": "[1:64,1:60]"}],
)
def test_combine_reads_overscan_frames_block_by_block(tmp_path, cards):
    paths, corrected = [], []
    for i in range(3):
        raw = raw_with_overscan(seed=i)
        header = fits.Header(cards)
        path = tmp_path / f"raw{i}.fits"
        fits.PrimaryHDU(raw, header=header).writeto(path)
        paths.append(path)
        corrected.append(correct_overscan(raw, header)[0])
    result = combine(paths, mem_limit=3 * 72 * 4 * 5)  # five rows per block
    np.testing.assert_allclose(result, np.median(corrected, axis=0), rtol=1e-6)
    assert combine(paths, overscan=False).shape == (NY, NX)  # untouched when asked


def test_calibrate_frame_applies_overscan(tmp_path):
    path = tmp_path / "raw.fits"
    fits.PrimaryHDU(raw_with_overscan(), header=fits.Header(SERIAL)).writeto(path)
    data, header = calibrate_frame(path, np.zeros((60, 64)), np.ones((60, 64)))
    assert data.shape == (60, 64) and abs(np.median(data) - 1000) < 2
    assert "ccdlab: overscan subtracted" in str(header["HISTORY"])


def test_bad_section_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "bad.fits"
    fits.PrimaryHDU(raw_with_overscan(), header=fits.Header({"BIASSEC": "[65:99,1:60]", "TRIMSEC": "[1:64,1:60]"})).writeto(path)
    with pytest.raises(ValueError, match=r"bad\.fits.*BIASSEC"):
        combine([path, path])

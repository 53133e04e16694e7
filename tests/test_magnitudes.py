"""From a calibrated frame to calibrated magnitudes (ccdlab.magnitudes), against the truth of the tiny night."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from astropy.table import Table
from scipy.spatial import cKDTree

from ccdlab.crossmatch import find_catalog, read_catalog
from ccdlab.errors import PhotometryError
from ccdlab.io import read_frame
from ccdlab.magnitudes import measure_magnitudes, write_magnitudes


@pytest.fixture(scope="module")
def frame(tiny_first_proc):
    """The first science frame of the tiny night, reduced by ccdlab (bias, flat, cosmic rays)."""
    return read_frame(tiny_first_proc)


@pytest.fixture(scope="module")
def truth(tiny_night):
    return json.loads((tiny_night / "truth" / "photometry.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("method", ["aperture", "psf"])
def test_zero_point_magnitudes_and_limit_against_the_truth(frame, tiny_night, truth, method):
    data, header = frame
    table = measure_magnitudes(data, header, read_catalog(find_catalog(tiny_night)), method=method)
    assert table.meta["ZP"] == pytest.approx(truth["zero_point"], abs=0.02)
    first = sorted(truth["frames"])[0]
    assert table.meta["MAGLIM"] == pytest.approx(truth["frames"][first]["limiting_magnitude"], abs=0.3)
    assert 0 < table.meta["ZP_ERR"] < 0.03 and table.meta["NZP"] >= 10 and table["zp_star"].sum() == table.meta["NZP"]
    stars = Table.read(tiny_night / "truth" / "stars.ecsv")
    distance, nearest = cKDTree(np.column_stack([stars["x"], stars["y"]])).query(np.column_stack([table["x"], table["y"]]))
    # "S/N > 50" is the stars' aperture S/N, the same stars for both methods (the rows are the same detections)
    snr = table["snr"] if method == "aperture" else measure_magnitudes(data, header, None)["snr"]
    good = (distance < 1) & (snr > 50) & ~table["saturated"] & ~table["near_edge"]
    if method == "aperture":
        good &= ~table["crowded"]
    error = np.asarray(table["mag"])[good] - np.asarray(stars["mag"])[nearest[good]]
    assert good.sum() >= 4 and math.sqrt(np.mean(error ** 2)) < 0.03
    assert np.all(np.isfinite(table["ra"])) and np.nanmedian(table["separation"]) < 0.3


@pytest.mark.slow
def test_without_a_catalogue_magnitudes_stay_instrumental(frame, tmp_path):
    data, header = frame
    table = measure_magnitudes(data, header, None, fwhm=3.8)
    assert math.isnan(table.meta["ZP"]) and np.all(np.isnan(table["mag"])) and np.isfinite(table["mag_inst"]).any()
    out = write_magnitudes(table, tmp_path / "stars.ecsv")
    back = Table.read(out)
    assert len(back) == len(table) and back.meta["METHOD"] == "aperture"
    with pytest.raises(PhotometryError, match="ecsv"):
        write_magnitudes(table, tmp_path / "stars.csv")


def test_measure_magnitudes_bad_input():
    image = np.random.default_rng(0).normal(100.0, 5.0, (64, 64))
    with pytest.raises(PhotometryError, match="EXPTIME"):
        measure_magnitudes(image, None)
    with pytest.raises(PhotometryError, match="method"):
        measure_magnitudes(image, None, exptime=10.0, method="optimal")
    with pytest.raises(PhotometryError, match="No star"):
        measure_magnitudes(image, None, exptime=10.0, fwhm=3.0)

"""The sky (ccdlab.background) and finding stars (ccdlab.sources)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from scipy.spatial import cKDTree

from ccdlab.background import Background, estimate_background
from ccdlab.errors import PhotometryError
from ccdlab.sources import detect_stars, measure_fwhm, positions_of
from photometry_scene import GAIN, SKY_E, scene


@pytest.fixture(scope="module")
def field():
    return scene(seed=2)


def test_background_follows_a_gradient_and_ignores_nan():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:200, :200]
    image = (300.0 + 0.1 * yy + rng.normal(0, 5, (200, 200))).astype(np.float32)
    image[:40, :40] = np.nan
    b = estimate_background(image, box_size=25)
    assert isinstance(b, Background) and np.isnan(b.level[0, 0]) and np.isnan(b.rms[10, 10])
    assert b.level[190, 100] - b.level[60, 100] == pytest.approx(13.0, abs=3)
    assert b.rms_median == pytest.approx(5.0, rel=0.15)
    assert np.nanmedian(b.subtract(image)) == pytest.approx(0.0, abs=1.0)


def test_background_bad_input():
    with pytest.raises(PhotometryError, match="box_size"):
        estimate_background(np.ones((50, 50)), box_size=2)
    with pytest.raises(PhotometryError, match="filter_size"):
        estimate_background(np.ones((50, 50)), filter_size=2)
    with pytest.raises(PhotometryError, match="shape"):
        estimate_background(np.ones((50, 50)), mask=np.zeros((5, 5), bool))
    with pytest.raises(PhotometryError, match="Too few sky pixels"):
        estimate_background(np.where(np.eye(64, dtype=bool), 1.0, np.nan))
    with pytest.raises(PhotometryError):
        estimate_background(np.ones(10))


def test_detect_stars_finds_the_stars_where_they_are(field):
    image, stars, _ = field
    found = detect_stars(image, fwhm=3.5, margin=10)
    distance, _ = cKDTree(np.column_stack([stars["x"], stars["y"]])).query(positions_of(found))
    assert np.mean(distance < 0.5) > 0.95  # no spurious detections to speak of
    bright = stars["mag"] < 19.0
    d_true, _ = cKDTree(positions_of(found)).query(np.column_stack([stars["x"], stars["y"]])[bright])
    assert np.mean(d_true < 0.5) > 0.8  # and the bright stars are found (a few are blends, or at the border)
    assert list(found["flux"]) == sorted(found["flux"], reverse=True)
    assert found.meta["sky"] == pytest.approx(SKY_E / GAIN, rel=0.02)
    assert set(found.colnames) >= {"x", "y", "peak", "flux", "saturated", "near_edge", "clean"}


def test_detect_stars_flags_saturated_and_edge_stars(field):
    image, stars, _ = field
    found = detect_stars(image, fwhm=3.5, saturation=float(np.nanmax(image)) - 1, margin=20)
    assert found["saturated"].sum() >= 1
    x, y = found["x"], found["y"]
    edge = (x < 20) | (y < 20) | (x > image.shape[1] - 21) | (y > image.shape[0] - 21)
    assert np.array_equal(np.asarray(found["near_edge"]), np.asarray(edge))
    masked = image.copy()
    masked[:, 150:] = np.nan
    near_nan = detect_stars(masked, fwhm=3.5, margin=10)
    assert np.all(near_nan["near_edge"][near_nan["x"] > 140])


def test_detect_stars_empty_and_errors():
    flat = np.random.default_rng(1).normal(100.0, 3.0, (80, 80))
    assert len(detect_stars(flat, fwhm=3.0, threshold=50.0)) == 0
    with pytest.raises(PhotometryError, match="no noise"):
        detect_stars(np.full((80, 80), 5.0))
    with pytest.raises(PhotometryError, match="threshold"):
        detect_stars(flat, threshold=-1)


def test_measure_fwhm_of_moffat_stars(field):
    image, stars, _ = field
    fwhm = measure_fwhm(image)
    assert 3.3 < fwhm < 4.6  # a Gaussian fit to a Moffat core reads a little wide
    with pytest.raises(PhotometryError, match="No star"):
        measure_fwhm(image, positions=np.zeros((0, 2)))


def test_positions_of_tables_and_pairs():
    assert positions_of(Table({"x_fit": [1.0], "y_fit": [2.0]})).tolist() == [[1.0, 2.0]]
    assert positions_of([5, 6]).tolist() == [[5.0, 6.0]]
    assert positions_of([]).shape == (0, 2)
    with pytest.raises(PhotometryError, match="no x/y"):
        positions_of(Table({"ra": [1.0]}))
    with pytest.raises(PhotometryError, match="NaN"):
        positions_of([(np.nan, 1.0)])
    with pytest.raises(PhotometryError, match="shape"):
        positions_of(np.zeros((3, 3)))

"""PSF photometry with an ePSF built from the frame (ccdlab.psf)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from ccdlab.aperture import measure_apertures
from ccdlab.errors import PhotometryError
from ccdlab.psf import build_psf, psf_photometry, psf_stars
from ccdlab.sources import detect_stars
from photometry_scene import GAIN, READNOISE, scene


@pytest.fixture(scope="module")
def field():
    image, stars, _ = scene(seed=5, n=80)
    found = detect_stars(image, fwhm=3.5, margin=10)
    return image, stars, found


def test_psf_stars_are_bright_and_isolated(field):
    _, _, found = field
    chosen = psf_stars(found, size=21)
    assert 3 <= len(chosen) <= 40 and np.all(chosen["clean"])
    others = np.column_stack([found["x"], found["y"]])
    for x, y in zip(chosen["x"], chosen["y"]):
        distance = np.hypot(others[:, 0] - x, others[:, 1] - y)
        assert np.sort(distance)[1] > 21


def test_psf_fluxes_are_the_true_fluxes_and_beat_apertures_on_faint_stars(field):
    image, stars, found = field
    model = build_psf(image, psf_stars(found))
    xy = np.column_stack([stars["x"], stars["y"]])
    fitted = psf_photometry(image, model, xy, gain=GAIN, readnoise=READNOISE)
    assert len(fitted) == len(stars)
    ratio = np.asarray(fitted["flux"]) / np.asarray(stars["flux_adu"])
    bright = stars["mag"] < 17.5
    assert np.nanmedian(ratio[bright]) == pytest.approx(0.98, abs=0.03)  # the model holds ~98 % of the light
    assert np.nanmedian(np.hypot(fitted["x"] - stars["x"], fitted["y"] - stars["y"])[bright]) < 0.1
    faint = (stars["mag"] > 19.0)
    apertures = measure_apertures(image, xy, 6.0, (10, 15), GAIN, READNOISE)
    ap_ratio = np.asarray(apertures["flux"]) / np.asarray(stars["flux_adu"])
    assert np.nanstd(ratio[faint]) < np.nanstd(ap_ratio[faint])
    pulls = (ratio - np.nanmedian(ratio[bright])) * np.asarray(stars["flux_adu"]) / np.asarray(fitted["flux_err"])
    assert 0.5 < np.nanstd(pulls[faint]) < 2.0


def test_psf_photometry_edges_and_errors(field):
    image, _, found = field
    model = build_psf(image, psf_stars(found))
    table = psf_photometry(image, model, [(1.0, 1.0), (150.0, 150.0)])
    assert table["flags"][0] == -1 and np.isnan(table["flux"][0])
    assert len(psf_photometry(image, model, np.zeros((0, 2)))) == 0
    with pytest.raises(PhotometryError, match="fit_shape"):
        psf_photometry(image, model, [(50, 50)], fit_shape=4)
    with pytest.raises(PhotometryError, match="at least 3"):
        build_psf(image, [(50.0, 50.0)])
    with pytest.raises(PhotometryError, match="odd"):
        build_psf(image, Table({"x": [50.0], "y": [50.0]}), size=20)

"""Aperture photometry with a sky annulus, its uncertainties, and the aperture correction (ccdlab.aperture);
magnitudes, the zero point and the limiting magnitude (ccdlab.zeropoint)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ccdlab.aperture import aperture_correction, measure_apertures
from ccdlab.data.simulate.catalog import moffat_encircled
from ccdlab.errors import PhotometryError, PhotometryWarning
from ccdlab.photometry import empty_aperture_noise
from ccdlab.zeropoint import ZeroPoint, fit_zero_point, instrumental_magnitude, limiting_magnitude
from photometry_scene import EXPTIME, GAIN, READNOISE, ZERO_POINT, scene


@pytest.fixture(scope="module")
def field():
    return scene(seed=3)


def test_fluxes_are_the_true_fluxes_times_the_encircled_light(field):
    image, stars, _ = field
    table = measure_apertures(image, stars, radius=6.0, annulus=(10, 15), gain=GAIN, readnoise=READNOISE)
    ratio = np.asarray(table["flux"]) / np.asarray(stars["flux_adu"])
    good = (stars["mag"] < 17.5) & ~table["crowded"] & np.isfinite(ratio)
    assert np.median(ratio[good]) == pytest.approx(moffat_encircled(6.0, 3.5), abs=0.01)
    pulls = (np.asarray(table["flux"]) - moffat_encircled(6.0, 3.5) * np.asarray(stars["flux_adu"])) / table["flux_err"]
    assert 0.7 < np.nanstd(pulls[~table["crowded"]]) < 1.4  # the uncertainties are honest
    assert np.all(table["snr"][good] > 20)


def test_without_the_annulus_the_sky_is_counted_as_starlight(field):
    image, stars, _ = field
    table = measure_apertures(image, stars[:5], radius=6.0)
    assert np.all(table["sky"] == pytest.approx(1500.0 / GAIN, rel=0.02))
    assert table["area"][0] == pytest.approx(math.pi * 36)


def test_apertures_off_the_frame_or_on_nan_are_nan(field):
    image, _, _ = field
    masked = image.copy()
    masked[100:110, 100:110] = np.nan
    table = measure_apertures(masked, [(2.0, 50.0), (104.0, 104.0), (200.0, 200.0)])
    assert np.isnan(table["flux"][0]) and np.isnan(table["flux"][1]) and np.isfinite(table["flux"][2])
    assert len(measure_apertures(image, np.zeros((0, 2)))) == 0


def test_aperture_bad_input(field):
    image, _, _ = field
    with pytest.raises(PhotometryError, match="r_in"):
        measure_apertures(image, [(50, 50)], radius=8, annulus=(6, 10))
    with pytest.raises(PhotometryError, match="gain"):
        measure_apertures(image, [(50, 50)], gain=0)
    with pytest.raises(PhotometryError, match="pair"):
        measure_apertures(image, [(50, 50)], annulus=5)


def test_aperture_correction_recovers_the_lost_wings(field):
    image, stars, _ = field
    order = np.argsort(stars["mag"])
    correction, error, n = aperture_correction(image, np.column_stack([stars["x"], stars["y"]])[order], radius=6.0,
                                               min_snr=50, gain=GAIN, readnoise=READNOISE)
    expected = 2.5 * np.log10(moffat_encircled(6.0, 3.5) / moffat_encircled(18.0, 3.5))
    assert correction == pytest.approx(expected, abs=0.03) and 0 < error < 0.03 and n >= 2  # three stars: noisy
    with pytest.raises(PhotometryError, match="larger"):
        aperture_correction(image, stars, radius=6.0, large_radius=5.0)
    with pytest.raises(PhotometryError, match="S/N"):
        aperture_correction(image, stars, radius=6.0, min_snr=1e9)


def test_instrumental_magnitudes():
    mag, err = instrumental_magnitude([100.0, 0.0, -5.0], 10.0, [1.0, 1.0, 1.0])
    assert mag[0] == pytest.approx(-2.5) and np.isnan(mag[1]) and np.isnan(mag[2])
    assert err[0] == pytest.approx(1.0857 / 100, rel=1e-3)
    with pytest.raises(PhotometryError, match="exptime"):
        instrumental_magnitude(1.0, exptime=0)
    with pytest.raises(PhotometryError, match="numbers"):
        instrumental_magnitude("bright")


def test_zero_point_of_the_scene(field):
    image, stars, _ = field
    table = measure_apertures(image, stars, gain=GAIN, readnoise=READNOISE)
    order = np.argsort(stars["mag"])
    correction, _, _ = aperture_correction(image, np.column_stack([stars["x"], stars["y"]])[order], 6.0, min_snr=50)
    mag = instrumental_magnitude(table["flux"], EXPTIME) + correction
    use = ~table["crowded"] & (table["snr"] > 20)
    zp = fit_zero_point(stars["mag"][use], mag[use])
    assert isinstance(zp, ZeroPoint) and zp.value == pytest.approx(ZERO_POINT, abs=0.02)
    assert zp.n_used + zp.n_rejected == use.sum() and zp.used.sum() == zp.n_used


def test_zero_point_clips_outliers_and_complains():
    catalog = np.linspace(14, 19, 50)
    instrumental = catalog - 23.0
    instrumental[:5] += 2.0
    zp = fit_zero_point(catalog, instrumental)
    assert zp.value == pytest.approx(23.0) and zp.n_rejected == 5 and not zp.used[:5].any()
    with pytest.warns(PhotometryWarning, match="only 4"):
        fit_zero_point([1, 2, 3, 4], [0, 1, 2, 3])
    with pytest.raises(PhotometryError, match="at least 3"):
        fit_zero_point([1, np.nan], [0, 0])
    with pytest.raises(PhotometryError, match="same stars"):
        fit_zero_point([1, 2, 3], [1, 2])


def test_limiting_magnitude_from_empty_sky(field):
    image, _, _ = field
    noise = empty_aperture_noise(image, 6.0, (10, 15))
    sky_e = 1500.0
    predicted = math.sqrt(math.pi * 36 * (1 + math.pi / 2 * 36 / 125) * (sky_e + READNOISE ** 2)) / GAIN
    assert noise == pytest.approx(predicted, rel=0.2)
    limit = limiting_magnitude(ZERO_POINT, noise, EXPTIME, 5.0)
    assert limit - limiting_magnitude(ZERO_POINT, noise, EXPTIME, 3.0) == pytest.approx(-2.5 * math.log10(5 / 3))
    assert limiting_magnitude(ZERO_POINT, noise, EXPTIME, aperture_correction=-0.07) == pytest.approx(limit - 0.07)
    with pytest.raises(PhotometryError, match="noise"):
        limiting_magnitude(ZERO_POINT, 0.0)

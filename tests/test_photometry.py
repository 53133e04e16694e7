"""Tests for ccdlab.photometry: finding stars, aperture S/N, empty-aperture noise, median efficiency.

The noise model is checked against the truth: a grid of identical stars, each with its own
noise, is measured, and the scatter of the measured fluxes must match the predicted noise.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from astropy.table import Table

import ccdlab.photometry as photometry_module
from ccdlab.photometry import (
    DEFAULT_SATURATION,
    PhotometryError,
    aperture_snr,
    effective_frames,
    empty_aperture_noise,
    find_stars,
    snr_gain,
)

GAIN, READNOISE, SKY_E, FWHM = 1.6, 14.0, 1500.0, 3.5
CELL = 60  # pixels between the stars of the grid (room for empty apertures between them)
GRID = 12  # stars per side
STAR_AT = (29.3, 30.6)  # where the star sits in its cell


def gaussian(shape, x, y, total, fwhm=FWHM):
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    sigma = fwhm / 2.3548
    return total / (2 * np.pi * sigma**2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))


def star_grid(n_frames: int, flux_e: float, seed: int = 0):
    """``n_frames`` noisy frames (ADU) of a GRID x GRID grid of identical stars, and the positions."""
    rng = np.random.default_rng(seed)
    cell = SKY_E + gaussian((CELL, CELL), STAR_AT[0], STAR_AT[1], flux_e)
    electrons = np.tile(cell, (GRID, GRID))
    frames = [((rng.poisson(electrons) + rng.normal(0.0, READNOISE, electrons.shape)) / GAIN).astype(np.float32)
              for _ in range(n_frames)]
    positions = np.array([(STAR_AT[0] + CELL * i, STAR_AT[1] + CELL * j) for j in range(GRID) for i in range(GRID)])
    return frames, positions


def noisy_field(seed: int = 0, shape=(200, 200)):
    """A sky of 1500 e- with read noise, in ADU, and a few stars (x, y, electrons)."""
    rng = np.random.default_rng(seed)
    stars = [(60.4, 70.2, 2.0e5), (140.7, 60.9, 8.0e4), (100.2, 140.6, 3.0e4), (150.3, 150.1, 1.2e5)]
    electrons = np.full(shape, SKY_E)
    for x, y, f in stars:
        electrons = electrons + gaussian(shape, x, y, f)
    data = (rng.poisson(electrons) + rng.normal(0.0, READNOISE, shape)) / GAIN
    return data.astype(np.float32), stars


# --------------------------------------------------------------------------------------------
# effective_frames
# --------------------------------------------------------------------------------------------

def test_effective_frames_of_a_mean_and_a_median():
    assert effective_frames(4) == 4.0 and effective_frames(7, "mean") == 7.0
    assert effective_frames(1, "median") == pytest.approx(1.0, abs=1e-9)
    assert effective_frames(2, "median") == pytest.approx(2.0, abs=1e-9)  # a median of 2 is their mean
    assert effective_frames(3, "median") == pytest.approx(2.2288, abs=2e-4)
    assert effective_frames(4, "median") == pytest.approx(3.3535, abs=2e-4)
    for n in (50, 500, 5000):
        assert effective_frames(n, "median") == pytest.approx(2 * n / math.pi, rel=0.03)
    values = effective_frames(np.array([[0, 1], [4, 4]]), "median")
    assert np.isnan(values[0, 0]) and values[1, 1] == pytest.approx(3.3535, abs=2e-4)


@pytest.mark.parametrize("n", [5, 6])
def test_effective_frames_of_a_median_match_a_simulation(n):
    rng = np.random.default_rng(n)
    medians = np.median(rng.standard_normal((200_000, n)), axis=1)
    assert effective_frames(n, "median") == pytest.approx(1.0 / medians.var(), rel=0.015)


def test_effective_frames_bad_inputs():
    with pytest.raises(PhotometryError, match="Unknown stacking method 'sum'"):
        effective_frames(4, "sum")
    for bad in (-1, 2.5, np.nan, "four"):
        with pytest.raises(PhotometryError, match="whole numbers of frames"):
            effective_frames(bad)


# --------------------------------------------------------------------------------------------
# aperture_snr: the noise model against the truth
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("flux_e", [2.0e4, 3.0e5])  # sky-limited, then source-limited
def test_predicted_noise_matches_the_scatter_of_measured_fluxes(flux_e):
    frames, positions = star_grid(4, flux_e)
    scatter, predicted = {}, {}
    cases = {"single": (frames[0], 1, "mean"), "mean": (np.mean(frames, axis=0), 4, "mean"),
             "median": (np.median(frames, axis=0), 4, "median")}
    for name, (image, n, method) in cases.items():
        table = aperture_snr(image, positions, gain=GAIN, readnoise=READNOISE, n_frames=n, stack_method=method)
        assert np.isfinite(table["snr"]).all()
        assert np.mean(table["flux"]) == pytest.approx(flux_e / GAIN, rel=0.01)
        assert np.median(table["background"]) == pytest.approx(SKY_E / GAIN, rel=0.01)
        scatter[name] = float(np.std(table["flux"], ddof=1))
        predicted[name] = float(np.median(table["noise"]))
        assert scatter[name] == pytest.approx(predicted[name], rel=0.15), name
        assert np.allclose(table["snr"], table["flux"] / table["noise"])
    assert predicted["single"] / predicted["mean"] == pytest.approx(2.0, rel=0.02)
    assert predicted["single"] / predicted["median"] == pytest.approx(math.sqrt(3.3535), rel=0.02)
    assert scatter["median"] > scatter["mean"]


def test_measured_background_noise_replaces_the_sky_terms():
    frames, positions = star_grid(1, 2.0e4, seed=4)
    image = frames[0]
    ccd = aperture_snr(image, positions)
    measured = aperture_snr(image, positions, background_noise="measure")
    assert measured.meta["background_noise"] > 0
    assert measured.meta["noise_model"] == "CCD equation, measured background"
    np.testing.assert_allclose(measured["flux"], ccd["flux"])
    # the measured sky noise agrees with the CCD equation's sky terms for a plain frame
    assert np.median(measured["noise"]) == pytest.approx(np.median(ccd["noise"]), rel=0.1)
    given = aperture_snr(image, positions, background_noise=measured.meta["background_noise"])
    np.testing.assert_allclose(given["noise"], measured["noise"])
    sky_only = aperture_snr(image, positions, background_noise=100.0, gain=1.0)
    expected = np.sqrt(np.clip(sky_only["flux"], 0, None) + 100.0**2)
    np.testing.assert_allclose(sky_only["noise"], expected, rtol=1e-6)


def test_coverage_map_sets_the_frames_at_each_star():
    frames, positions = star_grid(1, 2.0e4)
    coverage = np.full(frames[0].shape, 4, dtype=np.int16)
    coverage[:, : CELL * 5] = 2  # the first five columns of stars rest on 2 frames
    table = aperture_snr(frames[0], positions, n_frames=coverage)
    left = positions[:, 0] < CELL * 5
    assert set(table["n_frames"][left]) == {2} and set(table["n_frames"][~left]) == {4}
    one = aperture_snr(frames[0], positions)
    np.testing.assert_allclose(one["noise"][left] / table["noise"][left], math.sqrt(2))
    np.testing.assert_allclose(one["noise"][~left] / table["noise"][~left], 2.0)
    with pytest.raises(PhotometryError, match="coverage map of the image's shape"):
        aperture_snr(frames[0], positions, n_frames=coverage[:10])


def test_apertures_off_the_image_or_over_nan_give_nan():
    image, stars = noisy_field()
    image[130:136, 95:100] = np.nan  # a hole in the aperture of the third star
    positions = [(x, y) for x, y, _ in stars] + [(2.0, 100.0)]
    table = aperture_snr(image, positions)
    assert np.isnan(table["flux"][2]) and np.isnan(table["snr"][2])
    assert np.isnan(table["flux"][4])  # runs off the left edge
    assert np.isfinite(table["snr"][[0, 1, 3]]).all()
    assert table["flux"][0] == pytest.approx(2.0e5 / GAIN, rel=0.02)


def test_positions_from_tables_and_pairs():
    image, stars = noisy_field()
    xy = [(x, y) for x, y, _ in stars]
    reference = aperture_snr(image, xy)
    for table in (Table({"x": [p[0] for p in xy], "y": [p[1] for p in xy]}),
                  Table({"x_centroid": [p[0] for p in xy], "y_centroid": [p[1] for p in xy]}),
                  Table({"xcentroid": [p[0] for p in xy], "ycentroid": [p[1] for p in xy]})):
        np.testing.assert_allclose(aperture_snr(image, table)["flux"], reference["flux"])
    one = aperture_snr(image, xy[0])
    assert len(one) == 1 and one["flux"][0] == pytest.approx(reference["flux"][0])
    assert reference.colnames == ["x", "y", "flux", "background", "noise", "snr", "n_frames"]


def test_aperture_snr_bad_inputs():
    image, stars = noisy_field()
    xy = [(x, y) for x, y, _ in stars]
    cases = [
        (dict(data=np.zeros(10), positions=xy), "must be a 2-D image"),
        (dict(data=np.full((20, 20), np.nan), positions=xy), "no valid pixels"),
        (dict(data=image, positions=[]), "No positions to measure"),
        (dict(data=image, positions=[(1.0, 2.0, 3.0)]), "shape \\(n, 2\\)"),
        (dict(data=image, positions=[(np.nan, 2.0)]), "NaN or infinite"),
        (dict(data=image, positions=Table({"ra": [1.0]})), "no x/y columns"),
        (dict(data=image, positions=xy, radius=12.0), "0 < radius <= r_in < r_out"),
        (dict(data=image, positions=xy, annulus=(15.0, 10.0)), "0 < radius <= r_in < r_out"),
        (dict(data=image, positions=xy, annulus=5.0), "annulus a pair"),
        (dict(data=image, positions=xy, gain=0.0), "gain must be a positive number"),
        (dict(data=image, positions=xy, readnoise=-1.0), "readnoise must be zero or a positive number"),
        (dict(data=image, positions=xy, stack_method="sum"), "Unknown stack_method 'sum'"),
        (dict(data=image, positions=xy, background_noise="guess"), "background_noise must be None"),
        (dict(data=image, positions=xy, background_noise=-3.0), "background_noise must be a positive"),
        (dict(data=image, positions=xy, n_frames=1.5), "whole numbers of frames"),
    ]
    for kwargs, message in cases:
        with pytest.raises(PhotometryError, match=message):
            aperture_snr(**kwargs)
    with pytest.raises(PhotometryError, match="positions must be"):
        aperture_snr(image, object())


# --------------------------------------------------------------------------------------------
# find_stars
# --------------------------------------------------------------------------------------------

def test_find_stars_finds_the_planted_stars_brightest_first():
    image, stars = noisy_field()
    found = find_stars(image, fwhm=FWHM)
    assert len(found) == 4
    assert list(found.colnames) == ["x", "y", "peak", "flux"]
    truth = sorted(stars, key=lambda s: -s[2])
    for row, (x, y, _) in zip(found, truth):
        assert abs(row["x"] - x) < 0.2 and abs(row["y"] - y) < 0.2
    assert found.meta["sky"] == pytest.approx(SKY_E / GAIN, rel=0.01)
    assert len(find_stars(image, n_brightest=2)) == 2
    assert len(find_stars(image, n_brightest=None)) == 4


def test_find_stars_leaves_out_saturated_stars_and_stars_near_nan_or_edges():
    image, stars = noisy_field()
    image += gaussian(image.shape, 40.0, 150.0, 5.0e6 / GAIN).astype(np.float32)  # saturated
    image = np.minimum(image, 60000.0)
    image[:48, 120:] = np.nan  # a vignetted corner 13 px from the star at (140.7, 60.9)
    image += gaussian(image.shape, 8.0, 100.0, 1.0e5 / GAIN).astype(np.float32)  # at the edge
    found = find_stars(image)
    xy = [(round(float(x)), round(float(y))) for x, y in zip(found["x"], found["y"])]
    assert (40, 150) not in xy and (141, 61) not in xy and (8, 100) not in xy
    assert sorted(xy) == [(60, 70), (100, 141), (150, 150)]
    with_saturated = find_stars(image, exclude_saturated=False)
    assert (40, 150) in [(round(float(x)), round(float(y))) for x, y in zip(with_saturated["x"], with_saturated["y"])]
    closer = find_stars(image, margin=5)
    assert len(closer) > len(found)
    assert DEFAULT_SATURATION == pytest.approx(54000.0)


def test_find_stars_bad_inputs():
    rng = np.random.default_rng(1)
    sky = rng.normal(100.0, 5.0, (100, 100))
    with pytest.raises(PhotometryError, match="No stars found 5 sigma above the sky"):
        find_stars(sky)
    with pytest.raises(PhotometryError, match="has no noise"):
        find_stars(np.full((50, 50), 7.0))
    with pytest.raises(PhotometryError, match="no valid pixels"):
        find_stars(np.full((50, 50), np.nan))
    with pytest.raises(PhotometryError, match="n_brightest must be a whole number"):
        find_stars(sky, n_brightest=0)
    with pytest.raises(PhotometryError, match="fwhm must be a positive number"):
        find_stars(sky, fwhm=-2)
    with pytest.raises(PhotometryError, match="threshold_sigma must be a positive number"):
        find_stars(sky, threshold_sigma="five")
    image, _ = noisy_field()
    with pytest.raises(PhotometryError, match="No unsaturated stars found.*raise saturation"):
        find_stars(image, saturation=500.0)


# --------------------------------------------------------------------------------------------
# empty_aperture_noise and snr_gain
# --------------------------------------------------------------------------------------------

def test_empty_aperture_noise_of_pure_noise():
    sigma = 10.0
    sky = np.random.default_rng(2).normal(100.0, sigma, (300, 300))
    area = math.pi * 6.0**2
    sky_pixels = math.pi * (15.0**2 - 10.0**2)
    expected = sigma * math.sqrt(area * (1 + math.pi / 2 * area / sky_pixels))
    assert empty_aperture_noise(sky) == pytest.approx(expected, rel=0.1)
    assert empty_aperture_noise(sky, seed=5) == pytest.approx(expected, rel=0.1)
    assert empty_aperture_noise(sky) == empty_aperture_noise(sky)  # repeatable


def test_empty_aperture_noise_places_can_come_from_another_image():
    rng = np.random.default_rng(3)
    a = rng.normal(100.0, 10.0, (300, 300))
    b = rng.normal(100.0, 10.0, (300, 300))
    deep = a.copy()
    deep[:, 150:] = np.nan  # only the left half is allowed
    left_only = empty_aperture_noise(b, detect_on=deep)
    b_left = b.copy()
    b_left[:, 150:] = np.nan
    assert left_only == pytest.approx(empty_aperture_noise(b_left, detect_on=deep))
    with pytest.raises(PhotometryError, match=r"detect_on has shape \(10, 300\)"):
        empty_aperture_noise(b, detect_on=deep[:10])


def test_empty_aperture_noise_bad_inputs():
    sky = np.random.default_rng(2).normal(100.0, 10.0, (100, 100))
    with pytest.raises(PhotometryError, match="n_apertures must be a whole number of at least 30"):
        empty_aperture_noise(sky, n_apertures=10)
    with pytest.raises(PhotometryError, match="detect_sigma must be a positive"):
        empty_aperture_noise(sky, detect_sigma=0)
    small = np.full((100, 100), np.nan)
    small[:36, :36] = sky[:36, :36]
    with pytest.raises(PhotometryError, match="Too little empty sky"):
        empty_aperture_noise(small)


def test_snr_gain_compares_one_frame_with_the_stack():
    frames, positions = star_grid(4, 5.0e4, seed=7)
    for method, image in (("mean", np.mean(frames, axis=0)), ("median", np.median(frames, axis=0))):
        table = snr_gain(frames[0], image, positions[:20], n_frames=4, stack_method=method)
        expected = math.sqrt(effective_frames(4, method))
        assert np.allclose(table["expected_gain"], expected)
        assert float(np.median(table["snr_gain"])) == pytest.approx(expected, rel=0.15)
        np.testing.assert_allclose(table["snr_gain"], table["snr_stack"] / table["snr_single"])
        assert table.meta["background_noise_single"] > table.meta["background_noise_stack"] > 0
    model = snr_gain(frames[0], np.mean(frames, axis=0), positions[:5], n_frames=4, stack_method="mean",
                     background_noise=None)
    assert model.meta["noise_model"] == "CCD equation"
    assert float(np.median(model["snr_gain"])) == pytest.approx(2.0, rel=0.05)


def test_snr_gain_bad_inputs():
    frames, positions = star_grid(2, 5.0e4)
    with pytest.raises(PhotometryError, match="must share one pixel grid"):
        snr_gain(frames[0], frames[1][:100], positions, n_frames=2)
    with pytest.raises(PhotometryError, match="background_noise must be 'measure' or None"):
        snr_gain(frames[0], frames[1], positions, n_frames=2, background_noise=3.0)
    with pytest.raises(PhotometryError, match="stack must be a 2-D image"):
        snr_gain(frames[0], np.stack(frames), positions, n_frames=2)


def test_module_examples_run():
    result = doctest.testmod(photometry_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_empty_aperture_noise_is_measured_once_per_image_and_parameters(monkeypatch):
    """The notebook and its check measure the same image the same way: the second gets the first's number."""
    import ccdlab.photometry as module

    calls = []
    real = module._empty_aperture_noise
    monkeypatch.setattr(module, "_empty_aperture_noise", lambda *args: calls.append(1) or real(*args))
    sky = np.random.default_rng(7).normal(100.0, 10.0, (200, 200))
    first = module.empty_aperture_noise(sky, radius=4.0, annulus=(6.0, 10.0))
    assert module.empty_aperture_noise(sky.copy(), radius=4.0, annulus=(6.0, 10.0)) == first and len(calls) == 1
    changed = sky.copy()
    changed[50, 50] += 1.0
    module.empty_aperture_noise(changed, radius=4.0, annulus=(6.0, 10.0))
    module.empty_aperture_noise(sky, radius=4.0, annulus=(6.0, 10.0), seed=1)
    module.empty_aperture_noise(sky, radius=5.0, annulus=(6.0, 10.0))
    module.empty_aperture_noise(sky, radius=4.0, annulus=(6.0, 10.0), detect_on=changed)
    assert len(calls) == 5

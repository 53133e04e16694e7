"""Tests of the synthetic night (ccdlab.data.simulate and its simulate_* helpers), on the tiny size."""

from __future__ import annotations

import doctest
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.wcs import WCS

from ccdlab import inventory
from ccdlab.data import manifest, simulate
from ccdlab.data.simulate import cosmic_rays as simulate_cosmics, detector as simulate_detector, sky as simulate_sky
from ccdlab.data.simulate import SIZES, make_night, night_plan, rts2_header

TINY = SIZES["tiny"]


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Path:
    return make_night(tmp_path_factory.mktemp("night") / "data", size="tiny", progress=False)


@pytest.fixture(scope="module")
def truth(night) -> dict:
    return json.loads((night / "truth" / "truth.json").read_text())


def frames(night: Path, folder: str) -> list[Path]:
    return sorted((night / folder).glob("*.fits"))


# --- presets and plan -------------------------------------------------------------------------


def test_sizes_are_the_camera_and_its_halvings():
    assert SIZES == {"tiny": (514, 512), "workshop": (2054, 2048), "full": (4108, 4096)}


def test_night_plan_lists_the_frames_in_time_order():
    plan = night_plan("tiny")
    kinds = [f["kind"] for f in plan]
    assert kinds.count("bias") == 5 and kinds.count("flat") == 6 and kinds.count("science") == 4
    times = [datetime.fromisoformat(f["date_obs"]) for f in plan]
    assert times == sorted(times)
    assert all(t.date().isoformat() == "2018-10-13" for t in times)
    names = [f["name"] for f in plan]
    assert len(set(names)) == len(names)
    assert "C0_20181013-130440-460.fits" in names
    assert all(f["name"].endswith(".wcs.fits") == (f["kind"] == "science") for f in plan)
    assert sum(not f["usable"] for f in plan if f["kind"] == "flat") == 1


def test_night_plan_depends_on_seed_only():
    assert night_plan("tiny", 5) == night_plan("workshop", 5)
    assert night_plan("tiny", 5) != night_plan("tiny", 6)


def test_night_plan_rejects_unknown_size():
    with pytest.raises(ValueError, match="Unknown size 'huge'"):
        night_plan("huge")


def test_rts2_header_has_the_real_quirks():
    plan = night_plan("tiny")
    bias = next(f for f in plan if f["kind"] == "bias")
    header = rts2_header(bias, TINY)
    assert header["IMAGETYP"] == "dark" and header["EXPTIME"] == 0.001
    assert "CCD_TEMP" in header and "CCD-TEMP" not in header and "BUNIT" not in header
    assert header["GAIN"] == pytest.approx(-9.1e-36)
    assert (header["ALTITUDE"], header["LATITUDE"], header["LONGITUD"]) == (4500.0, 32.2, 78.9)
    science = next(f for f in plan if f["kind"] == "science")
    header = rts2_header(science, TINY)
    assert header["CTYPE1"] == "RA---TAN" and 1.0 <= header["AIRMASS"] < 1.2


# --- the written night ------------------------------------------------------------------------


def test_layout_and_counts(night):
    assert sorted(p.name for p in night.iterdir()) == ["bias", "catalog", "detector", "flats", "manifest.json", "science", "truth"]
    assert len(frames(night, "bias")) == 5
    assert len(frames(night, "flats")) == 6
    assert len(list((night / "science").glob("*.wcs.fits"))) == 4
    assert not list(night.glob(".ccdlab-*")), "no staging folder or marker is left behind"


def test_frames_are_uint16_with_bzero(night):
    for path in frames(night, "bias") + frames(night, "science"):
        with fits.open(path, do_not_scale_image_data=True) as hdul:
            header = hdul[0].header
            assert header["BITPIX"] == 16 and header["BZERO"] == 32768
            assert (header["NAXIS1"], header["NAXIS2"]) == (512, 514)
        assert fits.getdata(path).dtype == np.uint16


def test_inventory_types_every_frame_correctly(night):
    table = inventory.scan(night)
    by_type = {t: sum(table["frame_type"] == t) for t in ("bias", "flat", "science", "unknown")}
    assert by_type == {"bias": 5, "flat": 6, "science": 4, "unknown": 0}
    assert set(table["filter"]) == {"UNK"}


def test_bias_level_and_noise(night, truth):
    data = fits.getdata(frames(night, "bias")[0]).astype(float)
    assert np.median(data) == pytest.approx(270, abs=2)
    assert 9.0 < np.std(data) < 13.0
    assert truth["read_noise_adu"] == pytest.approx(8.75)
    # the fixed pattern cancels in the difference of two frames, not in one frame (lesson 03, 3.3)
    second = fits.getdata(frames(night, "bias")[1]).astype(float)
    from_pair = sigma_clipped_stats(data - second)[2] / np.sqrt(2)
    assert from_pair == pytest.approx(truth["read_noise_adu"], rel=0.03)
    assert sigma_clipped_stats(data)[2] > 1.12 * from_pair
    master = fits.getdata(night / "truth" / "master_bias.fits")
    assert master.dtype == np.dtype(">f4") and np.median(master) == pytest.approx(270, abs=1)
    for x, y in truth["hot_pixels_xy"]:
        assert master[y, x] > 500


def test_flats_levels_and_the_unusable_one(night, truth):
    medians = {p.name: float(np.median(fits.getdata(p))) for p in frames(night, "flats")}
    bad = truth["unusable_flats"]
    assert len(bad) == 1 and medians[bad[0]] > 60000
    good = sorted(v for k, v in medians.items() if k not in bad)
    assert good[0] == pytest.approx(15000, rel=0.03) and good[-1] == pytest.approx(21000, rel=0.03)


def test_true_flat_features(night, truth):
    flat = fits.getdata(night / "truth" / "true_flat.fits").astype(float)
    ny, nx = flat.shape
    assert np.median(flat[ny // 4 : ny - ny // 4, nx // 4 : nx - nx // 4]) == pytest.approx(1.0, abs=1e-4)
    assert max(flat[0, 0], flat[0, -1], flat[-1, 0], flat[-1, -1]) < 0.5, "corners fall well below 0.8"
    x_bad = truth["flat_field"]["bad_column"]["x"]
    assert x_bad == 87
    rows = slice(ny // 3, 2 * ny // 3)
    assert np.median(flat[rows, x_bad]) < 0.7 * np.median(flat[rows, x_bad + 3])
    assert 2 <= len(truth["flat_field"]["donuts"]) <= 3


def test_bad_column_shows_in_the_raw_flats(night, truth):
    data = fits.getdata(frames(night, "flats")[2]).astype(float)
    ny = data.shape[0]
    x_bad = truth["flat_field"]["bad_column"]["x"]
    rows = slice(ny // 3, 2 * ny // 3)
    assert np.median(data[rows, x_bad]) < 0.7 * np.median(data[rows, x_bad + 3])


def test_science_frames_have_stars_saturation_and_wcs(night, truth):
    stars = Table.read(night / "truth" / "stars.ecsv")
    assert {"x", "y", "ra", "dec", "flux", "mag", "saturated"} <= set(stars.colnames)
    assert stars["saturated"].sum() >= 2
    for path in sorted((night / "science").glob("*.wcs.fits")):
        data = fits.getdata(path).astype(float)
        header = fits.getheader(path)
        assert data.max() > 60000, "saturated stars reach the full well"
        dx, dy = truth["dithers"][path.name]
        assert abs(dx) <= 8 and abs(dy) <= 8
        wcs = WCS(header)
        ra, dec = wcs.pixel_to_world_values(np.asarray(stars["x"]) + dx, np.asarray(stars["y"]) + dy)
        assert np.allclose(ra, stars["ra"], atol=1e-7) and np.allclose(dec, stars["dec"], atol=1e-7)
        # the brightest star really is where the truth puts it
        brightest = stars[np.argmax(stars["flux"])]
        x, y = int(round(brightest["x"] + dx)), int(round(brightest["y"] + dy))
        assert data[y, x] > 50000


def test_cosmic_ray_masks(night, truth):
    for name, entry in truth["frames"].items():
        if entry["kind"] != "science":
            continue
        path = night / "truth" / entry["cosmic_ray_mask"]
        assert path.name == name.replace(".wcs.fits", ".crmask.fits")
        mask = fits.getdata(path)
        assert mask.dtype == np.uint8 and mask.shape == TINY
        assert int(mask.sum()) == entry["cosmic_ray_pixels"] > 0
        data = fits.getdata(night / "science" / name).astype(float)
        # every hit pixel got at least 250 e- = 156 ADU above its surroundings, well above the sky noise
        assert np.median(data[mask.astype(bool)]) > np.median(data) + 150


def test_truth_json_is_complete(truth):
    for key in (
        "gain_e_per_adu", "read_noise_e", "saturation_e", "bias_level_adu", "dithers", "seed", "size",
        "true_flat", "master_bias", "stars", "frames", "unusable_flats", "flat_field",
    ):
        assert key in truth
    assert truth["gain_e_per_adu"] == 1.6 and truth["read_noise_e"] == 14.0 and truth["saturation_e"] == 96000
    assert truth["size"] == "tiny" and truth["seed"] == simulate.DEFAULT_SEED


def test_manifest_lists_every_file_and_verifies(night):
    listed = manifest.read_manifest(night)
    files = {p.relative_to(night).as_posix() for p in night.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert set(listed["files"]) == files
    assert listed["meta"]["size"] == "tiny" and listed["meta"]["kind"] == "synthetic"
    assert manifest.verify_manifest(night) == []


def test_same_seed_same_bytes_other_seed_other_bytes(night, tmp_path):
    again = make_night(tmp_path / "again", size="tiny", progress=False)
    assert (again / "manifest.json").read_bytes() == (night / "manifest.json").read_bytes()
    other = make_night(tmp_path / "other", size="tiny", seed=7, progress=False)
    assert (other / "manifest.json").read_bytes() != (night / "manifest.json").read_bytes()


def test_existing_dataset_is_not_overwritten(tmp_path):
    dest = make_night(tmp_path / "data", size="tiny", progress=False)
    (dest / "reduced").mkdir()
    (dest / "reduced" / "mine.txt").write_text("keep me")
    before = (dest / "manifest.json").read_bytes()
    with pytest.raises(FileExistsError, match="--force"):
        make_night(dest, size="tiny", seed=3, progress=False)
    assert (dest / "manifest.json").read_bytes() == before
    make_night(dest, size="tiny", seed=3, progress=False, overwrite=True)
    assert (dest / "manifest.json").read_bytes() != before
    assert (dest / "reduced" / "mine.txt").read_text() == "keep me"
    assert manifest.verify_manifest(dest) == []
    assert not list(dest.glob(".ccdlab-*"))


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate.night, "_write_truth", boom)
    with pytest.raises(KeyboardInterrupt):
        make_night(tmp_path / "data", size="tiny", progress=False)
    assert not (tmp_path / "data").exists()
    (tmp_path / "keep").mkdir()
    with pytest.raises(KeyboardInterrupt):
        make_night(tmp_path / "keep", size="tiny", progress=False)
    assert list((tmp_path / "keep").iterdir()) == []


def test_make_night_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="Unknown size"):
        make_night(tmp_path, size="huge", progress=False)
    with pytest.raises(ValueError, match="seed"):
        make_night(tmp_path, size="tiny", seed=-1, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="choose another --dest"):
        make_night(tmp_path / "file", size="tiny", progress=False)


# --- sky helpers ------------------------------------------------------------------------------


def test_moffat_helpers():
    alpha = simulate_sky.moffat_alpha(3.5)
    r = 3.5 / 2
    assert (1 + r * r / alpha**2) ** -3 == pytest.approx(0.5)
    assert simulate_sky.moffat_peak(2.0, 3.5) == pytest.approx(2 * simulate_sky.moffat_peak(1.0, 3.5))
    with pytest.raises(ValueError, match="fwhm > 0"):
        simulate_sky.moffat_alpha(0)
    with pytest.raises(ValueError, match="beta > 1"):
        simulate_sky.moffat_alpha(3.0, beta=1.0)


def test_add_stars_conserves_flux_and_clips_at_edges():
    image = np.zeros((101, 101), dtype=np.float32)
    simulate_sky.add_stars(image, [50.3], [49.6], [1e5], fwhm=3.5)
    assert image.sum() == pytest.approx(1e5, rel=0.02)
    ys, xs = np.unravel_index(np.argmax(image), image.shape)
    assert (ys, xs) == (50, 50)
    edge = np.zeros((32, 32), dtype=np.float32)
    simulate_sky.add_stars(edge, [-2.0, 500.0], [5.0, 5.0], [1e4, 1e4], fwhm=3.0, beta=2.5)
    assert 0 < edge.sum() < 1e4
    with pytest.raises(ValueError, match="same length"):
        simulate_sky.add_stars(image, [1.0, 2.0], [1.0], [1.0], fwhm=3)
    with pytest.raises(ValueError, match="2-D"):
        simulate_sky.add_stars(np.zeros(5), [1.0], [1.0], [1.0], fwhm=3)


def test_star_field_counts_and_errors():
    stars = simulate_sky.star_field(TINY, np.random.default_rng(0), n_saturated=3)
    assert 50 < len(stars) < 200
    assert (stars["mag"] <= 13.5).sum() >= 3
    assert np.all(np.diff(stars["y"]) >= 0)
    with pytest.raises(ValueError, match="at least 8"):
        simulate_sky.star_field((4, 4), np.random.default_rng(0))
    with pytest.raises(ValueError, match="bright to faint"):
        simulate_sky.star_field(TINY, np.random.default_rng(0), mag_range=(20, 12))


def test_sky_background_and_errors():
    sky = simulate_sky.sky_background((10, 20), 100.0, (0.2, 0.0))
    assert sky.mean() == pytest.approx(100.0, rel=1e-5)
    assert sky[0, -1] - sky[0, 0] == pytest.approx(20.0, rel=1e-4)
    with pytest.raises(ValueError, match="positive shape"):
        simulate_sky.sky_background((0, 5), 1.0)


def test_tan_wcs_header_shift_and_errors():
    base = WCS(simulate_sky.tan_wcs_header(TINY, 10.0, 20.0, rotation=1.0))
    moved = WCS(simulate_sky.tan_wcs_header(TINY, 10.0, 20.0, rotation=1.0, shift=(5.0, -3.0)))
    a = base.pixel_to_world_values(100.0, 200.0)
    b = moved.pixel_to_world_values(105.0, 197.0)
    assert np.allclose(a, b)
    scale = np.hypot(*base.wcs.cd[:, 0]) * 3600
    assert scale == pytest.approx(simulate_sky.PIXEL_SCALE)
    with pytest.raises(ValueError, match="Declination"):
        simulate_sky.tan_wcs_header(TINY, 10.0, 95.0)
    with pytest.raises(ValueError, match="pixel scale"):
        simulate_sky.tan_wcs_header(TINY, 10.0, 20.0, scale=0)


def test_star_sky_positions_matches_wcs():
    header = simulate_sky.tan_wcs_header(TINY, 339.75, 33.9)
    ra, dec = simulate_sky.star_sky_positions(Table({"x": [0.0, 511.0], "y": [0.0, 513.0]}), header)
    assert ra[0] > ra[1] and dec[0] < dec[1]  # east is left, north is up


# --- detector helpers -------------------------------------------------------------------------


def test_bad_column_and_central_box():
    assert simulate_detector.bad_column_x(4096) == 700
    assert simulate_detector.central_box((8 * 16, 4 * 16)) == (slice(32, 96), slice(16, 48))
    with pytest.raises(ValueError, match="16 pixels"):
        simulate_detector.bad_column_x(10)
    with pytest.raises(ValueError, match="shape must be"):
        simulate_detector.central_box("big")


def test_bias_pattern_is_a_few_adu():
    bias, hot = simulate_detector.bias_pattern((256, 256), np.random.default_rng(1))
    clean = bias.copy()
    clean[hot[:, 1], hot[:, 0]] = 270
    assert 4.0 < clean.std() < 7.0
    assert clean[:, :64].mean() < clean[:, -64:].mean() - 5  # the gradient across the chip
    assert len(hot) >= 2
    with pytest.raises(ValueError, match="at least 16 x 16"):
        simulate_detector.bias_pattern((8, 8), np.random.default_rng(1))


def test_vignetting_and_errors():
    v = simulate_detector.vignetting((256, 256))
    assert v.max() == pytest.approx(1.0) and v.min() >= 0.25 - 1e-6
    assert (v < 0.8).mean() > 0.1
    with pytest.raises(ValueError, match="inner < outer"):
        simulate_detector.vignetting((256, 256), inner=1.5, outer=1.0)


def test_dust_donuts_and_errors():
    donuts = simulate_detector.dust_donuts((512, 512), np.random.default_rng(0), count=3)
    assert len(donuts) == 3
    assert all(d["r_in"] < d["r_out"] and 0.02 <= d["depth"] <= 0.06 for d in donuts)
    with pytest.raises(ValueError, match="zero or more"):
        simulate_detector.dust_donuts((512, 512), np.random.default_rng(0), count=-1)


def test_flat_field_donut_darkens_its_ring():
    flat, info = simulate_detector.flat_field((512, 512), np.random.default_rng(2), n_donuts=1)
    donut = info["donuts"][0]
    yy, xx = np.mgrid[0:512, 0:512]
    r = np.hypot(xx - donut["x"], yy - donut["y"])
    ring = np.median(flat[(r > donut["r_in"] + 2) & (r < donut["r_out"] - 2)])
    around = np.median(flat[(r > donut["r_out"] + 4) & (r < donut["r_out"] + 12)])
    assert ring == pytest.approx(around * (1 - donut["depth"]), abs=0.004)


def test_bleed_saturation_conserves_charge():
    image = np.full((50, 3), 10.0, dtype=np.float32)
    image[25, 1] = 1000.0
    total = image.sum()
    simulate_detector.bleed_saturation(image, full_well=100.0)
    assert image.max() <= 100.0
    assert image.sum() == pytest.approx(total, rel=0.02)
    assert (image[:, 1] == 100.0).sum() >= 9
    with pytest.raises(ValueError, match="2-D"):
        simulate_detector.bleed_saturation(np.zeros(4))
    with pytest.raises(ValueError, match="positive"):
        simulate_detector.bleed_saturation(image, full_well=0)


# --- cosmic-ray helpers -----------------------------------------------------------------------


def test_expected_events_scales_with_area_and_time():
    one = simulate_cosmics.expected_events((100, 100), 60.0 - simulate_cosmics.READOUT_S)
    assert one == pytest.approx(100 * 100 * (15e-4) ** 2 * 5.0)
    with pytest.raises(ValueError, match="must not be negative"):
        simulate_cosmics.expected_events((10, 10), -1)
    with pytest.raises(ValueError, match="positive"):
        simulate_cosmics.expected_events((0, 10), 1)


def test_cosmic_rays_shapes_and_mask():
    hits = simulate_cosmics.cosmic_rays((512, 512), 3000.0, np.random.default_rng(4))
    assert hits.n_events > 50 and all(hits.kinds[k] > 0 for k in ("spot", "track", "worm"))
    assert hits.charge.min() >= simulate_cosmics.MIN_CHARGE
    assert hits.n_pixels / hits.n_events > 2, "tracks and worms span several pixels"
    mask = simulate_cosmics.cosmic_ray_mask(hits)
    image = np.zeros((512, 512), dtype=np.float32)
    simulate_cosmics.add_cosmic_rays(image, hits)
    assert np.array_equal(image > 0, mask.astype(bool))
    none = simulate_cosmics.cosmic_rays((64, 64), 0.0, np.random.default_rng(0), rate=0.0)
    assert none.n_pixels == 0 and simulate_cosmics.cosmic_ray_mask(none).sum() == 0
    with pytest.raises(ValueError, match="min_charge"):
        simulate_cosmics.cosmic_rays((64, 64), 1.0, np.random.default_rng(0), min_charge=-1)
    with pytest.raises(ValueError, match="drawn for shape"):
        simulate_cosmics.add_cosmic_rays(np.zeros((10, 10), np.float32), hits)


@pytest.mark.parametrize("module", [simulate, simulate_sky, simulate_detector, simulate_cosmics])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

"""The synthetic night's camera test (lesson 08): darks, photon-transfer pairs, the warm camera, and
the guarantee that the frames of lessons 00-07 are the same bytes as before it existed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import astropy
import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import sigma_clipped_stats

from ccdlab import inventory
from ccdlab.data import manifest
from ccdlab.data.simulate import camera_test, make_night, night_plan
from ccdlab.data.simulate.dark_current import dark_current_at, dark_current_map
from ccdlab.data.simulate.photon_transfer import PTC_LEVELS, compress, linearity_limit, ptc_window
from ccdlab.errors import InputError

LEGACY = json.loads((Path(__file__).parent / "data" / "legacy_tiny_night.json").read_text())


def same_versions_as_the_pins() -> bool:
    return np.__version__ == LEGACY["numpy"] and astropy.__version__ == LEGACY["astropy"]


# --- the frames of lessons 00-07 ----------------------------------------------------------------


def test_the_frames_of_lessons_00_to_07_are_the_bytes_made_before_lesson_08(tiny_night):
    # Pinned again when the bias got its fixed pattern for lesson 03 ("made_by" in the pins says when):
    # the camera test still adds frames of its own without changing these.
    if not same_versions_as_the_pins():
        pytest.skip(f"pinned with numpy {LEGACY['numpy']} / astropy {LEGACY['astropy']}; a float's last bit may differ here")
    for name, digest in LEGACY["raw_sha256"].items():
        assert hashlib.sha256((tiny_night / name).read_bytes()).hexdigest() == digest, name


def test_the_inventory_of_the_night_is_what_it_was(tiny_night):
    table = inventory.scan(tiny_night)
    assert sorted(f"{row['frame_type']}:{Path(row['path']).parent.name}/{row['name']}" for row in table) == sorted(
        f"{dict(bias='bias', flats='flat', science='science')[name.split('/')[0]]}:{name}" for name in LEGACY["raw_sha256"])


def test_the_cool_camera_plan_is_the_old_plan():
    plan = night_plan("tiny")
    assert {f["ccd_set"] for f in plan} == {-60.0}
    warm = night_plan("tiny", camera="warm")
    assert [f["name"] for f in warm] == [f["name"] for f in plan]
    assert all(abs(w["ccd_temp"] - c["ccd_temp"] - 50.0) < 0.011 for w, c in zip(warm, plan))


# --- the camera test ----------------------------------------------------------------------------


def test_plan_lists_pairs_bias_and_darks_in_time_order():
    plan = camera_test.camera_test_plan()
    kinds = [f["kind"] for f in plan]
    assert kinds.count("ptc_bias") == 2 and kinds.count("ptc_flat") == 2 * len(PTC_LEVELS) and kinds.count("dark") == 8
    assert [f["date_obs"] for f in plan] == sorted(f["date_obs"] for f in plan)
    flats = [f for f in plan if f["kind"] == "ptc_flat"]
    for first, second in zip(flats[::2], flats[1::2]):
        assert first["pair"] == second["pair"] and first["exptime"] == second["exptime"]
    assert camera_test.camera_test_plan() == camera_test.camera_test_plan()
    warm = camera_test.camera_test_plan(camera="warm")
    assert {f["folder"] for f in warm if f["kind"] == "dark"} == {"darks"}
    assert sorted({f["exptime"] for f in warm if f["kind"] == "dark"}) == [60.0, 300.0]


def test_unknown_camera_is_one_sentence():
    with pytest.raises(InputError, match="Unknown camera 'hot'"):
        camera_test.camera_of("hot")


def test_cool_night_holds_the_camera_test(tiny_night):
    ptc = sorted((tiny_night / "detector" / "ptc").glob("*.fits"))
    darks = sorted((tiny_night / "detector" / "darks").glob("*.fits"))
    assert len(ptc) == 2 + 2 * len(PTC_LEVELS) and len(darks) == 8
    window = ptc_window((514, 512))
    for path in ptc:
        header = fits.getheader(path)
        assert header["DETSEC"] == "[129:384,129:385]" and header["CCD_SET"] == -60.0
        assert fits.getdata(path).shape == (window[0].stop - window[0].start, window[1].stop - window[1].start)
    headers = [fits.getheader(p) for p in darks]
    assert {h["IMAGETYP"] for h in headers} == {"dark"} and sorted({h["EXPTIME"] for h in headers}) == [300.0, 1200.0]
    assert not (tiny_night / "darks").exists(), "the cooled camera's darks are not part of the night"
    table = inventory.scan(tiny_night / "detector")
    assert sum(table["frame_type"] == "flat") == 2 * len(PTC_LEVELS) and sum(table["frame_type"] == "dark") == 8


def test_pairs_measure_the_gain_and_saturate(tiny_night):
    ptc = sorted((tiny_night / "detector" / "ptc").glob("*.fits"))
    bias = [fits.getdata(p).astype(float) for p in ptc[:2]]
    level = np.mean([b.mean() for b in bias])
    pair = [fits.getdata(p).astype(float) for p in ptc[2 + 2 * 7: 2 + 2 * 8]]  # 10,000 e-
    signal = np.mean([f.mean() for f in pair]) - level
    clipped = [sigma_clipped_stats(a - b, sigma=5)[2] ** 2 / 2 for a, b in (pair, bias)]  # a cosmic ray is no noise
    variance = clipped[0] - clipped[1]
    assert signal * 1.6 == pytest.approx(10000, rel=0.02)
    assert signal / variance == pytest.approx(1.6, rel=0.03)
    brightest = fits.getdata(ptc[-1]).astype(float)
    assert np.median(brightest) == pytest.approx(270 + 96000 * 0.97 / 1.6, abs=5), "a full pixel reads 3 % low"


def test_darks_hold_the_dark_current_of_the_temperature(tiny_night, warm_night):
    for night, folder, temperature in ((tiny_night, "detector/darks", -60.0), (warm_night, "darks", -10.0)):
        bias = np.median([fits.getdata(p).astype(float) for p in sorted((night / "bias").glob("*.fits"))], axis=0)
        paths = sorted((night / folder).glob("*.fits"))
        longest = max(fits.getheader(p)["EXPTIME"] for p in paths)
        frames = [fits.getdata(p).astype(float) for p in paths if fits.getheader(p)["EXPTIME"] == longest]
        rate = np.median(np.median(frames, axis=0) - bias) * 1.6 / longest
        assert rate == pytest.approx(dark_current_at(temperature), rel=0.1)
        assert {fits.getheader(p)["CCD_SET"] for p in paths} == {temperature}


def test_truth_of_the_detector(tiny_night, warm_night):
    for night, camera in ((tiny_night, "cool"), (warm_night, "warm")):
        truth = json.loads((night / "truth" / "truth.json").read_text())
        detector = truth["detector"]
        computed = camera_test.detector_truth((514, 512), camera=camera)
        hot = fits.getdata(night / "truth" / "hot_pixels.fits").astype(bool)
        assert np.array_equal(hot, computed["hot_pixels"])
        assert detector["n_hot_pixels"] == int(hot.sum()) == 132
        assert detector["gain_e_per_adu"] == 1.6 and detector["read_noise_e"] == 14.0
        assert detector["dark_current_e_per_s"] == pytest.approx(dark_current_at(computed["temperature_c"]))
        assert detector["full_well_e"] == 96000 and detector["linearity_limit_e"] == pytest.approx(linearity_limit(96000))
        assert len(detector["frames"]) == 2 + 2 * len(PTC_LEVELS) + 8
        assert truth["hot_pixels_xy"], "the bias's bright pixels are still listed, apart"
        assert manifest.read_manifest(night)["meta"]["camera"] == camera


def test_warm_frames_carry_the_dark_signal_of_the_cool_ones_plus_dark(tiny_night, warm_night):
    """Same random draws: the warm science frame is the cool one plus ~745 e- of dark signal."""
    name = sorted((tiny_night / "science").glob("*.fits"))[0].name
    cool = fits.getdata(tiny_night / "science" / name).astype(float)
    warm = fits.getdata(warm_night / "science" / name).astype(float)
    assert np.median(warm - cool) * 1.6 == pytest.approx(dark_current_at(-10.0) * 180, rel=0.05)
    assert fits.getheader(warm_night / "science" / name)["CCD_SET"] == -10.0
    assert sorted(p.name for p in warm_night.iterdir()) == ["bias", "catalog", "darks", "detector", "flats", "manifest.json",
                                                            "science", "truth"]
    assert manifest.verify_manifest(warm_night) == []


# --- the physics ---------------------------------------------------------------------------------


def test_dark_current_doubles_every_six_and_a_half_degrees():
    assert dark_current_at(-53.5) == pytest.approx(2 * dark_current_at(-60.0))
    with pytest.raises(InputError):
        dark_current_at("warm")


def test_dark_map_has_a_spread_and_hot_pixels():
    relative, hot = dark_current_map((300, 300), np.random.default_rng(5))
    assert np.median(relative) == pytest.approx(1.0, abs=0.01)
    assert np.std(np.log(relative[~hot])) == pytest.approx(0.1, rel=0.05)
    assert hot.sum() == 45 and relative[hot].min() >= 25 and relative[hot].max() <= 2000
    with pytest.raises(InputError):
        dark_current_map((2, 300), np.random.default_rng(5))


def test_response_is_linear_then_compressed_then_full():
    charge = np.array([1000.0, 50000.0, 57600.0, 80000.0, 96000.0, 150000.0])
    out = compress(charge.copy(), 96000.0)
    assert out[:3].tolist() == charge[:3].tolist()
    assert 0.01 < 1 - out[3] / charge[3] < 0.02
    assert out[4] == out[5] == pytest.approx(93120.0)
    with pytest.raises(InputError):
        compress(charge.copy(), 0.0)


def test_window_of_small_and_large_chips():
    assert ptc_window((2054, 2048)) == (slice(771, 1283), slice(768, 1280))
    with pytest.raises(InputError):
        ptc_window((8, 8))


def test_make_night_rejects_an_unknown_camera(tmp_path):
    with pytest.raises(InputError, match="Unknown camera"):
        make_night(tmp_path / "x", size="tiny", camera="lukewarm", progress=False)
    assert not (tmp_path / "x").exists()

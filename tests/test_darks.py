"""Dark frames (ccdlab.darks) and the dark step of `ccdlab reduce`: nights with darks subtract them,
nights without reduce to the same bytes as before lesson 08 existed."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import astropy
import numpy as np
import pytest
from astropy.io import fits

from ccdlab.darks import (
    dark_current,
    dark_rate,
    exposure_times,
    group_by_exposure,
    hot_pixels,
    master_dark,
    scale_dark,
)
from ccdlab.data.simulate.dark_current import dark_current_at
from ccdlab.errors import CalibrationError, DetectorError
from ccdlab.calibrate import calibrate_frame
from ccdlab.reduce import reduce

LEGACY = json.loads((Path(__file__).parent / "data" / "legacy_tiny_night.json").read_text())


def write(path, data, **cards):
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.PrimaryHDU(np.asarray(data, np.float32), header=fits.Header(cards)).writeto(path)
    return path


# --- the module -----------------------------------------------------------------------------------


def test_group_master_and_scale(tmp_path):
    rng = np.random.default_rng(0)
    bias = np.full((20, 20), 270.0)
    paths = [write(tmp_path / f"d{i}.fits", 270 + 0.0125 * t + rng.normal(0, 0.5, (20, 20)), IMAGETYP="dark", EXPTIME=t)
             for i, t in enumerate((300.0, 1200.0, 1200.0, 1200.0))]
    assert exposure_times(paths) == [300.0, 1200.0, 1200.0, 1200.0]
    groups = group_by_exposure(paths)
    assert list(groups) == [300.0, 1200.0] and len(groups[1200.0]) == 3
    master = master_dark(groups[1200.0], bias)
    assert np.median(master) == pytest.approx(15.0, abs=0.2)
    assert np.median(scale_dark(master, 1200.0, 300.0)) == pytest.approx(3.75, abs=0.1)
    with pytest.raises(DetectorError, match="different exposure times"):
        master_dark(paths, bias)
    with pytest.raises(DetectorError, match="No dark frames"):
        master_dark([], bias)
    with pytest.raises(DetectorError, match="same readout"):
        master_dark(groups[1200.0], np.zeros((5, 5)))
    with pytest.raises(DetectorError):
        scale_dark(master, 0.0, 300.0)
    with pytest.raises(DetectorError, match="EXPTIME"):
        group_by_exposure([write(tmp_path / "no_time.fits", bias)])


def test_dark_current_is_a_slope_with_an_uncertainty():
    rng = np.random.default_rng(1)
    bias = np.zeros((30, 30))
    times = [300.0] * 3 + [1200.0] * 5
    darks = [np.full((30, 30), 0.0125 * t + rng.normal(0, 0.8)) for t in times]
    zero = [np.full((30, 30), rng.normal(0, 0.8)) for _ in range(5)]
    result = dark_current(darks, bias, bias_frames=zero, exptimes=times, gain=1.6)
    assert result.e_per_s == pytest.approx(0.02, rel=0.1) and 0 < result.error_e_per_s < 0.002
    assert result.exptimes[:5] == [0.0] * 5 and len(result.levels) == 13
    alone = dark_current(darks[3:], bias, exptimes=times[3:])
    assert alone.adu_per_s == pytest.approx(0.0125, rel=0.1) and np.isnan(alone.e_per_s)
    with pytest.raises(DetectorError, match="positive exposure time"):
        dark_current(darks, bias, exptimes=[0.0] * 8)
    with pytest.raises(DetectorError, match="No dark frames"):
        dark_current([], bias)


def test_hot_pixels_are_far_above_the_median_and_the_noise():
    rng = np.random.default_rng(2)
    rate = dark_rate(15.0 + rng.normal(0, 5.0, (100, 100)), 1200.0, gain=1.6)
    assert np.median(rate) == pytest.approx(0.02, rel=0.05)
    assert not hot_pixels(rate).any(), "noise is never hot"
    rate[10, 20] = 1.0
    assert np.argwhere(hot_pixels(rate)).tolist() == [[10, 20]]
    quiet = rng.normal(0.0, 0.01, (100, 100))  # no dark current at all: ten times nothing is still noise
    quiet[1, 2] = 1.0
    assert np.argwhere(hot_pixels(quiet)).tolist() == [[1, 2]]
    with pytest.raises(DetectorError, match="no finite pixel"):
        hot_pixels(np.full((3, 3), np.nan))


def test_calibrate_frame_subtracts_a_scaled_dark_and_says_so():
    raw = np.full((4, 4), 1770.0)
    bias, flat, dark = np.full((4, 4), 270.0), np.ones((4, 4)), np.full((4, 4), 500.0)
    data, header = calibrate_frame(raw, bias, flat, dark=dark, names={"dark": "master_dark.fits x 0.6"})
    assert np.allclose(data, 1000.0)
    assert any("subtracted master_dark.fits x 0.6" in card for card in header["HISTORY"])
    with pytest.raises(CalibrationError, match="master dark"):
        calibrate_frame(raw, bias, flat, dark=np.zeros((2, 2)))


# --- the dark step of the reduction ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def reduced_warm(warm_night, tmp_path_factory):
    out = tmp_path_factory.mktemp("warm-reduced")
    return reduce(warm_night, out, progress=False, jobs=1, verbose=False, summary=False)


@pytest.fixture(scope="module")
def reduced_cool(tiny_night, tmp_path_factory):
    out = tmp_path_factory.mktemp("cool-reduced")
    return reduce(tiny_night, out, progress=False, jobs=1, verbose=False, summary=False)


def test_a_night_with_darks_subtracts_them(reduced_warm, reduced_cool, warm_night):
    truth = json.loads((warm_night / "truth" / "truth.json").read_text())
    result = reduced_warm
    assert result.master_dark.name == "master_dark.fits" and result.dark_exptime == 300.0
    assert result.dark_current.e_per_s == pytest.approx(dark_current_at(-10.0), rel=0.05)
    hot_truth = fits.getdata(warm_night / "truth" / "hot_pixels.fits").astype(bool)
    hot = fits.getdata(result.hot_pixels).astype(bool)
    assert hot[hot_truth].all(), "every hot pixel is masked (with the bleed trails of the saturated ones)"
    read_noise_adu = truth["read_noise_adu"]
    for warm_path, cool_path in zip(result.calibrated, reduced_cool.calibrated):
        warm, cool = fits.getdata(warm_path), fits.getdata(cool_path)
        residual = warm.astype(float) - cool  # the same sky, noise draws and cosmic rays, 745 e- of dark apart
        both = np.isfinite(residual)
        assert abs(np.median(residual[both])) < 0.1 * read_noise_adu
        blocks = residual[: 512, : 512].reshape(16, 32, 16, 32).transpose(0, 2, 1, 3).reshape(256, -1)
        medians = np.array([np.median(b[np.isfinite(b)]) for b in blocks if np.isfinite(b).sum() > 200])
        assert np.all(np.abs(medians) < read_noise_adu), "no patch keeps dark signal above the read noise"
        assert np.isnan(warm[hot]).all()
        history = " ".join(fits.getheader(warm_path)["HISTORY"])
        assert "master_dark.fits x 0.6 (300 s to 180 s)" in history and "hot_pixels.fits" in history


def test_the_dark_step_is_reported(reduced_warm):
    report = reduced_warm.report()
    assert "Master dark: master_dark.fits (5 darks of 300 s, bias-subtracted), scaled" in report
    assert "hot pixels masked" in report
    rows = {str(r["name"]): r for r in reduced_warm.frames if r["frame_type"] == "dark"}
    assert sorted(str(r["status"]) for r in rows.values()) == ["ignored"] * 3 + ["used"] * 5
    record = json.loads((reduced_warm.out_dir / "reduction.json").read_text())
    assert record["dark"]["exptime"] == 300.0 and "hot_pixels.fits" in record["outputs"]
    assert "Master dark" not in reduced_warm.report().replace("Master dark:", "", 1)


def test_a_night_without_darks_reduces_to_the_bytes_of_before(reduced_cool, tiny_night):
    """The default night (its darks are a camera test in detector/) reduces exactly as before lesson 08."""
    if not (np.__version__ == LEGACY["numpy"] and astropy.__version__ == LEGACY["astropy"]):
        pytest.skip(f"pinned with numpy {LEGACY['numpy']} / astropy {LEGACY['astropy']}")
    assert reduced_cool.master_dark is None and "Master dark" not in reduced_cool.report()
    found = sorted(p.name for p in reduced_cool.out_dir.glob("*.fits"))
    assert found == sorted(LEGACY["reduced"])
    for name, expected in LEGACY["reduced"].items():
        with fits.open(reduced_cool.out_dir / name) as hdul:
            data = np.ascontiguousarray(hdul[0].data)
            header = hdul[0].header.copy()
        header.remove("CCDLAB", ignore_missing=True)
        assert str(data.dtype) == expected["dtype"], name
        assert hashlib.sha256(data.tobytes()).hexdigest() == expected["data"], name
        assert hashlib.sha256(header.tostring().encode()).hexdigest() == expected["header"], name


def test_the_camera_test_folder_never_changes_the_reduction(tiny_night, reduced_cool, tmp_path):
    night = tmp_path / "night"
    for folder in ("bias", "flats", "science"):
        shutil.copytree(tiny_night / folder, night / folder)
    result = reduce(night, tmp_path / "out", progress=False, jobs=1, verbose=False, summary=False)
    for path in sorted((tmp_path / "out").glob("*.fits")):
        ours = fits.getdata(path)
        theirs = fits.getdata(reduced_cool.out_dir / path.name)
        assert np.array_equal(ours, theirs, equal_nan=True), path.name
    assert len(result.frames) == len(reduced_cool.frames) == 15


def test_the_summary_figure_names_the_dark_step(reduced_warm, reduced_cool):
    from ccdlab.display.summary import summary_figure

    def text_of(result):
        fig = summary_figure(result)
        return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)

    assert "master_dark.fits (300 s), scaled" in text_of(reduced_warm)
    assert "dark:" not in text_of(reduced_cool)


def test_darks_of_another_size_or_without_exposure_time_are_rejected_with_reasons(tmp_path):
    import synthetic

    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=2)
    shape = fits.getdata(night.science[0]).shape
    write(tmp_path / "darks" / "no_time.fits", np.full(shape, 300.0), IMAGETYP="dark")
    write(tmp_path / "darks" / "dark_a.fits", np.full(shape, 300.0), IMAGETYP="dark", EXPTIME=100.0)
    write(tmp_path / "darks" / "dark_b.fits", np.full(shape, 300.0), IMAGETYP="dark", EXPTIME=100.0)
    write(tmp_path / "darks" / "small.fits", np.full((8, 8), 300.0), IMAGETYP="dark", EXPTIME=100.0)
    result = reduce(tmp_path, tmp_path / "out", progress=False, jobs=1, verbose=False, summary=False)
    rows = {str(r["name"]): r for r in result.frames}
    assert rows["no_time.fits"]["status"] == "rejected" and "without EXPTIME" in rows["no_time.fits"]["reason"]
    assert rows["small.fits"]["status"] == "rejected" and "another readout" in rows["small.fits"]["reason"]
    assert rows["dark_a.fits"]["status"] == "used" and result.master_dark is not None and result.dark_exptime == 100.0

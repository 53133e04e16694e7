"""Measuring the camera (ccdlab.detector, ccdlab.characterise, ccdlab.display.ptc, `ccdlab detector`),
checked against the truth of the synthetic nights and on nights that lack darks or flat pairs."""

from __future__ import annotations

import argparse
import json
import math
import shutil

import numpy as np
import pytest
from astropy.io import fits
from matplotlib.figure import Figure

from ccdlab import cli
from ccdlab.characterise import Measurement, characterise, find_detector_frames, format_uncertain
from ccdlab.commands.detector import add_arguments
from ccdlab.detector import (
    difference_variance,
    gain_from_pair,
    gain_from_unequal_flats,
    photon_transfer,
    read_noise_from_pair,
)
from ccdlab.display.ptc import photon_transfer_figure, save_photon_transfer, show_photon_transfer
from ccdlab.errors import DetectorError

GAIN, READ_NOISE = 1.6, 14.0


def fake_frame(rng, electrons, shape=(150, 150), pattern=None):
    """A frame of ``electrons`` (a number or an image) read out at 1.6 e-/ADU, 14 e- read noise, on a 270 ADU bias."""
    electrons = np.broadcast_to(np.asarray(electrons, float), shape)
    noisy = electrons + rng.normal(0.0, 1.0, shape) * np.sqrt(electrons + READ_NOISE**2)
    bias = 270.0 if pattern is None else pattern
    return bias + noisy / GAIN


@pytest.fixture(scope="module")
def truth(tiny_night):
    return json.loads((tiny_night / "truth" / "truth.json").read_text())["detector"]


# --- pairs ----------------------------------------------------------------------------------------


def test_difference_variance_ignores_a_cosmic_ray_but_not_the_noise():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 3.0, (400, 400)), rng.normal(0, 3.0, (400, 400))
    a[5, 5] = 5000.0
    assert difference_variance(a, b) / 2 == pytest.approx(9.0, rel=0.01)
    assert np.var(a - b) / 2 > 10.0
    with pytest.raises(DetectorError, match="same readout"):
        difference_variance(a, b[:10])


def test_read_noise_from_a_pair_cancels_the_pattern():
    rng = np.random.default_rng(1)
    pattern = 270 + rng.normal(0, 6.0, (200, 200))
    b1, b2 = fake_frame(rng, 0.0, (200, 200), pattern), fake_frame(rng, 0.0, (200, 200), pattern)
    assert read_noise_from_pair(b1, b2) == pytest.approx(READ_NOISE / GAIN, rel=0.02)
    assert np.std(b1) > 1.2 * READ_NOISE / GAIN, "one frame's std mixes in the pattern"


def test_gain_from_a_pair_cancels_the_flat_pattern():
    rng = np.random.default_rng(2)
    response = 1 + 0.02 * rng.standard_normal((200, 200))
    bias = [fake_frame(rng, 0.0, (200, 200)) for _ in range(2)]
    flats = [fake_frame(rng, 5000.0 * response, (200, 200)) for _ in range(2)]
    result = gain_from_pair(*bias, *flats)
    assert result.gain == pytest.approx(GAIN, rel=0.02) and result.read_noise_e == pytest.approx(READ_NOISE, rel=0.03)
    assert 0 < result.gain_error < 0.02
    with pytest.raises(DetectorError, match="not brighter than the bias"):
        gain_from_pair(*bias, *bias)


def test_photon_transfer_of_a_simple_camera():
    rng = np.random.default_rng(3)
    bias = [fake_frame(rng, 0.0) for _ in range(2)]
    response = 1 + 0.01 * rng.standard_normal((150, 150))

    def full(charge):  # shot noise first, then the well overflows at 96,000 e-
        collected = np.minimum(charge + rng.normal(0.0, 1.0, charge.shape) * np.sqrt(charge), 96000.0)
        return 270 + (collected + rng.normal(0.0, READ_NOISE, charge.shape)) / GAIN

    pairs = [(t, full(1000.0 * t * response), full(1000.0 * t * response))
             for t in (0.05, 0.2, 1, 3, 10, 30, 50, 80, 90, 100, 120)]
    ptc = photon_transfer(pairs, bias)
    assert ptc.gain == pytest.approx(GAIN, rel=0.02)
    assert ptc.read_noise_e == pytest.approx(READ_NOISE, rel=0.03)
    assert ptc.full_well_e == pytest.approx(96000, rel=0.1)
    assert list(ptc.exptime) == sorted(ptc.exptime)
    with pytest.raises(DetectorError, match="No flat pair"):
        photon_transfer([], bias)
    with pytest.raises(DetectorError, match="Each pair"):
        photon_transfer([bias[0]], bias)


def test_a_curve_without_turnover_says_so():
    rng = np.random.default_rng(4)
    bias = [fake_frame(rng, 0.0) for _ in range(2)]
    ptc = photon_transfer([(t, fake_frame(rng, 1000.0 * t), fake_frame(rng, 1000.0 * t)) for t in (1, 3, 10)], bias)
    assert math.isnan(ptc.full_well_adu) and any("full well not measured" in note for note in ptc.notes)
    assert ptc.gain == pytest.approx(GAIN, rel=0.03)


def test_gain_from_unequal_flats_is_an_estimate_that_needs_the_same_pattern():
    rng = np.random.default_rng(5)
    shape = (300, 300)
    pattern = 1 + 0.03 * rng.standard_normal(shape)
    bias = np.full(shape, 270.0)
    a, b = fake_frame(rng, 24000.0 * pattern, shape), fake_frame(rng, 27000.0 * pattern, shape)
    assert gain_from_unequal_flats(a, b, bias, READ_NOISE / GAIN) == pytest.approx(GAIN, rel=0.03)
    turned = pattern * (1 + 0.004 * rng.standard_normal(shape))  # the sky's pattern changed a little
    assert gain_from_unequal_flats(a, fake_frame(rng, 27000.0 * turned, shape), bias, READ_NOISE / GAIN) < 0.9 * GAIN
    with pytest.raises(DetectorError, match="not above the bias"):
        gain_from_unequal_flats(bias, bias, bias, 8.75)


# --- the synthetic nights: the truth recovered ---------------------------------------------------------


def test_find_detector_frames_on_the_cool_night(tiny_night):
    found = find_detector_frames(tiny_night)
    assert found.missing == []
    assert len(found.bias) == 5 and sorted(found.darks) == [300.0, 1200.0] and len(found.pairs) == 19
    assert all("detector" in p for p in found.ptc_bias) and found.dark_temperature == pytest.approx(-60.0, abs=0.1)
    assert found.science_exptime == 180.0


@pytest.mark.parametrize("camera", ["cool", "warm"])
def test_characterise_recovers_the_truth(camera, tiny_night, warm_night):
    night = tiny_night if camera == "cool" else warm_night
    truth = json.loads((night / "truth" / "truth.json").read_text())["detector"]
    result = characterise(night)
    assert result.gain.value == pytest.approx(truth["gain_e_per_adu"], rel=0.03)
    assert result.read_noise_e.value == pytest.approx(truth["read_noise_e"], rel=0.05)
    assert result.read_noise_adu.value == pytest.approx(truth["read_noise_adu"], rel=0.05)
    assert result.dark_current.value == pytest.approx(truth["dark_current_e_per_s"], rel=0.10)
    assert result.full_well_e.value == pytest.approx(truth["full_well_e"], rel=0.10)
    assert result.linearity_limit_e.value == pytest.approx(truth["linearity_limit_output_e"], rel=0.10)
    for m in (result.gain, result.read_noise_e, result.dark_current, result.full_well_e):
        assert m.error > 0 and abs(m.value - {"gain": truth["gain_e_per_adu"], "read noise": truth["read_noise_e"],
                                              "dark current": truth["dark_current_e_per_s"],
                                              "full well": truth["full_well_e"]}[m.name]) < 5 * m.error + 0.1 * m.value
    assert result.hot_pixels.value >= truth["n_hot_pixels"]
    assert result.header["gain"][0] == "GAIN" and "junk" in result.header["gain"][2]


def test_a_night_with_only_bias_and_unequal_flats_measures_what_it_can(tiny_night, tmp_path):
    night = tmp_path / "own"
    for folder in ("bias", "flats", "science"):
        shutil.copytree(tiny_night / folder, night / folder)
    result = characterise(night)
    assert result.read_noise_adu.measured and result.read_noise_adu.value == pytest.approx(8.75, rel=0.05)
    assert result.gain.estimate and result.gain.value == pytest.approx(1.6, rel=0.05)
    assert result.read_noise_e.estimate
    for missing in (result.full_well_e, result.linearity_limit_e, result.dark_current, result.hot_pixels):
        assert not missing.measured and missing.how.startswith("not measured")
    report = result.report()
    assert "not measured: no dark frames" in report and "(estimate)" in report and "assumes" in report
    assert result.ptc is None


def test_bias_only_gives_read_noise_in_adu_and_nothing_invented(tiny_night, tmp_path):
    night = tmp_path / "bias-only"
    shutil.copytree(tiny_night / "bias", night / "bias")
    result = characterise(night)
    assert result.read_noise_adu.measured and not result.gain.measured and not result.read_noise_e.measured
    given = characterise(night, gain=1.6)
    assert given.read_noise_e.value == pytest.approx(14.0, rel=0.05) and "given" in given.gain.how
    shutil.rmtree(night / "bias")
    (night / "bias").mkdir()
    with pytest.raises(DetectorError, match="fewer than two bias frames"):
        characterise(night)


def test_format_uncertain_and_measurement():
    assert format_uncertain(0.019943, 0.000437, "e-/s") == "0.01994 +/- 0.00044 e-/s"
    assert format_uncertain(math.nan, 1.0) == "not measured"
    assert Measurement("gain", 1.6, math.nan, "e-/ADU", "given").text() == "1.6 e-/ADU"


# --- the picture and the command ---------------------------------------------------------------------


def test_the_photon_transfer_plot(tiny_night, tmp_path):
    result = characterise(tiny_night)
    fig = photon_transfer_figure(result.ptc)
    assert isinstance(fig, Figure) and fig.axes[0].get_xscale() == "log"
    labels = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "full well" in labels and "shot noise" in labels and "read noise" in labels
    path = save_photon_transfer(result.ptc, tmp_path / "ptc.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    import matplotlib.pyplot as plt

    plot = show_photon_transfer(result.ptc)
    assert plot.fig is not None
    plt.close("all")


def parse(*argv):
    parser = argparse.ArgumentParser(prog="ccdlab detector")
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_command_prints_the_camera_and_saves_the_curve(tiny_night, tmp_path, capsys):
    assert cli.run_command("detector", parse(str(tiny_night), "--plot", str(tmp_path / "ptc.png"))) == 0
    out = capsys.readouterr().out
    for words in ("gain", "read noise", "full well", "dark current", "hot pixels", "GAIN = -9.1e-36 (junk)",
                  "e-/ADU", "ADU", "lesson 06", "Photon transfer curve:"):
        assert words in out
    assert (tmp_path / "ptc.png").is_file()


def test_the_command_on_a_night_without_pairs_saves_no_curve(tiny_night, tmp_path, capsys):
    night = tmp_path / "own"
    for folder in ("bias", "flats"):
        shutil.copytree(tiny_night / folder, night / folder)
    assert cli.run_command("detector", parse(str(night))) == 0
    out = capsys.readouterr().out
    assert "No photon transfer curve" in out and not (night / "reduced" / "photon_transfer.png").exists()


def test_the_command_on_bad_input_is_one_sentence(tmp_path, capsys):
    assert cli.run_command("detector", parse(str(tmp_path / "nothing"))) == 1
    err = capsys.readouterr().err
    assert err.startswith("ccdlab detector: ") and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert cli.run_command("detector", parse(str(tmp_path / "empty"))) == 1
    assert "fewer than two bias frames" in capsys.readouterr().err

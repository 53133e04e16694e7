"""Tests for ccdlab.course.exercises (the student-facing checks) and the lesson checks in ccdlab.course.checks."""

import json

import numpy as np
import pytest
from astropy.io import fits
from astropy.stats import sigma_clipped_stats

from ccdlab.course import checks, results
from ccdlab.course.checks import (
    NO_REFERENCE,
    Night,
    Part,
    answers,
    boolean_mask,
    checks_for,
    find_check,
    image,
    is_blank,
    number,
    text,
)
from ccdlab.course.exercises import Answers, check, current_lesson, progress, set_lesson, summary

SHAPE = (40, 48)  # (NAXIS2, NAXIS1): not square, so swapped axes are caught


def _write(path, data, **cards):
    header = fits.Header()
    for key, value in cards.items():
        header[key.replace("__", "-")] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.writeto(path, data.astype(np.float32), header, overwrite=True)


def make_night(root, n_bias=3, n_flats=3, n_science=2, altitude=True, seed=1):
    """A small night with the tutorial camera's header quirks (CCD_TEMP, IMAGETYP 'dark' on bias)."""
    rng = np.random.default_rng(seed)
    common = dict(CCD_TEMP=-59.3, CCD_SET=-60.0)
    if altitude:
        common["ALTITUDE"] = 4500.0
    for i in range(n_bias):
        data = rng.normal(270, 9, SHAPE)
        data[5, 7] = 60000.0  # a hot pixel: clipped and plain statistics differ
        _write(root / "bias" / f"bias_{i:02d}.fits", data, IMAGETYP="dark", EXPTIME=0.001,
               DATE__OBS=f"2018-10-13T13:0{i}:40.460", **common)
    for i in range(n_flats):
        _write(root / "flats" / f"flat_{i:02d}.fits", 270 + rng.normal(20000, 140, SHAPE),
               IMAGETYP="flat", EXPTIME=3.0, DATE__OBS="2018-10-13T13:30:00", **common)
    for i in range(n_science):
        _write(root / "science" / f"sci_{i:02d}.wcs.fits", 270 + rng.normal(800, 30, SHAPE),
               IMAGETYP="object", EXPTIME=60.0, DATE__OBS="2018-10-13T15:00:00", OBJECT="M1", **common)
    return root


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.delenv("CCDLAB_RESULTS", raising=False)
    results.clear()
    set_lesson(None)
    yield
    results.clear()
    set_lesson(None)  # (kept results per data folder stay: every test's folder is its own)


@pytest.fixture
def night_dir(tmp_path, monkeypatch):
    root = make_night(tmp_path / "night")
    monkeypatch.setenv("CCDLAB_DATA", str(root))
    return root


def first_bias(root):
    return fits.getdata(root / "bias" / "bias_00.fits").astype(np.float32)


# --------------------------------------------------------------------------------- the check API


def test_blank_answers_are_not_attempted_and_get_reference_values(night_dir, capsys):
    set_lesson("01_fits_files")
    x_len, y_len = check("1.1", x_len=..., y_len=...)
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "reference value" in out
    assert (x_len, y_len) == (48, 40)
    result = results.recorded()[-1]
    assert (result.exercise, result.status, result.score, result.lesson) == ("1.1", "not attempted", 0.0, "01_fits_files")


def test_right_answers_are_correct_and_handed_back(night_dir, capsys):
    set_lesson("01_fits_files")
    values = check("1.1", x_len=48, y_len=40)
    assert "✔ Exercise 1.1: correct" in capsys.readouterr().out
    assert values == (48, 40) and isinstance(values, Answers)
    assert results.recorded()[-1].status == "correct" and results.recorded()[-1].score == 1.0


def test_partly_right_is_partial_with_a_hint_and_reference(night_dir, capsys):
    set_lesson("01_fits_files")
    x_len, y_len = check("1.1", x_len=48, y_len=41)
    out = capsys.readouterr().out
    assert "✘ Exercise 1.1: not yet (1 of 2 right)" in out and "NAXIS2" in out
    assert "Using the reference value for y_len" in out
    assert (x_len, y_len) == (48, 40)
    result = results.recorded()[-1]
    assert result.status == "partial" and result.score == 0.5 and "NAXIS2" in result.hint


def test_swapped_axes_get_a_specific_hint(night_dir, capsys):
    set_lesson("01_fits_files")
    check("1.1", x_len=40, y_len=48)
    assert "swapped" in capsys.readouterr().out
    assert results.recorded()[-1].status == "incorrect"


def test_single_answer_is_returned_bare(night_dir, capsys):
    set_lesson("00_getting_started")
    @answers("00_getting_started", "favourite")
    def favourite(night, favourite):
        return [number("favourite", favourite, 42, reference=42)]

    try:
        assert check("0.9", favourite=41) == 42
        assert check("0.9", favourite=42) == 42
    finally:
        checks.registry._REGISTRY["00_getting_started"].remove(checks.find_check("00_getting_started", ["favourite"]))


def test_answers_show_nothing_when_left_bare():
    assert Answers((1, 2))._ipython_display_() is None
    assert tuple(Answers((1, 2))) == (1, 2)


def test_unknown_answer_names_say_which_names_the_lesson_takes(night_dir, capsys):
    set_lesson("01_fits_files")
    value = check("1.1", width=48)
    out = capsys.readouterr().out
    assert "no check in lesson 01_fits_files takes the answers (width)" in out and "x_len, y_len" in out
    assert value == 48
    assert results.recorded()[-1].status == "error"


def test_without_a_lesson_the_answer_names_find_the_check(night_dir, capsys):
    assert current_lesson() is None
    check("1.1", x_len=48, y_len=40)
    result = results.recorded()[-1]
    assert result.status == "correct" and result.lesson == "01_fits_files"


def test_no_answers_and_bad_ids(night_dir, capsys):
    assert check("1.1") is None
    assert "give your answers by name" in capsys.readouterr().out
    assert results.recorded()[-1].status == "error"
    assert check(1.1, x_len=3) == 3
    assert "exercise ID first" in capsys.readouterr().out


def test_missing_data_is_an_error_result_not_a_crash(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "nowhere"))
    set_lesson("01_fits_files")
    assert check("1.1", x_len=1, y_len=2) == (1, 2)
    out = capsys.readouterr().out
    assert "could not be checked" in out and "nowhere" in out
    assert results.recorded()[-1].status == "error"


def test_results_go_to_the_results_file(night_dir, tmp_path, monkeypatch, capsys):
    target = tmp_path / "results.jsonl"
    monkeypatch.setenv("CCDLAB_RESULTS", str(target))
    set_lesson("01_fits_files")
    check("1.1", x_len=48, y_len=40)
    line = json.loads(target.read_text().splitlines()[-1])
    assert line["exercise"] == "1.1" and line["status"] == "correct" and line["lesson"] == "01_fits_files"
    assert results.read_results(target)["1.1"].score == 1.0


def test_set_lesson_rejects_unknown_lessons():
    with pytest.raises(ValueError, match="Unknown lesson"):
        set_lesson("99_nothing")
    set_lesson("03_master_bias")
    assert current_lesson() == "03_master_bias"


def test_progress_and_summary(night_dir, capsys):
    set_lesson("01_fits_files")
    summary()
    assert "no exercise checked yet" in capsys.readouterr().out
    check("1.1", x_len=..., y_len=...)
    check("1.1", x_len=48, y_len=40)
    assert [r.status for r in progress()] == ["correct"]
    summary()
    out = capsys.readouterr().out
    assert "✔ 1.1" in out and "1 of 1 exercises correct" in out
    assert progress("02_statistics_display") == []


# --------------------------------------------------------------------------------- registry


def test_every_lesson_has_checks_with_unique_answer_names():
    for lesson in checks.LESSONS:
        specs = checks_for(lesson)
        assert specs, lesson
        names = [frozenset(spec.names) for spec in specs]
        assert len(names) == len(set(names)), lesson


def test_checks_for_and_answers_reject_unknown_lessons():
    with pytest.raises(ValueError, match="Unknown lesson"):
        checks_for("99_nothing")
    with pytest.raises(ValueError, match="Unknown lesson"):
        answers("99_nothing", "x")
    with pytest.raises(ValueError, match="at least one answer"):
        answers("01_fits_files")


def test_registering_the_same_answers_twice_is_refused():
    with pytest.raises(ValueError, match="already has a check"):
        answers("01_fits_files", "y_len", "x_len")(lambda night, x_len, y_len: [])


def test_find_check():
    assert find_check("01_fits_files", ["x_len", "y_len"]).lesson == "01_fits_files"
    assert find_check(None, ["x_len", "y_len"]).lesson == "01_fits_files"
    assert find_check("01_fits_files", ["nothing"]) is None


# --------------------------------------------------------------------------------- comparators


def test_is_blank():
    assert is_blank(...) and not is_blank(None) and not is_blank(0)


def test_number_comparator():
    assert number("a", 1.0000001, 1.0, rtol=1e-6).ok
    assert number("a", np.float32(2.5), 2.5).ok
    assert not number("a", 1.1, 1.0, rtol=1e-3).ok
    assert number("a", ..., 1.0).blank
    wrong_type = number("a", "12", 12.0)
    assert not wrong_type.ok and "should be a number" in wrong_type.hint
    assert not number("a", True, 1.0).ok
    assert not number("a", [1, 2], 1.0).ok
    assert not number("a", float("nan"), 1.0).ok
    assert number("a", None, None).ok
    assert not number("a", 5, None).ok
    assert number("a", 3, 3, reference=3).reference == 3


def test_text_comparator():
    assert text("t", " dark", "dark").ok
    assert text("t", "DARK", "dark").ok
    assert not text("t", "DARK", "dark", case=True).ok
    assert not text("t", 5, "dark").ok
    assert text("t", None, None).ok and not text("t", "x", None).ok
    assert text("t", ..., "dark").blank


def test_image_comparator():
    expected = np.arange(12.0).reshape(3, 4)
    expected[0, 0] = np.nan
    assert image("i", expected.copy(), expected).ok
    assert not image("i", expected * 2, expected).ok
    assert "times the expected" in image("i", expected * 2, expected).hint
    nan_hint = image("i", np.nan_to_num(expected), expected).hint
    assert "NaN pixels" in nan_hint
    assert not image("i", expected.T, expected).ok
    assert not image("i", object(), expected).ok
    assert image("i", ..., expected).blank
    nearly = expected.copy()
    nearly[2, 3] += 5
    assert image("i", nearly, expected, max_bad_fraction=0.1).ok


def test_boolean_mask_comparator():
    expected = np.array([[True, False], [False, False]])
    assert boolean_mask("m", expected.copy(), expected).ok
    assert not boolean_mask("m", ~expected, expected).ok
    assert "boolean" in boolean_mask("m", expected.astype(int), expected).hint
    assert not boolean_mask("m", np.zeros(3, bool), expected).ok
    assert boolean_mask("m", ..., expected).blank


def test_night_keeps_results_and_lists_frames(night_dir):
    n = checks.night()
    assert isinstance(n, Night) and n is checks.night()
    assert len(n.files("bias")) == 3 and n.files("flats") == n.files("flat")
    assert n.first("science").endswith("sci_00.wcs.fits")
    calls = []
    assert n.memo("k", lambda: calls.append(1) or 7) == 7 and n.memo("k", lambda: calls.append(1)) == 7
    assert calls == [1]
    with pytest.raises(FileNotFoundError, match="No dark frame"):
        n.first("dark")


def test_part_defaults():
    part = Part("x", False)
    assert part.reference is NO_REFERENCE and not part.blank


# --------------------------------------------------------------------------------- lesson 00


def test_lesson00_frame_counts(night_dir, capsys):
    set_lesson("00_getting_started")
    assert check("0.1", n_bias=3, n_flats=3, n_science=2) == (3, 3, 2)
    assert results.recorded()[-1].status == "correct"
    assert check("0.1", n_bias=4, n_flats="3", n_science=...) == (3, 3, 2)
    out = capsys.readouterr().out
    assert "does not match the bias/ frames" in out and "whole number" in out
    assert results.recorded()[-1].status == "incorrect"


# --------------------------------------------------------------------------------- lesson 01


def test_lesson01_header_values(night_dir, capsys):
    set_lesson("01_fits_files")
    answers_ok = dict(date_obs="2018-10-13T13:00:40.460", exptime=0.001, ccd_temp=-59.3, imagetyp="dark", altitude=4500)
    check("1.2", **answers_ok)
    assert results.recorded()[-1].status == "correct"
    wrong = dict(answers_ok, ccd_temp=-60.0, imagetyp="bias")
    values = check("1.2", **wrong)
    out = capsys.readouterr().out
    assert "CCD_SET" in out and "as the file writes it" in out
    assert values[2] == -59.3 and values[3] == "dark"
    assert results.recorded()[-1].score == pytest.approx(0.6)


def test_lesson01_keyword_the_file_lacks_is_answered_none(tmp_path, monkeypatch, capsys):
    root = make_night(tmp_path / "noalt", altitude=False)
    monkeypatch.setenv("CCDLAB_DATA", str(root))
    set_lesson("01_fits_files")
    base = dict(date_obs="2018-10-13T13:00:40.460", exptime=0.001, ccd_temp=-59.3, imagetyp="dark")
    check("1.2", **base, altitude=None)
    assert results.recorded()[-1].status == "correct"
    check("1.2", **base, altitude=4500)
    assert "no such value" in capsys.readouterr().out


# --------------------------------------------------------------------------------- lesson 02


def test_lesson02_plain_and_clipped_stats(night_dir, capsys):
    set_lesson("02_statistics_display")
    data = first_bias(night_dir)
    check("2.1", mean=data.mean(dtype=np.float64), median=np.median(data), std=data.std(dtype=np.float64),
          minimum=data.min(), maximum=data.max())
    assert results.recorded()[-1].status == "correct"
    check("2.1", mean=np.median(data), median=data.mean(dtype=np.float64), std=data.std(dtype=np.float64),
          minimum=data.min(), maximum=data.max())
    out = capsys.readouterr().out
    assert "seem swapped" in out and "np.float" not in out and "3 of 5 right" in out
    mean, median, std = sigma_clipped_stats(data)
    check("2.2", clipped_mean=mean, clipped_median=median, clipped_std=std)
    assert results.recorded()[-1].status == "correct"
    # the plain std is not the clipped one: the hot pixel makes them differ
    check("2.2", clipped_mean=mean, clipped_median=median, clipped_std=data.std())
    assert results.recorded()[-1].status == "partial"


def test_lesson02_histogram_range(night_dir):
    set_lesson("02_statistics_display")
    _, median, std = sigma_clipped_stats(first_bias(night_dir))
    low, high = check("2.3", hist_low=median - 10 * std, hist_high=median + 10 * std)
    assert results.recorded()[-1].status == "correct"
    check("2.3", hist_low=median - 3 * std, hist_high=median + 3 * std)
    assert results.recorded()[-1].status == "incorrect"


@pytest.mark.parametrize(
    "limits, ok, phrase",
    [
        ((-3, 3), True, ""),
        ((3, -3), False, "below vmax"),
        ((5, 10), False, "median of the image"),
        ((-100, 100), False, "so wide"),
        ((-0.2, 0.2), False, "narrower than the noise"),
    ],
)
def test_lesson02_display_range(night_dir, capsys, limits, ok, phrase):
    set_lesson("02_statistics_display")
    _, median, std = sigma_clipped_stats(first_bias(night_dir))
    vmin, vmax = (median + k * std for k in limits)
    check("2.4", vmin=vmin, vmax=vmax)
    assert (results.recorded()[-1].status == "correct") is ok
    assert phrase in capsys.readouterr().out


def test_lesson02_display_range_blank_and_bad(night_dir, capsys):
    set_lesson("02_statistics_display")
    vmin, vmax = check("2.4", vmin=..., vmax=...)
    assert vmin < vmax and results.recorded()[-1].status == "not attempted"
    check("2.4", vmin=200, vmax=...)
    assert "Fill in vmax too" in capsys.readouterr().out
    check("2.4", vmin="low", vmax="high")
    assert "should be numbers" in capsys.readouterr().out


def test_forget_nights():
    checks.forget_nights()
    assert checks.nights._NIGHTS == {}


# --------------------------------------------------------------------------------- lessons 03-07
# These run on the simulated tiny night (514 x 512): flats with vignetting and a saturated one,
# science frames with stars, cosmic rays and a WCS. The package's own functions are the oracle.


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    from ccdlab.data.simulate import make_night

    return make_night(tmp_path_factory.mktemp("sim") / "data", size="tiny", progress=False)


@pytest.fixture
def sim(sim_dir, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(sim_dir))
    return checks.night(sim_dir)


def last():
    return results.recorded()[-1]


def bias_arrays(sim):
    return [sim.frame(path)[0] for path in sim.files("bias")]


def test_lesson03_median_combine_function(sim, capsys):
    set_lesson("03_master_bias")
    good = check("3.1", median_combine=lambda frames: np.median(np.stack(frames), axis=0))
    assert last().status == "correct" and callable(good)
    cases = [
        (lambda frames: np.mean(np.stack(frames), axis=0), "That is the mean"),
        (lambda frames: np.sort(np.stack(frames), axis=0)[len(frames) // 2], "even number of frames"),
        (lambda frames: np.median(np.stack(frames)), "axis=0"),
        (lambda frames: 1 / 0, "raised ZeroDivisionError"),
        (lambda frames: None, "returns nothing yet"),
        (42, "should be a function"),
    ]
    for function, phrase in cases:
        reference = check("3.1", median_combine=function)
        assert last().status == "incorrect", phrase
        assert phrase in capsys.readouterr().out
        frames = [np.full((2, 2), v, np.float32) for v in (1.0, 2.0, 9.0)]
        assert reference(frames).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    stub = check("3.1", median_combine=lambda frames: ...)
    assert last().status == "not attempted" and callable(stub)


def test_lesson03_master_bias_and_noise(sim, capsys):
    from astropy.stats import sigma_clipped_stats as clipped

    from ccdlab.calibrate import master_bias

    set_lesson("03_master_bias")
    frames = bias_arrays(sim)
    check("3.2", master_bias=np.median(np.stack(frames), axis=0))
    assert last().status == "correct"
    reference = check("3.2", master_bias=np.mean(np.stack(frames), axis=0))
    assert last().status == "incorrect"
    assert np.allclose(reference, master_bias(sim.files("bias"), progress=False))
    noise = clipped(frames[0] - frames[1])[2] / np.sqrt(2)
    check("3.3", read_noise_adu=noise)
    assert last().status == "correct"
    check("3.3", read_noise_adu=noise * np.sqrt(2))
    assert "Divide it by sqrt(2)" in capsys.readouterr().out
    n = len(frames) - 1
    difference = clipped(np.median(np.stack(frames[:n]), axis=0) - frames[n])[2]
    measured = np.sqrt(difference ** 2 - noise ** 2)
    check("3.4", master_noise_adu=np.float32(measured))
    assert last().status == "correct"
    for value, phrase in [(noise / np.sqrt(n), "theory for a mean"), (difference, "noise of the difference"),
                          (difference / np.sqrt(2), "Dividing by sqrt(2)"), (noise, "which two noises")]:
        check("3.4", master_noise_adu=value)
        out = capsys.readouterr().out
        assert last().status == "incorrect" and phrase in out, (phrase, out)
    check("3.2", master_bias=sim.files("bias"))
    assert "not the file names (bias_files)" in capsys.readouterr().out


def test_lesson04_flats(sim, capsys):
    from ccdlab.calibrate import master_bias, master_flat, vignetting_mask

    set_lesson("04_master_flat")
    files = sim.files("flat")
    medians = [float(np.median(sim.frame(path)[0])) for path in files]
    assert check("4.1", flat_medians=medians) == medians and last().status == "correct"
    check("4.1", flat_medians=medians[1:])
    assert "one median per file" in capsys.readouterr().out
    check("4.1", flat_medians=[m + 100 for m in medians])
    assert "are off" in capsys.readouterr().out
    check("4.1", flat_medians=5)
    assert "list of numbers" in capsys.readouterr().out

    saturated = files[int(np.argmax(medians))]
    from pathlib import Path
    check("4.2", bad_flat=Path(saturated).name)
    assert last().status == "correct"
    check("4.2", bad_flat=saturated)  # a full path is fine too
    assert last().status == "correct"
    assert check("4.2", bad_flat=Path(files[-1]).name) == Path(saturated).name
    assert "saturated" in capsys.readouterr().out

    bias = master_bias(sim.files("bias"), progress=False)
    flat = np.asarray(master_flat(files, bias, progress=False).data)
    check("4.3", master_flat=flat)
    assert last().status == "correct"
    assert np.array_equal(check("4.3", master_flat=flat * 0.9), flat)
    assert "0.9 times the expected" in capsys.readouterr().out
    from ccdlab.course.checks import lesson04
    check("4.3", master_flat=lesson04._flat_by_hand(sim, subtract_bias=False, every_flat=False))
    assert "bias is still in the flats" in capsys.readouterr().out
    check("4.3", master_flat=lesson04._flat_by_hand(sim, subtract_bias=True, every_flat=True))
    assert "left out in Exercise 4.2" in capsys.readouterr().out
    check("4.3", master_flat=lesson04._flat_by_hand(sim, subtract_bias=True, every_flat=False))
    assert last().status == "correct"

    check("4.4", vignetted=flat < 0.8)
    assert last().status == "correct"
    check("4.4", vignetted=flat < 0.5)
    out = capsys.readouterr().out
    assert "80%" in out and "< 0.8" not in out
    mask = check("4.4", vignetted=(flat < 0.8).astype(float))
    assert mask.dtype == bool and np.array_equal(mask, vignetting_mask(flat))
    assert "boolean" in capsys.readouterr().out


@pytest.fixture
def masters(sim):
    from ccdlab.calibrate import master_bias, master_flat, vignetting_mask

    bias = master_bias(sim.files("bias"), progress=False)
    flat = np.asarray(master_flat(sim.files("flat"), bias, progress=False).data)
    return bias, flat, vignetting_mask(flat)


def test_lesson05_calibrated_frame(sim, masters, capsys):
    bias, flat, mask = masters
    set_lesson("05_calibration")
    raw = sim.frame(sim.first("science"))[0]
    good = (raw - bias) / flat
    good[mask] = np.nan
    check("5.1", calibrated=good)
    assert last().status == "correct"
    check("5.1", calibrated=(raw - bias) / flat)
    assert "no pixel is NaN" in capsys.readouterr().out


def test_lesson05_written_frames(sim, masters, capsys, tmp_path):
    from pathlib import Path

    from ccdlab.io import read_frame, write_frame
    from ccdlab.paths import reduced_dir
    from ccdlab.reduce import output_name

    bias, flat, mask = masters
    set_lesson("05_calibration")
    out = reduced_dir(sim.data_dir)
    written = []
    for path in sim.files("science"):
        data, header = read_frame(path)
        data = (data - bias) / flat
        data[mask] = np.nan
        written.append(write_frame(out / output_name(Path(path).name, "fb"), data, header,
                                   history=["Bias subtracted", "Divided by the flat"], inputs=[path]))
    check("5.2", fb_files=written)
    assert last().status == "correct"
    check("5.2", fb_files=written[:-1])
    assert "is missing from fb_files" in capsys.readouterr().out
    plain = tmp_path / written[0].name
    write_frame(plain, read_frame(written[0])[0], history="nothing said")
    check("5.2", fb_files=[plain] + written[1:])
    assert "is not in the reduced/ folder" in capsys.readouterr().out
    silent = write_frame(written[0], read_frame(written[0])[0], history="copied")  # no bias/flat history
    check("5.2", fb_files=[silent] + written[1:])
    assert "no HISTORY card" in capsys.readouterr().out
    reference = check("5.2", fb_files=...)  # reference frames are written, beside the student's
    assert last().status == "not attempted"
    assert [Path(p).name for p in reference] == [p.name for p in written]
    assert all(Path(p).parent == out / "reference" for p in reference)
    assert "lesson 05 check" in " ".join(read_frame(reference[0])[1]["HISTORY"])
    assert list(read_frame(written[0])[1]["HISTORY"]) == ["copied"]  # theirs is left untouched


def test_lesson06_camera_and_cosmics(sim, masters, capsys):
    from ccdlab.calibrate import calibrate_frame
    from ccdlab.cosmics import remove_cosmics

    bias, flat, mask = masters
    set_lesson("06_cosmic_rays")
    check("6.1", gain=1.6, read_noise=14.0, saturation=96000.0)
    assert last().status == "correct"
    assert check("6.1", gain=1.6, read_noise=14.0 / 1.6, saturation=96000.0 / 1.6) == (1.6, 14.0, 96000.0)
    out = capsys.readouterr().out
    assert "read noise in ADU" in out and "saturation level in ADU" in out

    unmasked = calibrate_frame(sim.first("science"), bias, flat)[0]
    lacosmic = {"gain": 1.6, "readnoise": 14.0, "satlevel": 96000.0, "mask": mask}
    crmask, cleaned = remove_cosmics(unmasked, **lacosmic)
    check("6.2", lacosmic=lacosmic, crmask=crmask, cleaned=cleaned)
    assert last().status == "correct"
    check("6.2", lacosmic=lacosmic, crmask=crmask, cleaned=cleaned * 1.6)
    assert "in electrons" in capsys.readouterr().out and last().status == "partial"
    check("6.2", lacosmic={**lacosmic, "readnoise": 14.0 / 1.6}, crmask=crmask, cleaned=cleaned)
    assert "read noise in ADU" in capsys.readouterr().out and last().status == "partial"
    no_mask, no_mask_clean = remove_cosmics(unmasked, 1.6, 14.0, 96000.0)
    check("6.2", lacosmic={**lacosmic, "mask": None}, crmask=no_mask, cleaned=no_mask_clean)  # the mask forgotten
    out = capsys.readouterr().out
    assert last().status == "incorrect" and "inside the vignetted corners" in out and "were changed" in out
    check("6.2", lacosmic=lacosmic, crmask=crmask.astype(int), cleaned=...)
    assert "boolean" in capsys.readouterr().out

    inside, outside = int(no_mask[mask].sum()), int(no_mask[~mask].sum())
    check("6.3", n_in_corners=inside, n_outside=outside, n_with_mask=int(crmask.sum()))
    assert last().status == "correct" and inside > crmask.sum() * mask.mean()
    check("6.3", n_in_corners=inside + outside, n_outside=outside, n_with_mask=int(crmask.sum()))
    assert last().status == "partial" and "also in the vignetting mask" in capsys.readouterr().out


def test_lesson07_stack_and_snr_gain(sim, capsys):
    from ccdlab.course.checks import lesson07
    from ccdlab.stack import align_frames, stack_frames

    set_lesson("07_stacking")
    frames = lesson07.cleaned_frames_of(sim)
    cube, _, _ = align_frames(frames, progress=False)
    stack, _ = stack_frames(cube, method="median")
    assert check("7.1", stack=stack) is stack and last().status == "correct"
    check("7.1", stack=frames[0][0])
    assert "just the first frame" in capsys.readouterr().out
    check("7.1", stack=np.full_like(stack, np.nan))
    assert "Most of stack is NaN" in capsys.readouterr().out
    check("7.1", stack=stack[:-1])
    assert "has shape" in capsys.readouterr().out
    values = lesson07.snr_values_of(sim)
    expected = values["gain"]
    assert abs(expected / lesson07.snr_gain_of(sim) - 1) < 0.03  # the notebook's recipe agrees with photometry.snr_gain
    star_snr = lesson07.star_snr_function(lesson07.star_positions_of(sim), 1.6)
    back, gain = check("7.2", star_snr=star_snr, snr_gain=np.float64(expected * 1.02))
    assert last().status == "correct" and back is star_snr
    no_sky = lesson07.star_snr_function(lesson07.star_positions_of(sim), 1.6, subtract_sky=False)
    cases = [
        (star_snr, 2.0, "is sqrt(4)", "snr_gain"),
        (no_sky, expected, "sky under the star", "star_snr"),
        (lambda image, n_frames: star_snr(image, 1), expected, "same as with n_frames = 1", "star_snr"),
        (lambda image, n_frames: 2 * star_snr(image, n_frames), expected, "Compare each part", "star_snr"),
        (lambda image, n_frames: 1 / 0, expected, "raised ZeroDivisionError", "star_snr"),
        (lambda image, n_frames: None, expected, "returns nothing yet", "star_snr"),
        (42, expected, "should be the function", "star_snr"),
        (star_snr, 1.0, "Divide each star's S/N", "snr_gain"),
    ]
    for function, value, phrase, wrong in cases:
        reference, _ = check("7.2", star_snr=function, snr_gain=value)
        out = capsys.readouterr().out
        assert phrase in out and last().status == "partial", (phrase, out)
        assert ("np.float" not in out) and callable(reference)
    check("7.2", star_snr=..., snr_gain=...)
    assert last().status == "not attempted"
    n_eff = values["n_effective"]
    assert abs(star_snr(lesson07.stack_of(sim), n_eff)[0] - 0) > 0 and 3.3 < n_eff < 3.4

"""Tests of ccdlab.reduce (the pipeline and `ccdlab reduce`) and ccdlab.display.summary, on synthetic nights."""

import argparse
import hashlib
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy.io import fits
from matplotlib.figure import Figure

import synthetic
from ccdlab.io import read_frame
from ccdlab.paths import DataNotFoundError
from ccdlab import cli
from ccdlab.commands.reduce import add_arguments
from ccdlab.reduce import ReductionError, output_name, reduce


def run(args):
    return cli.run_command("reduce", args)
from ccdlab.display.summary import save_summary, summary_figure


def digests(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.fits"))}


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    """A night reduced once with two worker processes: (night, result, raw digests before)."""
    night = synthetic.make_night(tmp_path_factory.mktemp("night"), n_science=3)
    before = digests(night.folder)
    result = reduce(night.folder, progress=False, jobs=2, verbose=False, summary=save_summary)
    return night, result, before


def parse(argv):
    parser = argparse.ArgumentParser(prog="ccdlab reduce")
    add_arguments(parser)
    return parser.parse_args(argv)


def test_output_name():
    assert output_name("C0_20181013-130440-460.wcs.fits", "fb") == "C0_20181013-130440-460.wcs.fb.fits"
    assert output_name("C0_20181013-130440-460.wcs.fits", "proc") == "C0_20181013-130440-460.wcs.proc.fits"
    assert output_name("frame.FIT", "fb") == "frame.fb.fits"
    assert output_name("frame.fits.fz", "fb") == "frame.fb.fits"


def test_reduce_writes_every_output(reduced):
    night, result, _ = reduced
    out = night.folder / "reduced"
    assert result.out_dir == out
    for name in ("master_bias.fits", "master_flat.fits", "mask.fits", "reduction_summary.png"):
        assert (out / name).is_file(), name
    for raw in night.science:
        assert (out / output_name(raw.name, "fb")).is_file()
        assert (out / output_name(raw.name, "proc")).is_file()
    assert result.summary_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(result.used["name"]) == [p.name for p in night.bias + night.flats + night.science]
    assert len(result.rejected) == 0
    assert 0.09 < result.mask_fraction["R"] < 0.12
    assert set(result.cosmic_pixels) == {p.name for p in night.science}
    assert all(count > 0 for count in result.cosmic_pixels.values())
    mask = fits.getdata(out / "mask.fits")
    assert mask.dtype == np.uint8 and 0.09 < mask.mean() < 0.12


def test_camera_values_and_junk_gain_are_stated(reduced):
    _, result, _ = reduced
    assert result.camera.gain == 1.6 and result.camera.gain_source == "default"
    assert any("GAIN = -9.1e-36" in note for note in result.notes)
    report = result.report()
    assert "gain 1.6 e-/ADU (default), read noise 14 e- (default), saturation 96000 e- (default)" in report
    assert "cosmic-ray pixels" in report and "covers 10." in report


def test_pipeline_cleans_the_cosmic_rays_and_spares_the_stars(reduced):
    night, result, _ = reduced
    for raw in night.science:
        fb, _ = read_frame(result.out_dir / output_name(raw.name, "fb"))
        proc, header = read_frame(result.out_dir / output_name(raw.name, "proc"))
        assert abs(np.nanmedian(fb) - 300) < 5
        assert np.array_equal(np.isnan(fb), np.isnan(proc))  # the vignetted corners stay NaN
        with np.errstate(invalid="ignore"):
            changed = np.isfinite(fb) & (fb != proc)
        truth = night.cosmic_masks[raw.name]
        assert (changed & truth).sum() / truth.sum() >= 0.9
        for x, y, _ in night.stars[raw.name]:
            iy, ix = int(round(y)), int(round(x))
            assert not changed[iy - 2 : iy + 3, ix - 2 : ix + 3].any()
        assert header["NCOSMIC"] == result.cosmic_pixels[raw.name] == int(changed.sum())
        cards = list(header["HISTORY"])
        history = "\n".join(cards)
        assert "cosmic rays removed" in history
        # the masters are named by file, and the mask by its file and threshold
        assert "ccdlab: subtracted master_bias.fits (median 270" in history
        assert "ccdlab: divided by master_flat.fits (R)" in history
        assert "ccdlab: mask mask.fits: pixels below 0.8 of the flat's central level" in history
        assert all(len(card) <= 72 for card in cards)  # whole cards, never cut mid-word by astropy


def test_masters_history_says_how_they_were_made(reduced):
    _, result, _ = reduced
    bias_cards = list(fits.getheader(result.master_bias)["HISTORY"])
    flat_cards = list(fits.getheader(result.master_flats["R"])["HISTORY"])
    assert bias_cards[0] == "ccdlab: master bias, median of 5 bias frames"
    assert flat_cards[:3] == [
        "ccdlab: master flat (R), median of 5 flats minus master_bias.fits",
        "ccdlab: each flat divided by its median in the box [65:192,65:192]",
        "ccdlab: normalised to a median of 1 in that box (50% of each side)",
    ]
    for cards in (bias_cards, flat_cards):
        assert all(len(card) <= 72 for card in cards)
        assert not any("overscan" in card or "rejected" in card for card in cards)  # none here


def test_raw_files_are_never_touched_and_rerunning_is_safe(reduced):
    night, result, before = reduced
    assert {p: d for p, d in digests(night.folder).items() if "reduced" not in p.parts} == before
    again = reduce(night.folder, progress=False, jobs=1, verbose=False, summary=False)
    assert again.cosmic_pixels == result.cosmic_pixels
    assert not [p for p in result.out_dir.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert {p: d for p, d in digests(night.folder).items() if "reduced" not in p.parts} == before


def test_left_out_frames_come_with_reasons(tmp_path):
    night = synthetic.make_night(tmp_path, n_science=2, n_cosmics=5)
    rng = np.random.default_rng(9)
    fits.PrimaryHDU(synthetic.flat_frame(rng, night.flat, 200.0), header=fits.Header({"IMAGETYP": "flat", "FILTER": "R"})).writeto(
        tmp_path / "flats" / "faint_flat.fits")
    fits.PrimaryHDU(np.zeros((64, 64), np.uint16), header=fits.Header({"IMAGETYP": "object", "FILTER": "R"})).writeto(
        tmp_path / "science" / "small.fits")
    (tmp_path / "darks").mkdir()
    fits.PrimaryHDU(np.zeros((64, 64), np.uint16), header=fits.Header({"IMAGETYP": "dark", "EXPTIME": 60.0})).writeto(
        tmp_path / "darks" / "a_dark.fits")
    (tmp_path / "misc").mkdir()
    fits.PrimaryHDU(np.zeros((8, 8), np.uint16)).writeto(tmp_path / "misc" / "mystery.fits")
    result = reduce(tmp_path, out=tmp_path / "out", progress=False, jobs=1, verbose=False, summary=False)
    rows = {str(r["name"]): r for r in result.frames}
    assert rows["faint_flat.fits"]["status"] == "rejected" and "too faint" in rows["faint_flat.fits"]["reason"]
    assert rows["small.fits"]["status"] == "rejected" and "small.fits is 64 x 64 pixels" in rows["small.fits"]["reason"]
    assert rows["a_dark.fits"]["status"] == "rejected" and "unlike the bias frames" in rows["a_dark.fits"]["reason"]
    assert rows["mystery.fits"]["status"] == "rejected"
    assert len(result.cosmic_pixels) == 2
    report = result.report()
    assert "faint_flat.fits (flat, rejected): too faint" in report
    flat_history = " ".join(card.strip() for card in fits.getheader(result.master_flats["R"])["HISTORY"])
    assert "ccdlab: rejected flat faint_flat.fits: too faint: 200 ADU above bias < 1000 input:" in flat_history


def test_several_filters_give_one_flat_and_mask_each(tmp_path):
    night = synthetic.make_night(tmp_path, filters=("R", "V"), n_science=1, n_cosmics=5)
    science = fits.open(night.science[0])
    header = science[0].header.copy()
    header["FILTER"] = "B"
    fits.PrimaryHDU(science[0].data, header=header).writeto(tmp_path / "science" / "in_b.fits")
    science.close()
    result = reduce(tmp_path, progress=False, jobs=1, verbose=False, summary=False)
    assert sorted(p.name for p in result.master_flats.values()) == ["master_flat_R.fits", "master_flat_V.fits"]
    assert sorted(p.name for p in result.masks.values()) == ["mask_R.fits", "mask_V.fits"]
    row = result.frames[result.frames["name"] == "in_b.fits"][0]
    assert row["status"] == "rejected" and row["reason"] == "no master flat in filter B (flats: R, V)"
    assert fits.getheader(result.master_flats["V"])["FILTER"] == "V"


def test_options_are_used_and_stated(tmp_path):
    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=5)
    result = reduce(night.folder, gain=2.0, readnoise=5.0, satlevel=120000, progress=False, jobs=1, verbose=False, summary=False)
    assert result.camera.describe() == "gain 2 e-/ADU (option), read noise 5 e- (option), saturation 120000 e- (option)"
    assert not any("GAIN" in note for note in result.notes)  # the header is not even looked at for gain
    header = fits.getheader(result.cleaned[0])
    assert "gain 2 e-/ADU, read noise 5 e-, saturation 120000 e-" in " ".join(c.strip() for c in header["HISTORY"])


def test_missing_frames_and_bad_options(tmp_path):
    night = synthetic.make_night(tmp_path / "night", n_science=1, n_flats=2, n_bias=2)
    with pytest.raises(ReductionError, match="raw-data folder"):
        reduce(night.folder, out=night.folder / "bias", progress=False, verbose=False)
    with pytest.raises(ReductionError, match="jobs must be a whole number"):
        reduce(night.folder, jobs=0, progress=False, verbose=False)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        reduce(tmp_path / "nowhere", progress=False, verbose=False)
    no_bias = tmp_path / "no_bias"
    shutil.copytree(night.folder, no_bias, ignore=shutil.ignore_patterns("bias"))
    with pytest.raises(ReductionError, match="No bias frames found"):
        reduce(no_bias, progress=False, verbose=False)
    no_flats = tmp_path / "no_flats"
    shutil.copytree(night.folder, no_flats, ignore=shutil.ignore_patterns("flats"))
    with pytest.raises(ReductionError, match="No flat frames found"):
        reduce(no_flats, progress=False, verbose=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReductionError, match="No FITS frames found"):
        reduce(tmp_path / "empty", progress=False, verbose=False)


def test_cli_runs_and_prints_the_table(tmp_path, capsys):
    night = synthetic.make_night(tmp_path / "night", n_science=1, n_cosmics=5)
    code = run(parse([str(night.folder), "--out", str(tmp_path / "out"), "--jobs", "1", "--no-progress", "--gain", "1.6"]))
    captured = capsys.readouterr()
    assert code == 0
    assert "frame type" in captured.out and "gain 1.6 e-/ADU (option)" in captured.out
    assert (tmp_path / "out" / "master_bias.fits").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{tmp}/nowhere"], "does not exist"),
        (["{night}", "--gain", "0"], "gain must be a positive number"),
        (["{night}", "--out", "{night}/flats"], "raw-data folder"),
    ],
)
def test_cli_bad_input_is_one_sentence(tmp_path, capsys, argv, message):
    night = synthetic.make_night(tmp_path / "night", n_science=1, n_flats=2, n_bias=2, n_cosmics=2)
    argv = [a.format(tmp=tmp_path, night=night.folder) for a in argv] + ["--no-progress", "--jobs", "1"]
    code = run(parse(argv))
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("ccdlab reduce: ") and message in err and "Traceback" not in err


def test_summary_figure_is_not_left_open(reduced, tmp_path):
    _, result, _ = reduced
    plt.close("all")
    figure = summary_figure(result)
    assert isinstance(figure, Figure) and len(figure.axes) >= 6
    path = save_summary(result, tmp_path / "summary.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert plt.get_fignums() == []
    assert [p.name for p in tmp_path.iterdir()] == ["summary.png"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """The data issue's realistic tiny night (ccdlab.data.simulate, with truth), reduced once."""
    from ccdlab.data.simulate import make_night

    folder = make_night(tmp_path_factory.mktemp("simulated") / "data", size="tiny", progress=False)
    return folder, reduce(folder, progress=False, jobs=2, verbose=False, summary=False)


def test_simulated_night_masters_match_the_truth(simulated):
    import json

    folder, result = simulated
    truth = json.loads((folder / "truth" / "truth.json").read_text())
    rejected = {str(r["name"]): str(r["reason"]) for r in result.rejected}
    assert set(rejected) == set(truth["unusable_flats"])
    assert all(reason.startswith("saturated") for reason in rejected.values())
    true_flat = fits.getdata(folder / "truth" / "true_flat.fits")
    flat = fits.getdata(next(iter(result.master_flats.values())))
    field = true_flat > 0.95  # the unvignetted field
    ratio = flat[field] / true_flat[field]
    assert np.sqrt(np.mean((ratio / np.median(ratio) - 1) ** 2)) < 0.01  # measured: 0.3%
    true_bias = fits.getdata(folder / "truth" / "master_bias.fits")
    assert abs(np.median(fits.getdata(result.master_bias) - true_bias)) < 1


def test_simulated_night_cosmic_rays_found_and_star_cores_spared(simulated):
    from astropy.table import Table

    folder, result = simulated
    flagged_total = right_total = 0
    for name in result.cosmic_pixels:
        stem = name.split(".")[0]
        truth = fits.getdata(folder / "truth" / "cosmics" / f"{stem}.crmask.fits").astype(bool)
        fb = fits.getdata(result.out_dir / output_name(name, "fb"))
        proc = fits.getdata(result.out_dir / output_name(name, "proc"))
        with np.errstate(invalid="ignore"):
            flagged = np.isfinite(fb) & (fb != proc)
        seen = truth & np.isfinite(fb)  # hits in the masked corners cannot be found, nor need be
        assert (flagged & seen).sum() / seen.sum() >= 0.9
        flagged_total += flagged.sum()
        right_total += (flagged & synthetic.grow(truth)).sum()
        if name == sorted(result.cosmic_pixels)[0]:  # star positions are given for the first frame
            stars = Table.read(folder / "truth" / "stars.ecsv")
            ny, nx = fb.shape
            for star in stars[stars["flux"] > 2e4]:  # stars whose core stands out of the noise
                iy, ix = int(round(star["y"])), int(round(star["x"]))
                if 2 <= iy < ny - 2 and 2 <= ix < nx - 2:
                    box = (slice(iy - 2, iy + 3), slice(ix - 2, ix + 3))
                    assert not (flagged[box] & ~truth[box]).any(), (star["x"], star["y"])
    assert right_total / flagged_total >= 0.9


@pytest.mark.parametrize("command", [["/no/such/python"], ["false"]])
def test_frames_are_cleaned_here_when_workers_fail(tmp_path, monkeypatch, command):
    import ccdlab.parallel

    night = synthetic.make_night(tmp_path, n_science=2, n_cosmics=5)
    monkeypatch.setattr(ccdlab.parallel, "worker_command", lambda function: command)
    result = reduce(night.folder, progress=False, jobs=2, verbose=False, summary=False)
    assert len(result.cosmic_pixels) == 2 and all(c > 0 for c in result.cosmic_pixels.values())
    assert len(result.rejected) == 0


# -- frames typed against their header ---------------------------------------------------------


def test_a_frame_whose_header_contradicts_its_folder_is_listed(tmp_path, capsys):
    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=5)
    header = fits.Header({"IMAGETYP": "Flat Field", "EXPTIME": 0.0, "FILTER": "UNK"})  # a bias, mislabelled
    fits.PrimaryHDU(synthetic.bias_frame(np.random.default_rng(3)), header=header).writeto(tmp_path / "bias" / "odd.fits")
    result = reduce(night.folder, progress=False, jobs=1, verbose=True, summary=False)
    row = result.frames[result.frames["name"] == "odd.fits"][0]
    assert row["frame_type"] == "bias" and row["status"] == "used" and row["conflict"]  # the folder decides
    assert int(result.frames["conflict"].sum()) == 1
    note = next(n for n in result.notes if "disagrees with the folder" in n)
    assert note.startswith("the header disagrees with the folder for 1 frame (typed as the note says): odd.fits (")
    assert "IMAGETYP 'Flat Field' says flat, but the frame is in bias/" in note
    out = capsys.readouterr().out
    assert "Note: the header disagrees with the folder for 1 frame" in out and "odd.fits (IMAGETYP 'Flat Field'" in out


# -- nothing is created when the reduction cannot run ------------------------------------------


def tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="module")
def small_night(tmp_path_factory):
    """A small night that the failure tests copy (never reduced itself)."""
    return synthetic.make_night(tmp_path_factory.mktemp("small") / "night", n_science=1, n_flats=2, n_bias=2, n_cosmics=2)


def copy_night(small_night, tmp_path, name="night", drop=()):
    folder = tmp_path / name
    shutil.copytree(small_night.folder, folder, ignore=shutil.ignore_patterns(*drop))
    return folder


@pytest.mark.parametrize("raw", ["flats", "bias", "science"])
def test_a_raw_folder_as_data_dir_is_refused_and_nothing_created(small_night, tmp_path, raw):
    folder = copy_night(small_night, tmp_path)
    before = tree(tmp_path)
    with pytest.raises(ReductionError) as error:
        reduce(folder / raw, progress=False, verbose=False)
    assert str(error.value) == (
        f"{(folder / raw).resolve()} is a raw folder: pass the folder that holds bias/, flats/ and science/ "
        f"(its parent, {folder.resolve()})."
    )
    assert tree(tmp_path) == before


def test_a_raw_folder_as_data_dir_on_the_command_line(small_night, tmp_path, capsys):
    folder = copy_night(small_night, tmp_path)
    before = tree(tmp_path)
    assert run(parse([str(folder / "flats"), "--no-progress"])) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ccdlab reduce: {(folder / 'flats').resolve()} is a raw folder: pass the folder")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert tree(tmp_path) == before


def test_a_night_folder_named_raw_is_still_a_night(small_night, tmp_path):
    folder = copy_night(small_night, tmp_path, name="raw")
    result = reduce(folder, out=tmp_path / "out", progress=False, jobs=1, verbose=False, summary=False)
    assert len(result.cleaned) == 1


@pytest.mark.parametrize("where", ["bias", "flats/sub"])
def test_out_inside_a_raw_folder_is_refused(small_night, tmp_path, monkeypatch, where):
    folder = copy_night(small_night, tmp_path)
    (folder / where).mkdir(parents=True, exist_ok=True)
    before = tree(tmp_path)
    monkeypatch.chdir(folder / where)
    with pytest.raises(ReductionError, match="raw-data folder") as error:
        reduce(folder, out=".", progress=False, verbose=False)
    assert str((folder / where).resolve()) in str(error.value)
    with pytest.raises(ReductionError, match="raw-data folder"):
        reduce(folder, out="new_out", progress=False, verbose=False)
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "drop, message",
    [
        (("bias",), "No bias frames found"),
        (("flats",), "No flat frames found"),
        (("science",), "No science frames found"),
        (("bias", "flats", "science"), "No FITS frames found"),
    ],
)
def test_missing_frames_create_nothing(small_night, tmp_path, drop, message):
    folder = copy_night(small_night, tmp_path, drop=drop)
    before = tree(tmp_path)
    with pytest.raises(ReductionError, match=message):
        reduce(folder, progress=False, verbose=False)
    with pytest.raises(ReductionError, match=message):
        reduce(folder, out=tmp_path / "elsewhere" / "out", progress=False, verbose=False)
    assert tree(tmp_path) == before


def test_a_missing_data_folder_creates_no_output_folder(tmp_path, capsys):
    assert run(parse([str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--no-progress"])) == 1
    assert "does not exist" in capsys.readouterr().err
    assert tree(tmp_path) == []


def test_bad_options_create_nothing(small_night, tmp_path, capsys):
    folder = copy_night(small_night, tmp_path)
    before = tree(tmp_path)
    assert run(parse([str(folder), "--gain", "0", "--no-progress"])) == 1
    assert "gain must be a positive number" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_a_master_flat_without_positive_pixels_stops_the_reduction(small_night, tmp_path, monkeypatch, capsys):
    import ccdlab.reduce

    folder = copy_night(small_night, tmp_path)
    real = ccdlab.reduce.master_flat

    def dark_flat(*args, **kwargs):
        flat = real(*args, **kwargs)
        flat.data[:] = np.nan
        return flat

    monkeypatch.setattr(ccdlab.reduce, "master_flat", dark_flat)
    flat_path = folder / "reduced" / "master_flat.fits"
    with pytest.raises(ReductionError, match="has no positive pixels") as error:
        reduce(folder, progress=False, jobs=1, verbose=False, summary=False)
    assert str(error.value).startswith(f"The master flat {flat_path} has no positive pixels (all NaN or <= 0)")
    assert run(parse([str(folder), "--no-progress", "--jobs", "1"])) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ccdlab reduce: The master flat {flat_path}") and err.count("\n") == 1
    assert not list((folder / "reduced").glob("*.fb.fits"))


def test_calibrated_saturation_keeps_every_saturated_pixel_protected():
    from ccdlab.reduce import calibrated_saturation

    rng = np.random.default_rng(3)
    flat = rng.uniform(0.3, 1.06, (64, 64))
    mask = flat < 0.8
    level = calibrated_saturation(96000.0, flat, mask)
    saturated_after_flat = 96000.0 / flat[~mask]  # a raw pixel at saturation, flat-fielded
    assert np.all(saturated_after_flat >= level)
    assert level == pytest.approx(96000.0 / flat[~mask].max())
    assert calibrated_saturation(96000.0, np.full((4, 4), 0.9)) == 96000.0  # never above the camera's


# -- screening biases, and the flats' saturation limit -----------------------------------------


def test_a_science_frame_misfiled_in_bias_is_rejected(tmp_path, capsys):
    from ccdlab.calibrate import master_bias

    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=5)
    science = fits.open(night.science[0])
    header = science[0].header.copy()
    header["EXPTIME"] = 180.0  # IMAGETYP 'object'
    fits.PrimaryHDU(science[0].data, header=header).writeto(tmp_path / "bias" / "misfiled.fits")
    science.close()
    result = reduce(night.folder, progress=False, jobs=1, verbose=True, summary=False)
    row = result.frames[result.frames["name"] == "misfiled.fits"][0]
    assert row["frame_type"] == "bias" and row["conflict"]  # the folder still types it
    assert row["status"] == "rejected"
    assert row["reason"] == "180 s exposure with IMAGETYP 'object': a science frame, not a bias (a bias is ~0 s)"
    assert "misfiled.fits (bias, rejected): 180 s exposure" in capsys.readouterr().out  # as rejected flats are
    assert np.array_equal(fits.getdata(result.master_bias), master_bias(night.bias))  # the master did not move
    history = " ".join(card.strip() for card in fits.getheader(result.master_bias)["HISTORY"])
    assert "ccdlab: master bias, median of 5 bias frames" in history
    assert "ccdlab: rejected bias misfiled.fits: 180 s exposure with IMAGETYP 'object'" in history


def test_a_bias_with_light_in_it_is_rejected_by_its_level(tmp_path):
    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=5)
    lit = synthetic.bias_frame(np.random.default_rng(5)) + np.uint16(40)  # a light leak: 40 ADU
    fits.PrimaryHDU(lit, header=fits.Header({"IMAGETYP": "dark", "EXPTIME": 0.001})).writeto(tmp_path / "bias" / "lit.fits")
    result = reduce(night.folder, progress=False, jobs=1, verbose=False, summary=False)
    row = result.frames[result.frames["name"] == "lit.fits"][0]
    assert row["status"] == "rejected" and row["reason"].startswith("level 310.0 ADU, 40.0 ADU from the biases' median 270.0")
    assert list(result.used["name"][:5]) == [p.name for p in night.bias]


def test_no_usable_bias_stops_before_anything_is_written(small_night, tmp_path):
    folder = copy_night(small_night, tmp_path)
    for path in sorted((folder / "bias").iterdir()):
        with fits.open(path, mode="update") as hdul:
            hdul[0].header["IMAGETYP"], hdul[0].header["EXPTIME"] = "object", 60.0
    before = tree(tmp_path)
    with pytest.raises(ReductionError, match=r"No usable bias frame among the 2 in .*60 s exposure with IMAGETYP 'object'"):
        reduce(folder, progress=False, verbose=False)
    assert tree(tmp_path) == before


def test_the_flats_saturation_limit_follows_the_camera(tmp_path):
    from ccdlab.calibrate import master_bias, screen_flats

    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=5)
    screening = screen_flats(night.flats, master_bias(night.bias))
    levels = dict(zip(screening["name"], screening["level"]))
    # 38,400 e- at 1.6 e-/ADU saturate at 24,000 ADU: flats above 0.75 x that, 18,000 ADU, are not used
    result = reduce(night.folder, satlevel=38400, progress=False, jobs=1, verbose=False, summary=False)
    rows = {str(r["name"]): r for r in result.frames if r["frame_type"] == "flat"}
    assert {n for n, r in rows.items() if r["status"] == "rejected"} == {n for n, level in levels.items() if level > 18000}
    assert 0 < sum(r["status"] == "used" for r in rows.values()) < len(rows)  # some of each
    for name, row in rows.items():
        if row["status"] == "rejected":
            assert row["reason"] == (
                f"saturated or non-linear: {levels[name]:.0f} ADU above bias > 18000 ADU, the limit: "
                "0.75 x the camera's saturation (38400 e- = 24000 ADU)"
            )


# -- ccdlab outputs and raw frames named like them ---------------------------------------------


def test_only_stamped_masters_are_skipped_as_ccdlab_outputs(tmp_path):
    from ccdlab.io import write_frame

    night = synthetic.make_night(tmp_path, n_science=1, n_cosmics=5)
    shutil.copy(night.science[0], tmp_path / "science" / "master_field.fits")  # a raw frame, oddly named
    write_frame(tmp_path / "previous" / "master_bias.fits", np.zeros(synthetic.SHAPE), fits.Header({"IMAGETYP": "bias"}))
    result = reduce(night.folder, out=tmp_path / "out", progress=False, jobs=1, verbose=False, summary=False)
    rows = {str(r["name"]): r for r in result.frames}
    assert rows["master_field.fits"]["status"] == "used" and rows["master_field.fits"]["cosmic_pixels"] > 0
    assert (tmp_path / "out" / "master_field.fb.fits").is_file()
    assert rows["master_bias.fits"]["status"] == "ignored"
    assert rows["master_bias.fits"]["reason"] == "a ccdlab output, not a raw frame"


# -- frames with an overscan -------------------------------------------------------------------


def add_overscan(night_folder, dest, width=8):
    """Copy a night, giving every frame `width` overscan columns and a bias drifting row by row.

    Each frame gets its own drift (a sine over the rows plus an offset), added to the data and
    recorded, noise-free, in the overscan at 100 ADU + drift: once the overscan is subtracted
    every frame is the original minus 100 ADU, so the calibrated frames must come out the same.
    """
    for index, path in enumerate(sorted(night_folder.rglob("*.fits"))):
        if "reduced" in path.parts:
            continue
        with fits.open(path) as hdul:
            data, header = hdul[0].data.astype(np.float32), hdul[0].header.copy()
        ny, nx = data.shape
        drift = np.round(15 * np.sin(np.arange(ny) / 9.0 + index) + 3 * index).astype(np.float32)[:, None]
        raw = np.empty((ny, nx + width), np.float32)
        raw[:, :nx] = data + drift
        raw[:, nx:] = 100.0 + drift
        header["BIASSEC"] = f"[{nx + 1}:{nx + width},1:{ny}]"
        header["TRIMSEC"] = f"[1:{nx},1:{ny}]"
        target = dest / path.relative_to(night_folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        fits.PrimaryHDU(raw, header=header).writeto(target)
    return dest


def test_a_night_with_overscan_calibrates_like_the_same_night_without(reduced, tmp_path):
    night, plain, _ = reduced
    folder = add_overscan(night.folder, tmp_path / "overscan")
    result = reduce(folder, progress=False, jobs=1, verbose=False, summary=False)
    assert len(result.rejected) == 0 and len(result.calibrated) == len(plain.calibrated) == 3
    bias_shift = np.median(fits.getdata(plain.master_bias) - fits.getdata(result.master_bias))
    assert bias_shift == pytest.approx(100.0, abs=1e-3)  # the overscan took the 100 ADU and the drift out
    for ours, theirs in zip(result.calibrated, plain.calibrated):
        data, header = read_frame(ours)
        expected, _ = read_frame(theirs)
        assert data.shape == expected.shape == synthetic.SHAPE  # trimmed
        assert np.array_equal(np.isnan(data), np.isnan(expected))
        np.testing.assert_allclose(data, expected, rtol=1e-5, atol=1e-3, equal_nan=True)
        assert list(header["HISTORY"])[0] == "ccdlab: overscan subtracted row by row (median of BIASSEC"
    on_inputs = ("ccdlab: on {n} of {n} inputs before combining, overscan subtracted row by row (median "
                 "of BIASSEC [257:264,1:256]); trimmed to TRIMSEC [1:256,1:256]")
    for master, count in ((result.master_bias, 5), (result.master_flats["R"], 5)):
        cards = list(fits.getheader(master)["HISTORY"])
        assert on_inputs.format(n=count) in " ".join(card.strip() for card in cards)
        assert all(len(card) <= 72 for card in cards)


def test_kept_lacosmic_results_are_shared_with_the_workers_and_reused(tiny_night, tmp_path, monkeypatch):
    """With ccdlab.cosmics.keep_results_in (the course's setup cell), the workers keep L.A.Cosmic's hits
    on disk; a second reduction of the same frames reads them back and writes the same cleaned frames."""
    import astroscrappy

    from ccdlab import cosmics, lacosmic
    from ccdlab.io import read_frame

    cosmics._MEMO.clear()  # nothing kept in memory by earlier tests: the workers compute and keep every frame
    before = cosmics.keep_results_in(tmp_path / "kept")
    try:
        first = reduce(tiny_night, tmp_path / "one", progress=False, jobs=2, verbose=False, summary=False)
        kept = sorted((tmp_path / "kept").glob("*.npz"))
        assert len(kept) == len(first.cleaned) > 0
        cosmics._MEMO.clear()  # only the files on disk are left
        cosmics.cleaned_in_electrons()  # probed with the real astroscrappy, before it is replaced

        def refuse(*args, **kwargs):
            raise AssertionError("L.A.Cosmic ran again on a frame whose result is kept")

        monkeypatch.setattr(lacosmic, "detect_cosmics", refuse)
        monkeypatch.setattr(astroscrappy, "detect_cosmics", refuse)
        monkeypatch.setattr(astroscrappy.detect_cosmics, "__qualname__", "detect_cosmics", raising=False)
        monkeypatch.setattr(astroscrappy.detect_cosmics, "__module__", "astroscrappy.astroscrappy", raising=False)
        again = reduce(tiny_night, tmp_path / "two", progress=False, jobs=1, verbose=False, summary=False)
    finally:
        cosmics.keep_results_in(before)
    assert again.cosmic_pixels == first.cosmic_pixels
    for one, two in zip(first.cleaned, again.cleaned):
        np.testing.assert_array_equal(read_frame(one)[0], read_frame(two)[0])


def test_frames_whose_results_are_kept_need_no_worker(tiny_night, tmp_path, monkeypatch):
    """Lesson 07 reduces the frames lesson 06 cleaned: their kept results are read back in this process,
    and worker processes are started only for the frames that still need L.A.Cosmic."""
    import ccdlab.reduce as reduce_module
    from ccdlab import cosmics
    from ccdlab.io import read_frame

    cosmics._MEMO.clear()  # nothing kept in memory by earlier tests
    before = cosmics.keep_results_in(tmp_path / "kept")
    try:
        first = reduce(tiny_night, tmp_path / "one", progress=False, jobs=2, verbose=False, summary=False)
        kept = sorted((tmp_path / "kept").glob("*.npz"))
        assert len(kept) == len(first.cleaned) > 1
        cosmics._MEMO.clear()
        kept[0].unlink()  # one frame's result is lost: that frame alone goes to a worker
        real, sent = reduce_module.run_in_workers, []

        def counted(tasks, jobs, function):
            tasks = list(tasks)
            sent.append((len(tasks), jobs))
            yield from real(tasks, jobs, function)

        monkeypatch.setattr(reduce_module, "run_in_workers", counted)
        again = reduce(tiny_night, tmp_path / "two", progress=False, jobs=2, verbose=False, summary=False)
        assert sent == [] or sent == [(1, 1)]  # one task, cleaned by one worker (or in this process when jobs is 1)
        cosmics._MEMO.clear()
        third = reduce(tiny_night, tmp_path / "three", progress=False, jobs=2, verbose=False, summary=False)
        assert len(sent) <= 1  # everything kept now: no worker started the third time
    finally:
        cosmics.keep_results_in(before)
    assert again.cosmic_pixels == first.cosmic_pixels == third.cosmic_pixels
    for one, two, three in zip(first.cleaned, again.cleaned, third.cleaned):
        np.testing.assert_array_equal(read_frame(one)[0], read_frame(two)[0])
        np.testing.assert_array_equal(read_frame(one)[0], read_frame(three)[0])

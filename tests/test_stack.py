"""Tests for ccdlab.stack: aligning dithered frames by their WCS, stacking them, writing the stack.

The frames are made here: Gaussian stars on a flat sky with photon and read noise, 200 x 200
pixels, each with a TAN WCS whose CRPIX moves with the dither (a star keeps its RA and Dec).
"""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

import ccdlab.stack as stack_module
from ccdlab.photometry import snr_gain
from ccdlab.stack import StackError, StackWarning, align_frames, frame_wcs, stack_frames, write_stack

GAIN, READNOISE = 1.6, 14.0
SHAPE = (200, 200)
SKY_E = 1500.0
FWHM = 3.5
SCALE = 0.676 / 3600.0
#: Star positions (x, y) in the reference frame and their total flux in electrons.
STARS = np.array([
    (52.3, 61.7, 4.0e4), (140.6, 48.2, 9.0e4), (101.1, 100.4, 2.0e5), (60.8, 148.9, 6.0e4),
    (150.2, 141.5, 1.2e5), (98.4, 160.3, 3.0e4), (155.5, 95.0, 7.0e4), (40.2, 104.9, 1.5e5),
])
#: Fractional dithers (dx, dy): how far the stars moved from the reference frame, pixels.
DITHERS = [(0.0, 0.0), (3.4, -2.7), (-4.2, 5.1), (6.3, 1.8)]
INTEGER_DITHERS = [(0.0, 0.0), (3.0, -2.0), (-4.0, 5.0), (6.0, 1.0)]


def tan_header(dx: float = 0.0, dy: float = 0.0, shape=SHAPE, ra: float = 339.75, dec: float = 33.9) -> fits.Header:
    """A TAN WCS header for a frame whose stars moved by (dx, dy) pixels from the reference."""
    ny, nx = shape
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["CRVAL1"], header["CRVAL2"] = ra, dec
    header["CRPIX1"] = (nx - 1) / 2.0 + 1.0 + dx
    header["CRPIX2"] = (ny - 1) / 2.0 + 1.0 + dy
    header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = -SCALE, 0.0, 0.0, SCALE
    header["EXPTIME"] = 180.0
    return header


def star_image(stars, shape=SHAPE, fwhm: float = FWHM) -> np.ndarray:
    """Gaussian stars (x, y, electrons) on a zero background, float64 electrons."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    sigma = fwhm / 2.3548
    image = np.zeros(shape)
    for x, y, flux in stars:
        image += flux / (2 * np.pi * sigma**2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
    return image


def make_frames(dithers=DITHERS, seed: int = 1, noise: bool = True, sky_e: float = SKY_E, shape=SHAPE,
                cosmic=None, stars=STARS) -> list[tuple[np.ndarray, fits.Header]]:
    """(data in ADU, header) per dither; ``cosmic=(frame, x, y, adu)`` adds a hit to one frame."""
    rng = np.random.default_rng(seed)
    frames = []
    for index, (dx, dy) in enumerate(dithers):
        moved = [(x + dx, y + dy, f) for x, y, f in stars]
        electrons = sky_e + star_image(moved, shape)
        if noise:
            electrons = rng.poisson(electrons) + rng.normal(0.0, READNOISE, shape)
        data = (electrons / GAIN).astype(np.float32)
        if cosmic is not None and cosmic[0] == index:
            _, cx, cy, adu = cosmic
            data[cy, cx] += adu
        frames.append((data, tan_header(dx, dy, shape)))
    return frames


def centroid(image: np.ndarray, x: float, y: float, half: int = 7) -> tuple[float, float]:
    """First-moment centroid of a sky-subtracted cutout around (x, y)."""
    x0, y0 = int(round(x)), int(round(y))
    cut = image[y0 - half : y0 + half + 1, x0 - half : x0 + half + 1].astype(float)
    cut = cut - np.median(image[np.isfinite(image)])
    yy, xx = np.mgrid[y0 - half : y0 + half + 1, x0 - half : x0 + half + 1]
    return float((cut * xx).sum() / cut.sum()), float((cut * yy).sum() / cut.sum())


# --------------------------------------------------------------------------------------------
# align_frames
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["interp", "adaptive"])
def test_alignment_puts_each_star_on_the_reference_pixel(method):
    frames = make_frames(noise=False)
    cube, footprints, wcs = align_frames(frames, method=method, progress=False)
    assert cube.shape == (4,) + SHAPE and cube.dtype == np.float32
    assert footprints.dtype == bool and footprints.shape == cube.shape
    for plane in cube:
        for x, y, _ in STARS:
            cx, cy = centroid(plane, x, y)
            assert abs(cx - x) < 0.1 and abs(cy - y) < 0.1, (method, x, y, cx, cy)
    assert wcs.has_celestial and tuple(wcs.pixel_shape) == (SHAPE[1], SHAPE[0])


def test_reference_frame_is_copied_unchanged_and_others_are_not():
    frames = make_frames()
    cube, _, _ = align_frames(frames, progress=False)
    np.testing.assert_array_equal(cube[0], frames[0][0])
    assert not np.allclose(cube[1][20:-20, 20:-20], frames[1][0][20:-20, 20:-20])


def test_reference_can_be_any_frame():
    frames = make_frames(noise=False)
    cube, _, wcs = align_frames(frames, reference=2, progress=False)
    np.testing.assert_array_equal(cube[2], frames[2][0])
    dx, dy = DITHERS[2]
    x, y, _ = STARS[2]
    cx, cy = centroid(cube[0], x + dx, y + dy)
    assert abs(cx - (x + dx)) < 0.1 and abs(cy - (y + dy)) < 0.1
    assert wcs.wcs.crpix[0] == pytest.approx(frames[2][1]["CRPIX1"])
    cube_last, _, _ = align_frames(frames, reference=-1, progress=False)
    np.testing.assert_array_equal(cube_last[3], frames[3][0])


def test_outside_footprint_and_nan_pixels_become_nan():
    frames = make_frames(noise=False)
    data, header = frames[1]
    data = data.copy()
    data[:20, :20] = np.nan  # a vignetted corner
    frames[1] = (data, header)
    cube, footprints, _ = align_frames(frames, progress=False)
    np.testing.assert_array_equal(footprints, np.isfinite(cube))
    # frame 1 moved by (+3.4, -2.7): reference columns beyond nx - 1 - 3.4 are outside it
    assert np.isnan(cube[1][:, -3:]).all() and not footprints[1][:, -3:].any()
    assert np.isnan(cube[1][:2, :]).all()  # rows below y = 2.7 come from below frame 1
    # the NaN corner lands 3.4 px left and 2.7 px up in the reference grid
    assert np.isnan(cube[1][5:15, 0:10]).all()
    assert np.isfinite(cube[1][100, 100]) and footprints[1][100, 100]
    assert footprints[0].all()


@pytest.mark.parametrize("rotate", [False, True])
def test_a_pure_shift_gives_what_reproject_interp_gives(rotate):
    """Frames that differ by a shift are resampled at the shifted coordinates, not through both WCS:
    the result is reproject_interp's (bilinear), NaN where it is NaN; a rotated frame goes through reproject."""
    from reproject import reproject_interp

    frames = make_frames()
    data, header = frames[1]
    data = data.copy()
    data[:20, :20] = np.nan
    data[0, 150] = np.nan
    if rotate:  # a turn of 0.5 degree: no longer a shift
        angle = np.radians(0.5)
        header = header.copy()
        header["CD1_1"], header["CD1_2"] = -SCALE * np.cos(angle), SCALE * np.sin(angle)
        header["CD2_1"], header["CD2_2"] = SCALE * np.sin(angle), SCALE * np.cos(angle)
    reference = frame_wcs(frames[0][1])
    assert (stack_module._translation(frame_wcs(header), reference, SHAPE) is None) == rotate
    cube, _, _ = align_frames([frames[0], (data, header)], progress=False)
    expected = reproject_interp((data, WCS(header)), reference, shape_out=SHAPE, return_footprint=False)
    np.testing.assert_array_equal(np.isnan(cube[1]), np.isnan(expected))
    np.testing.assert_allclose(cube[1][np.isfinite(expected)], expected[np.isfinite(expected)], rtol=1e-6, atol=1e-3)


def test_frames_of_different_sizes_are_resampled_onto_the_reference_grid():
    small = (180, 210)
    frames = make_frames(noise=False)
    moved = [(x + 2.0, y + 1.0, f) for x, y, f in STARS if x + 2 < small[1] - 5 and y + 1 < small[0] - 5]
    data = (star_image(moved, small) / GAIN).astype(np.float32)
    frames[1] = (data, tan_header(2.0, 1.0, small))
    # keep the centre of the WCS at the same sky place: CRPIX follows this frame's own centre
    frames[1][1]["CRPIX1"] = (SHAPE[1] - 1) / 2.0 + 1.0 + 2.0
    frames[1][1]["CRPIX2"] = (SHAPE[0] - 1) / 2.0 + 1.0 + 1.0
    cube, footprints, _ = align_frames(frames[:2], progress=False)
    assert cube.shape == (2,) + SHAPE
    x, y, _ = STARS[0]
    cx, cy = centroid(cube[1], x, y)
    assert abs(cx - x) < 0.1 and abs(cy - y) < 0.1
    assert not footprints[1][SHAPE[0] - 5:, :].any()  # the smaller frame ends before the top


def test_paths_are_read_and_named(tmp_path):
    paths = []
    for index, (data, header) in enumerate(make_frames(noise=False)):
        path = tmp_path / f"C0_{index}.wcs.proc.fits"
        fits.PrimaryHDU(data, header).writeto(path)
        paths.append(path)
    cube, _, _ = align_frames(paths, progress=True)  # the progress bar must not break anything
    x, y, _ = STARS[1]
    cx, cy = centroid(cube[3], x, y)
    assert abs(cx - x) < 0.1 and abs(cy - y) < 0.1
    bare = tmp_path / "C0_unsolved.fits"
    fits.PrimaryHDU(make_frames(noise=False)[0][0]).writeto(bare)
    with pytest.raises(StackError, match="C0_unsolved.fits has no celestial WCS.*astrometry-solved"):
        align_frames([paths[0], bare], progress=False)
    with pytest.raises(FileNotFoundError, match="missing.fits"):
        align_frames([paths[0], tmp_path / "missing.fits"], progress=False)


def test_a_frame_without_wcs_is_refused_by_name():
    frames = make_frames(noise=False)
    header = fits.Header({"EXPTIME": 180.0})
    with pytest.raises(StackError, match=r"frame #2 has no celestial WCS.*astrometry-solved"):
        align_frames([frames[0], frames[1], (frames[2][0], header)], progress=False)
    with pytest.raises(StackError, match="frame #0 has no celestial WCS"):
        align_frames([(frames[0][0], header), frames[1]], progress=False)


def test_wcs_values_stored_as_text():
    frames = make_frames(noise=False)
    data, header = frames[1]
    quoted = header.copy()
    for key in ("CRPIX1", "CRPIX2", "CD1_1", "CRVAL1"):
        quoted[key] = repr(float(header[key]))
    # astropy alone would silently read CRPIX1 = 0: the frame would land ~100 px off
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert WCS(quoted).wcs.crpix[0] == 0.0
    with pytest.warns(StackWarning, match="frame #1: WCS value.*stored as text.*CRVAL1, CRPIX1, CRPIX2, CD1_1"):
        cube, _, _ = align_frames([frames[0], (data, quoted)], progress=False)
    x, y, _ = STARS[2]
    cx, cy = centroid(cube[1], x, y)
    assert abs(cx - x) < 0.1 and abs(cy - y) < 0.1
    assert isinstance(header["CRPIX1"], float)  # the caller's header is untouched
    assert isinstance(quoted["CRPIX1"], str)
    broken = header.copy()
    broken["CRPIX1"] = "unknown"
    with pytest.raises(StackError, match=r"frame #1: the WCS keyword\(s\) CRPIX1 = 'unknown'.*hold text"):
        align_frames([frames[0], (data, broken)], progress=False)


def test_a_frame_of_nan_only_is_refused():
    frames = make_frames(noise=False)
    empty = np.full(SHAPE, np.nan, dtype=np.float32)
    with pytest.raises(StackError, match="frame #1 has no valid pixels"):
        align_frames([frames[0], (empty, frames[1][1])], progress=False)
    with pytest.raises(StackError, match="frame #0 has no valid pixels"):
        align_frames([(empty, frames[0][1]), frames[1]], progress=False)


def test_a_frame_of_another_field_is_refused():
    frames = make_frames(noise=False)
    elsewhere = tan_header(ra=10.0, dec=-20.0)
    with pytest.raises(StackError, match="frame #1 does not overlap the reference frame"):
        align_frames([frames[0], (frames[1][0], elsewhere)], progress=False)


def test_align_bad_arguments():
    frames = make_frames(noise=False)
    with pytest.raises(StackError, match="empty"):
        align_frames([], progress=False)
    with pytest.raises(StackError, match="single path"):
        align_frames("reduced/a.proc.fits", progress=False)
    with pytest.raises(StackError, match="list of file paths"):
        align_frames(42, progress=False)
    with pytest.raises(StackError, match="Unknown alignment method 'nearest'"):
        align_frames(frames, method="nearest", progress=False)
    for bad in (4, -5, 1.5, True):
        with pytest.raises(StackError, match="is not the index of one of the 4 frames"):
            align_frames(frames, reference=bad, progress=False)
    with pytest.raises(StackError, match="frame #1: expected a file path or a \\(data, header\\) pair"):
        align_frames([frames[0], 3.0], progress=False)
    with pytest.raises(StackError, match="data of frame #1 must be a 2-D image"):
        align_frames([frames[0], (np.zeros(10), frames[1][1])], progress=False)
    with pytest.raises(StackError, match="frame #1: expected a FITS header or an astropy WCS"):
        align_frames([frames[0], (frames[1][0], {"CTYPE1": "RA---TAN"})], progress=False)


def test_pairs_may_hold_a_wcs_and_ccddata_is_accepted():
    from astropy.nddata import CCDData

    frames = make_frames(noise=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wcs1 = WCS(frames[1][1])
        ccd = CCDData(frames[2][0], unit="adu", wcs=WCS(frames[2][1]))
    cube, _, _ = align_frames([frames[0], (frames[1][0], wcs1), ccd], progress=False)
    for plane in cube:
        cx, cy = centroid(plane, STARS[4][0], STARS[4][1])
        assert abs(cx - STARS[4][0]) < 0.1 and abs(cy - STARS[4][1]) < 0.1


def test_frame_wcs_checks():
    header = tan_header()
    assert frame_wcs(header).has_celestial
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert frame_wcs(WCS(header), "x.fits").has_celestial
    singular = header.copy()
    singular["CD1_1"] = singular["CD2_2"] = 0.0
    with pytest.raises(StackError, match="x.fits: its WCS has no usable pixel scale"):
        frame_wcs(singular, "x.fits")
    with pytest.raises(StackError, match="y.fits has no celestial WCS"):
        frame_wcs(fits.Header({"CTYPE1": "LINEAR", "CTYPE2": "LINEAR"}), "y.fits")
    with pytest.raises(StackError, match="z.fits: expected a FITS header"):
        frame_wcs("RA---TAN", "z.fits")


# --------------------------------------------------------------------------------------------
# stack_frames
# --------------------------------------------------------------------------------------------

def test_median_stack_removes_a_cosmic_ray_present_in_one_frame():
    # the hit lands on reference pixel (120, 80) once frame 2 is aligned: frame 2 pixel (116, 85)
    frames = make_frames(dithers=INTEGER_DITHERS, cosmic=(2, 116, 85, 5000.0))
    cube, _, _ = align_frames(frames, progress=False)
    assert cube[2, 80, 120] > 5000.0
    median, coverage = stack_frames(cube, method="median")
    mean, _ = stack_frames(cube, method="mean")
    sky = np.nanmedian(median)
    sky_noise = np.sqrt(SKY_E + READNOISE**2) / GAIN  # one frame's pixel noise, ADU
    assert abs(median[80, 120] - sky) < 3 * sky_noise
    assert mean[80, 120] - sky > 5000.0 / 4 - 3 * sky_noise  # the mean keeps a quarter of it
    assert coverage[80, 120] == 4
    clipped, _ = stack_frames(cube, method="mean", sigma_clip=3.0)
    assert abs(clipped[80, 120] - sky) < 3 * sky_noise


def test_coverage_and_min_frames():
    frames = make_frames()
    cube, footprints, _ = align_frames(frames, progress=False)
    stack, coverage = stack_frames(cube)
    assert coverage.dtype == np.int16
    np.testing.assert_array_equal(coverage, footprints.sum(axis=0))
    assert coverage.max() == 4 and coverage.min() >= 1  # the reference covers everything
    assert np.isfinite(stack).all()
    strict, _ = stack_frames(cube, min_frames=4)
    np.testing.assert_array_equal(np.isnan(strict), coverage < 4)
    inside = coverage == 4
    np.testing.assert_allclose(strict[inside], stack[inside])


def test_stack_values_match_numpy():
    rng = np.random.default_rng(0)
    cube = rng.normal(100.0, 5.0, (5, 30, 40)).astype(np.float32)
    cube[1, :5] = np.nan
    cube[:, 0, 0] = np.nan
    median, coverage = stack_frames(cube)
    mean, _ = stack_frames(cube, method="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(median, np.nanmedian(cube, axis=0), rtol=1e-6)
        np.testing.assert_allclose(mean, np.nanmean(cube, axis=0), rtol=1e-5)
    assert coverage[0, 0] == 0 and np.isnan(median[0, 0]) and coverage[3, 3] == 4 and coverage[10, 3] == 5


def test_stack_bad_inputs():
    cube = np.ones((3, 10, 10), dtype=np.float32)
    with pytest.raises(StackError, match="shape \\(n_frames, ny, nx\\).*shape \\(10, 10\\)"):
        stack_frames(cube[0])
    with pytest.raises(StackError, match="Unknown stacking method 'sum'"):
        stack_frames(cube, method="sum")
    for bad in (0, 4, 1.5, True):
        with pytest.raises(StackError, match="min_frames must be a whole number from 1 to the number of frames \\(3\\)"):
            stack_frames(cube, min_frames=bad)
    with pytest.raises(StackError, match="Every pixel of the cube is NaN"):
        stack_frames(np.full((3, 10, 10), np.nan))
    with pytest.raises(StackError, match="holds no frames"):
        stack_frames(np.ones((0, 10, 10)))
    with pytest.raises(StackError, match="sigma_clip"):
        stack_frames(cube, sigma_clip=-1)
    with pytest.warns(StackWarning, match="Only one frame"):
        single, coverage = stack_frames(cube[:1])
    assert single.shape == (10, 10) and coverage.max() == 1


# --------------------------------------------------------------------------------------------
# write_stack
# --------------------------------------------------------------------------------------------

def test_write_stack_round_trip(tmp_path):
    frames = make_frames()
    inputs = []
    for index, (data, header) in enumerate(frames):
        path = tmp_path / f"f{index}.proc.fits"
        fits.PrimaryHDU(data, header).writeto(path)
        inputs.append(path)
    cube, _, wcs = align_frames(inputs, progress=False)
    stack, coverage = stack_frames(cube)
    out = tmp_path / "reduced" / "stack_median.fits"
    written = write_stack(out, stack, wcs, inputs=inputs, coverage=coverage, method="median",
                          header=fits.getheader(inputs[0]))
    assert written == out
    with fits.open(out) as hdul:
        header = hdul[0].header
        np.testing.assert_array_equal(hdul[0].data, stack)
    assert header["NCOMBINE"] == 4 and header["STACKMTH"] == "median" and header["EXPTIME"] == 180.0
    history = list(header["HISTORY"])
    assert any("median stack of 4 frames" in line for line in history)
    assert "input: f3.proc.fits" in history
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = WCS(header)
    np.testing.assert_allclose(back.wcs.crpix, wcs.wcs.crpix)
    np.testing.assert_allclose(back.pixel_scale_matrix, wcs.pixel_scale_matrix)
    # re-running is safe, and a custom history is kept
    write_stack(out, stack, wcs, inputs=inputs, history="Stack for lesson 07")
    assert "Stack for lesson 07" in list(fits.getheader(out)["HISTORY"])


def test_write_stack_refusals(tmp_path):
    frames = make_frames(noise=False)
    cube, _, wcs = align_frames(frames[:2], progress=False)
    stack, _ = stack_frames(cube)
    with pytest.raises(PermissionError, match="raw-data folder"):
        write_stack(tmp_path / "science" / "stack.fits", stack, wcs)
    with pytest.raises(StackError, match="2-D image"):
        write_stack(tmp_path / "s.fits", cube, wcs)
    with pytest.raises(StackError, match="celestial WCS returned by align_frames"):
        write_stack(tmp_path / "s.fits", stack, None)
    with pytest.raises(StackError, match="describes a 200 x 200 image but the stack is 100 x 200"):
        write_stack(tmp_path / "s.fits", stack[:, :100], wcs)
    raw = tmp_path / "raw_like.fits"
    fits.PrimaryHDU(stack).writeto(raw)
    with pytest.raises(PermissionError, match="not written by ccdlab"):
        write_stack(raw, stack, wcs)


# --------------------------------------------------------------------------------------------
# The whole exercise: align, stack, measure the S/N gain
# --------------------------------------------------------------------------------------------

def test_stack_improves_snr_by_sqrt_n_for_a_mean_and_less_for_a_median():
    # 400 x 400 pixels (the star field four times over), so that the empty sky measures the
    # background noise to a few per cent; whole-pixel dithers keep the pixels' noise independent.
    tiled = np.concatenate([STARS + (dx, dy, 0.0) for dx in (0, 200) for dy in (0, 200)])
    frames = make_frames(dithers=INTEGER_DITHERS, seed=3, shape=(400, 400), stars=tiled)
    cube, _, _ = align_frames(frames, progress=False)
    positions = [(x, y) for x, y, _ in tiled]
    gains = {}
    for method in ("mean", "median"):
        stack, coverage = stack_frames(cube, method=method)
        table = snr_gain(cube[0], stack, positions, n_frames=coverage, stack_method=method)
        assert np.isfinite(table["snr_gain"]).all()
        gains[method] = float(np.median(table["snr_gain"]))
        expected = float(table["expected_gain"][0])
        assert gains[method] == pytest.approx(expected, rel=0.2)
    assert gains["mean"] == pytest.approx(2.0, rel=0.2)
    assert gains["median"] < gains["mean"]


def test_module_examples_run():
    result = doctest.testmod(stack_module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0

"""Tests of ccdlab.combine: agreement with numpy and ccdproc, files read block by block, bad input."""

import tracemalloc
import warnings

import ccdproc  # the test-only oracle (the "test" extra)
import numpy as np
import pytest
from astropy.io import fits

from ccdlab.combine import (
    CombineError,
    CombineWarning,
    _batcher_pairs,
    _median_network,
    combine,
)
from ccdlab.io import FrameError, read_frame


def _write_uint16(path, data, header=None):
    fits.PrimaryHDU(np.asarray(data).astype(np.uint16), header=header).writeto(path)
    return path


@pytest.fixture
def frames(tmp_path):
    """Seven 96 x 80 uint16 frames on disk (BZERO 32768, like the course camera) and their values."""
    rng = np.random.default_rng(3)
    arrays = [rng.normal(20000, 300, (96, 80)).round().astype(np.uint16) for _ in range(7)]
    arrays[2][10, 10] = 65000  # a cosmic ray in one frame
    paths = [_write_uint16(tmp_path / f"f{i}.fits", a) for i, a in enumerate(arrays)]
    return paths, np.array(arrays, dtype=np.float32)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 10, 11, 16, 33])
def test_median_equals_numpy_exactly(n):
    stack = np.random.default_rng(n).normal(100, 10, (n, 9, 37)).astype(np.float32)
    assert np.array_equal(combine(stack), np.median(stack, axis=0))


def test_median_network_sorts_the_middle():
    rng = np.random.default_rng(0)
    for n in range(1, 20):
        pairs = _batcher_pairs(n)
        for _ in range(20):
            values = list(rng.normal(size=n))
            for a, b in pairs:
                if values[a] > values[b]:
                    values[a], values[b] = values[b], values[a]
            assert values == sorted(values)
        assert len(_median_network(n)) <= len(pairs)


def test_mean_equals_numpy():
    stack = np.random.default_rng(1).normal(1000, 50, (6, 20, 30)).astype(np.float32)
    np.testing.assert_allclose(combine(stack, method="mean"), stack.mean(axis=0), rtol=1e-5)
    assert np.array_equal(combine(stack, method="average"), combine(stack, method="mean"))


def test_list_of_arrays_and_ccddata_like_objects():
    class Frame:  # anything with a .data array, like astropy's CCDData
        def __init__(self, data):
            self.data = data

    arrays = [np.full((3, 4), v, np.float32) for v in (1.0, 5.0, 2.0)]
    assert np.all(combine(arrays) == 2.0)
    assert np.all(combine([Frame(a) for a in arrays]) == 2.0)


def test_files_read_block_by_block_equal_numpy(frames):
    paths, stack = frames
    result = combine(paths, mem_limit=20_000, progress=False)  # a few rows per block
    assert result.dtype == np.float32
    assert np.array_equal(result, np.median(stack, axis=0))
    np.testing.assert_allclose(combine(paths, method="mean", mem_limit=20_000), stack.mean(axis=0), rtol=1e-5)


def test_agrees_with_ccdproc(frames):
    paths, _ = frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("median", "average"):
            oracle = ccdproc.combine([str(p) for p in paths], method=method, unit="adu", mem_limit=1e6).data
            ours = combine(paths, method="mean" if method == "average" else "median")
            np.testing.assert_allclose(ours, oracle, rtol=1e-5)


def test_sigma_clip_agrees_with_ccdproc_and_rejects_the_cosmic_ray(frames):
    from astropy.stats import mad_std

    paths, stack = frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = ccdproc.combine(
            [str(p) for p in paths], method="average", unit="adu", sigma_clip=True,
            sigma_clip_low_thresh=3, sigma_clip_high_thresh=3,
            sigma_clip_func=np.ma.median, sigma_clip_dev_func=mad_std,
        ).data
    ours = combine(paths, method="mean", sigma_clip=3, mem_limit=30_000)
    np.testing.assert_allclose(ours, oracle, rtol=1e-5)
    others = np.delete(stack[:, 10, 10], 2)
    assert ours[10, 10] == pytest.approx(others.mean(), rel=1e-5)  # the 65000 ADU hit is gone


def test_other_file_kinds_read_like_read_frame(tmp_path):
    rng = np.random.default_rng(5)
    data = rng.integers(0, 60000, (40, 30)).astype(np.float32)
    paths = []
    paths.append(tmp_path / "plain.fits.gz")
    fits.PrimaryHDU(data.astype(np.uint16)).writeto(paths[-1])
    paths.append(tmp_path / "tile.fits.fz")
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data.astype(np.int32))]).writeto(paths[-1])
    paths.append(tmp_path / "extension.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data)]).writeto(paths[-1])
    paths.append(tmp_path / "scaled.fits")
    hdu = fits.PrimaryHDU(data.astype(np.float32))
    hdu.scale("int16", bscale=2.0, bzero=30000.0)
    hdu.writeto(paths[-1])
    paths.append(tmp_path / "blank.fits")
    blank = fits.PrimaryHDU(np.where(data > 50000, -1, data.astype(np.int32) // 2).astype(np.int32))
    blank.header["BLANK"] = -1
    blank.writeto(paths[-1])
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CombineWarning)
            result = combine([path, path], mem_limit=2_000)
        np.testing.assert_array_equal(result, read_frame(path)[0], err_msg=str(path))
    assert np.isnan(combine([paths[-1]] * 2)[data > 50000]).all()


def test_nan_values_are_ignored():
    stack = np.array([[[1.0, np.nan]], [[3.0, np.nan]], [[np.nan, np.nan]], [[10.0, np.nan]]], dtype=np.float32)
    median = combine(stack)
    assert median[0, 0] == 3.0 and np.isnan(median[0, 1])
    mean = combine(stack, method="mean")
    assert mean[0, 0] == pytest.approx(14 / 3) and np.isnan(mean[0, 1])


def test_nanmedian_agrees_with_numpy():
    rng = np.random.default_rng(2)
    stack = rng.normal(0, 1, (9, 12, 14)).astype(np.float32)
    stack[rng.random(stack.shape) < 0.3] = np.nan
    stack[:, 0, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(stack, axis=0)
    np.testing.assert_array_equal(combine(stack), expected)


def test_offset_and_scale():
    stack = np.array([np.full((2, 2), v) for v in (110.0, 210.0, 410.0)], dtype=np.float32)
    result = combine(stack, method="mean", offset=10.0, scale=[1 / 100, 1 / 200, 1 / 400])
    np.testing.assert_allclose(result, 1.0)
    bias = np.full((2, 2), 10.0)
    np.testing.assert_allclose(combine(stack, offset=bias), 200.0)


def test_float64_result():
    stack = np.ones((3, 2, 2))
    assert combine(stack, dtype=np.float64).dtype == np.float64


def test_memory_stays_bounded(tmp_path):
    """Peak memory tracks mem_limit, not the size of the stack (numpy reports to tracemalloc)."""
    rng = np.random.default_rng(0)
    paths = [_write_uint16(tmp_path / f"m{i}.fits", rng.integers(0, 1000, (512, 512))) for i in range(8)]
    stack_bytes = 8 * 512 * 512 * 4  # 8 MB as float32
    tracemalloc.start()
    try:
        combine(paths, mem_limit=1_000_000, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result_bytes = 512 * 512 * 4
    assert peak < result_bytes + 1_000_000 + 1_500_000 < stack_bytes


def test_progress_bar_when_asked(frames, capsys):
    paths, _ = frames
    combine(paths, mem_limit=20_000, progress=True)
    assert "combine 7 frames" in capsys.readouterr().err
    combine(paths, mem_limit=20_000, progress=False)
    assert capsys.readouterr().err == ""


def test_single_frame_warns_and_copies():
    frame = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.warns(CombineWarning, match="Only one frame"):
        result = combine([frame])
    assert np.array_equal(result, frame) and result is not frame


def test_different_shapes_name_the_file(tmp_path, frames):
    paths, _ = frames
    odd = _write_uint16(tmp_path / "odd.fits", np.zeros((50, 80)))
    with pytest.raises(CombineError, match=r"odd\.fits is 80 x 50 pixels but .*f0\.fits is 80 x 96"):
        combine(paths + [odd])
    with pytest.raises(CombineError, match=r"frame #1 \(an array\) is 2 x 2"):
        combine([np.zeros((3, 3)), np.zeros((2, 2))])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "mode"}, "Unknown method"),
        ({"sigma_clip": 0}, "positive number of standard deviations"),
        ({"sigma_clip": "three"}, "number of standard deviations"),
        ({"mem_limit": 0}, "positive number of bytes"),
        ({"mem_limit": "lots"}, "number of bytes"),
        ({"dtype": np.int16}, "float32 or float64"),
        ({"scale": [1.0]}, "one finite factor per frame"),
        ({"offset": np.zeros((5, 5))}, "offset has shape"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(CombineError, match=message):
        combine(np.ones((3, 4, 4)), **kwargs)


def test_bad_inputs(tmp_path):
    with pytest.raises(CombineError, match="list is empty"):
        combine([])
    with pytest.raises(CombineError, match="single path"):
        combine(str(tmp_path / "bias"))
    with pytest.raises(CombineError, match="3-D stack"):
        combine(np.ones(5))
    with pytest.raises(CombineError, match="frame #1 must be a 2-D image"):
        combine([np.ones((2, 2)), np.ones((2, 2, 2))])
    with pytest.raises(CombineError, match="list of file paths"):
        combine(42)
    with pytest.raises(FileNotFoundError, match="missing.fits"):
        combine([tmp_path / "missing.fits", tmp_path / "missing.fits"])


@pytest.mark.filterwarnings("ignore:File may have been truncated")
def test_truncated_file_is_named(tmp_path, frames):
    paths, _ = frames
    broken = tmp_path / "broken.fits"
    broken.write_bytes(paths[0].read_bytes()[: 2880 + 4000])
    with pytest.raises(FrameError, match="broken.fits"):
        combine([paths[0], broken])

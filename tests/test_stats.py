"""Tests for ccdlab.stats."""

import dataclasses

import numpy as np
import pytest
from astropy.stats import sigma_clipped_stats

from ccdlab.stats import ImageStats, image_stats, select_region


@pytest.fixture
def bias_like():
    """A 256 x 256 bias-like frame: 270 ADU, 9 ADU noise, a few hot pixels."""
    rng = np.random.default_rng(42)
    data = rng.normal(270.0, 9.0, (256, 256)).astype(np.float32)
    data[10, 20] = 60000.0
    data[200, 30] = 45000.0
    return data


def test_plain_statistics_match_numpy(bias_like):
    s = image_stats(bias_like)
    values = bias_like.astype(np.float64)
    assert s.n_pixels == bias_like.size
    assert s.n_ignored == 0
    assert s.mean == pytest.approx(values.mean(), rel=1e-9)
    assert s.median == pytest.approx(np.median(values), rel=1e-6)
    assert s.std == pytest.approx(values.std(), rel=1e-9)
    assert s.min == pytest.approx(values.min())
    assert s.max == 60000.0


def test_clipped_statistics_match_astropy_and_ignore_hot_pixels(bias_like):
    s = image_stats(bias_like, sigma=3.0, maxiters=5)
    mean, median, std = sigma_clipped_stats(bias_like, sigma=3.0, maxiters=5)
    assert s.clipped_mean == pytest.approx(float(mean), rel=1e-6)
    assert s.clipped_median == pytest.approx(float(median), rel=1e-6)
    assert s.clipped_std == pytest.approx(float(std), rel=1e-6)
    assert s.clipped_mean == pytest.approx(270.0, abs=0.5)
    assert s.clipped_std == pytest.approx(9.0, rel=0.05)
    assert s.mean > s.clipped_mean + 1.0  # the hot pixels pull the plain mean up


def test_sigma_and_maxiters_are_recorded_and_used(bias_like):
    loose = image_stats(bias_like, sigma=10.0, maxiters=None)
    assert loose.sigma == 10.0 and loose.maxiters is None
    _, _, std = sigma_clipped_stats(bias_like, sigma=10.0, maxiters=None)
    assert loose.clipped_std == pytest.approx(float(std), rel=1e-6)


def test_nan_and_inf_pixels_are_ignored_and_counted(bias_like):
    data = bias_like.copy()
    data[0, :] = np.nan
    data[1, :5] = np.inf
    s = image_stats(data)
    finite = data[np.isfinite(data)].astype(np.float64)
    assert s.n_ignored == 256 + 5
    assert s.n_pixels == data.size - 261
    assert s.mean == pytest.approx(finite.mean(), rel=1e-9)
    assert np.isfinite([s.mean, s.median, s.std, s.min, s.max, s.clipped_mean]).all()


def test_masked_array_pixels_are_ignored():
    data = np.ma.array([[1.0, 2.0], [3.0, 1000.0]], mask=[[False, False], [False, True]])
    s = image_stats(data)
    assert s.n_pixels == 3 and s.n_ignored == 1 and s.max == 3.0


def test_integer_images_are_accepted():
    s = image_stats(np.arange(10, dtype=np.uint16).reshape(2, 5))
    assert s.mean == 4.5 and s.min == 0.0 and s.max == 9.0


def test_region_as_four_integers_slices_and_mask_agree(bias_like):
    by_ints = image_stats(bias_like, region=(50, 100, 60, 120))
    by_slices = image_stats(bias_like, region=np.s_[50:100, 60:120])
    mask = np.zeros(bias_like.shape, bool)
    mask[50:100, 60:120] = True
    by_mask = image_stats(bias_like, region=mask)
    assert by_ints.n_pixels == by_slices.n_pixels == by_mask.n_pixels == 50 * 60
    assert by_ints == by_slices
    assert by_mask.mean == pytest.approx(by_ints.mean, rel=1e-12)
    assert by_ints.mean == pytest.approx(bias_like[50:100, 60:120].astype(np.float64).mean())


def test_select_region_forms():
    image = np.arange(20).reshape(4, 5)
    assert select_region(image).shape == (4, 5)
    assert select_region(image, (1, 3, 0, 2)).tolist() == [[5, 6], [10, 11]]
    assert select_region(image, np.s_[0, :]).tolist() == [0, 1, 2, 3, 4]
    assert select_region(image, slice(1, 2)).shape == (1, 5)
    assert select_region(image, image > 17).tolist() == [18, 19]


@pytest.mark.parametrize(
    "region, message",
    [
        ((0, 10, 0, 2), "does not fit"),
        ((3, 1, 0, 2), "does not fit"),
        ((-1, 2, 0, 2), "does not fit"),
        (np.s_[10:20, :], "selects no pixel"),
        (np.s_[:, 0, 0], "does not fit"),
        (np.zeros((2, 2), bool), "same shape"),
        (np.zeros((4, 5), bool), "selects no pixel"),
    ],
)
def test_select_region_bad_regions(region, message):
    with pytest.raises(ValueError, match=message):
        select_region(np.arange(20).reshape(4, 5), region)


@pytest.mark.parametrize("region", ["left half", [0, 2, 0, 2], 3.5, (1.0, 2.0, 0.0, 1.0)])
def test_select_region_unknown_kinds(region):
    with pytest.raises(TypeError, match="Unknown region"):
        select_region(np.arange(20).reshape(4, 5), region)


def test_four_integer_region_needs_2d_image():
    with pytest.raises(ValueError, match="2-D"):
        select_region(np.zeros((2, 3, 4, 5)), (0, 1, 0, 1))


def test_empty_image_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        image_stats(np.zeros((0, 10)))


def test_all_nan_image_is_an_error():
    with pytest.raises(ValueError, match="NaN or infinite"):
        image_stats(np.full((5, 5), np.nan))


def test_all_nan_region_is_an_error(bias_like):
    data = bias_like.copy()
    data[:10, :10] = np.nan
    with pytest.raises(ValueError, match="All 100 pixels"):
        image_stats(data, region=(0, 10, 0, 10))


def test_non_numeric_image_is_an_error():
    with pytest.raises(ValueError, match="numbers"):
        image_stats(np.array([["a", "b"]]))


@pytest.mark.parametrize("sigma", [0, -1.0, np.nan, "3", True])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma"):
        image_stats(np.ones((3, 3)), sigma=sigma)


@pytest.mark.parametrize("maxiters", [0, -2, 2.5, True])
def test_bad_maxiters(maxiters):
    with pytest.raises(ValueError, match="maxiters"):
        image_stats(np.ones((3, 3)), maxiters=maxiters)


def test_image_stats_is_frozen_and_converts_to_dict(bias_like):
    s = image_stats(bias_like)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.mean = 0.0
    d = s.to_dict()
    assert set(d) == {f.name for f in dataclasses.fields(ImageStats)}
    assert d["n_pixels"] == s.n_pixels
    assert all(type(v) in (int, float) for k, v in d.items() if k != "maxiters")


def test_printed_table_is_short_and_aligned(bias_like):
    s = image_stats(bias_like)
    text = str(s)
    lines = text.splitlines()
    assert lines[0].startswith("Image statistics") and "3 sigma" in lines[0]
    assert len(lines) == 11
    assert repr(s) == text
    body = lines[1:]
    assert len({len(line) for line in body}) == 1  # right-aligned values: equal widths
    assert any(line.split()[-1] == "65,536" for line in body)
    assert "clipped median" in text and "NaN/inf ignored" in text


def test_number_formatting_for_tiny_and_huge_values():
    s = image_stats(np.array([1e-5, 2e-5, 3e-5]))
    assert "2e-05" in str(s)
    s = image_stats(np.array([1e7, 2e7]))
    assert "1.5e+07" in str(s)


def test_html_repr_is_a_table(bias_like):
    html = image_stats(bias_like)._repr_html_()
    assert html.startswith("<table>") and html.endswith("</table>")
    assert html.count("<tr>") == 10 and "clipped std" in html

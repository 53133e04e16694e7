"""Tests for ccdlab.display and ccdlab.display.explorer (Agg backend, set in conftest.py)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy.stats import sigma_clipped_stats
from astropy.visualization import AsinhStretch, LinearStretch, LogStretch, PercentileInterval, ZScaleInterval

from ccdlab import display
from ccdlab.display import images
from ccdlab.display import (
    GridPlot,
    ImagePlot,
    Plot,
    display_limits,
    show_cutouts,
    show_grid,
    show_histogram,
    show_image,
    stretch_explorer,
)
from ccdlab.display.explorer import StretchExplorer
from ccdlab.display.explorer import stretch_explorer as explorer_factory


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def frame():
    rng = np.random.default_rng(7)
    data = rng.normal(1000.0, 10.0, (96, 128)).astype(np.float32)
    data[40, 50] = 30000.0  # a hot pixel
    return data


# -- display_limits ---------------------------------------------------------------------------


def test_display_limits_each_stretch(frame):
    finite = frame.ravel()
    assert display_limits(frame, "zscale") == pytest.approx(ZScaleInterval().get_limits(finite))
    assert display_limits(frame, "percentile", 98.0) == pytest.approx(PercentileInterval(98.0).get_limits(finite))
    assert display_limits(frame, "minmax") == (pytest.approx(float(frame.min())), 30000.0)


def test_display_limits_overrides_and_nan(frame):
    data = frame.copy()
    data[0] = np.nan
    lo, hi = display_limits(data, "minmax", vmax=2000.0)
    assert hi == 2000.0 and np.isfinite(lo)
    assert display_limits(data, vmin=1.0, vmax=2.0) == (1.0, 2.0)


def test_display_limits_constant_image_is_widened():
    lo, hi = display_limits(np.full((4, 4), 5.0), "zscale")
    assert lo < 5.0 < hi
    lo, hi = display_limits(np.zeros((4, 4)), "minmax")
    assert lo < 0.0 < hi


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"stretch": "log"}, "Unknown stretch"),
        ({"stretch": "percentile", "percentile": 0}, "percentile"),
        ({"stretch": "percentile", "percentile": 120}, "percentile"),
        ({"vmin": 5.0, "vmax": 5.0}, "below vmax"),
        ({"stretch": "minmax", "vmin": 1e9}, "give vmax too"),
        ({"stretch": "minmax", "vmax": -1e9}, "give vmin too"),
    ],
)
def test_display_limits_bad_options(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        display_limits(frame, **kwargs)


def test_display_limits_all_nan():
    with pytest.raises(ValueError, match="no finite pixel"):
        display_limits(np.full((3, 3), np.nan))


# -- show_image -------------------------------------------------------------------------------


def test_show_image_returns_figure_axes_image_and_labels(frame):
    plot = show_image(frame, title="Hot pixel")
    assert isinstance(plot, ImagePlot)
    fig, ax, image = plot
    assert fig is ax.figure and image in ax.images
    assert ax.get_title() == "Hot pixel"
    assert ax.get_xlabel() == "x (pixel)" and ax.get_ylabel() == "y (pixel)"
    assert image.origin == "lower"
    assert image.colorbar is not None and image.colorbar.ax.get_ylabel() == "Counts (ADU)"
    assert image.get_clim() == pytest.approx(ZScaleInterval().get_limits(frame.ravel()))
    assert ax.get_xlim() == (-0.5, 127.5) and ax.get_ylim() == (-0.5, 95.5)
    np.testing.assert_array_equal(image.get_array(), frame)


def test_show_image_prints_nothing_and_is_quiet_in_notebooks(frame, capsys):
    plot = show_image(frame)
    assert plot._ipython_display_() is None
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("stretch", ["percentile", "minmax"])
def test_show_image_stretches(frame, stretch):
    image = show_image(frame, stretch=stretch, percentile=99.0).image
    assert image.get_clim() == pytest.approx(display_limits(frame, stretch, 99.0))


def test_show_image_vmin_vmax_override(frame):
    assert show_image(frame, vmin=990.0, vmax=1010.0).image.get_clim() == (990.0, 1010.0)
    lo, hi = show_image(frame, vmax=1200.0).image.get_clim()
    assert hi == 1200.0 and lo == pytest.approx(ZScaleInterval().get_limits(frame.ravel())[0])


@pytest.mark.parametrize("scale, cls", [("linear", LinearStretch), ("log", LogStretch), ("asinh", AsinhStretch)])
def test_show_image_scales(frame, scale, cls):
    assert isinstance(show_image(frame, scale=scale).image.norm.stretch, cls)


def test_show_image_into_given_axes_without_colorbar(frame):
    fig, ax = plt.subplots()
    plot = show_image(frame, ax=ax, colorbar=False)
    assert plot.ax is ax and plot.fig is fig
    assert plot.image.colorbar is None and len(fig.axes) == 1


def test_large_frames_are_block_averaged_for_display_only():
    data = np.arange(30 * 50, dtype=np.float32).reshape(30, 50)
    plot = show_image(data, max_pixels=20)  # factor ceil(50 / 20) = 3
    shown = plot.image.get_array()
    assert shown.shape == (10, 17)
    assert shown[0, 0] == pytest.approx(data[:3, :3].mean())
    assert shown[0, 16] == pytest.approx(data[:3, 48:].mean())  # the ragged edge: only real pixels
    # axes stay in the frame's own pixel coordinates
    assert plot.image.get_extent() == [-0.5, 50.5, -0.5, 29.5]
    assert plot.ax.get_xlim() == (-0.5, 49.5)
    assert any("3 x 3 pixel blocks" in t.get_text() for t in plot.ax.texts)
    assert data[0, 0] == 0.0  # the input is not changed


def test_block_average_ignores_nan_and_keeps_all_nan_blocks():
    data = np.ones((4, 4), np.float32)
    data[0, 0] = np.nan
    data[2:, 2:] = np.nan
    data[0, 1] = 5.0
    shown = show_image(data, max_pixels=2).image.get_array()
    assert shown[0, 0] == pytest.approx((5.0 + 1 + 1) / 3)
    assert shown.mask[1, 1] and not shown.mask[0, 0]


def test_max_pixels_none_draws_every_pixel(frame):
    assert show_image(frame, max_pixels=None).image.get_array().shape == frame.shape


def test_nan_pixels_are_drawn_in_the_nan_colour(frame):
    data = frame.copy()
    data[5, 5] = np.nan
    image = show_image(data).image
    assert image.get_array().mask[5, 5]
    assert image.cmap.get_bad() == pytest.approx((1.0, 0.0, 1.0, 1.0))


def test_masked_and_integer_inputs():
    data = np.ma.array(np.arange(16, dtype=np.uint16).reshape(4, 4), mask=np.eye(4, dtype=bool))
    image = show_image(data).image
    assert image.get_array().mask[2, 2] and not image.get_array().mask[2, 1]
    assert show_image(np.arange(16, dtype=np.int16).reshape(4, 4)).image.get_array().dtype.kind == "f"


def test_mask_overlay_is_drawn_over_flagged_pixels(frame):
    mask = np.zeros(frame.shape, bool)
    mask[10:20, 30:40] = True
    plot = show_image(frame, mask=mask)
    assert len(plot.ax.images) == 2
    overlay = plot.ax.images[1]
    assert overlay.get_alpha() == 0.5
    np.testing.assert_array_equal(~overlay.get_array().mask, mask)


def test_mask_overlay_keeps_single_bad_pixels_when_binned():
    mask = np.zeros((40, 40), bool)
    mask[3, 5] = True
    overlay = show_image(np.ones((40, 40)), mask=mask, max_pixels=10).ax.images[1]
    flagged = ~overlay.get_array().mask
    assert flagged.shape == (10, 10) and flagged.sum() == 1 and flagged[0, 1]


def test_empty_mask_draws_no_overlay(frame):
    assert len(show_image(frame, mask=np.zeros(frame.shape, bool)).ax.images) == 1


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        (np.ones(10), {}, "2-D"),
        (np.ones((2, 3, 4)), {}, "2-D"),
        (np.ones((0, 4)), {}, "empty"),
        (np.full((3, 3), np.nan), {}, "no finite pixel"),
        (np.array([["a", "b"], ["c", "d"]]), {}, "numbers"),
        (np.ones((4, 4)), {"mask": np.zeros((3, 3), bool)}, "same shape|image's shape"),
        (np.ones((4, 4)), {"stretch": "sqrt"}, "Unknown stretch"),
        (np.ones((4, 4)), {"scale": "zscale"}, "Unknown scale"),
        (np.ones((4, 4)), {"max_pixels": 0}, "max_pixels"),
        (np.ones((4, 4)), {"percentile": -3, "stretch": "percentile"}, "percentile"),
    ],
)
def test_show_image_bad_input(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        show_image(data, **kwargs)


# -- show_histogram -----------------------------------------------------------------------------


def test_histogram_window_median_line_and_labels(frame):
    fig, ax = plot = show_histogram(frame, k=10, title="A frame")
    assert isinstance(plot, Plot)
    _, median, sigma = sigma_clipped_stats(frame, sigma=3.0, maxiters=5)
    assert ax.get_xlim() == pytest.approx((median - 10 * sigma, median + 10 * sigma))
    assert ax.get_xlabel() == "Counts (ADU)" and ax.get_ylabel() == "Number of pixels"
    assert ax.get_title() == "A frame"
    line = ax.lines[0]
    assert line.get_xdata()[0] == pytest.approx(float(median))
    assert ax.get_legend().texts[0].get_text() == f"median = {float(median):.6g}"


def test_histogram_counts_the_pixels_in_the_window():
    rng = np.random.default_rng(1)
    data = rng.normal(0.0, 1.0, (100, 100))
    data[0, 0] = 1e6
    fig, ax = show_histogram(data, k=3, bins=30)
    counts, _ = np.histogram(data, bins=30, range=ax.get_xlim())
    heights = ax.patches[0].get_path().vertices[:, 1]
    assert heights.max() == counts.max()


def test_histogram_of_raw_adu_uses_whole_adu_bins():
    rng = np.random.default_rng(2)
    data = np.round(rng.normal(270.0, 9.0, (128, 128)))
    edges = images._histogram_bins(data.ravel(), 180.0, 360.0, None)
    assert np.allclose(edges - np.floor(edges), 0.5)
    assert np.all(np.diff(edges) == np.diff(edges)[0]) and np.diff(edges)[0] >= 1
    assert images._histogram_bins(data.ravel() + 0.3, 180.0, 360.0, None) == 100
    assert images._histogram_bins(data.ravel(), 180.0, 360.0, 17) == 17


def test_histogram_log_axis_and_given_axes(frame):
    fig, ax0 = plt.subplots()
    fig1, ax = show_histogram(frame, log=True, ax=ax0)
    assert ax is ax0 and fig1 is fig and ax.get_yscale() == "log"


def test_histogram_of_constant_image_still_draws():
    fig, ax = show_histogram(np.full((10, 10), 7.0))
    lo, hi = ax.get_xlim()
    assert lo < 7.0 < hi


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        (np.full((3, 3), np.nan), {}, "no finite pixel"),
        (np.ones((3, 3)), {"k": 0}, "k must be"),
        (np.ones((3, 3)), {"k": -2}, "k must be"),
        (np.array(["a"]), {}, "numbers"),
    ],
)
def test_histogram_bad_input(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        show_histogram(data, **kwargs)


# -- show_grid ---------------------------------------------------------------------------------


def test_grid_common_stretch_shares_limits_and_one_colorbar():
    rng = np.random.default_rng(3)
    frames = {"bias": rng.normal(270, 9, (32, 32)), "flat": rng.normal(20000, 140, (32, 48)),
              "science": rng.normal(800, 30, (32, 32))}
    plot = show_grid(frames)
    assert isinstance(plot, GridPlot)
    fig, axes, images = plot
    assert [ax.get_title() for ax in axes] == ["bias", "flat", "science"]
    assert len({im.get_clim() for im in images}) == 1
    colorbars = [ax for ax in fig.axes if ax not in axes and ax.get_visible() and ax.axison]
    assert len(colorbars) == 1
    assert len(fig.axes) == 4 + 1  # a 2 x 2 grid (one panel switched off) and one colour bar
    assert all(ax.get_xlabel() == "x (pixel)" for ax in axes)


def test_grid_individual_stretch_gives_each_its_own_colorbar():
    rng = np.random.default_rng(4)
    frames = [rng.normal(270, 9, (32, 32)), rng.normal(20000, 140, (32, 32))]
    fig, axes, images = show_grid(frames, titles=["bias", "flat"], common_stretch=False, ncols=3)
    assert images[0].get_clim() != images[1].get_clim()
    assert images[1].get_clim() == pytest.approx(ZScaleInterval().get_limits(frames[1].ravel()))
    assert len(fig.axes) == 2 + 2  # ncols shrinks to the number of frames; two colour bars
    assert all(im.colorbar is not None for im in images)


def test_grid_accepts_a_cube_and_default_titles():
    fig, axes, images = show_grid(np.zeros((3, 8, 8)) + np.arange(3)[:, None, None], ncols=3)
    assert [ax.get_title() for ax in axes] == ["frame 0", "frame 1", "frame 2"]


@pytest.mark.parametrize(
    "frames, kwargs, message",
    [
        ([], {}, "at least one frame"),
        ([np.ones((4, 4))], {"titles": ["a", "b"]}, "one title per frame"),
        ([np.ones((4, 4))], {"ncols": 0}, "ncols"),
        ([np.ones((4, 4)), np.ones(4)], {}, "frame 1"),
        ([np.ones((4, 4))], {"stretch": "auto"}, "Unknown stretch"),
    ],
)
def test_grid_bad_input(frames, kwargs, message):
    with pytest.raises(ValueError, match=message):
        show_grid(frames, **kwargs)


# -- show_cutouts ------------------------------------------------------------------------------


def test_cutouts_same_region_each_with_its_own_stretch(frame):
    before = frame.copy()
    after = frame * 2.0  # a different level: each cutout must still be well stretched
    before[60, 70] = 50000.0
    fig, axes, images = plot = show_cutouts(before, after, center=(60, 70), size=20, titles=("raw", "cleaned"))
    assert isinstance(plot, GridPlot)
    assert [ax.get_title() for ax in axes] == ["raw", "cleaned"]
    assert images[0].get_array().shape == (20, 20)
    assert images[0].get_extent() == [59.5, 79.5, 49.5, 69.5]
    for image, data in zip(images, (before, after)):
        _, median, sigma = sigma_clipped_stats(data[50:70, 60:80], sigma=3.0, maxiters=5)
        assert image.get_clim() == pytest.approx((median - 5 * sigma, median + 5 * sigma), rel=1e-5)
    assert all(ax.get_xlabel() == "x (pixel)" for ax in axes)


def test_cutouts_are_clipped_at_the_edges(frame):
    fig, axes, images = show_cutouts(frame, frame, center=(2, 126), size=10)
    assert images[0].get_array().shape == (7, 7)
    assert images[0].get_extent() == [120.5, 127.5, -0.5, 6.5]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"after": np.ones((5, 5))}, "differ in shape"),
        ({"center": (200, 10)}, "outside"),
        ({"center": (-1, 10)}, "outside"),
        ({"center": "middle"}, "center"),
        ({"size": 1}, "size"),
        ({"size": 4.5}, "size"),
        ({"titles": ("one",)}, "two titles"),
        ({"k": 0}, "k must be"),
    ],
)
def test_cutouts_bad_input(frame, kwargs, message):
    args = {"before": frame, "after": frame, "center": (10, 10)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        show_cutouts(**args)


# -- stretch explorer --------------------------------------------------------------------------


def test_explorer_starts_on_zscale_and_renders(frame):
    explorer = stretch_explorer(frame, title="explore")
    assert isinstance(explorer, StretchExplorer)
    assert explorer.mode.value == "zscale"
    assert explorer.image.get_clim() == pytest.approx(ZScaleInterval().get_limits(frame.ravel()))
    assert explorer.picture.value[:4] == b"\x89PNG"
    assert explorer.ax.get_title() == "explore"
    assert explorer.picture in explorer.children and explorer.percentile in explorer.children


def test_explorer_percentile_slider_changes_the_limits(frame):
    explorer = explorer_factory(frame)
    before_png, before_clim = explorer.picture.value, explorer.image.get_clim()
    explorer.percentile.value = 90.0
    assert explorer.mode.value == "percentile"
    assert explorer.image.get_clim() == pytest.approx(PercentileInterval(90.0).get_limits(frame.ravel()))
    assert explorer.image.get_clim() != before_clim
    assert explorer.picture.value != before_png
    assert explorer.limits.value == pytest.approx(explorer.image.get_clim(), abs=explorer.limits.step)
    assert "percentile" in explorer.status.value and f"vmax = {explorer.image.get_clim()[1]:.6g}" in explorer.status.value


def test_explorer_limits_slider_sets_vmin_vmax(frame):
    explorer = StretchExplorer(frame)
    explorer.limits.value = (995.0, 1005.0)
    assert explorer.mode.value == "limits"
    lo, hi = explorer.image.get_clim()
    assert lo == pytest.approx(995.0, abs=explorer.limits.step) and hi == pytest.approx(1005.0, abs=explorer.limits.step)
    assert "vmin = 995" in explorer.status.value


def test_explorer_scale_buttons_change_the_stretch(frame):
    explorer = StretchExplorer(frame)
    png = explorer.picture.value
    explorer.scale.value = "log"
    assert isinstance(explorer.image.norm.stretch, LogStretch)
    assert explorer.picture.value != png
    explorer.scale.value = "asinh"
    assert isinstance(explorer.image.norm.stretch, AsinhStretch)
    explorer.mode.value = "zscale"
    assert explorer.image.get_clim() == pytest.approx(ZScaleInterval().get_limits(frame.ravel()))


def test_explorer_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        stretch_explorer(np.ones(5))
    with pytest.raises(ValueError, match="no finite pixel"):
        stretch_explorer(np.full((4, 4), np.nan))


def test_explorer_constant_image():
    explorer = StretchExplorer(np.full((8, 8), 3.0))
    lo, hi = explorer.image.get_clim()
    assert lo < 3.0 < hi


def test_explorer_does_not_add_pyplot_figures(frame):
    before = len(plt.get_fignums())
    StretchExplorer(frame)
    assert len(plt.get_fignums()) == before

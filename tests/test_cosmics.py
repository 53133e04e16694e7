"""Tests of ccdlab.cosmics.remove_cosmics: accuracy on frames with known cosmic rays, units, masks."""

import functools

import numpy as np
import pytest
import synthetic

from ccdlab import lacosmic
from ccdlab.cosmics import CosmicsError, cleaned_in_electrons, remove_cosmics

GAIN, READNOISE, SATLEVEL = synthetic.GAIN, synthetic.READNOISE, synthetic.SATLEVEL


def star_cores_hit(crmask, stars, half=2):
    return sum(
        bool(crmask[int(round(y)) - half : int(round(y)) + half + 1, int(round(x)) - half : int(round(x)) + half + 1].any())
        for x, y, _ in stars
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recall_precision_and_star_cores(seed):
    scene = synthetic.science_scene(seed=seed)
    crmask, cleaned = remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL)
    truth = scene.cosmic_mask
    recall = (crmask & truth).sum() / truth.sum()
    precision = (crmask & synthetic.grow(truth)).sum() / crmask.sum()  # a flag on a hit or on its rim is right
    assert recall >= 0.9
    assert precision >= 0.9
    assert star_cores_hit(crmask, scene.stars) == 0
    # the hits are gone: cleaned values are back near the sky, in ADU
    assert np.abs(cleaned[truth & crmask] - scene.sky_adu).max() < 150


def test_untouched_pixels_keep_their_exact_values():
    scene = synthetic.science_scene(seed=4)
    image = scene.image.copy()
    crmask, cleaned = remove_cosmics(image, GAIN, READNOISE, SATLEVEL)
    assert np.array_equal(image, scene.image)  # the input is not modified
    assert np.array_equal(cleaned[~crmask], image[~crmask])
    assert cleaned.dtype == np.float32 and crmask.dtype == bool


def test_cleaned_image_is_in_adu_whatever_the_gain():
    rng = np.random.default_rng(0)
    sky_adu = 500.0
    for gain in (1.0, 4.0):
        image = (rng.poisson(sky_adu * gain, (80, 80)) / gain).astype(np.float32)
        image[40, 40] += 3000.0
        crmask, cleaned = remove_cosmics(image, gain, 5.0, 1e6)
        assert crmask[40, 40]
        assert abs(cleaned[40, 40] - sky_adu) < 30  # not sky_adu * gain
        assert abs(np.median(cleaned) - sky_adu) < 5


def test_probe_of_astroscrappy_units():
    assert cleaned_in_electrons() is False  # astroscrappy >= 1.1 returns the input's units


def old_astroscrappy(monkeypatch):
    """Make the installed astroscrappy behave like a version before 1.1: cleaned image in electrons."""
    import astroscrappy

    real = astroscrappy.detect_cosmics

    def in_electrons(indat, *args, gain=1.0, **kwargs):
        crmask, cleaned = real(indat, *args, gain=gain, **kwargs)
        return crmask, np.asarray(cleaned, dtype=np.float32) * np.float32(gain)

    monkeypatch.setattr(astroscrappy, "detect_cosmics", in_electrons)
    # ccdlab.lacosmic's probe sees that this astroscrappy differs from the one it follows, and hands it every call
    monkeypatch.setattr(lacosmic, "matches_astroscrappy", functools.lru_cache(maxsize=1)(lacosmic.matches_astroscrappy.__wrapped__))


def test_probe_sees_an_astroscrappy_that_returns_electrons(monkeypatch):
    old_astroscrappy(monkeypatch)
    assert cleaned_in_electrons.__wrapped__() is True  # the probe itself, not its cached answer


def test_cleaned_image_from_an_old_astroscrappy_comes_back_in_adu(monkeypatch):
    import ccdlab.cosmics

    scene = synthetic.science_scene(seed=0)
    expected_mask, expected = remove_cosmics(scene.image, 4.0, READNOISE, SATLEVEL)
    old_astroscrappy(monkeypatch)
    monkeypatch.setattr(ccdlab.cosmics, "cleaned_in_electrons", lambda: True)
    crmask, cleaned = remove_cosmics(scene.image, 4.0, READNOISE, SATLEVEL)
    assert np.array_equal(crmask, expected_mask) and crmask.any()
    np.testing.assert_allclose(cleaned[crmask], expected[crmask], rtol=1e-6)  # ADU, not 4 x ADU
    assert np.array_equal(cleaned[~crmask], scene.image[~crmask])
    assert np.abs(cleaned[crmask & scene.cosmic_mask] - scene.sky_adu).max() < 150


def test_the_same_call_twice_runs_lacosmic_once(monkeypatch):
    """A notebook and its check clean the same frame the same way: the second call reuses the first's hits."""
    import ccdlab.cosmics

    ccdlab.cosmics._MEMO.clear()  # nothing kept from earlier tests
    real, calls = lacosmic.detect_cosmics, []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lacosmic, "detect_cosmics", counted)
    scene = synthetic.science_scene(seed=0)
    mask = np.zeros(scene.image.shape, bool)
    mask[:10, :10] = True
    first_mask, first = remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL, mask=mask)
    first[0, 0] = -1.0  # what the caller does with its copy changes nothing kept
    again_mask, again = remove_cosmics(scene.image.copy(), GAIN, READNOISE, SATLEVEL, mask=mask)
    assert len(calls) == 1 and np.array_equal(again_mask, first_mask) and again_mask.any()
    assert again[0, 0] == scene.image[0, 0] and np.array_equal(again[first_mask], first[first_mask])
    other = scene.image.copy()
    other[50, 50] += 1.0  # another frame, another mask, other numbers or options: L.A.Cosmic runs again
    remove_cosmics(other, GAIN, READNOISE, SATLEVEL, mask=mask)
    remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL)
    remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL, mask=mask, sigclip=6.0)
    remove_cosmics(scene.image, GAIN, READNOISE * 2, SATLEVEL, mask=mask)
    assert len(calls) == 5


def saturated_star():
    rng = np.random.default_rng(0)
    shape = (96, 96)
    star = synthetic.star_image(shape, [(48.3, 47.6, 3e6)])
    electrons = np.minimum(rng.poisson(480 + star) + rng.normal(0, READNOISE, shape), SATLEVEL)
    return (electrons / GAIN).astype(np.float32)  # flat top at 60,000 ADU = 96,000 e-


def test_saturation_units_electrons_or_adu():
    image = saturated_star()
    core = slice(40, 56), slice(40, 56)
    in_electrons, _ = remove_cosmics(image, GAIN, READNOISE, 96000, satlevel_unit="e-")
    in_adu, _ = remove_cosmics(image, GAIN, READNOISE, 60000, satlevel_unit="ADU")
    assert np.array_equal(in_electrons, in_adu)
    assert not in_electrons[core].any()  # the saturated core is protected
    wrong, _ = remove_cosmics(image, GAIN, READNOISE, 96000, satlevel_unit="adu")  # 96,000 ADU: too high
    assert wrong[core].sum() > 20  # ...so the flat-topped core is taken for cosmic rays


def vignetted_scene(shape=(256, 256), seed=3):
    """A calibrated frame whose corners were vignetted (NaN beyond the 0.8 mask), with its truth."""
    rng = np.random.default_rng(seed)
    flat = synthetic.true_flat(shape)
    stars = synthetic.random_stars(rng, shape)
    electrons = rng.poisson((300 * GAIN + synthetic.star_image(shape, stars)) * flat).astype(float)
    deposit = synthetic.cosmic_rays(rng, shape, 30, avoid=stars, allowed=synthetic.vignetting(shape) > 0.9)
    electrons += deposit + rng.normal(0, READNOISE, shape)
    image = (electrons / GAIN / flat).astype(np.float32)
    image[flat < 0.8] = np.nan
    return image, deposit > 0, stars


def test_nan_corners_are_masked_not_flagged():
    image, truth, stars = vignetted_scene()
    nan = np.isnan(image)
    crmask, cleaned = remove_cosmics(image, GAIN, READNOISE, SATLEVEL)
    false = int((crmask & ~synthetic.grow(truth)).sum())
    assert false <= 10  # measured: 5 on this 256 x 256 frame
    assert not crmask[nan].any()
    assert np.isnan(cleaned[nan]).all() and np.isfinite(cleaned[~nan]).all()
    assert (crmask & truth).sum() / truth.sum() >= 0.9
    assert star_cores_hit(crmask, stars) == 0
    # What the mask prevents: corners filled with zeros and not masked flag ~1,100 pixels here.
    import astroscrappy

    filled = np.where(nan, 0, image).astype(np.float32)
    naive, _ = astroscrappy.detect_cosmics(filled, gain=GAIN, readnoise=READNOISE, satlevel=SATLEVEL)
    assert (naive & ~synthetic.grow(truth)).sum() > 50 * max(false, 1)


def test_mask_protects_finite_pixels():
    scene = synthetic.science_scene(seed=0)
    ys, xs = np.nonzero(scene.cosmic_mask)
    mask = np.zeros_like(scene.cosmic_mask)
    mask[ys[0] - 3 : ys[0] + 4, xs[0] - 3 : xs[0] + 4] = True
    crmask, cleaned = remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL, mask=mask)
    assert not crmask[mask].any()
    assert np.array_equal(cleaned[mask], scene.image[mask])


def test_astroscrappy_options_pass_through():
    scene = synthetic.science_scene(seed=0)
    strict, _ = remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL, sigclip=50.0)
    default, _ = remove_cosmics(scene.image, GAIN, READNOISE, SATLEVEL)
    assert strict.sum() < default.sum()


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0, 14, 96000), {}, "gain must be a positive number"),
        ((-1.6, 14, 96000), {}, "gain must be a positive number"),
        ((np.nan, 14, 96000), {}, "gain must be a positive number"),
        ((1.6, -1, 96000), {}, "readnoise must be zero or a positive number"),
        ((1.6, 14, 0), {}, "satlevel must be a positive number"),
        ((1.6, 14, 96000), {"satlevel_unit": "volts"}, "satlevel_unit must be"),
        ((1.6, 14, 96000), {"mask": np.zeros((3, 3), bool)}, "The mask is"),
    ],
)
def test_bad_input(args, kwargs, message):
    with pytest.raises(CosmicsError, match=message):
        remove_cosmics(np.ones((16, 16), np.float32), *args, **kwargs)


def test_bad_images():
    with pytest.raises(CosmicsError, match="2-D image"):
        remove_cosmics(np.ones(16), 1.6, 14, 96000)
    with pytest.raises(CosmicsError, match="every pixel is masked or NaN"):
        remove_cosmics(np.full((8, 8), np.nan), 1.6, 14, 96000)
    with pytest.raises(TypeError, match="sets inmask itself"):
        remove_cosmics(np.ones((8, 8)), 1.6, 14, 96000, inmask=None)


def test_infinite_saturation_turns_the_check_off():
    crmask, _ = remove_cosmics(saturated_star(), GAIN, READNOISE, np.inf)
    assert crmask.any()

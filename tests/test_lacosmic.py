"""ccdlab.lacosmic gives astroscrappy's answer, pixel for pixel: hits and cleaned values."""

import astroscrappy
import numpy as np
import pytest
import synthetic

from ccdlab import lacosmic
from ccdlab.cosmics import remove_cosmics

GAIN, READNOISE, SATLEVEL = synthetic.GAIN, synthetic.READNOISE, synthetic.SATLEVEL
COURSE = {"sigclip": 5.0, "sigfrac": 0.5, "objlim": 5.0, "gain": GAIN, "readnoise": READNOISE, "satlevel": SATLEVEL}


def assert_same_as_astroscrappy(image, mask=None, **options):
    expected = astroscrappy.detect_cosmics(image, inmask=mask, **options)
    found = lacosmic.detect_cosmics(image, inmask=mask, **options)
    assert found[0].dtype == bool and found[1].dtype == np.float32
    assert np.array_equal(found[0], expected[0]), f"{int((found[0] != expected[0]).sum())} hits differ"
    assert np.array_equal(found[1], expected[1]), f"{int((found[1] != expected[1]).sum())} cleaned values differ"
    return found


def scene_with_everything(seed):
    """Sky, stars, hits (some across strip edges), a saturated star, a masked corner and a blob."""
    scene = synthetic.science_scene(shape=(700, 300), seed=seed, n_cosmics=150, n_stars=25)
    image = scene.image.copy()
    image += synthetic.star_image(image.shape, [(150.2, 255.7, 4e6)]).astype(np.float32) / GAIN
    image = np.minimum(image, SATLEVEL / GAIN)
    image[300:309, 100:109] += np.random.default_rng(seed).uniform(3000.0, 9000.0, (9, 9)).astype(np.float32)
    image[250:262, 40] += 5000.0  # a track across a strip edge
    mask = np.zeros(image.shape, dtype=bool)
    mask[:60, :50] = True
    mask[-40:, -70:] = True
    image[mask] = np.median(image[~mask])
    return image, mask


def test_the_installed_astroscrappy_matches_on_the_probe():
    assert lacosmic.matches_astroscrappy()


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("options", [
    COURSE,
    {**COURSE, "sigclip": 4.5, "sigfrac": 0.3},        # astroscrappy's own thresholds
    {**COURSE, "objlim": 1.0, "niter": 6},              # star cores and the blob flagged: cleaning without neighbours
    {**COURSE, "niter": 1},
    {"gain": 1.0, "readnoise": 6.5},                    # astroscrappy's defaults, saturation included
])
def test_same_hits_and_values_as_astroscrappy(seed, options, monkeypatch):
    monkeypatch.setattr(lacosmic, "STRIP_ROWS", 64)  # many strips, so their edges are crossed by hits and stars
    image, mask = scene_with_everything(seed)
    hits, _ = assert_same_as_astroscrappy(image, mask, **options)
    assert hits.sum() > 100


def test_without_a_mask_and_in_other_types():
    image, _ = scene_with_everything(3)
    assert_same_as_astroscrappy(image, **COURSE)
    assert_same_as_astroscrappy(image.astype(np.float64) + 0.1, **COURSE)  # multiplied by the gain in float64 first
    assert_same_as_astroscrappy(np.round(image).astype(np.int32), **COURSE)


def test_hits_on_the_border_and_a_tiny_image():
    image = np.random.default_rng(5).normal(500.0, 10.0, (40, 30)).astype(np.float32)
    image[0, 0] += 4000.0
    image[1, 15] += 4000.0
    image[39, 29] += 4000.0
    image[20, 29] += 4000.0
    assert_same_as_astroscrappy(image, **COURSE)
    assert_same_as_astroscrappy(image[:12, :12], **COURSE)


def test_options_it_does_not_cover_are_astroscrappys(monkeypatch):
    image, mask = scene_with_everything(4)
    for options in ({"cleantype": "medmask"}, {"sepmed": False}, {"fsmode": "convolve", "psfmodel": "gauss"}):
        assert_same_as_astroscrappy(image, mask, **COURSE, **options)
    calls = []
    monkeypatch.setattr(astroscrappy, "detect_cosmics", lambda *a, **k: calls.append(k) or ("astroscrappy", None))
    assert lacosmic.detect_cosmics(image, mask, **COURSE, cleantype="idw")[0] == "astroscrappy"
    assert isinstance(lacosmic.detect_cosmics(image, mask, **COURSE, psffwhm=3.0)[0], np.ndarray)  # fsmode median: unused
    assert len(calls) == 1


def test_an_astroscrappy_it_does_not_match_is_used_as_it_is(monkeypatch):
    """When the probe disagrees (an astroscrappy whose method changed), every call goes to astroscrappy."""
    lacosmic.matches_astroscrappy.cache_clear()
    real = astroscrappy.detect_cosmics

    def changed(*args, **kwargs):
        crmask, cleaned = real(*args, **kwargs)
        return crmask, cleaned + np.float32(1.0)

    monkeypatch.setattr(astroscrappy, "detect_cosmics", changed)
    try:
        assert not lacosmic.matches_astroscrappy()
        image, mask = scene_with_everything(5)
        expected = changed(image, inmask=mask, **COURSE)
        found = lacosmic.detect_cosmics(image, inmask=mask, **COURSE)
        assert np.array_equal(found[1], expected[1])
    finally:
        lacosmic.matches_astroscrappy.cache_clear()


def test_the_tiny_nights_frames_as_astroscrappy_cleans_them(tiny_reduced):
    """The course's own frames, calibrated, with the course's camera and operating point."""
    from astropy.io import fits

    frames = sorted(tiny_reduced.glob("*.fb.fits"))
    assert frames
    for path in frames:
        data = fits.getdata(path).astype(np.float32)
        bad = ~np.isfinite(data)
        data[bad] = np.median(data[~bad])
        assert_same_as_astroscrappy(data, bad, **COURSE, niter=4)


def test_remove_cosmics_is_astroscrappys_answer():
    image, mask = scene_with_everything(6)
    crmask, cleaned = remove_cosmics(image, GAIN, READNOISE, SATLEVEL, mask=mask)
    expected, values = astroscrappy.detect_cosmics(image, inmask=mask, gain=GAIN, readnoise=READNOISE,
                                                   satlevel=SATLEVEL, sigclip=5.0, sigfrac=0.5)
    assert np.array_equal(crmask, expected & ~mask)
    assert np.array_equal(cleaned[crmask], values[crmask])

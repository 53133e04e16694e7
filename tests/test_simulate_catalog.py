"""The synthetic night's reference catalogue (ccdlab.data.simulate.catalog) and its photometric truth."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ccdlab.data.simulate import catalog as simulate_catalog
from ccdlab.data.simulate import make_night


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Path:
    return make_night(tmp_path_factory.mktemp("night") / "data", size="tiny", progress=False)


@pytest.fixture(scope="module")
def catalog(night) -> Table:
    return Table.read(night / "catalog" / "reference_catalog.ecsv")


@pytest.fixture(scope="module")
def photometry(night) -> dict:
    return json.loads((night / "truth" / "photometry.json").read_text())


def test_catalogue_sits_beside_the_raw_folders_as_a_survey_gives_it(night, catalog):
    assert catalog.colnames == ["source_id", "ra", "dec", "ra_err", "dec_err", "mag", "mag_err"]
    assert str(catalog["ra"].unit) == "deg" and str(catalog["mag_err"].unit) == "mag"
    assert catalog.meta["MAGLIM"] == simulate_catalog.SURVEY_LIMIT
    assert np.all(catalog["mag"] < simulate_catalog.SURVEY_LIMIT + 1.0)
    assert len(set(catalog["source_id"])) == len(catalog)
    # errors grow toward the limit
    bright, faint = catalog["mag"] < 17, catalog["mag"] > 20.5
    assert np.median(catalog["mag_err"][bright]) < 0.015 < 0.1 < np.median(catalog["mag_err"][faint])


def test_catalogue_covers_a_cone_beyond_the_frame(night, catalog):
    center = SkyCoord(catalog.meta["cone_ra"], catalog.meta["cone_dec"], unit="deg")
    separation = SkyCoord(catalog["ra"], catalog["dec"], unit="deg").separation(center).deg
    assert separation.max() <= catalog.meta["cone_radius_deg"] * 1.001
    assert separation.max() > 0.9 * catalog.meta["cone_radius_deg"]  # stars beyond the frame too


def test_catalogue_truth_missing_spurious_variable(night, catalog, photometry):
    truth = Table.read(night / "truth" / "catalog_truth.ecsv")
    kinds = {k: int(np.sum(truth["kind"] == k)) for k in ("star", "variable", "missing", "spurious", "too faint")}
    assert kinds["missing"] > 0 and kinds["spurious"] > 0 and kinds["variable"] > 0
    assert photometry["catalog"]["n_entries"] == len(catalog) == kinds["star"] + kinds["variable"] + kinds["spurious"] \
        + int(np.sum(truth["kind"] == "saturated"))
    listed = truth[(truth["kind"] == "star")]
    by_id = {int(s): i for i, s in enumerate(catalog["source_id"])}
    rows = [by_id[int(s)] for s in listed["source_id"]]
    diff = np.asarray(catalog["mag"][rows]) - np.asarray(listed["true_mag"])
    pulls = diff / np.asarray(catalog["mag_err"][rows])
    assert abs(np.median(diff)) < 0.01 and 0.8 < np.std(pulls) < 1.2  # errors are honest
    stars = Table.read(night / "truth" / "stars.ecsv")
    in_frame = truth[truth["frame_star"] >= 0]
    assert np.allclose(in_frame["true_mag"], stars["mag"][in_frame["frame_star"]])


def test_photometric_truth(night, photometry):
    truth = json.loads((night / "truth" / "truth.json").read_text())
    first = sorted(photometry["frames"])[0]
    frame = photometry["frames"][first]
    # 29.5 mag gives one electron in the exposure: ZP = 29.5 - 2.5 log10(gain * exptime)
    expected = 29.5 - 2.5 * np.log10(truth["gain_e_per_adu"] * frame["exptime"])
    assert photometry["zero_point"] == pytest.approx(expected, abs=1e-5) == frame["zero_point"]
    assert photometry["psf"]["model"] == "Moffat" and photometry["psf"]["beta"] == 3.0
    assert frame["wcs"]["CTYPE1"] == "RA---TAN" and frame["wcs"]["CRVAL1"] == truth["field"]["ra"]
    assert 20.0 < frame["limiting_magnitude"] < 21.5
    assert 0.88 < frame["aperture_fraction"] < 0.96


def test_frames_do_not_change_with_the_catalogue(night, tmp_path, monkeypatch):
    from ccdlab.data.simulate import night as night_module

    def no_catalogue(stage):
        (stage / "catalog").mkdir()
        (stage / "catalog" / "empty.ecsv").write_text("")

    monkeypatch.setattr(night_module, "write_catalog", no_catalogue)
    plain = make_night(tmp_path / "plain", size="tiny", progress=False)
    for folder in ("bias", "flats", "science"):
        for path in sorted((plain / folder).glob("*.fits")):
            assert path.read_bytes() == (night / folder / path.name).read_bytes()


def test_helpers():
    assert simulate_catalog.moffat_encircled(1e6, 3.5) == pytest.approx(1.0)
    assert simulate_catalog.survey_mag_error(21.0) == pytest.approx(1.0857 / 5, rel=1e-3)
    with pytest.raises(ValueError, match="illuminated"):
        simulate_catalog.sky_noise_per_pixel(1500.0, 14.0, np.zeros((3, 3)))
    deeper = simulate_catalog.true_limiting_magnitude(23.35, 360.0, 41.2, 1.6, 3.5)
    assert deeper - simulate_catalog.true_limiting_magnitude(23.35, 180.0, 41.2, 1.6, 3.5) == pytest.approx(2.5 * np.log10(2))


def test_docstring_examples_run():
    assert doctest.testmod(simulate_catalog, optionflags=doctest.ELLIPSIS).failed == 0

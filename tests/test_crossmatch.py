"""Reference catalogues: finding, reading and matching (ccdlab.crossmatch)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from ccdlab.crossmatch import find_catalog, match_to_catalog, read_catalog
from ccdlab.errors import CatalogError, MissingFileError


def test_read_the_synthetic_night_catalogue(tiny_night):
    path = find_catalog(tiny_night)
    assert path == tiny_night / "catalog" / "reference_catalog.ecsv"
    table = read_catalog(path)
    assert table.colnames[:4] == ["ra", "dec", "mag", "mag_err"] and "source_id" in table.colnames
    assert table.meta["MAGLIM"] == 21.0 and table.meta["columns"]["mag"] == "mag"


@pytest.mark.parametrize("header, columns", [
    ("raMean,decMean,rMeanPSFMag,rMeanPSFMagErr", ("raMean", "decMean", "rMeanPSFMag", "rMeanPSFMagErr")),
    ("RA_ICRS,DE_ICRS,phot_g_mean_mag", ("RA_ICRS", "DE_ICRS", "phot_g_mean_mag", None)),
    ("ra,dec,Vmag,e_Vmag", ("ra", "dec", "Vmag", "e_Vmag")),
])
def test_survey_column_names(tmp_path, header, columns):
    path = tmp_path / "field.csv"
    path.write_text(header + "\n" + "\n".join(",".join(["339.75", "33.9", "15.0", "0.01"][: len(header.split(","))])
                                               for _ in range(2)) + "\n")
    table = read_catalog(path)
    assert table.meta["columns"] == dict(zip(("ra", "dec", "mag", "mag_err"), columns))
    assert table["mag"][0] == 15.0 and (np.isnan(table["mag_err"][0]) == (columns[3] is None))


def test_read_catalog_errors(tmp_path):
    with pytest.raises(MissingFileError):
        read_catalog(tmp_path / "none.ecsv")
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(CatalogError, match="no ra, dec, mag column"):
        read_catalog(tmp_path / "bad.csv")
    (tmp_path / "other.csv").write_text("alpha,delta,brightness\n339.75,33.9,15\n")
    assert len(read_catalog(tmp_path / "other.csv", ra="alpha", dec="delta", mag="brightness")) == 1
    with pytest.raises(CatalogError, match="no column"):
        read_catalog(tmp_path / "other.csv", ra="nope", dec="delta", mag="brightness")
    (tmp_path / "junk.ecsv").write_bytes(b"\x00\x01 not a table")
    with pytest.raises(CatalogError, match="cannot be read"):
        read_catalog(tmp_path / "junk.ecsv")


def test_find_catalog_prefers_ecsv(tmp_path):
    assert find_catalog(tmp_path) is None
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "b.csv").write_text("ra,dec,mag\n")
    assert find_catalog(tmp_path).name == "b.csv"
    (tmp_path / "catalog" / "a.ecsv").write_text("")
    assert find_catalog(tmp_path).name == "a.ecsv"


def test_match_is_nearest_and_one_to_one():
    catalog = Table({"ra": [10.0, 10.001, 11.0], "dec": [20.0, 20.0, 20.0]})
    arcsec = 1 / 3600
    ra = [10.0 + 0.2 * arcsec, 10.0 + 0.5 * arcsec, 10.001, 12.0, np.nan]
    index, separation = match_to_catalog(ra, [20.0] * 5, catalog, max_separation=1.0)
    assert index.tolist() == [0, -1, 1, -1, -1]
    assert separation[0] == pytest.approx(0.2 * np.cos(np.radians(20)), rel=1e-3) and np.isnan(separation[1])
    with pytest.raises(CatalogError, match="positive"):
        match_to_catalog([10.0], [20.0], catalog, max_separation=0)
    with pytest.raises(CatalogError, match="ra and dec"):
        match_to_catalog([10.0], [20.0], Table({"x": [1]}))
    with pytest.raises(CatalogError, match="one position"):
        match_to_catalog([10.0, 11.0], [20.0], catalog)

"""``ccdlab photometry`` and ``ccdlab solve`` on the tiny night: they meet the targets against its truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from ccdlab import cli
from ccdlab.astrometry import remove_wcs, sky_residuals

pytestmark = pytest.mark.slow


def run(capsys, *argv):
    parser = cli.build_parser(argv[0])
    code = cli.run_command(argv[0], parser.parse_args(list(argv)))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_photometry_command_writes_the_table_with_zp_and_maglim(tiny_night, tiny_first_proc, tmp_path, capsys):
    catalog = tiny_night / "catalog" / "reference_catalog.ecsv"
    code, out, err = run(capsys, "photometry", str(tiny_first_proc), "--catalog", str(catalog),
                         "--out", str(tmp_path / "stars.ecsv"))
    assert code == 0, err
    assert "zero point" in out and "limiting magnitude" in out
    table = Table.read(tmp_path / "stars.ecsv")
    truth = json.loads((tiny_night / "truth" / "photometry.json").read_text())
    assert abs(table.meta["ZP"] - truth["zero_point"]) < 0.02 and table.meta["ZP_ERR"] > 0
    assert {"x", "y", "ra", "dec", "mag_inst", "mag_inst_err", "mag", "mag_err"} <= set(table.colnames)
    assert np.isfinite(table.meta["MAGLIM"])


def test_photometry_command_without_catalogue_and_bad_input(tiny_first_proc, tmp_path, capsys):
    code, out, _ = run(capsys, "photometry", str(tiny_first_proc), "--out", str(tmp_path / "s.ecsv"), "--fwhm", "3.8")
    assert code == 0 and "instrumental magnitudes only" in out
    code, _, err = run(capsys, "photometry", str(tiny_first_proc), "--out", str(tmp_path / "s.csv"))
    assert code == 1 and "ecsv" in err and "Traceback" not in err
    code, _, err = run(capsys, "photometry", str(tiny_first_proc), "--catalog", str(tmp_path / "none.ecsv"),
                       "--out", str(tmp_path / "s.ecsv"))
    assert code == 1 and "No catalogue file" in err


def test_solve_command_from_a_pointing_5_arcmin_off(tiny_night, tiny_first_proc, tmp_path, capsys):
    from astropy.coordinates import SkyCoord
    import astropy.units as u

    header = fits.getheader(tiny_first_proc)
    truth_wcs = WCS(header)
    scale = 3600 * np.sqrt(abs(np.linalg.det(truth_wcs.pixel_scale_matrix)))
    bare = tmp_path / "bare.fits"
    fits.writeto(bare, fits.getdata(tiny_first_proc), remove_wcs(header))
    start = SkyCoord(header["RA"], header["DEC"], unit="deg").directional_offset_by(120 * u.deg, 5 * u.arcmin)
    catalog = tiny_night / "catalog" / "reference_catalog.ecsv"
    out_path = tmp_path / "solved.fits"
    code, out, err = run(capsys, "solve", str(bare), "--catalog", str(catalog), "--out", str(out_path),
                         "--ra", str(start.ra.deg), "--dec", str(start.dec.deg), "--scale", f"{scale:.4f}")
    assert code == 0, err
    assert "RMS" in out and "arcsec" in out
    solved = WCS(fits.getheader(out_path))
    stars = Table.read(tiny_night / "truth" / "stars.ecsv")
    ny, nx = fits.getdata(out_path).shape
    inside = (stars["x"] > 0) & (stars["x"] < nx - 1) & (stars["y"] > 0) & (stars["y"] < ny - 1)
    xy = np.column_stack([stars["x"][inside], stars["y"][inside]])
    rms = np.sqrt(np.mean(sky_residuals(solved, xy, stars["ra"][inside], stars["dec"][inside]) ** 2))
    assert rms < 0.3  # arcsec, against the true positions
    assert "plate-solved" in str(fits.getheader(out_path)["HISTORY"])


def test_solve_command_says_what_is_missing(tiny_night, tiny_first_proc, tmp_path, capsys):
    header = remove_wcs(fits.getheader(tiny_first_proc))
    bare = tmp_path / "bare.fits"
    fits.writeto(bare, fits.getdata(tiny_first_proc), header)
    catalog = tiny_night / "catalog" / "reference_catalog.ecsv"
    code, _, err = run(capsys, "solve", str(bare), "--catalog", str(catalog), "--out", str(tmp_path / "s.fits"))
    assert code == 1 and "--scale" in err
    code, _, err = run(capsys, "solve", str(bare), "--catalog", str(catalog), "--out", str(tmp_path / "s.fits"),
                       "--ra", "10", "--dec", "-40", "--scale", "0.676")
    assert code == 1 and "catalogue has 0 stars" in err
    code, _, err = run(capsys, "solve", str(tiny_first_proc), "--catalog", str(catalog),
                       "--out", str(tiny_night / "science" / "x.fits"))
    assert code == 1 and "raw" in err

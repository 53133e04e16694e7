"""Pattern matching (ccdlab.patterns) and offline plate solving (ccdlab.astrometry)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
import astropy.units as u

from ccdlab.astrometry import (fit_wcs, header_pointing, pixel_scale, project, remove_wcs, sky_residuals,
                               solve_field)
from ccdlab.errors import AstrometryError
from ccdlab.patterns import match_patterns, similarity_transform, triangles
from photometry_scene import SHAPE, wcs_for


def field(rotation=20.0, mirrored=False, n_cat=2500, seed=0, distortion=0.0):
    """Detected stars (pixels, brightest first) of a frame and a catalogue of a wider field."""
    rng = np.random.default_rng(seed)
    truth = wcs_for(SHAPE, rotation=rotation, mirrored=mirrored)
    pix = rng.uniform(-700, 1000, (n_cat, 2))
    ra, dec = truth.all_pix2world(pix[:, 0], pix[:, 1], 0)
    mag = rng.uniform(13, 21, n_cat)
    catalog = Table({"ra": ra, "dec": dec, "mag": mag})
    ny, nx = SHAPE
    seen = (pix[:, 0] > 2) & (pix[:, 0] < nx - 3) & (pix[:, 1] > 2) & (pix[:, 1] < ny - 3) & (mag < 20)
    order = np.flatnonzero(seen)[np.argsort(mag[seen])]
    xy = pix[order] + rng.normal(0, 0.05, (order.size, 2))
    if distortion:
        r2 = ((xy - [nx / 2, ny / 2]) ** 2).sum(axis=1, keepdims=True)
        xy = xy + distortion * r2 * (xy - [nx / 2, ny / 2])
    missing = rng.random(len(catalog)) < 0.03
    return xy, catalog[~missing], truth


def test_triangles_and_similarity():
    vertices, shapes, longest = triangles(np.array([(0, 0), (4, 0), (0, 3), (10, 10)]), neighbours=2)
    assert len(vertices) == len(shapes) == len(longest) > 0 and np.all(shapes <= 1)
    source = np.random.default_rng(1).uniform(0, 10, (5, 2))
    mirror = source * [1, -1] * 3 + 2
    matrix, offset = similarity_transform(source, mirror, mirrored=True)
    assert np.allclose(source @ matrix.T + offset, mirror)
    with pytest.raises(AstrometryError, match="coincide"):
        similarity_transform(np.ones((3, 2)), np.ones((3, 2)))


@pytest.mark.parametrize("rotation, mirrored", [(0.0, False), (137.0, False), (-60.0, True)])
def test_match_patterns_any_rotation_and_a_mirror(rotation, mirrored):
    rng = np.random.default_rng(2)
    source = rng.uniform(0, 400, (40, 2))
    angle = np.radians(rotation)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    if mirrored:
        turn = turn @ np.diag([1, -1])
    target = np.vstack([source @ turn.T * 0.98 + [30, 70], rng.uniform(-300, 600, (200, 2))])
    match = match_patterns(source[:30], target[5:], scale=1.0)
    assert match.mirrored == mirrored and match.scale == pytest.approx(0.98, rel=1e-3)
    assert len(match.pairs) == 25 and match.rms < 1e-6
    assert np.all(match.pairs[:, 1] + 5 == match.pairs[:, 0])


def test_match_patterns_says_why_it_fails():
    rng = np.random.default_rng(3)
    with pytest.raises(AstrometryError, match="at least 3"):
        match_patterns([(0, 0), (1, 1)], rng.uniform(0, 9, (10, 2)))
    with pytest.raises(AstrometryError, match="do not match|No triangle"):
        match_patterns(rng.uniform(0, 400, (30, 2)), rng.uniform(0, 400, (30, 2)), min_matches=12)
    with pytest.raises(AstrometryError, match="positive"):
        match_patterns(rng.uniform(0, 9, (5, 2)), rng.uniform(0, 9, (5, 2)), scale=0)


@pytest.mark.parametrize("rotation, mirrored, offset_arcmin", [(20.0, False, 5.0), (200.0, False, 3.0),
                                                                (75.0, True, 5.0)])
def test_solve_field_from_a_pointing_arcminutes_off(rotation, mirrored, offset_arcmin):
    xy, catalog, truth = field(rotation, mirrored)
    start = SkyCoord(150.0, 30.0, unit="deg").directional_offset_by(40 * u.deg, offset_arcmin * u.arcmin)
    solution = solve_field(xy, catalog, start.ra.deg, start.dec.deg, 0.676, SHAPE)
    assert solution.rms < 0.1 and solution.sip_degree is None and solution.n_matched > 20
    grid = np.column_stack([np.linspace(0, SHAPE[1] - 1, 9), np.linspace(0, SHAPE[0] - 1, 9)])
    ra, dec = truth.all_pix2world(grid[:, 0], grid[:, 1], 0)
    assert np.max(sky_residuals(solution.wcs, grid, ra, dec)) < 0.1  # arcsec, over the whole frame
    assert solution.scale == pytest.approx(0.676, rel=1e-3)


def test_solve_field_adds_sip_for_a_distorted_field():
    xy, catalog, truth = field(distortion=2e-7, n_cat=6000, seed=4)
    solution = solve_field(xy, catalog, 150.0, 30.0, 0.676, SHAPE, scale_tolerance=0.05)
    assert solution.sip_degree == 3 and solution.rms < 0.1


def test_solve_field_errors():
    xy, catalog, _ = field()
    with pytest.raises(AstrometryError, match="catalogue has 0 stars"):
        solve_field(xy, catalog, 10.0, -40.0, 0.676, SHAPE)
    with pytest.raises(AstrometryError, match="at least 4"):
        solve_field(xy[:2], catalog, 150.0, 30.0, 0.676, SHAPE)
    with pytest.raises(AstrometryError, match="ra and dec"):
        solve_field(xy, Table({"x": [1]}), 150.0, 30.0, 0.676, SHAPE)
    with pytest.raises(AstrometryError):
        solve_field(xy, catalog, 150.0, 30.0, 0.9, SHAPE)  # a wrong pixel scale


def test_header_helpers():
    header = fits.Header({"RA": 339.75, "DEC": 33.9, "EXPTIME": 180.0})
    header.extend(wcs_for(SHAPE).to_header().cards)
    assert header_pointing(header) == (339.75, 33.9)
    assert pixel_scale(header) == pytest.approx(0.676)
    bare = remove_wcs(header)
    assert "CRVAL1" not in bare and "CTYPE1" not in bare and bare["EXPTIME"] == 180.0
    assert header_pointing(fits.Header({"OBJCTRA": "10 00 00", "OBJCTDEC": "-05 30 00"})) == (150.0, -5.5)
    assert header_pointing(fits.Header({"RA": "150.5", "DEC": "-5.25"})) == (150.5, -5.25)
    with pytest.raises(AstrometryError, match="no pointing"):
        header_pointing(fits.Header({"EXPTIME": 1.0}))
    with pytest.raises(AstrometryError, match="scale"):
        pixel_scale(fits.Header())
    assert pixel_scale(fits.Header(), default=0.5) == 0.5
    xi, eta = project([150.0], [30.0], 150.0, 30.0)
    assert xi[0] == pytest.approx(0.0) and eta[0] == pytest.approx(0.0)


def test_fit_wcs_needs_enough_stars():
    truth = wcs_for(SHAPE)
    xy = np.random.default_rng(0).uniform(0, 300, (5, 2))
    ra, dec = truth.all_pix2world(xy[:, 0], xy[:, 1], 0)
    with pytest.raises(AstrometryError, match="at least 12"):
        fit_wcs(xy, ra, dec, sip_degree=2)
    with pytest.raises(AstrometryError, match="same stars"):
        fit_wcs(xy, ra[:3], dec)


def test_match_stars_pairs_then_fit_wcs_solves():
    from ccdlab.astrometry import match_stars

    xy, catalog, truth = field(rotation=-35.0)
    pairs = match_stars(xy, catalog, 150.02, 30.03, 0.676, SHAPE)
    assert len(pairs) > 20 and set(pairs.colnames) == {"x", "y", "ra", "dec", "catalog_row"}
    wcs = fit_wcs(np.column_stack([pairs["x"], pairs["y"]]), pairs["ra"], pairs["dec"])
    grid = np.column_stack([np.linspace(0, SHAPE[1] - 1, 5), np.linspace(0, SHAPE[0] - 1, 5)])
    ra, dec = truth.all_pix2world(grid[:, 0], grid[:, 1], 0)
    assert np.max(sky_residuals(wcs, grid, ra, dec)) < 0.1


def test_pixel_scale_reads_wcs_values_stored_as_text():
    header = fits.Header({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": "150.0", "CRVAL2": "30.0",
                          "CRPIX1": "100.0", "CRPIX2": "100.0", "CD1_1": "-1.8778e-4", "CD1_2": "0.0",
                          "CD2_1": "0.0", "CD2_2": "1.8778e-4"})
    assert pixel_scale(header) == pytest.approx(0.676, rel=1e-3)

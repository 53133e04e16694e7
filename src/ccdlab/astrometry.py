"""Plate solving offline: which pixel looks where on the sky, from the stars and a catalogue.

A frame's header says roughly where the telescope pointed (RA/Dec, often arcminutes off) and the
camera's pixel scale is known; nothing says how the field is rotated, or exactly where it is.
:func:`solve_field` finds out the way astrometry.net does, in miniature:

1. project the catalogue stars around the rough pointing onto a plane (the gnomonic, TAN,
   projection a telescope's focal plane makes), in units of pixels;
2. match the pattern of the brightest detected stars to the pattern of the brightest catalogue
   stars (:func:`ccdlab.patterns.match_patterns`: triangles of neighbours, whose shape survives
   any shift, rotation and scale);
3. with that first guess, pair every detected star with its catalogue star, and fit a TAN WCS to
   the pairs by least squares (astropy's ``fit_wcs_from_points``), dropping pairs that do not fit
   and adding the SIP polynomial distortion terms only where they improve the fit;
4. report the residuals' RMS in arcseconds.

Everything runs offline, on the catalogue of the field (``catalog/`` of the night, or any
survey table); astrometry.net needs index files of ~50 GB for the whole sky.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ccdlab.errors import AstrometryError

__all__ = ["WCS_KEYWORDS", "Solution", "remove_wcs", "header_pointing", "pixel_scale", "project",
           "fit_wcs", "sky_residuals", "match_stars", "solve_field", "solve_frame", "solved_header"]

#: Header keywords of a celestial WCS (and its SIP distortion), removed by :func:`remove_wcs`.
WCS_KEYWORDS = ("WCSAXES", "CTYPE1", "CTYPE2", "CUNIT1", "CUNIT2", "CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2",
                "CD1_1", "CD1_2", "CD2_1", "CD2_2", "CDELT1", "CDELT2", "PC1_1", "PC1_2", "PC2_1", "PC2_2",
                "CROTA1", "CROTA2", "LONPOLE", "LATPOLE", "EQUINOX", "RADESYS", "A_ORDER", "B_ORDER", "AP_ORDER",
                "BP_ORDER", "IMAGEW", "IMAGEH")


@dataclass
class Solution:
    """A plate solution: the WCS, the stars it rests on, and how well it fits.

    Attributes
    ----------
    wcs : astropy.wcs.WCS
        The fitted WCS (TAN, with SIP terms when ``sip_degree`` is set).
    rms : float
        RMS distance (arcsec) between the matched catalogue stars and where the WCS puts the
        detected stars.
    n_matched : int
        Pairs of detected and catalogue stars the fit uses.
    sip_degree : int or None
        Degree of the SIP distortion polynomial, None for a plain TAN projection.
    xy : numpy.ndarray
        ``(n, 2)`` pixel positions of the matched detected stars.
    ra, dec : numpy.ndarray
        The catalogue positions they are matched to (degrees).
    catalog_rows : numpy.ndarray
        Their rows in the catalogue.
    scale, rotation : float
        Pixel scale (arcsec per pixel) and position angle of the y axis (degrees east of north).

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> s = Solution(WCS(naxis=2), 0.12, 40, None)
    >>> f"{s.rms:.2f} arcsec from {s.n_matched} stars"
    '0.12 arcsec from 40 stars'
    """

    wcs: object
    rms: float
    n_matched: int
    sip_degree: int | None
    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), repr=False)
    ra: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    dec: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    catalog_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False)
    scale: float = math.nan
    rotation: float = math.nan


def remove_wcs(header):
    """A copy of ``header`` without its WCS (and SIP) keywords: what a frame looks like before solving.

    Examples
    --------
    >>> from astropy.io import fits
    >>> header = fits.Header({"EXPTIME": 180.0, "CTYPE1": "RA---TAN", "CRVAL1": 339.75, "A_0_2": 1e-6})
    >>> list(remove_wcs(header))
    ['EXPTIME']
    """
    import re

    out = header.copy()
    sip = re.compile(r"^(A|B|AP|BP)_\d+_\d+$")
    for key in list(out.keys()):
        if key in WCS_KEYWORDS or sip.match(key or ""):
            out.remove(key, ignore_missing=True, remove_all=True)
    return out


def _angle(value, hours: bool) -> float | None:
    from astropy.coordinates import Angle

    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.number)):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(Angle(text, unit="hourangle" if hours else "deg").deg)
    except Exception:
        return None


def header_pointing(header) -> tuple[float, float]:
    """The telescope's pointing from a header: RA/DEC (or OBJCTRA/OBJCTDEC), degrees.

    Numbers are degrees; text may be sexagesimal (``'22:39:00'`` is in hours for RA). Without
    such keywords the WCS reference point (CRVAL1/2) is used.

    Raises
    ------
    AstrometryError
        No pointing in the header: pass RA and Dec (``--ra/--dec``).

    Examples
    --------
    >>> from astropy.io import fits
    >>> header_pointing(fits.Header({"RA": "22:39:00", "DEC": "+33:54:00"}))
    (339.75, 33.9)
    """
    for ra_key, dec_key, hours in (("RA", "DEC", False), ("OBJCTRA", "OBJCTDEC", True), ("RA_OBJ", "DEC_OBJ", False),
                                   ("CRVAL1", "CRVAL2", False)):
        if ra_key in header and dec_key in header:
            text_ra = isinstance(header[ra_key], str) and ":" in header[ra_key]
            ra = _angle(header[ra_key], hours or text_ra)
            dec = _angle(header[dec_key], False)
            if ra is not None and dec is not None and -90 <= dec <= 90:
                return round(ra % 360.0, 8), round(dec, 8)
    raise AstrometryError("The header has no pointing (RA/DEC, OBJCTRA/OBJCTDEC): give the field's centre "
                          "with ra= and dec= (ccdlab solve --ra RA --dec DEC, degrees).")


def pixel_scale(header, default: float | None = None) -> float:
    """The pixel scale (arcsec per pixel) from a header's WCS, PIXSCALE/SECPIX/SCALE, or ``default``.

    Raises
    ------
    AstrometryError
        None found and no default given.

    Examples
    --------
    >>> from astropy.io import fits
    >>> pixel_scale(fits.Header({"SECPIX": 0.676}))
    0.676
    >>> round(pixel_scale(fits.Header({"CD1_1": -1.8778e-4, "CD2_2": 1.8778e-4, "CD1_2": 0.0, "CD2_1": 0.0})), 3)
    0.676
    """
    if str(header.get("CTYPE1", "")).upper().startswith("RA"):
        from ccdlab.stack import frame_wcs  # reads WCS values stored as text

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                matrix = frame_wcs(header).pixel_scale_matrix
            value = math.sqrt(abs(float(np.linalg.det(matrix)))) * 3600.0
            if math.isfinite(value) and value > 0:
                return value
        except Exception:  # an unreadable WCS: look for the other keywords
            pass
    cd = [header.get(k) for k in ("CD1_1", "CD1_2", "CD2_1", "CD2_2")]
    try:
        if all(v is not None for v in cd):
            det = abs(float(cd[0]) * float(cd[3]) - float(cd[1]) * float(cd[2]))
            if det > 0:
                return math.sqrt(det) * 3600.0
        if header.get("CDELT1") is not None and header.get("CDELT2") is not None:
            value = math.sqrt(abs(float(header["CDELT1"]) * float(header["CDELT2"]))) * 3600.0
            if value > 0:
                return value
        for key in ("PIXSCALE", "SECPIX", "SCALE", "PIXSCAL1"):
            if header.get(key) is not None and float(header[key]) > 0:
                return float(header[key])
    except (TypeError, ValueError):
        pass
    if default is None:
        raise AstrometryError("The header gives no pixel scale: pass scale= (arcsec per pixel, --scale).")
    return float(default)


def project(ra, dec, ra0: float, dec0: float):
    """Gnomonic (TAN) projection of sky positions about ``(ra0, dec0)``: standard coordinates xi, eta in degrees.

    xi grows to the east, eta to the north.

    Examples
    --------
    >>> xi, eta = project([10.0, 10.0], [20.0, 20.1], 10.0, 20.0)
    >>> [round(float(v), 4) for v in xi], [round(float(v), 4) for v in eta]
    ([0.0, 0.0], [0.0, 0.1])
    """
    ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    a0, d0 = math.radians(ra0), math.radians(dec0)
    cos_c = np.sin(d0) * np.sin(dec) + np.cos(d0) * np.cos(dec) * np.cos(ra - a0)
    xi = np.cos(dec) * np.sin(ra - a0) / cos_c
    eta = (np.cos(d0) * np.sin(dec) - np.sin(d0) * np.cos(dec) * np.cos(ra - a0)) / cos_c
    return np.degrees(xi), np.degrees(eta)


def sky_residuals(wcs, xy, ra, dec) -> np.ndarray:
    """Separations (arcsec) between sky positions and where ``wcs`` puts the pixels ``xy``.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]; w.wcs.crval = [10, 20]
    >>> w.wcs.crpix = [1, 1]; w.wcs.cdelt = [-1e-4, 1e-4]
    >>> sky_residuals(w, [(0.0, 0.0)], [10.0], [20.0]).round(3).tolist()
    [0.0]
    """
    from astropy.coordinates import SkyCoord

    xy = np.asarray(xy, float).reshape(-1, 2)
    got_ra, got_dec = wcs.all_pix2world(xy[:, 0], xy[:, 1], 0)
    here = SkyCoord(got_ra, got_dec, unit="deg")
    there = SkyCoord(np.asarray(ra, float), np.asarray(dec, float), unit="deg")
    return here.separation(there).arcsec


def fit_wcs(xy, ra, dec, sip_degree: int | None = None, center=None):
    """Fit a TAN WCS (with SIP distortion of ``sip_degree``) to pixel positions and their sky positions.

    Parameters
    ----------
    xy : array-like
        ``(n, 2)`` pixel positions (0-based).
    ra, dec : array-like
        Their sky positions, degrees.
    sip_degree : int or None
        Add SIP polynomial distortion terms of this degree (2 or 3); None: plain TAN.
    center : (float, float), optional
        The tangent point, RA and Dec in degrees (e.g. where the frame's centre looks); by default
        the star nearest the middle of the points.

    Returns
    -------
    astropy.wcs.WCS

    Raises
    ------
    AstrometryError
        Fewer than 3 pairs (6 with SIP), or mismatched lengths.

    Examples
    --------
    >>> from astropy.wcs import WCS
    >>> truth = WCS(naxis=2); truth.wcs.ctype = ["RA---TAN", "DEC--TAN"]; truth.wcs.crval = [339.75, 33.9]
    >>> truth.wcs.crpix = [256.0, 257.0]; truth.wcs.cd = [[-1.878e-4, 0.0], [0.0, 1.878e-4]]
    >>> xy = np.random.default_rng(0).uniform(0, 512, (20, 2))
    >>> ra, dec = truth.all_pix2world(xy[:, 0], xy[:, 1], 0)
    >>> fitted = fit_wcs(xy, ra, dec)
    >>> float(sky_residuals(fitted, xy, ra, dec).max()) < 1e-3
    True
    """
    from astropy.coordinates import SkyCoord
    from astropy.wcs.utils import fit_wcs_from_points

    xy = np.asarray(xy, float).reshape(-1, 2)
    ra, dec = np.asarray(ra, float).ravel(), np.asarray(dec, float).ravel()
    if not (len(xy) == len(ra) == len(dec)):
        raise AstrometryError(f"xy ({len(xy)}), ra ({len(ra)}) and dec ({len(dec)}) must list the same stars.")
    need = 3 if sip_degree is None else (sip_degree + 1) * (sip_degree + 2)
    if len(xy) < need:
        raise AstrometryError(f"A {'TAN' if sip_degree is None else f'TAN-SIP (degree {sip_degree})'} fit needs at "
                              f"least {need} matched stars; got {len(xy)}.")
    world = SkyCoord(ra, dec, unit="deg")
    if center is None:  # the tangent point: the star nearest the middle of the stars
        mid = xy.mean(axis=0)
        nearest = int(np.argmin(np.hypot(*(xy - mid).T)))
        proj_point = SkyCoord(ra[nearest], dec[nearest], unit="deg")
    else:  # the sky position of a pixel (e.g. the frame's centre), given as (ra, dec) in degrees
        proj_point = SkyCoord(float(center[0]), float(center[1]), unit="deg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_wcs_from_points((xy[:, 0], xy[:, 1]), world, proj_point=proj_point, projection="TAN",
                                   sip_degree=sip_degree)


def _match_by_wcs(wcs, xy, catalog_ra, catalog_dec, radius_pix):
    from scipy.spatial import cKDTree

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cx, cy = wcs.wcs_world2pix(catalog_ra, catalog_dec, 0)  # TAN alone first: SIP diverges far off the frame
        lo, hi = xy.min(axis=0) - 50.0, xy.max(axis=0) + 50.0
        near = np.isfinite(cx) & np.isfinite(cy) & (cx > lo[0]) & (cx < hi[0]) & (cy > lo[1]) & (cy < hi[1])
        if wcs.sip is not None and near.any():
            cx[near], cy[near] = wcs.all_world2pix(catalog_ra[near], catalog_dec[near], 0, quiet=True)
    cat = np.column_stack([cx, cy])
    ok = near & np.all(np.isfinite(cat), axis=1)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    distance, nearest = cKDTree(cat[ok]).query(xy, distance_upper_bound=radius_pix)
    found = np.isfinite(distance)
    order = np.argsort(distance[found])
    stars = np.flatnonzero(found)[order]
    picked = rows[nearest[found][order]]
    _, first = np.unique(picked, return_index=True)
    keep = np.sort(first)
    return stars[keep], picked[keep]


def _best_fit(xy, ra, dec, center, sip_degree, try_sip: bool = True):
    """``(wcs, rms, degree)``: TAN, or TAN-SIP when forced, or when 'auto' (and ``try_sip``) and it lowers
    the RMS by a fifth (degree 3 with 40 stars or more, which also holds a radial distortion, else 2)."""
    def fitted(degree):
        wcs = fit_wcs(xy, ra, dec, degree, center)
        return wcs, float(np.sqrt(np.mean(sky_residuals(wcs, xy, ra, dec) ** 2))), degree

    if sip_degree not in (None, "auto"):
        return fitted(int(sip_degree))
    plain = fitted(None)
    if sip_degree == "auto" and try_sip and len(xy) >= 30:
        sip = fitted(3 if len(xy) >= 40 else 2)
        if sip[1] < 0.8 * plain[1]:
            return sip
    return plain


def _describe(wcs) -> tuple[float, float]:
    matrix = wcs.pixel_scale_matrix
    scale = math.sqrt(abs(np.linalg.det(matrix))) * 3600.0
    rotation = math.degrees(math.atan2(matrix[0, 1], matrix[1, 1]))
    return scale, rotation


def _first_wcs(positions, catalog, ra, dec, scale, shape, search_radius, scale_tolerance, n_stars):
    """``(xy, first WCS)``: the pattern match turned into a rough TAN WCS (see :func:`solve_field`)."""
    from astropy.table import Table
    from astropy.wcs import WCS

    from ccdlab.patterns import match_patterns
    from ccdlab.sources import positions_of

    if isinstance(positions, Table) and "flux" in positions.colnames:  # brightest first
        positions = positions[np.argsort(-np.nan_to_num(np.asarray(positions["flux"], float), nan=-np.inf), kind="stable")]
    xy = positions_of(positions)
    if not isinstance(catalog, Table) or not {"ra", "dec"} <= set(catalog.colnames):
        raise AstrometryError("The catalogue must be a table with ra and dec (degrees): use crossmatch.read_catalog.")
    if len(xy) < 4:
        raise AstrometryError(f"Only {len(xy)} stars detected: plate solving needs at least 4 (lower the threshold).")
    if not (scale and scale > 0):
        raise AstrometryError(f"The pixel scale must be a positive number of arcsec per pixel; got {scale!r}.")
    ny, nx = (int(v) for v in shape)
    half_diagonal = 0.5 * math.hypot(nx, ny) * scale / 3600.0
    reach = half_diagonal + search_radius / 60.0
    cat_ra, cat_dec = np.asarray(catalog["ra"], float), np.asarray(catalog["dec"], float)
    xi, eta = project(cat_ra, cat_dec, ra, dec)
    near = np.hypot(xi, eta) <= reach
    if "mag" in catalog.colnames:
        order = np.argsort(np.where(near, np.asarray(catalog["mag"], float), np.inf), kind="stable")
    else:
        order = np.arange(len(catalog))
    order = order[near[order]]
    if order.size < 4:
        raise AstrometryError(
            f"The catalogue has {order.size} stars within {reach * 60:.1f} arcmin of RA {ra:.4f}, Dec {dec:.4f}: is "
            "the pointing right, and does the catalogue cover the field?")
    sources = xy[: int(n_stars)]
    # The catalogue's brightest stars, as many per unit area as the frame's brightest detections.
    area_ratio = math.pi * reach ** 2 / (nx * ny * (scale / 3600.0) ** 2)
    n_target = int(min(order.size, max(3 * len(sources), math.ceil(1.5 * len(sources) * area_ratio)), 3000))
    picked = order[:n_target]
    degrees_per_pixel = scale / 3600.0
    plane = np.column_stack([-xi[picked], eta[picked]]) / degrees_per_pixel  # east to the left: -xi
    centred = sources - [(nx - 1) / 2.0, (ny - 1) / 2.0]
    match = match_patterns(centred, plane, scale=1.0, scale_tolerance=scale_tolerance, tolerance=3.0,
                           min_matches=min(len(sources), max(6, len(sources) // 3)))
    # A first WCS from the pattern's transformation: plane = M @ (pixel - centre) + t.
    first = WCS(naxis=2)
    first.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    first.wcs.crval = [ra, dec]
    inverse = np.linalg.inv(match.matrix)
    # pixel = centre + inverse @ (plane - t): move the reference pixel to where the pointing lands
    shift = inverse @ (-match.offset)
    first.wcs.crpix = [(nx - 1) / 2.0 + shift[0] + 1.0, (ny - 1) / 2.0 + shift[1] + 1.0]
    first.wcs.cd = np.diag([-degrees_per_pixel, degrees_per_pixel]) @ match.matrix
    return xy, first


def match_stars(positions, catalog, ra: float, dec: float, scale: float, shape, search_radius: float = 10.0,
                scale_tolerance: float = 0.05, n_stars: int = 30, max_distance: float = 3.0):
    """Pair the frame's stars with catalogue stars by their pattern: the first half of :func:`solve_field`.

    The brightest stars' triangles are matched to the catalogue's (:func:`ccdlab.patterns.match_patterns`),
    which gives a rough WCS; through it, every star within ``max_distance`` pixels of a catalogue
    star is paired with it. A WCS fitted to the pairs (:func:`fit_wcs`) is the plate solution.

    Parameters
    ----------
    positions, catalog, ra, dec, scale, shape, search_radius, scale_tolerance, n_stars
        As for :func:`solve_field`.
    max_distance : float
        Largest distance (pixels, through the rough WCS) of a pair.

    Returns
    -------
    astropy.table.Table
        One row per pair: ``x``, ``y`` (pixels), ``ra``, ``dec`` (the catalogue's, degrees) and
        ``catalog_row``.

    Raises
    ------
    AstrometryError
        As :func:`solve_field`.

    Examples
    --------
    >>> pairs = match_stars(stars, catalog, 339.8, 33.95, 0.676, data.shape)  # doctest: +SKIP
    >>> wcs = fit_wcs(np.column_stack([pairs["x"], pairs["y"]]), pairs["ra"], pairs["dec"])  # doctest: +SKIP
    """
    from astropy.table import Table

    xy, first = _first_wcs(positions, catalog, ra, dec, scale, shape, search_radius, scale_tolerance, n_stars)
    cat_ra, cat_dec = np.asarray(catalog["ra"], float), np.asarray(catalog["dec"], float)
    stars, rows = _match_by_wcs(first, xy, cat_ra, cat_dec, float(max_distance))
    order = np.argsort(stars)
    stars, rows = stars[order], rows[order]
    return Table({"x": xy[stars, 0], "y": xy[stars, 1], "ra": cat_ra[rows], "dec": cat_dec[rows], "catalog_row": rows})


def solve_field(positions, catalog, ra: float, dec: float, scale: float, shape, search_radius: float = 10.0,
                scale_tolerance: float = 0.05, n_stars: int = 30, sip_degree="auto") -> Solution:
    """Plate-solve a frame from its stars and a catalogue, starting from a rough pointing.

    Parameters
    ----------
    positions : table or array-like
        The frame's detected stars, brightest first (a table with a ``flux`` column is sorted), e.g.
        :func:`ccdlab.sources.detect_stars`.
    catalog : astropy.table.Table
        Reference stars with ``ra``, ``dec`` (degrees) and ``mag`` (:func:`ccdlab.crossmatch.read_catalog`).
    ra, dec : float
        The rough pointing: where the frame's centre should be (degrees).
    scale : float
        The pixel scale, arcsec per pixel (e.g. from :func:`pixel_scale`).
    shape : (int, int)
        ``(ny, nx)`` of the frame.
    search_radius : float
        How far off (arcmin) the pointing may be.
    scale_tolerance : float
        Relative uncertainty of the pixel scale.
    n_stars : int
        How many of the brightest detected stars are pattern-matched.
    sip_degree : 'auto', int or None
        SIP distortion: 'auto' also fits degree 3 (2 with 30-39 stars; none with fewer) and keeps
        it when it lowers the RMS by a fifth or more; an int forces it; None: plain TAN.

    Returns
    -------
    Solution

    Raises
    ------
    AstrometryError
        Too few stars, no catalogue stars near the pointing, or no pattern match.

    Examples
    --------
    >>> from astropy.table import Table
    >>> from astropy.wcs import WCS
    >>> truth = WCS(naxis=2); truth.wcs.ctype = ["RA---TAN", "DEC--TAN"]; truth.wcs.crval = [339.75, 33.9]
    >>> truth.wcs.crpix = [256.5, 257.5]; truth.wcs.cd = [[-1.878e-4, 0.0], [0.0, 1.878e-4]]
    >>> rng = np.random.default_rng(1)
    >>> sky = rng.uniform(-2000, 2500, (900, 2))          # a catalogue around the field, in pixels
    >>> ra, dec = truth.all_pix2world(sky[:, 0], sky[:, 1], 0)
    >>> catalog = Table({"ra": ra, "dec": dec, "mag": rng.uniform(14, 20, 900)})
    >>> catalog.sort("mag")
    >>> x, y = truth.all_world2pix(catalog["ra"], catalog["dec"], 0)
    >>> seen = (x > 0) & (x < 511) & (y > 0) & (y < 513)
    >>> solution = solve_field(np.column_stack([x[seen], y[seen]]), catalog, 339.80, 33.95, 0.676, (514, 512))
    >>> solution.rms < 0.01, solution.n_matched == int(seen.sum())
    (True, True)
    """
    if sip_degree not in ("auto", None) and not (isinstance(sip_degree, (int, np.integer)) and 2 <= sip_degree <= 5):
        raise AstrometryError(f"sip_degree must be 'auto', None or a whole number from 2 to 5; got {sip_degree!r}.")
    xy, first = _first_wcs(positions, catalog, ra, dec, scale, shape, search_radius, scale_tolerance, n_stars)
    cat_ra, cat_dec = np.asarray(catalog["ra"], float), np.asarray(catalog["dec"], float)
    ny, nx = (int(v) for v in shape)
    # Every detected star, paired through the first WCS, then a least-squares fit, three times, tighter.
    # SIP terms are tried at each round (before outliers are clipped: a distorted corner is no outlier).
    # SIP is tried in the first round; once it wins it stays (few fits: each is a least-squares problem).
    wcs, radius, degree = first, 5.0, None
    middle = ((nx - 1) / 2.0, (ny - 1) / 2.0)
    for round_ in range(3):
        stars, rows = _match_by_wcs(wcs, xy, cat_ra, cat_dec, radius)
        if len(stars) < 3:
            raise AstrometryError("Too few stars matched the catalogue after the pattern match: the field may be "
                                  "crowded with stars the catalogue lacks, or the scale wrong.")
        center = tuple(float(v[0]) for v in wcs.all_pix2world([middle[0]], [middle[1]], 0))
        wanted = degree if (degree is not None and sip_degree == "auto") else sip_degree
        wcs, rms, degree = _best_fit(xy[stars], cat_ra[rows], cat_dec[rows], center, wanted,
                                     try_sip=round_ == 0)
        residual = sky_residuals(wcs, xy[stars], cat_ra[rows], cat_dec[rows]) / scale  # pixels
        sigma = max(float(np.median(residual)) / 1.1774, 0.05)  # per axis: the median of a Rayleigh is 1.18 sigma
        radius = float(min(radius, max(1.0, 5.0 * sigma)))
        good = residual <= max(4.0 * sigma, 0.3)
        stars, rows = stars[good], rows[good]
    center = tuple(float(v[0]) for v in wcs.all_pix2world([middle[0]], [middle[1]], 0))
    wcs, rms, degree = _best_fit(xy[stars], cat_ra[rows], cat_dec[rows], center,
                                 degree if (degree is not None and sip_degree == "auto") else sip_degree)
    fitted_scale, rotation = _describe(wcs)
    if rms > scale or abs(fitted_scale / scale - 1.0) > 2 * scale_tolerance:
        raise AstrometryError(
            f"No consistent solution: the best fit leaves {rms:.2f} arcsec residuals at a scale of {fitted_scale:.3f} "
            f"arcsec/pixel (given {scale:g}). Check the pixel scale and the pointing.")
    return Solution(wcs, rms, int(len(stars)), degree, xy[stars], cat_ra[rows], cat_dec[rows], rows,
                    fitted_scale, rotation)


def solve_frame(data, header, catalog, ra: float | None = None, dec: float | None = None,
                scale: float | None = None, search_radius: float = 10.0, threshold: float = 5.0) -> Solution:
    """Plate-solve a calibrated frame: detect its stars, then :func:`solve_field` from the header's pointing.

    Parameters
    ----------
    data : numpy.ndarray
        The calibrated frame (ADU).
    header : astropy.io.fits.Header
        Its header: the pointing (RA/DEC...) and pixel scale (WCS, PIXSCALE...) unless given.
    catalog : astropy.table.Table
        Reference stars (:func:`ccdlab.crossmatch.read_catalog`).
    ra, dec : float, optional
        The rough pointing (degrees), instead of the header's.
    scale : float, optional
        The pixel scale (arcsec per pixel), instead of the header's.
    search_radius : float
        How far off the pointing may be, arcmin.
    threshold : float
        Detection threshold, sky standard deviations.

    Returns
    -------
    Solution

    Raises
    ------
    AstrometryError
        No pointing or scale, too few stars, or no match.

    Examples
    --------
    >>> solution = solve_frame(data, header, read_catalog("data/catalog/reference_catalog.ecsv"))  # doctest: +SKIP
    >>> round(solution.rms, 2)  # doctest: +SKIP
    0.1
    """
    from ccdlab.sources import detect_stars

    if (ra is None) != (dec is None):
        raise AstrometryError("Give both ra and dec (degrees), or neither to use the header's pointing.")
    if ra is None:
        ra, dec = header_pointing(header)
    scale = pixel_scale(header) if scale is None else float(scale)
    stars = detect_stars(data, threshold=threshold)
    return solve_field(stars, catalog, float(ra), float(dec), scale, np.shape(data), search_radius=search_radius)


def solved_header(header, solution: Solution, catalog_name: str = "the catalogue"):
    """``header`` with its old WCS replaced by the solution's (SIP included), and the fit recorded.

    Examples
    --------
    >>> from astropy.io import fits
    >>> from astropy.wcs import WCS
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]; w.wcs.crval = [339.75, 33.9]
    >>> w.wcs.crpix = [256.0, 257.0]; w.wcs.cd = [[-1.878e-4, 0.0], [0.0, 1.878e-4]]
    >>> header = solved_header(fits.Header({"EXPTIME": 180.0, "CRVAL1": 1.0}), Solution(w, 0.1, 40, None))
    >>> header["CRVAL1"], header["WCSRMS"], header["WCSNSTAR"]
    (339.75, 0.1, 40)
    """
    out = remove_wcs(header)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cards = solution.wcs.to_header(relax=True)
    for key in ("DATE-OBS", "MJD-OBS", "DATEREF", "MJDREFI", "MJDREFF", "MJD-REF"):
        cards.remove(key, ignore_missing=True)
    out.extend(cards.cards, update=True)
    out["WCSRMS"] = (round(float(solution.rms), 4), "RMS of the plate solution, arcsec")
    out["WCSNSTAR"] = (int(solution.n_matched), "stars the plate solution rests on")
    projection = "TAN" if solution.sip_degree is None else f"TAN-SIP degree {solution.sip_degree}"
    out.add_history(f"ccdlab: plate-solved ({projection}) on {solution.n_matched} stars of {catalog_name}, "
                    f"RMS {solution.rms:.3f} arcsec")
    return out

"""The synthetic night's reference catalogue, as a survey would give it, and its photometric truth.

Photometry needs a catalogue of the field: the magnitudes of known stars set the zero point, and
their positions solve the astrometry. A real survey query (PanSTARRS, Gaia...) returns every
source within a radius of the pointing, with measured positions and magnitudes that carry errors,
down to the survey's limit, and it is never perfect: a few stars are missing (blends, artefacts,
gaps) and a few entries are spurious; some stars have varied since the survey looked, and the
brightest saturated the survey's own images, so it lists them too faint.

:func:`write_catalog` reads what :mod:`ccdlab.data.simulate.night` wrote into ``truth/`` (the
stars, the frames' seeing, sky and dithers, the flat) and writes::

    catalog/reference_catalog.ecsv   the survey's view of the field (beside the raw folders):
                                     source_id, ra, dec, ra_err, dec_err (arcsec), mag, mag_err
    truth/photometry.json            the zero point, the PSF, each frame's true WCS, sky and
                                     5-sigma limiting magnitude, and how the catalogue was made
    truth/catalog_truth.ecsv         every simulated star in the catalogue's cone (the frame's
                                     and those beyond it) with its true magnitude, and every
                                     catalogue entry's kind ('star', 'variable', 'spurious')

It draws from its own random stream, so the frames of a night are the same bytes with or without
it. The catalogue covers a cone ``half diagonal + 6 arcmin`` around the field centre, so a plate
solution that starts from a pointing several arcminutes off still finds the field in it; the
stars beyond the frame follow the same number counts as those in it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table

from ccdlab.data.simulate.sky import PIXEL_SCALE, moffat_alpha, star_field, star_sky_positions, tan_wcs_header
from ccdlab.errors import InputError

__all__ = [
    "CATALOG_FOLDER",
    "CATALOG_NAME",
    "SURVEY_LIMIT",
    "SURVEY_SATURATION",
    "CONE_MARGIN_ARCMIN",
    "moffat_encircled",
    "survey_mag_error",
    "reference_catalog",
    "sky_noise_per_pixel",
    "true_limiting_magnitude",
    "write_catalog",
]

#: The folder of a night that holds its reference catalogue (beside bias/, flats/, science/).
CATALOG_FOLDER = "catalog"

#: File name of the synthetic night's reference catalogue.
CATALOG_NAME = "reference_catalog.ecsv"

#: The survey's 5-sigma limiting magnitude: fainter entries are not in the catalogue.
SURVEY_LIMIT = 21.0

#: Stars brighter than this saturate the survey's own images: it lists them too faint, by 0.5-2 mag
#: (as PanSTARRS does brighter than ~14-14.5), with errors that do not say so.
SURVEY_SATURATION = 14.5

#: The catalogue's cone reaches this far beyond the frame's corners (arcmin).
CONE_MARGIN_ARCMIN = 6.0

#: Fractions of real stars missing, of entries that are spurious, and of stars that varied.
MISSING_FRACTION, SPURIOUS_FRACTION, VARIABLE_FRACTION = 0.02, 0.01, 0.03

#: The survey's calibration floor (mag) and astrometric floor (arcsec, per axis).
MAG_ERROR_FLOOR, POSITION_ERROR_FLOOR = 0.008, 0.03

#: The aperture of the course's photometry (pixels), for the truth's limiting magnitude.
REFERENCE_APERTURE = {"radius": 6.0, "annulus": [10.0, 15.0], "nsigma": 5.0}

# Not one of night._STREAMS' small numbers: the frames' streams are never touched.
_STREAM = 9013
_FRAME_MARGIN = 12  # night's star_field draws stars this far beyond the frame's edges


def moffat_encircled(radius, fwhm: float, beta: float = 3.0):
    """Fraction of a Moffat star's light within ``radius`` pixels of its centre.

    ``1 - (1 + r^2 / alpha^2)^(1 - beta)``: the aperture loss that an aperture correction undoes.

    Examples
    --------
    >>> round(moffat_encircled(6.0, 3.5), 3)
    0.939
    >>> float(moffat_encircled(0.0, 3.5))
    0.0
    """
    alpha = moffat_alpha(fwhm, beta)
    radius = np.asarray(radius, dtype=float)
    value = 1.0 - (1.0 + radius ** 2 / alpha ** 2) ** (1.0 - beta)
    return float(value) if value.ndim == 0 else value


def survey_mag_error(mag, limit: float = SURVEY_LIMIT):
    """The survey's magnitude error: 1.0857 / 5 at its 5-sigma limit, falling with brightness to a floor.

    Examples
    --------
    >>> round(survey_mag_error(21.0), 3), round(survey_mag_error(16.0), 3)
    (0.217, 0.008)
    """
    mag = np.asarray(mag, dtype=float)
    photon = 2.5 / math.log(10.0) / 5.0 * 10.0 ** (0.4 * (mag - limit))
    value = np.hypot(MAG_ERROR_FLOOR, photon)
    return float(value) if value.ndim == 0 else value


def _cone_radius_deg(shape) -> float:
    ny, nx = shape
    half_diagonal = 0.5 * math.hypot(nx, ny) * PIXEL_SCALE / 3600.0
    return half_diagonal + CONE_MARGIN_ARCMIN / 60.0


def _stars_beyond_frame(shape, header, rng) -> Table:
    """Stars of the cone outside the frame (+ night's margin), with the frame's number counts."""
    ny, nx = shape
    radius_pix = _cone_radius_deg(shape) * 3600.0 / PIXEL_SCALE
    side = int(math.ceil(2 * radius_pix)) + 1
    outer = star_field((side, side), rng, margin=0, n_saturated=0)
    x = np.asarray(outer["x"]) - (side - 1) / 2.0 + (nx - 1) / 2.0
    y = np.asarray(outer["y"]) - (side - 1) / 2.0 + (ny - 1) / 2.0
    m = _FRAME_MARGIN
    inside_frame = (x >= -m) & (x <= nx - 1 + m) & (y >= -m) & (y <= ny - 1 + m)
    in_cone = np.hypot(x - (nx - 1) / 2.0, y - (ny - 1) / 2.0) <= radius_pix
    keep = in_cone & ~inside_frame
    table = Table({"x": x[keep], "y": y[keep], "mag": np.asarray(outer["mag"])[keep]})
    table["ra"], table["dec"] = star_sky_positions(table, header)
    return table


def reference_catalog(stars: Table, shape, seed: int, center=(339.75, 33.9), rotation: float = 0.35):
    """Make the survey catalogue of a field, and its truth.

    Parameters
    ----------
    stars : astropy.table.Table
        The frame's stars (``x``, ``y``, ``ra``, ``dec``, ``mag``), as the night drew them.
    shape : (int, int)
        ``(ny, nx)`` of the frames.
    seed : int
        The night's seed (the catalogue has its own stream from it).
    center : (float, float)
        RA and Dec (degrees) of the first frame's centre.
    rotation : float
        The frames' position angle (degrees), for the stars beyond the frame.

    Returns
    -------
    (astropy.table.Table, astropy.table.Table)
        The catalogue (``source_id``, ``ra``, ``dec``, ``ra_err``, ``dec_err`` in arcsec,
        ``mag``, ``mag_err``; ``meta`` with ``MAGLIM`` and the cone), and its truth: one row per
        simulated star in the cone and per spurious entry (``kind``: ``'star'``, ``'variable'``,
        ``'saturated'`` (listed too faint), ``'missing'``, ``'too faint'``, ``'spurious'``; ``true_mag``, ``true_ra``, ``true_dec``,
        ``in_frame``, ``source_id``, -1 when not in the catalogue).

    Examples
    --------
    >>> from ccdlab.data.simulate.sky import star_field
    >>> stars = star_field((514, 512), np.random.default_rng(1))
    >>> stars["ra"], stars["dec"] = star_sky_positions(stars, tan_wcs_header((514, 512), 339.75, 33.9))
    >>> catalog, truth = reference_catalog(stars, (514, 512), seed=1)
    >>> bool(catalog["mag"].max() < 21.0), bool(len(catalog) > len(stars))
    (True, True)
    """
    ny, nx = (int(v) for v in shape)
    rng = np.random.default_rng([int(seed), _STREAM])
    header = tan_wcs_header((ny, nx), center[0], center[1], rotation=rotation)
    beyond = _stars_beyond_frame((ny, nx), header, rng)
    ra = np.concatenate([np.asarray(stars["ra"], float), np.asarray(beyond["ra"], float)])
    dec = np.concatenate([np.asarray(stars["dec"], float), np.asarray(beyond["dec"], float)])
    true_mag = np.concatenate([np.asarray(stars["mag"], float), np.asarray(beyond["mag"], float)])
    in_frame = np.concatenate([np.ones(len(stars), bool), np.zeros(len(beyond), bool)])
    n = len(ra)

    kind = np.full(n, "star", dtype="<U9")
    offset = np.zeros(n)
    variable = rng.random(n) < VARIABLE_FRACTION
    offset[variable] = rng.choice([-1.0, 1.0], variable.sum()) * rng.uniform(0.15, 0.8, variable.sum())
    kind[variable] = "variable"
    mag_err = survey_mag_error(true_mag + offset)
    mag = true_mag + offset + rng.normal(0.0, 1.0, n) * mag_err
    bright = true_mag < SURVEY_SATURATION
    mag[bright] += rng.uniform(0.5, 2.0, bright.sum())
    kind[bright] = "saturated"
    kind[mag >= SURVEY_LIMIT] = "too faint"
    missing = (rng.random(n) < MISSING_FRACTION) & (kind != "too faint")
    kind[missing] = "missing"
    pos_err = POSITION_ERROR_FLOOR + 0.1 * 10.0 ** (0.4 * (np.minimum(mag, SURVEY_LIMIT) - SURVEY_LIMIT))
    cos_dec = np.cos(np.radians(dec))
    obs_ra = ra + rng.normal(0.0, 1.0, n) * pos_err / 3600.0 / cos_dec
    obs_dec = dec + rng.normal(0.0, 1.0, n) * pos_err / 3600.0

    # Spurious entries: anywhere in the cone, near the survey's limit.
    listed = (kind == "star") | (kind == "variable") | (kind == "saturated")
    n_spurious = max(1, int(round(SPURIOUS_FRACTION * listed.sum())))
    radius = _cone_radius_deg((ny, nx))
    r = radius * np.sqrt(rng.random(n_spurious))
    angle = rng.uniform(0.0, 2.0 * math.pi, n_spurious)
    sp_dec = center[1] + r * np.sin(angle)
    sp_ra = center[0] + r * np.cos(angle) / math.cos(math.radians(center[1]))
    sp_mag = rng.uniform(SURVEY_LIMIT - 1.5, SURVEY_LIMIT, n_spurious)
    sp_err = POSITION_ERROR_FLOOR + 0.1 * 10.0 ** (0.4 * (sp_mag - SURVEY_LIMIT))

    cat_ra = np.concatenate([obs_ra[listed], sp_ra])
    cat_dec = np.concatenate([obs_dec[listed], sp_dec])
    cat_mag = np.concatenate([mag[listed], sp_mag])
    cat_mag_err = np.concatenate([mag_err[listed], survey_mag_error(sp_mag)])
    cat_pos_err = np.concatenate([pos_err[listed], sp_err])
    order = np.argsort(cat_ra, kind="stable")
    source_id = np.empty(len(order), dtype=np.int64)
    source_id[order] = 100001 + np.arange(len(order))
    catalog = Table(  # rounded as a survey lists them (0.4 mas, 1 mas, 1 mmag)
        {
            "source_id": source_id[order], "ra": np.round(cat_ra[order], 7), "dec": np.round(cat_dec[order], 7),
            "ra_err": np.round(cat_pos_err[order], 3), "dec_err": np.round(cat_pos_err[order], 3),
            "mag": np.round(cat_mag[order], 3), "mag_err": np.round(cat_mag_err[order], 3),
        }
    )
    for name, unit, fmt in (("ra", "deg", ".7f"), ("dec", "deg", ".7f"), ("ra_err", "arcsec", ".3f"),
                            ("dec_err", "arcsec", ".3f"), ("mag", "mag", ".3f"), ("mag_err", "mag", ".3f")):
        catalog[name].unit = unit
        catalog[name].info.format = fmt
    catalog.meta.update(
        {
            "survey": "ccdlab synthetic survey",
            "band": "the night's filter (FILTER 'UNK')",
            "MAGLIM": SURVEY_LIMIT,
            "maglim_note": "5-sigma limiting magnitude of the survey; fainter sources are not listed",
            "cone_ra": float(center[0]), "cone_dec": float(center[1]), "cone_radius_deg": round(radius, 6),
            "description": "Reference catalogue of the field as a survey query returns it: measured positions "
                           "(ICRS, degrees) and magnitudes with 1-sigma errors.",
        }
    )

    truth_rows = {
        "kind": np.concatenate([kind, np.full(n_spurious, "spurious")]),
        "true_ra": np.concatenate([ra, sp_ra]), "true_dec": np.concatenate([dec, sp_dec]),
        "true_mag": np.concatenate([true_mag, np.full(n_spurious, np.nan)]),
        "catalog_mag": np.concatenate([np.where(listed, mag, np.nan), sp_mag]),
        "in_frame": np.concatenate([in_frame, np.zeros(n_spurious, bool)]),
        "frame_star": np.concatenate([np.where(in_frame, np.cumsum(in_frame) - 1, -1), np.full(n_spurious, -1)]),
    }
    ids = np.full(n + n_spurious, -1, dtype=np.int64)
    listed_all = np.concatenate([listed, np.ones(n_spurious, bool)])
    ids[listed_all] = source_id
    truth_rows["source_id"] = ids
    truth = Table(truth_rows)
    truth.meta["description"] = (
        "Truth of the reference catalogue: every simulated star in its cone (frame_star: its row in "
        "stars.ecsv, -1 beyond the frame) and every spurious entry. kind: star (listed), variable (listed, "
        "its magnitude changed since the survey), saturated (listed too faint: it saturated the survey's images), "
        "missing (left out), too faint (below the survey limit), "
        "spurious (no star there). source_id: the catalogue entry, -1 when not listed."
    )
    return catalog, truth


def sky_noise_per_pixel(sky_e: float, readnoise_e: float, flat: np.ndarray, illuminated: float = 0.8) -> float:
    """RMS noise (electrons) of one pixel of a calibrated frame, over its illuminated field.

    A pixel collects ``sky * flat`` electrons plus read noise and is then divided by the flat:
    its variance is ``sky / flat + readnoise**2 / flat**2``, larger where vignetting darkens it.

    Examples
    --------
    >>> round(sky_noise_per_pixel(1500.0, 14.0, np.ones((4, 4))), 2)
    41.18
    """
    values = np.asarray(flat, dtype=float)
    values = values[np.isfinite(values) & (values > illuminated)]
    if values.size == 0:
        raise InputError("The flat has no illuminated pixel: cannot compute the sky noise.")
    return float(np.sqrt(np.mean(sky_e / values + readnoise_e ** 2 / values ** 2)))


def true_limiting_magnitude(zero_point: float, exptime: float, noise_e: float, gain: float, fwhm: float,
                            radius: float = 6.0, annulus=(10.0, 15.0), nsigma: float = 5.0,
                            beta: float = 3.0) -> float:
    """The true ``nsigma`` limiting magnitude of a point source in an aperture with a sky annulus.

    The noise of a sky-subtracted aperture sum is ``sqrt(A (1 + pi/2 A / A_sky)) * noise`` (the
    sky a median of the annulus); a star at the limit gives ``nsigma`` times that within the
    aperture, so its total flux is that divided by the aperture's encircled fraction.

    Parameters
    ----------
    zero_point : float
        m = ZP - 2.5 log10(total flux in ADU / exptime).
    exptime, noise_e, gain, fwhm : float
        Exposure (s), per-pixel noise (electrons, :func:`sky_noise_per_pixel`), gain (e-/ADU),
        seeing FWHM (pixels).
    radius, annulus, nsigma, beta
        The aperture (pixels), the detection level, the Moffat index.

    Examples
    --------
    >>> round(true_limiting_magnitude(23.35, 180.0, 41.2, 1.6, 3.5), 2)
    20.88
    """
    area = math.pi * radius ** 2
    sky_area = math.pi * (annulus[1] ** 2 - annulus[0] ** 2)
    noise_adu = math.sqrt(area * (1.0 + math.pi / 2.0 * area / sky_area)) * noise_e / gain
    total = nsigma * noise_adu / moffat_encircled(radius, fwhm, beta)
    return float(zero_point - 2.5 * math.log10(total / exptime))


def write_catalog(folder) -> Path:
    """Write a synthetic night's reference catalogue and photometric truth (see the module doc).

    Parameters
    ----------
    folder : path-like
        A night's folder, with ``truth/truth.json``, ``truth/stars.ecsv`` and ``truth/true_flat.fits``.

    Returns
    -------
    pathlib.Path
        The catalogue written (``catalog/reference_catalog.ecsv``).

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.data.simulate import make_night
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = make_night(tmp, size="tiny", progress=False)   # make_night writes the catalogue
    ...     (Path(tmp) / "catalog" / CATALOG_NAME).is_file(), (Path(tmp) / "truth" / "photometry.json").is_file()
    (True, True)
    """
    folder = Path(folder)
    truth_dir = folder / "truth"
    info = json.loads((truth_dir / "truth.json").read_text(encoding="utf-8"))
    stars = Table.read(truth_dir / "stars.ecsv", format="ascii.ecsv")
    flat = fits.getdata(truth_dir / "true_flat.fits")
    shape = tuple(info["shape"])
    field = info["field"]
    catalog, truth = reference_catalog(stars, shape, info["seed"], (field["ra"], field["dec"]), field["rotation"])
    out = folder / CATALOG_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    path = out / CATALOG_NAME
    catalog.write(path, format="ascii.ecsv", overwrite=True)
    for name in ("true_ra", "true_dec"):
        truth[name].info.format = ".8f"
    for name in ("true_mag", "catalog_mag"):
        truth[name].info.format = ".4f"
    truth.write(truth_dir / "catalog_truth.ecsv", format="ascii.ecsv", overwrite=True)

    gain, readnoise = info["gain_e_per_adu"], info["read_noise_e"]
    # Magnitude of a star that gives one electron per exposure (the simulator's flux scale).
    zp_electrons_per_exposure = float(np.median(np.asarray(stars["mag"]) + 2.5 * np.log10(np.asarray(stars["flux"]))))
    frames = {}
    zero_point = None
    for name, entry in info["frames"].items():
        if entry["kind"] != "science":
            continue
        exptime = float(entry["exptime"])
        zp = zp_electrons_per_exposure - 2.5 * math.log10(gain * exptime)
        zero_point = zp if zero_point is None else zero_point
        dx, dy = entry["dither"]
        wcs = tan_wcs_header(shape, field["ra"], field["dec"], rotation=field["rotation"], shift=(dx, dy))
        noise = sky_noise_per_pixel(entry["sky_e"], readnoise, flat)
        lim = true_limiting_magnitude(zp, exptime, noise, gain, entry["fwhm_pix"], **{
            "radius": REFERENCE_APERTURE["radius"], "annulus": REFERENCE_APERTURE["annulus"],
            "nsigma": REFERENCE_APERTURE["nsigma"], "beta": info["moffat_beta"]})
        frames[name] = {
            "exptime": exptime, "zero_point": round(zp, 6), "fwhm_pix": entry["fwhm_pix"],
            "sky_e": entry["sky_e"], "sky_adu": round(entry["sky_e"] / gain, 3),
            "noise_e_per_pixel": round(noise, 4),
            "aperture_fraction": round(moffat_encircled(REFERENCE_APERTURE["radius"], entry["fwhm_pix"],
                                                        info["moffat_beta"]), 6),
            "limiting_magnitude": round(lim, 4),
            "wcs": {card.keyword: card.value for card in wcs.cards},
        }
    listed = truth[truth["source_id"] >= 0]
    photometry = {
        "zero_point": round(zero_point, 6),
        "zero_point_definition": (
            "m = zero_point - 2.5 log10(F / EXPTIME): F the star's total flux (ADU) in a science frame "
            "calibrated by subtracting the bias and dividing by a flat normalised to 1 in the centre; the "
            "same for every science frame (no extinction is simulated)"),
        "zero_point_electrons": round(zero_point + 2.5 * math.log10(gain), 6),
        "magnitude_of_one_electron_per_exposure": round(zp_electrons_per_exposure, 6),
        "psf": {"model": "Moffat", "beta": info["moffat_beta"],
                "fwhm_pix": {name: f["fwhm_pix"] for name, f in frames.items()}},
        "reference_aperture": REFERENCE_APERTURE,
        "limiting_magnitude_definition": (
            "nsigma point-source limit for the reference aperture and annulus (median sky), "
            "background-limited, with the per-pixel noise averaged over the illuminated field (flat > 0.8)"),
        "frames": frames,
        "catalog": {
            "file": f"{CATALOG_FOLDER}/{CATALOG_NAME}", "maglim": SURVEY_LIMIT, "n_entries": len(catalog),
            "n_listed_stars": int(np.sum(truth["kind"] == "star")),
            "n_variable": int(np.sum(truth["kind"] == "variable")),
            "n_saturated": int(np.sum(truth["kind"] == "saturated")), "saturation": SURVEY_SATURATION,
            "n_missing": int(np.sum(truth["kind"] == "missing")),
            "n_spurious": int(np.sum(truth["kind"] == "spurious")),
            "n_in_frame_listed": int(np.sum(listed["in_frame"])),
            "mag_error_floor": MAG_ERROR_FLOOR, "position_error_floor_arcsec": POSITION_ERROR_FLOOR,
            "truth": "catalog_truth.ecsv",
        },
    }
    (truth_dir / "photometry.json").write_text(json.dumps(photometry, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path

"""Checks for lesson 09, photometry and astrometry: stars, fluxes, magnitudes, zero point, PSF, limit, WCS.

The lesson works on the first science frame as ccdlab reduces it (``reduced/ccdlab/``). The checks
follow the notebook's recipe (:func:`ccdlab.course.checks.field.recipe`: the seeing measured,
apertures of 1.5 FWHM with a sky annulus from 2.5 to 3.5 FWHM) and judge against the night's truth
where the simulator left one (``truth/``: the stars, the zero point, the PSF, the WCS), else against
the package's own numbers; the references live in :mod:`ccdlab.course.checks.field`.
"""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import Part, answers, blank_part, is_blank, number
from ccdlab.course.checks.field import (  # noqa: F401  (the references, here for the answer catalogue too)
    FIT_SHAPE, MATCH_RADIUS, MIN_SNR, START_ANGLE, START_OFFSET, THRESHOLD, aperture_flux_function, catalog_of,
    detections, frame_of, instrumental_magnitude_function, limit_values, psf_flux_function, psf_of, recipe,
    reference_apertures, solve_values, stars_of, truth_of, zero_point_values,
)

LESSON = "09_photometry"


def _as_positions(value):
    """An (n, 2) float array from pairs or a table with x/y columns, or None."""
    from astropy.table import Table

    from ccdlab.errors import PhotometryError
    from ccdlab.sources import positions_of

    if isinstance(value, Table):
        try:
            return positions_of(value)
        except PhotometryError:
            return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim == 2 else None


def _matched_fraction(points, reference, tolerance: float = 1.0) -> float:
    from scipy.spatial import cKDTree

    if len(points) == 0 or len(reference) == 0:
        return 0.0
    distance, _ = cKDTree(reference).query(points)
    return float(np.mean(distance <= tolerance))


def _truth_positions(night):
    truth = truth_of(night)
    if truth is None:
        return None
    data, _, _ = frame_of(night)
    ny, nx = data.shape
    inside = (truth["x"] > -1) & (truth["x"] < nx) & (truth["y"] > -1) & (truth["y"] < ny)
    return np.column_stack([truth["x"][inside], truth["y"][inside]])


def _bright_reference(night) -> np.ndarray:
    """Detections a student's finder must find: 10 sigma peaks, away from edges and NaN."""
    from ccdlab.sources import detect_stars

    def compute():
        data, _, _ = frame_of(night)
        r = recipe(night)
        stars = detect_stars(data, fwhm=r["fwhm"], threshold=2 * THRESHOLD, background=r["background"],
                             saturation=r["saturation"], margin=10.0)
        stars = stars[stars["clean"]]
        return np.column_stack([np.asarray(stars["x"], float), np.asarray(stars["y"], float)])

    return night.memo("l09_bright", compute)


@answers(LESSON, "positions")
def find_the_stars(night, positions):
    """The stars' (x, y) positions: real stars (judged against the truth, or 3-sigma peaks), and the bright ones all there.

    Examples
    --------
    >>> positions = check("9.1", positions=positions)  # doctest: +SKIP
    ✔ Exercise 9.1: correct. Well done!
    """
    name = "positions"
    reference = detections(night)
    if is_blank(positions):
        return [blank_part(name, reference)]
    xy = _as_positions(positions)
    if xy is None:
        return [Part(name, False, "positions should be (x, y) pixel pairs: an (n, 2) array such as "
                     "np.transpose([found['x_centroid'], found['y_centroid']]).", reference)]
    if xy.shape[1] != 2 and xy.shape[0] == 2:
        return [Part(name, False, f"positions has shape {xy.shape}: that is two rows (all x, all y); give one "
                     "(x, y) pair per star, shape (n, 2): np.transpose([...]) or np.column_stack([...]).", reference)]
    if xy.shape[1] != 2 or len(xy) == 0 or not np.all(np.isfinite(xy)):
        return [Part(name, False, f"positions should be an (n, 2) array of finite (x, y) pixel pairs; got shape "
                     f"{xy.shape}.", reference)]
    data, _, _ = frame_of(night)
    ny, nx = data.shape
    truth = _truth_positions(night)
    real = truth if truth is not None else detections(night, 3.0)
    bright = _bright_reference(night)
    precision = _matched_fraction(xy, real, 1.0)
    completeness = _matched_fraction(bright, xy, 1.0)
    if precision >= 0.8 and completeness >= 0.9:
        return [Part(name, True, reference=positions)]
    if np.all((xy[:, 0] >= 0) & (xy[:, 0] <= 360)) and np.all(np.abs(xy[:, 1]) <= 90) \
            and np.ptp(xy[:, 0]) < 5 and np.ptp(xy[:, 1]) < 5:  # a few degrees wide: a sky patch, not a frame
        hint = "positions look like RA/Dec in degrees: give pixel positions (x = column, y = row) from the finder."
    elif _matched_fraction(xy[:, ::-1], real, 1.0) >= 0.8:
        hint = ("x and y are swapped: x is the column (the second numpy index), y the row; give (x, y) pairs "
                "as x_centroid, y_centroid.")
    elif _matched_fraction(xy - 1.0, real, 1.0) >= 0.8:
        hint = "positions are one pixel off in x and y: they count from 1 (FITS, DS9); photutils and numpy count from 0."
    elif completeness < 0.9 and precision >= 0.5:
        hint = (f"Your {len(xy)} detections miss {1 - completeness:.0%} of the stars clearly above the sky. The threshold "
                "should be 5 times the sky's noise (background.rms_median), not its level; and keep every star "
                "(find_stars keeps only the brightest 10).")
    else:
        hint = (f"Only {precision:.0%} of your {len(xy)} detections are stars; the rest are noise peaks. The "
                "threshold is in ADU: make it 5 times the sky's noise (background.rms_median), on the frame minus "
                "the background.")
    return [Part(name, False, hint, reference)]


def _call(function, name, *args):
    try:
        return function(*args), None
    except Exception as exc:  # the student's code: report, never crash
        return None, f"{name} raised {type(exc).__name__}: {exc}. Try it on a few positions first, e.g. positions[:3]."


def _blank_result(result) -> bool:
    """A function still returning the blank ``...`` (or a tuple of them): not attempted yet."""
    return is_blank(result) or (isinstance(result, tuple) and len(result) > 0 and all(is_blank(v) for v in result))


def _two_arrays(result, size):
    if result is None or is_blank(result) or not isinstance(result, (tuple, list)) or len(result) != 2:
        return None
    try:
        a, b = (np.asarray(v, dtype=float).ravel() for v in result)
    except (TypeError, ValueError):
        return None
    return (a, b) if a.size == size and b.size == size else None


@answers(LESSON, "aperture_flux")
def aperture_photometry_check(night, aperture_flux):
    """The function ``aperture_flux(image, positions) -> (flux, flux_err)``, tried on the lesson's stars.

    Examples
    --------
    >>> aperture_flux = check("9.2", aperture_flux=aperture_flux)  # doctest: +SKIP
    ✔ Exercise 9.2: correct. Well done!
    """
    name = "aperture_flux"
    r = recipe(night)
    reference = aperture_flux_function(r["radius"], r["annulus"], r["gain"], r["readnoise"])
    if is_blank(aperture_flux):
        return [blank_part(name, reference)]
    if not callable(aperture_flux):
        return [Part(name, False, "aperture_flux should be the function aperture_flux(image, positions).", reference)]
    data, header, _ = frame_of(night)
    positions = detections(night)
    result, error = _call(aperture_flux, "aperture_flux(data, positions)", data.copy(), positions.copy())
    if error:
        return [Part(name, False, error, reference)]
    if _blank_result(result):
        return [blank_part(name, reference)]
    pair = _two_arrays(result, len(positions))
    if pair is None:
        return [Part(name, False, "aperture_flux should return two arrays, flux and flux_err, one value per star "
                     "(return flux, flux_err).", reference)]
    flux, flux_err = pair
    ref_flux, ref_err = reference_apertures(night)
    good = np.isfinite(ref_flux) & np.isfinite(ref_err) & (ref_flux > 0)
    if good.sum() == 0:
        return [Part(name, True, reference=aperture_flux)]
    with np.errstate(invalid="ignore", divide="ignore"):
        pull = np.abs(flux[good] - ref_flux[good]) / ref_err[good]
        ratio = np.nanmedian(flux[good] / ref_flux[good])
        err_ratio = np.nanmedian(flux_err[good] / ref_err[good])
    flux_ok = np.mean(pull < 1.5) >= 0.9  # another sky estimate (clipped median or mean) moves faint stars a little
    # the error with the annulus-median term (the package's) is also right: up to ~1.3 times the simple one
    with np.errstate(invalid="ignore", divide="ignore"):
        each = flux_err[good] / ref_err[good]
    err_ok = np.isfinite(err_ratio) and np.mean((each >= 0.95) & (each <= 1.35)) >= 0.9
    if flux_ok and err_ok:
        return [Part(name, True, reference=aperture_flux)]
    if not flux_ok:
        sky = np.asarray(recipe(night)["background"].median)
        area = math.pi * r["radius"] ** 2
        offset = np.nanmedian(flux[good] - ref_flux[good])
        ring_area = math.pi * (r["annulus"][1] ** 2 - r["annulus"][0] ** 2)
        if abs(offset - sky * area) < 0.1 * sky * area:
            hint = "The fluxes still hold the sky under each star: subtract the annulus median times the aperture's area."
        elif abs(offset - sky * (area - ring_area)) < 0.1 * abs(sky * (area - ring_area)):
            hint = ("The sky subtracted is the annulus's sum, not its level: subtract the median sky per pixel times "
                    "the aperture's area.")
        elif math.isclose(ratio, 1.0 / r["exptime"], rel_tol=0.02):
            hint = "The fluxes are per second: keep them in ADU here; the exposure time enters the magnitudes (9.3)."
        elif math.isclose(ratio, r["gain"], rel_tol=0.02):
            hint = "The fluxes are in electrons: keep them in ADU (the gain enters only the uncertainty)."
        elif 0.5 < ratio < 0.97 or 1.03 < ratio < 1.3:
            hint = (f"The fluxes are {ratio:.2f} times the expected ones: use the aperture radius `radius` and the "
                    "annulus `annulus_radii` given above.")
        else:
            swapped, _ = reference(data, positions[:, ::-1])
            close = np.isfinite(swapped[good]) & (np.abs(flux[good] - swapped[good]) <= 1e-3 * np.abs(swapped[good]) + 1)
            hint = ("The fluxes are measured at (y, x): photutils takes (x, y) pairs, x the column." if np.mean(close) > 0.8
                    else "The fluxes differ from the expected ones: aperture sum minus the annulus median times the "
                         "aperture's area, at the positions given.")
        return [Part(name, False, hint, reference)]
    if math.isclose(err_ratio, r["gain"], rel_tol=0.05) or math.isclose(err_ratio, 1.2 * r["gain"], rel_tol=0.1):
        hint = "flux_err is in electrons: divide the CCD-equation noise by the gain to get ADU."
    elif err_ratio < 0.95:
        simple = np.sqrt(np.clip(ref_flux[good], 0, None) / r["gain"])
        if np.nanmedian(np.abs(flux_err[good] / simple - 1)) < 0.05:
            hint = ("flux_err has the star's photon noise only: add the sky's photon noise and the read noise of every "
                    "aperture pixel (the CCD equation).")
        else:
            hint = "flux_err is too small: compute the CCD equation in electrons (multiply by the gain), then divide by it."
    else:
        hint = "flux_err is too large: sqrt(F g + A (B g + RN^2)) / g, with F and B in ADU and RN in electrons."
    return [Part(name, False, hint, reference)]


@answers(LESSON, "instrumental_magnitude")
def magnitudes_check(night, instrumental_magnitude):
    """The function ``instrumental_magnitude(flux, flux_err, exptime) -> (mag, mag_err)``.

    Examples
    --------
    >>> instrumental_magnitude = check("9.3", instrumental_magnitude=instrumental_magnitude)  # doctest: +SKIP
    ✔ Exercise 9.3: correct. Well done!
    """
    name = "instrumental_magnitude"
    reference = instrumental_magnitude_function()
    if is_blank(instrumental_magnitude):
        return [blank_part(name, reference)]
    if not callable(instrumental_magnitude):
        return [Part(name, False, "instrumental_magnitude should be the function instrumental_magnitude(flux, "
                     "flux_err, exptime).", reference)]
    flux = np.array([150.0, 1200.0, 25000.0, 4.0e5])
    flux_err = np.array([40.0, 60.0, 180.0, 700.0])
    exptime = recipe(night)["exptime"]
    result, error = _call(instrumental_magnitude, "instrumental_magnitude(flux, flux_err, exptime)",
                          flux.copy(), flux_err.copy(), exptime)
    if error:
        return [Part(name, False, error, reference)]
    if _blank_result(result):
        return [blank_part(name, reference)]
    pair = _two_arrays(result, len(flux))
    if pair is None:
        return [Part(name, False, "instrumental_magnitude should return two arrays, mag and mag_err (return mag, "
                     "mag_err).", reference)]
    mag, err = pair
    want_mag, want_err = reference(flux, flux_err, exptime)
    mag_ok = np.allclose(mag, want_mag, rtol=0, atol=1e-4)
    err_ok = np.allclose(err, want_err, rtol=1e-3, atol=1e-6)
    if mag_ok and err_ok:
        return [Part(name, True, reference=instrumental_magnitude)]
    if not mag_ok:
        if np.allclose(mag, -want_mag, atol=1e-4):
            hint = "Brighter stars must get smaller magnitudes: m = -2.5 log10(flux / exptime), with the minus sign."
        elif np.allclose(mag, -2.5 * np.log(flux / exptime), atol=1e-4):
            hint = "Magnitudes use the base-10 logarithm (np.log10), not the natural one (np.log)."
        elif np.allclose(mag, -2.5 * np.log10(flux), atol=1e-4):
            hint = "Divide the flux by the exposure time first: magnitudes are of ADU per second."
        elif np.allclose(mag, -2.5 * np.log10(flux * exptime), atol=1e-4):
            hint = "The flux is multiplied by the exposure time: divide it (ADU per second)."
        else:
            hint = "mag should be -2.5 log10(flux / exptime)."
        return [Part(name, False, hint, reference)]
    if np.allclose(err, flux_err / flux, rtol=1e-3):
        hint = "mag_err is the relative error flux_err / flux: in magnitudes it is 2.5 / ln(10) = 1.0857 times that."
    elif np.allclose(err, 2.5 * flux_err / flux, rtol=1e-3):
        hint = "mag_err = 2.5 / ln(10) * flux_err / flux: the factor is 1.0857, not 2.5 (the derivative of log10)."
    elif np.allclose(err, -2.5 * np.log10(flux_err / exptime), atol=1e-4) or np.allclose(err, 2.5 * np.log10(flux_err), atol=1e-4):
        hint = "mag_err is not the magnitude of flux_err: it is 1.0857 * flux_err / flux (the relative error)."
    else:
        hint = "mag_err should be 2.5 / ln(10) * flux_err / flux."
    return [Part(name, False, hint, reference)]


@answers(LESSON, "zero_point", "zero_point_err")
def zero_point_check(night, zero_point, zero_point_err):
    """The zero point (sigma-clipped median of catalogue minus instrumental magnitude) and its uncertainty.

    Examples
    --------
    >>> zero_point, zero_point_err = check("9.4", zero_point=zero_point, zero_point_err=zero_point_err)  # doctest: +SKIP
    ✔ Exercise 9.4: correct. Well done!
    """
    values = zero_point_values(night)
    if values is None:
        return [Part("zero_point", True, reference=zero_point), Part("zero_point_err", True, reference=zero_point_err)]
    # Right: within 0.015 mag of the notebook's recipe on the night, and (with a truth) within 0.03 of the truth.
    expected = values["recipe"]
    part = number("zero_point", zero_point, expected, atol=0.015,
                  hint="Take the sigma-clipped median of (catalogue - instrumental) magnitude over the matched stars.",
                  reference=expected)
    if part.ok and abs(float(np.asarray(zero_point, float).reshape(())) - values["expected"]) > 0.03:
        part = Part("zero_point", False, "zero_point = {:.3f} is not what the data gives. Take the sigma-clipped median "
                    "of catalogue minus instrumental magnitude.".format(float(np.asarray(zero_point, float).reshape(()))),
                    expected)
    if not part.ok and not part.blank and part.hint.startswith("zero_point ="):
        value = float(np.asarray(zero_point, float).reshape(()))
        slips = [
            ("reversed", "zero_point has the wrong sign: it is catalogue minus instrumental magnitude."),
            ("per_exposure", "zero_point is about 2.5 log10(exptime) off: the instrumental magnitudes must be of "
                             "ADU per second (divide the flux by the exposure time)."),
            ("natural", "zero_point comes from natural logarithms: magnitudes use np.log10."),
            ("mean", "zero_point is the plain mean: saturated stars (ours and the survey's) and variable stars pull it. "
                     "Use the sigma-clipped median (sigma_clipped_stats)."),
        ]
        for key, hint in slips:
            if abs(value - values[key]) < 0.01 and abs(values[key] - expected) > 0.015:
                part.hint = hint
                break
        else:
            part.hint = (f"zero_point = {value:.3f} is not what the data gives. Check the match (separations under "
                         "1.5 arcsec, RA and Dec in degrees) and take the sigma-clipped median of catalogue minus "
                         "instrumental magnitude.")
    error = number("zero_point_err", zero_point_err, values["error"], rtol=0.6,
                   hint="The uncertainty of a median of n stars is 1.2533 times their scatter over sqrt(n).",
                   reference=values["error"])
    if not error.ok and not error.blank and error.hint.startswith("zero_point_err ="):
        value = float(np.asarray(zero_point_err, float).reshape(()))
        if abs(value - values["std"]) < 0.3 * values["std"]:
            error.hint = ("zero_point_err is the stars' scatter: the zero point's own uncertainty is that over sqrt(n) "
                          "(times 1.2533 for a median).")
        elif value <= 0:
            error.hint = "zero_point_err must be positive: 1.2533 times the scatter over sqrt(n)."
    return [part, error]


def _psf_positions(night):
    """Clean reference positions for the PSF check: away from edges, NaN and saturation."""
    def compute():
        from ccdlab.sources import detect_stars

        data, _, _ = frame_of(night)
        r = recipe(night)
        stars = detect_stars(data, fwhm=r["fwhm"], background=r["background"], saturation=r["saturation"],
                             margin=r["annulus"][1] + 1)
        stars = stars[stars["clean"]]
        return np.column_stack([np.asarray(stars["x"], float), np.asarray(stars["y"], float)])

    return night.memo("l09_psf_positions", compute)


def _true_fluxes(night, positions):
    """Each position's true flux (ADU) from the truth, or the package's PSF photometry; NaN when unmatched."""
    from scipy.spatial import cKDTree

    truth = truth_of(night)
    if truth is not None:
        distance, nearest = cKDTree(np.column_stack([truth["x"], truth["y"]])).query(positions)
        return np.where(distance < 1.0, truth["flux"][nearest], np.nan)
    r = recipe(night)
    return psf_flux_function(psf_of(night), r["annulus"])(frame_of(night)[0], positions)


@answers(LESSON, "psf_flux")
def psf_check(night, psf_flux):
    """The function ``psf_flux(image, positions) -> flux``: proportional to the stars' true fluxes, ~all of their light.

    Examples
    --------
    >>> psf_flux = check("9.5", psf_flux=psf_flux)  # doctest: +SKIP
    ✔ Exercise 9.5: correct. Well done!
    """
    name = "psf_flux"
    r = recipe(night)
    reference = psf_flux_function(psf_of(night), r["annulus"])
    if is_blank(psf_flux):
        return [blank_part(name, reference)]
    if not callable(psf_flux):
        return [Part(name, False, "psf_flux should be the function psf_flux(image, positions).", reference)]
    data, _, _ = frame_of(night)
    positions = _psf_positions(night)
    if len(positions) == 0:
        return [Part(name, True, reference=psf_flux)]
    result, error = _call(psf_flux, "psf_flux(data, positions)", data.copy(), positions.copy())
    if error:
        return [Part(name, False, error, reference)]
    if _blank_result(result):
        return [blank_part(name, reference)]
    try:
        flux = np.asarray(result, dtype=float).ravel()
    except (TypeError, ValueError):
        flux = None
    if flux is None or is_blank(result) or flux.size != len(positions):
        return [Part(name, False, "psf_flux should return one flux per position: the flux_fit column of the "
                     "PSFPhotometry result, as an array.", reference)]
    true = _true_fluxes(night, positions)
    ap_flux, ap_err = aperture_flux_function(r["radius"], r["annulus"], r["gain"], r["readnoise"])(data, positions)
    with np.errstate(invalid="ignore", divide="ignore"):
        bright = np.isfinite(true) & np.isfinite(ap_flux) & (ap_flux / ap_err > 50)
        if bright.sum() < 3:
            bright = np.isfinite(true) & np.isfinite(ap_flux)
        ratio = flux[bright] / true[bright]
    median = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else math.nan
    scatter = float(np.nanmedian(np.abs(ratio / median - 1))) * 1.4826 if math.isfinite(median) and median else math.inf
    if 0.9 <= median <= 1.06 and scatter < 0.05 and not np.allclose(flux, ap_flux, rtol=1e-6, equal_nan=True):
        return [Part(name, True, reference=psf_flux)]
    if np.allclose(flux[bright], ap_flux[bright], rtol=1e-6):
        hint = "These are the aperture fluxes: fit the PSF (PSFPhotometry with the ePSF) and return its flux_fit."
    elif np.all(flux[np.isfinite(flux)] < 0) or (np.nanmedian(flux) < 30 and np.nanmedian(true) > 1000
                                                 and np.nanmax(np.abs(flux)) < 40):
        hint = "psf_flux returns magnitudes or positions: return the fitted fluxes in ADU (result['flux_fit'])."
    elif math.isclose(median, 1.0 / r["exptime"], rel_tol=0.1):
        hint = "The fluxes are per second: return them in ADU."
    elif math.isclose(median, r["gain"], rel_tol=0.1):
        hint = "The fluxes are in electrons: return them in ADU."
    elif median > 1.06:
        hint = ("The fluxes are too large, most for faint stars: the sky is still under them. Give PSFPhotometry a "
                "local background (LocalBackground on the annulus), or subtract the sky first.")
    else:
        hint = ("The fitted fluxes do not follow the stars' brightness: pass the positions as x, y columns of the "
                "init_params table (x the column), and mask the NaN pixels.")
    return [Part(name, False, hint, reference)]


@answers(LESSON, "maglim")
def limit_check(night, maglim):
    """The 5-sigma limiting magnitude of the notebook's aperture.

    Examples
    --------
    >>> maglim = check("9.6", maglim=maglim)  # doctest: +SKIP
    ✔ Exercise 9.6: correct. Well done!
    """
    values = limit_values(night)
    if values is None:
        return [Part("maglim", True, reference=maglim)]
    part = number("maglim", maglim, values["expected"], atol=0.2,
                  hint="A star at the limit gives 5 times the noise of an empty aperture, in ADU per second.",
                  reference=values["expected"])
    if not part.ok and not part.blank and part.hint.startswith("maglim ="):
        value = float(np.asarray(maglim, float).reshape(()))
        slips = [("pixel", "That is 5 times the noise of one pixel: the star's light is spread over the whole aperture, "
                           "so use the noise of an empty aperture (photometry.empty_aperture_noise)."),
                 ("three", "That is a 3-sigma limit: the convention is 5 sigma."),
                 ("one", "That is a 1-sigma limit: a star must be 5 times the noise to count as detected."),
                 ("no_time", "Divide by the exposure time: the zero point is for ADU per second."),
                 ("natural", "Magnitudes use np.log10, not np.log."),
                 ("sky_level", "That uses the sky's level; the limit comes from the sky's noise.")]
        for key, hint in slips:
            if abs(value - values[key]) < 0.05:
                part.hint = hint
                break
        else:
            if value > values["expected"] + 5 or value < values["expected"] - 8:
                part.hint = "maglim = ZP - 2.5 log10(5 * noise / exptime): check the sign and the logarithm."
    return [part]


def _separation_arcsec(a, b) -> float:
    from astropy.coordinates import SkyCoord

    return float(SkyCoord(a[0], a[1], unit="deg").separation(SkyCoord(b[0], b[1], unit="deg")).arcsec)


@answers(LESSON, "center_ra", "center_dec", "rms_arcsec")
def solve_check(night, center_ra, center_dec, rms_arcsec):
    """The solved WCS's sky position of the frame's centre (within 0.3 arcsec of the truth), and its RMS in arcsec.

    Examples
    --------
    >>> center_ra, center_dec, rms_arcsec = check("9.7", center_ra=..., center_dec=..., rms_arcsec=...)  # doctest: +SKIP
    """
    values = solve_values(night)
    if values is None:
        return [Part(n, True, reference=v) for n, v in (("center_ra", center_ra), ("center_dec", center_dec),
                                                          ("rms_arcsec", rms_arcsec))]
    true_ra, true_dec = values["center"]
    parts = []
    if is_blank(center_ra) or is_blank(center_dec):
        parts += [blank_part("center_ra", true_ra) if is_blank(center_ra) else Part("center_ra", False, "", true_ra),
                  blank_part("center_dec", true_dec) if is_blank(center_dec) else Part("center_dec", False, "", true_dec)]
        parts[0].hint = parts[0].hint or "Give center_ra and center_dec together."
        parts[1].hint = parts[1].hint or "Give center_ra and center_dec together."
    else:
        ra_part = number("center_ra", center_ra, true_ra, atol=math.inf)   # is it a number at all?
        dec_part = number("center_dec", center_dec, true_dec, atol=math.inf)
        if not (ra_part.ok and dec_part.ok):  # not numbers
            ra_part.reference, dec_part.reference = true_ra, true_dec
            parts += [ra_part, dec_part]
        else:
            got = (float(np.asarray(center_ra, float).reshape(())), float(np.asarray(center_dec, float).reshape(())))
            ok = -90 <= got[1] <= 90 and _separation_arcsec(got, (true_ra, true_dec)) <= 0.3
            hint = ""
            if not ok:
                if math.isclose(got[0], math.radians(true_ra), rel_tol=1e-4):
                    hint = "center_ra and center_dec are in radians: give degrees (pixel_to_world_values gives degrees)."
                elif abs(got[0] - true_dec) < 0.01 and abs(got[1] - true_ra) < 0.01:
                    hint = "center_ra and center_dec are swapped: RA comes first."
                elif _separation_arcsec(got, values["one_based"]) < 0.05:
                    hint = ("The centre is one pixel off: with all_pix2world(..., 1) pixels count from 1; "
                            "pixel_to_world_values counts from 0, like `center`.")
                elif _separation_arcsec(got, values["transposed"]) < 0.05:
                    hint = "The pixel was given as (y, x): pixel_to_world_values takes x (the column) first."
                elif _separation_arcsec(got, values["start"]) < 1.0:
                    hint = "That is the rough starting pointing, not the fitted WCS's centre: use the WCS you fitted."
                else:
                    offset = _separation_arcsec(got, (true_ra, true_dec))
                    hint = (f"The centre is {offset:.1f} arcsec from where the stars put it: fit the WCS to the matched "
                            "pairs (pixel x, y against the catalogue's RA, Dec) with projection 'TAN'.")
            parts += [Part("center_ra", ok, hint, true_ra), Part("center_dec", ok, hint, true_dec)]
    rms = number("rms_arcsec", rms_arcsec, values["rms"], rtol=0.3,
                 hint="Take the RMS of the separations, in arcsec, between the catalogue positions and where your WCS "
                      "puts the matched stars.", reference=values["rms"])
    if not rms.ok and not rms.blank and rms.hint.startswith("rms_arcsec ="):
        value = float(np.asarray(rms_arcsec, float).reshape(()))
        expected = values["rms"]
        if math.isclose(value, expected / 3600, rel_tol=0.3):
            rms.hint = "rms_arcsec is in degrees: multiply by 3600 (or use .arcsec of the separations)."
        elif math.isclose(value, math.radians(expected / 3600), rel_tol=0.3):
            rms.hint = "rms_arcsec is in radians: give arcseconds (.arcsec)."
        elif math.isclose(value, expected / values["scale"], rel_tol=0.3):
            rms.hint = "rms_arcsec is in pixels: the separations on the sky, in arcseconds, are wanted."
        elif math.isclose(value, expected ** 2, rel_tol=0.4):
            rms.hint = "That is the mean square: take its square root (root mean square)."
    return parts + [rms]

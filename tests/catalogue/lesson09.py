"""Answer catalogue of lesson 09: finding stars, aperture and PSF photometry, magnitudes, the zero point,
the limiting magnitude and a plate solution, on the tiny night."""

from __future__ import annotations

import math
import warnings

import numpy as np

from catalogue import mistake, solution, valid

LESSON = "09_photometry"


def _l09():
    from ccdlab.course.checks import lesson09

    return lesson09


def frame(c):
    return _l09().frame_of(c.night)[0]


def recipe(c):
    return _l09().recipe(c.night)


# --- 9.1: the stars' positions -----------------------------------------------------------------


def dao(c, threshold=5.0, subtract=True, scale_by_noise=True, by_level=False, **options):
    from photutils.detection import DAOStarFinder

    data, r = frame(c), recipe(c)
    level = r["background"].median if by_level else r["background"].rms_median
    finder = DAOStarFinder(threshold=threshold * level if scale_by_noise else threshold, fwhm=r["fwhm"], **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return finder(data - r["background"].level if subtract else data, mask=np.isnan(data))


def xy(found):
    return np.transpose([np.asarray(found["x_centroid"], float), np.asarray(found["y_centroid"], float)])


def package_positions(c):
    from ccdlab.sources import detect_stars

    stars = detect_stars(frame(c), fwhm=recipe(c)["fwhm"])
    return np.column_stack([stars["x"], stars["y"]])


def iraf_positions(c):
    from photutils.detection import IRAFStarFinder

    data, r = frame(c), recipe(c)
    found = IRAFStarFinder(threshold=5 * r["background"].rms_median, fwhm=r["fwhm"])(data - r["background"].level,
                                                                                    mask=np.isnan(data))
    return xy(found)


def sky_positions(c):
    from astropy.wcs import WCS

    found = xy(dao(c))
    ra, dec = WCS(_l09().frame_of(c.night)[1]).pixel_to_world_values(found[:, 0], found[:, 1])
    return np.column_stack([ra, dec])


# --- 9.2: aperture_flux ----------------------------------------------------------------------------


def reference_aperture(c, **changes):
    r = recipe(c)
    options = dict(radius=r["radius"], annulus=r["annulus"], gain=r["gain"], readnoise=r["readnoise"])
    options.update(changes)
    return _l09().aperture_flux_function(**options)


def aperture_variant(c, sky="median", scale=1.0, err="ccd", swap=False, radius=None):
    from astropy.stats import SigmaClip
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry

    r = recipe(c)
    gain, readnoise = r["gain"], r["readnoise"]
    radius = r["radius"] if radius is None else radius

    def aperture_flux(image, positions):
        positions = np.asarray(positions, float)[:, ::-1] if swap else positions
        aperture = CircularAperture(positions, r=radius)
        annulus = CircularAnnulus(positions, r_in=r["annulus"][0], r_out=r["annulus"][1])
        total = np.asarray(aperture_photometry(image, aperture)["aperture_sum"])
        stats = ApertureStats(image, annulus, sigma_clip=SigmaClip(3.0) if sky in ("clipped", "clipped mean") else None)
        level = {"median": stats.median, "clipped": stats.median, "clipped mean": stats.mean,
                 "none": 0.0, "sum": stats.sum / aperture.area}[sky]
        flux = total - level * aperture.area
        if err == "ccd":
            flux_err = np.sqrt(np.clip(flux, 0, None) * gain + aperture.area * (stats.median * gain + readnoise ** 2)) / gain
        elif err == "electrons":
            flux_err = np.sqrt(np.clip(flux, 0, None) * gain + aperture.area * (stats.median * gain + readnoise ** 2))
        else:  # the star's photon noise only
            flux_err = np.sqrt(np.clip(flux, 0, None) * gain) / gain
        return flux * scale, flux_err * scale

    return aperture_flux


def package_aperture(c):
    from ccdlab.aperture import measure_apertures

    r = recipe(c)

    def aperture_flux(image, positions):
        table = measure_apertures(image, positions, r["radius"], r["annulus"], r["gain"], r["readnoise"], sky_clip=None)
        return np.asarray(table["flux"]), np.asarray(table["flux_err"])

    return aperture_flux


def as_lists(function):
    def wrapped(image, positions):
        flux, flux_err = function(image, positions)
        return list(np.asarray(flux, float)), list(np.asarray(flux_err, float))

    return wrapped


# --- 9.3: instrumental_magnitude -----------------------------------------------------------------


def magnitude_function(mag, err):
    def instrumental_magnitude(flux, flux_err, exptime):
        return mag(np.asarray(flux), exptime), err(np.asarray(flux), np.asarray(flux_err), exptime)

    return instrumental_magnitude


GOOD_MAG = lambda f, t: -2.5 * np.log10(f / t)  # noqa: E731
GOOD_ERR = lambda f, e, t: 2.5 / np.log(10) * e / f  # noqa: E731


# --- 9.4: the zero point ---------------------------------------------------------------------------


def zp_sample(c, flux_per_exposure=False, natural=False, unmatched=False):
    """(catalogue magnitudes, instrumental magnitudes) of the matched S/N > 20 stars, as the notebook makes them."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord
    from astropy.wcs import WCS

    l09 = _l09()
    positions = l09.detections(c.night)
    flux, flux_err = l09.reference_apertures(c.night)
    header = l09.frame_of(c.night)[1]
    catalog = l09.catalog_of(c.night)
    ra, dec = WCS(header).pixel_to_world_values(positions[:, 0], positions[:, 1])
    stars = SkyCoord(ra, dec, unit="deg")
    nearest, separation, _ = stars.match_to_catalog_sky(SkyCoord(catalog["ra"], catalog["dec"], unit="deg"))
    t = 1.0 if flux_per_exposure else recipe(c)["exptime"]
    with np.errstate(invalid="ignore", divide="ignore"):
        good = (separation < 1.5 * u.arcsec) & (flux / flux_err > 20)
        inst = -2.5 * (np.log(flux[good] / t) if natural else np.log10(flux[good] / t))
    rows = np.flatnonzero(good) if unmatched else nearest[good]  # the slip: catalog["mag"][good]
    return np.asarray(catalog["mag"])[rows], inst


def zero_point(c, method="clipped", error="median", **sample):
    from astropy.stats import sigma_clipped_stats

    cat, inst = zp_sample(c, **sample)
    difference = cat - inst
    if len(difference) == 0:
        return {"zero_point": float("nan"), "zero_point_err": float("nan")}
    _, median, std = sigma_clipped_stats(difference, sigma=3)
    value = {"clipped": median, "mean": np.mean(difference), "median": np.median(difference),
             "clip 2.5": sigma_clipped_stats(difference, sigma=2.5)[1]}[method]
    err = {"median": 1.2533 * std / math.sqrt(len(difference)), "mean": std / math.sqrt(len(difference)),
           "std": std}[error]
    return {"zero_point": value, "zero_point_err": err}


def package_zero_point(c):
    from ccdlab.zeropoint import fit_zero_point

    cat, inst = zp_sample(c)
    fitted = fit_zero_point(cat, inst)
    return {"zero_point": fitted.value, "zero_point_err": fitted.error}


def reversed_zero_point(c):
    answer = zero_point(c)
    return {"zero_point": -answer["zero_point"], "zero_point_err": answer["zero_point_err"]}


# --- 9.5: psf_flux -----------------------------------------------------------------------------------


def psf_function(c, scale=1.0, swap=False, local=True, subtract=False, fit_shape=7, epsf=None, magnitudes=False):
    from astropy.table import Table
    from photutils.background import LocalBackground
    from photutils.psf import PSFPhotometry

    r = recipe(c)
    model = _l09().psf_of(c.night) if epsf is None else epsf

    def psf_flux(image, positions):
        positions = np.asarray(positions, float)[:, ::-1] if swap else np.asarray(positions, float)
        fitter = PSFPhotometry(model, fit_shape=fit_shape, aperture_radius=r["fwhm"],
                               local_bkg_estimator=LocalBackground(*r["annulus"]) if local else None)
        picture = image - r["background"].level if subtract else image
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fitter(picture, init_params=Table({"x": positions[:, 0], "y": positions[:, 1]}),
                            mask=np.isnan(image))
        flux = np.asarray(result["flux_fit"]) * scale
        return -2.5 * np.log10(np.abs(flux) / r["exptime"]) if magnitudes else flux

    return psf_flux


def package_psf(c):
    from ccdlab.psf import psf_photometry

    r = recipe(c)

    def psf_flux(image, positions):
        return np.asarray(psf_photometry(image, _l09().psf_of(c.night), positions, background=r["background"],
                                         gain=r["gain"], readnoise=r["readnoise"], annulus=r["annulus"])["flux"])

    return psf_flux


def other_epsf(c):
    from ccdlab.psf import build_psf, psf_stars

    r = recipe(c)
    return build_psf(frame(c), psf_stars(_l09().stars_of(c.night)), background=r["background"], size=25, maxiters=10)


# --- 9.6: the limiting magnitude ---------------------------------------------------------------------


def limit(c, nsigma=5.0, noise="aperture", time=True, log=np.log10, seed=0):
    from ccdlab.photometry import empty_aperture_noise

    r = recipe(c)
    zp = _l09().zero_point_values(c.night)["recipe"]
    sigma = {"aperture": lambda: empty_aperture_noise(frame(c), r["radius"], r["annulus"], seed=seed),
             "pixel": lambda: r["background"].rms_median, "level": lambda: r["background"].median}[noise]()
    return {"maglim": zp - 2.5 * log(nsigma * sigma / (r["exptime"] if time else 1.0))}


def package_limit(c):
    from ccdlab.photometry import empty_aperture_noise
    from ccdlab.zeropoint import limiting_magnitude

    r = recipe(c)
    zp = _l09().zero_point_values(c.night)["recipe"]
    return {"maglim": limiting_magnitude(zp, empty_aperture_noise(frame(c), r["radius"], r["annulus"]), r["exptime"])}


# --- 9.7: the plate solution ---------------------------------------------------------------------------


def pairs_of(c):
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    from ccdlab import astrometry

    l09 = _l09()
    data, header, _ = l09.frame_of(c.night)
    start = SkyCoord(*astrometry.header_pointing(header), unit="deg").directional_offset_by(
        l09.START_ANGLE * u.deg, l09.START_OFFSET * u.arcmin)
    return astrometry.match_stars(l09.stars_of(c.night), l09.catalog_of(c.night), start.ra.deg, start.dec.deg,
                                  astrometry.pixel_scale(header), data.shape), start


def solved(c, sip_degree=None, center_order="xy", origin=0, unit="deg", rms_unit="arcsec", square=False,
           swap_radec=False, use_start=False):
    from astropy.coordinates import SkyCoord
    from astropy.wcs.utils import fit_wcs_from_points

    pairs, start = pairs_of(c)
    ny, nx = frame(c).shape
    sky = SkyCoord(pairs["ra"], pairs["dec"], unit="deg")
    wcs = fit_wcs_from_points((pairs["x"], pairs["y"]), sky, projection="TAN", sip_degree=sip_degree)
    center = ((nx - 1) / 2, (ny - 1) / 2)
    if center_order == "yx":
        center = center[::-1]
    ra, dec = (float(v[0]) for v in wcs.all_pix2world([center[0]], [center[1]], origin))
    if use_start:
        ra, dec = start.ra.deg, start.dec.deg
    if unit == "rad":
        ra, dec = math.radians(ra), math.radians(dec)
    if swap_radec:
        ra, dec = dec, ra
    separation = wcs.pixel_to_world(pairs["x"], pairs["y"]).separation(sky)
    values = {"arcsec": separation.arcsec, "deg": separation.deg, "pixel": separation.arcsec / 0.676}[rms_unit]
    mean_square = float(np.mean(values ** 2))
    return {"center_ra": ra, "center_dec": dec, "rms_arcsec": mean_square if square else math.sqrt(mean_square)}


def package_solution(c):
    from ccdlab import astrometry

    pairs, _ = pairs_of(c)
    ny, nx = frame(c).shape
    xy_pairs = np.column_stack([pairs["x"], pairs["y"]])
    wcs = astrometry.fit_wcs(xy_pairs, pairs["ra"], pairs["dec"])
    ra, dec = wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    rms = float(np.sqrt(np.mean(astrometry.sky_residuals(wcs, xy_pairs, pairs["ra"], pairs["dec"]) ** 2)))
    return {"center_ra": float(ra), "center_dec": float(dec), "rms_arcsec": rms}


def solve_field_answer(c):
    from ccdlab import astrometry

    _, start = pairs_of(c)
    l09 = _l09()
    data, header, _ = l09.frame_of(c.night)
    found = astrometry.solve_field(l09.stars_of(c.night), l09.catalog_of(c.night), start.ra.deg, start.dec.deg,
                                   astrometry.pixel_scale(header), data.shape)
    ny, nx = data.shape
    ra, dec = found.wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    return {"center_ra": float(ra), "center_dec": float(dec), "rms_arcsec": found.rms}


CASES = {
    "9.1": [
        solution("DAOStarFinder, 5 sigma, sky subtracted", lambda c: {"positions": xy(dao(c))}),
        valid("the finder's table itself", lambda c: {"positions": dao(c)}),
        valid("4 sigma: more faint stars, still stars", lambda c: {"positions": xy(dao(c, 4.0))}),
        valid("ccdlab.sources.detect_stars", lambda c: {"positions": package_positions(c)}),
        valid("IRAFStarFinder", lambda c: {"positions": iraf_positions(c)}),
        valid("a list of (x, y) tuples", lambda c: {"positions": [tuple(p) for p in xy(dao(c))]}),
        mistake("x and y swapped", lambda c: {"positions": xy(dao(c))[:, ::-1]}, "swapped"),
        mistake("positions counted from 1", lambda c: {"positions": xy(dao(c)) + 1.0}, "count from 1"),
        mistake("threshold of 5 ADU, not 5 sigma", lambda c: {"positions": xy(dao(c, 5.0, scale_by_noise=False))},
                "noise peaks"),
        mistake("5 times the sky level, not its noise", lambda c: {"positions": xy(dao(c, by_level=True))}, "miss"),
        mistake("only the brightest 10 (find_stars)",
                lambda c: {"positions": xy(dao(c))[np.argsort(-np.asarray(dao(c)["flux"]))[:10]]}, "brightest 10"),
        mistake("two rows: all x, then all y", lambda c: {"positions": xy(dao(c)).T}, "two rows"),
        mistake("RA/Dec instead of pixels", lambda c: {"positions": sky_positions(c)}, "RA/Dec"),
    ],
    "9.2": [
        solution("aperture sum minus annulus median x area; CCD equation", lambda c: {"aperture_flux": reference_aperture(c)}),
        valid("sigma-clipped median of the annulus", lambda c: {"aperture_flux": aperture_variant(c, sky="clipped")}),
        valid("sigma-clipped mean of the annulus", lambda c: {"aperture_flux": aperture_variant(c, sky="clipped mean")}),
        valid("ccdlab.aperture.measure_apertures (with the annulus-median term)",
              lambda c: {"aperture_flux": package_aperture(c)}),
        valid("lists instead of arrays", lambda c: {"aperture_flux": as_lists(reference_aperture(c))}),
        mistake("no sky subtracted", lambda c: {"aperture_flux": aperture_variant(c, sky="none")}, "still hold the sky"),
        mistake("the annulus's sum subtracted", lambda c: {"aperture_flux": aperture_variant(c, sky="sum")},
                "annulus's sum"),
        mistake("fluxes per second", lambda c: {"aperture_flux": aperture_variant(c, scale=1 / recipe(c)["exptime"])},
                "per second"),
        mistake("fluxes in electrons", lambda c: {"aperture_flux": aperture_variant(c, scale=recipe(c)["gain"])},
                "in electrons"),
        mistake("radius of one FWHM", lambda c: {"aperture_flux": aperture_variant(c, radius=recipe(c)["fwhm"])},
                "aperture radius"),
        mistake("positions as (y, x)", lambda c: {"aperture_flux": aperture_variant(c, swap=True)}, "(y, x)"),
        mistake("flux_err left in electrons", lambda c: {"aperture_flux": aperture_variant(c, err="electrons")},
                "flux_err is in electrons"),
        mistake("flux_err: the star's photon noise only", lambda c: {"aperture_flux": aperture_variant(c, err="poisson")},
                "photon noise only"),
    ],
    "9.3": [
        solution("-2.5 log10(flux / exptime), 2.5 / ln 10 * flux_err / flux",
                 lambda c: {"instrumental_magnitude": magnitude_function(GOOD_MAG, GOOD_ERR)}),
        valid("-2.5 log10(flux) + 2.5 log10(exptime)", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: -2.5 * np.log10(f) + 2.5 * np.log10(t), GOOD_ERR)}),
        valid("2.5 log10(exptime / flux), 1.0857 flux_err / flux", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: 2.5 * np.log10(t / f), lambda f, e, t: 1.0857 * e / f)}),
        valid("log10 as ln / ln 10", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: -2.5 * np.log(f / t) / np.log(10), GOOD_ERR)}),
        valid("2.5 log10(e) * flux_err / flux", lambda c: {"instrumental_magnitude": magnitude_function(
            GOOD_MAG, lambda f, e, t: 2.5 * np.log10(np.e) * e / f)}),
        mistake("+2.5 log10", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: 2.5 * np.log10(f / t), GOOD_ERR)}, "minus sign"),
        mistake("natural logarithm", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: -2.5 * np.log(f / t), GOOD_ERR)}, "base-10"),
        mistake("flux not divided by the exposure time", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: -2.5 * np.log10(f), GOOD_ERR)}, "Divide the flux by the exposure time"),
        mistake("flux times the exposure time", lambda c: {"instrumental_magnitude": magnitude_function(
            lambda f, t: -2.5 * np.log10(f * t), GOOD_ERR)}, "multiplied"),
        mistake("mag_err = flux_err / flux", lambda c: {"instrumental_magnitude": magnitude_function(
            GOOD_MAG, lambda f, e, t: e / f)}, "1.0857 times"),
        mistake("mag_err = 2.5 flux_err / flux", lambda c: {"instrumental_magnitude": magnitude_function(
            GOOD_MAG, lambda f, e, t: 2.5 * e / f)}, "not 2.5"),
        mistake("mag_err = -2.5 log10(flux_err / exptime)", lambda c: {"instrumental_magnitude": magnitude_function(
            GOOD_MAG, lambda f, e, t: -2.5 * np.log10(e / t))}, "not the magnitude of flux_err"),
    ],
    "9.4": [
        solution("sigma-clipped median; 1.2533 std / sqrt(n)", lambda c: zero_point(c)),
        valid("plain median; std / sqrt(n)", lambda c: zero_point(c, "median", "mean")),
        valid("clipped at 2.5 sigma", lambda c: zero_point(c, "clip 2.5")),
        valid("ccdlab.zeropoint.fit_zero_point", lambda c: package_zero_point(c)),
        valid("numpy float32 values", lambda c: {k: np.float32(v) for k, v in zero_point(c).items()}),
        mistake("the plain mean", lambda c: zero_point(c, "mean"), "plain mean"),
        mistake("instrumental minus catalogue", lambda c: reversed_zero_point(c), "wrong sign"),
        mistake("flux not divided by the exposure time", lambda c: zero_point(c, flux_per_exposure=True),
                "2.5 log10(exptime)"),
        mistake("natural logarithms", lambda c: zero_point(c, natural=True), "np.log10"),
        mistake("the stars' scatter as the error", lambda c: zero_point(c, error="std"), "scatter"),
        mistake("the catalogue's rows in the frame's order (no match index)", lambda c: zero_point(c, unmatched=True),
                "Check the match"),
    ],
    "9.5": [
        solution("PSFPhotometry with a local background", lambda c: {"psf_flux": psf_function(c)}),
        valid("ccdlab.psf.psf_photometry", lambda c: {"psf_flux": package_psf(c)}),
        valid("sky map subtracted first, no local background",
              lambda c: {"psf_flux": psf_function(c, local=False, subtract=True)}),
        valid("fit_shape 5", lambda c: {"psf_flux": psf_function(c, fit_shape=5)}),
        valid("an ePSF of 25-pixel stamps, 10 iterations", lambda c: {"psf_flux": psf_function(c, epsf=other_epsf(c))}),
        mistake("the aperture fluxes", lambda c: {"psf_flux": lambda image, positions: reference_aperture(c)(image, positions)[0]},
                "aperture fluxes"),
        mistake("no sky subtracted", lambda c: {"psf_flux": psf_function(c, local=False)}, "sky is still under them"),
        mistake("fluxes per second", lambda c: {"psf_flux": psf_function(c, scale=1 / recipe(c)["exptime"])},
                "per second"),
        mistake("fluxes in electrons", lambda c: {"psf_flux": psf_function(c, scale=recipe(c)["gain"])}, "in electrons"),
        mistake("magnitudes returned", lambda c: {"psf_flux": psf_function(c, magnitudes=True)}, "magnitudes or positions"),
        mistake("positions as (y, x)", lambda c: {"psf_flux": psf_function(c, swap=True)}, "x, y columns"),
    ],
    "9.6": [
        solution("ZP - 2.5 log10(5 * empty-aperture noise / exptime)", lambda c: limit(c)),
        valid("ccdlab.zeropoint.limiting_magnitude", lambda c: package_limit(c)),
        valid("empty apertures at other places", lambda c: limit(c, seed=7)),
        valid("a numpy float32", lambda c: {"maglim": np.float32(limit(c)["maglim"])}),
        mistake("the noise of one pixel", lambda c: limit(c, noise="pixel"), "one pixel"),
        mistake("3 sigma", lambda c: limit(c, nsigma=3.0), "3-sigma"),
        mistake("1 sigma", lambda c: limit(c, nsigma=1.0), "1-sigma"),
        mistake("no exposure time", lambda c: limit(c, time=False), "exposure time"),
        mistake("natural logarithm", lambda c: limit(c, log=np.log), "np.log10"),
        mistake("the sky's level instead of its noise", lambda c: limit(c, noise="level"), "sky's level"),
    ],
    "9.7": [
        solution("fit_wcs_from_points TAN; pixel_to_world_values; RMS in arcsec", lambda c: solved(c)),
        valid("ccdlab.astrometry.fit_wcs and sky_residuals", lambda c: package_solution(c)),
        valid("TAN-SIP of degree 2", lambda c: solved(c, sip_degree=2)),
        valid("ccdlab.astrometry.solve_field", lambda c: solve_field_answer(c)),
        mistake("the centre in radians", lambda c: solved(c, unit="rad"), "radians"),
        mistake("RA and Dec swapped", lambda c: solved(c, swap_radec=True), "swapped"),
        mistake("the centre pixel counted from 1", lambda c: solved(c, origin=1), "one pixel off"),
        mistake("the centre pixel as (y, x)", lambda c: solved(c, center_order="yx"), "(y, x)"),
        mistake("the rough starting pointing", lambda c: solved(c, use_start=True), "rough starting pointing"),
        mistake("RMS in degrees", lambda c: solved(c, rms_unit="deg"), "in degrees"),
        mistake("RMS in pixels", lambda c: solved(c, rms_unit="pixel"), "in pixels"),
        mistake("mean square, no square root", lambda c: solved(c, square=True), "mean square"),
    ],
}

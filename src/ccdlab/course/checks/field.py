"""The star field of a night as lesson 09's checks see it: the frame, the recipe, the truth, the references.

The lesson works on the first science frame as ccdlab reduces it (``reduced/ccdlab/``) and follows
one recipe (:func:`recipe`: the seeing measured, apertures of 1.5 FWHM, a sky annulus from 2.5 to
3.5 FWHM). Each reference is computed once per night (:meth:`ccdlab.course.checks.nights.Night.memo`);
the notebook's own functions (:func:`aperture_flux_function` and its siblings) are the reference
answers of the exercises that ask for a function.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np

__all__ = [
    "THRESHOLD", "FIT_SHAPE", "MATCH_RADIUS", "MIN_SNR", "START_OFFSET", "START_ANGLE",
    "frame_of", "recipe", "detections", "truth_of", "catalog_of", "stars_of", "psf_of",
    "aperture_flux_function", "instrumental_magnitude_function", "psf_flux_function", "reference_apertures",
    "zero_point_values", "limit_values", "solve_values",
]

#: The notebook's detection threshold (sky sigmas), PSF fit box (pixels) and match radius (arcsec).
THRESHOLD, FIT_SHAPE, MATCH_RADIUS, MIN_SNR = 5.0, 7, 1.5, 20.0
#: The plate solution starts this far off the header's pointing (arcmin), toward this position angle (deg).
START_OFFSET, START_ANGLE = 5.0, 45.0


def frame_of(night):
    """``(data, header, raw name)`` of the first science frame as ccdlab reduces it (read, or computed).

    Examples
    --------
    >>> data, header, name = frame_of(night("data"))  # doctest: +SKIP
    """
    def compute():
        from pathlib import Path

        from ccdlab.cosmics import remove_cosmics
        from ccdlab.io import read_frame
        from ccdlab.paths import pipeline_dir
        from ccdlab.reduce import calibrated_saturation, output_name

        raw = night.first("science")
        path = pipeline_dir(night.data_dir, create=False) / output_name(Path(raw).name, "proc")
        if path.is_file():
            data, header = read_frame(path)
        else:
            cam = night.camera()
            data, header = night.calibrated(raw)
            satlevel = calibrated_saturation(cam.satlevel, night.master_flat())
            data = remove_cosmics(data, cam.gain, cam.readnoise, satlevel, mask=night.mask())[1]
        return np.asarray(data, dtype=np.float32), header, Path(raw).name

    return night.memo("l09_frame", compute)


def recipe(night) -> dict:
    """The notebook's conventions on this night: background, fwhm, radius, annulus, exposure, camera.

    Examples
    --------
    >>> recipe(night("data"))["radius"]  # doctest: +SKIP
    6.4
    """
    def compute():
        from ccdlab.background import estimate_background
        from ccdlab.sources import measure_fwhm

        data, header, _ = frame_of(night)
        background = estimate_background(data)
        fwhm = measure_fwhm(data, background=background)
        cam = night.camera()
        return {"background": background, "fwhm": fwhm, "radius": 1.5 * fwhm, "annulus": (2.5 * fwhm, 3.5 * fwhm),
                "exptime": float(header["EXPTIME"]), "gain": cam.gain, "readnoise": cam.readnoise,
                "saturation": 0.9 * cam.satlevel_adu}

    return night.memo("l09_recipe", compute)


def detections(night, threshold: float = THRESHOLD) -> np.ndarray:
    """``(n, 2)`` positions DAOStarFinder finds ``threshold`` sky sigmas high, as the notebook runs it.

    Examples
    --------
    >>> detections(night("data")).shape  # doctest: +SKIP
    (483, 2)
    """
    def compute():
        from photutils.detection import DAOStarFinder

        data, _, _ = frame_of(night)
        r = recipe(night)
        finder = DAOStarFinder(threshold=threshold * r["background"].rms_median, fwhm=r["fwhm"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = finder(r["background"].subtract(data), mask=np.isnan(data))
        if found is None or len(found) == 0:
            return np.zeros((0, 2))
        return np.transpose([np.asarray(found["x_centroid"], float), np.asarray(found["y_centroid"], float)])

    return night.memo(("l09_detections", threshold), compute)


def truth_of(night):
    """The truth of the night for the lesson's frame, or None: ``stars`` (x, y of this frame, mag, flux in
    ADU), ``zero_point``, ``fwhm``, ``limiting_magnitude``, ``wcs``.

    Examples
    --------
    >>> truth_of(night("data"))["zero_point"]  # doctest: +SKIP
    23.351519
    """
    def compute():
        from astropy.io import fits
        from astropy.table import Table
        from astropy.wcs import WCS

        folder = night.data_dir / "truth"
        if not (folder / "photometry.json").is_file() or not (folder / "stars.ecsv").is_file():
            return None
        _, _, name = frame_of(night)
        info = json.loads((folder / "photometry.json").read_text(encoding="utf-8"))
        frame = info["frames"].get(name)
        general = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        if frame is None:
            return None
        stars = Table.read(folder / "stars.ecsv", format="ascii.ecsv")
        dx, dy = general["dithers"][name]
        x, y = np.asarray(stars["x"], float) + dx, np.asarray(stars["y"], float) + dy
        return {"x": x, "y": y, "mag": np.asarray(stars["mag"], float),
                "flux": np.asarray(stars["flux"], float) / general["gain_e_per_adu"],
                "zero_point": float(frame["zero_point"]), "fwhm": float(frame["fwhm_pix"]),
                "beta": float(info["psf"]["beta"]), "noise_e": float(frame["noise_e_per_pixel"]),
                "gain": float(general["gain_e_per_adu"]), "wcs": WCS(fits.Header(frame["wcs"]))}

    return night.memo("l09_truth", compute)


def catalog_of(night):
    """The night's reference catalogue (:func:`ccdlab.crossmatch.read_catalog`), or None.

    Examples
    --------
    >>> len(catalog_of(night("data")))  # doctest: +SKIP
    1700
    """
    def compute():
        from ccdlab.crossmatch import find_catalog, read_catalog

        path = find_catalog(night.data_dir)
        return read_catalog(path) if path is not None else None

    return night.memo("l09_catalog", compute)


def aperture_flux_function(radius: float, annulus, gain: float, readnoise: float, subtract_sky: bool = True):
    """The notebook's ``aperture_flux(image, positions) -> (flux, flux_err)`` in ADU (the reference answer).

    Flux: the aperture sum minus the annulus median times the aperture's area; its error from the
    CCD equation, ``sqrt(F g + A (B g + RN^2)) / g``.

    Examples
    --------
    >>> image = np.full((60, 60), 100.0); image[30, 30] += 1000.0
    >>> flux, flux_err = aperture_flux_function(3.0, (6.0, 9.0), 1.0, 0.0)(image, np.array([[30.0, 30.0]]))
    >>> round(float(flux[0])), round(float(flux_err[0]), 1)
    (1000, 61.9)
    """
    from photutils.aperture import ApertureStats, CircularAnnulus, CircularAperture, aperture_photometry

    def aperture_flux(image, positions):
        """Sky-subtracted flux (ADU) of the stars at `positions`, and its uncertainty (ADU)."""
        positions = np.asarray(positions, float).reshape(-1, 2)
        aperture = CircularAperture(positions, r=radius)
        ring = CircularAnnulus(positions, r_in=annulus[0], r_out=annulus[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sky = np.asarray(ApertureStats(image, ring).median, float) if subtract_sky else 0.0
            total = np.asarray(aperture_photometry(image, aperture)["aperture_sum"], float)
        flux = total - sky * aperture.area
        with np.errstate(invalid="ignore"):
            flux_err = np.sqrt(np.clip(flux, 0, None) * gain + aperture.area * (np.clip(sky, 0, None) * gain
                                                                               + readnoise ** 2)) / gain
        return flux, flux_err

    return aperture_flux


def instrumental_magnitude_function():
    """The notebook's ``instrumental_magnitude(flux, flux_err, exptime) -> (mag, mag_err)``.

    Examples
    --------
    >>> mag, err = instrumental_magnitude_function()(np.array([1800.0]), np.array([18.0]), 180.0)
    >>> float(mag[0]), round(float(err[0]), 4)
    (-2.5, 0.0109)
    """
    def instrumental_magnitude(flux, flux_err, exptime):
        """Instrumental magnitude of `flux` (ADU) in `exptime` seconds, and its uncertainty."""
        with np.errstate(invalid="ignore", divide="ignore"):
            mag = -2.5 * np.log10(np.asarray(flux, float) / exptime)
            return mag, 2.5 / np.log(10) * np.asarray(flux_err, float) / np.asarray(flux, float)

    return instrumental_magnitude


def psf_flux_function(psf, annulus, fit_shape: int = FIT_SHAPE, aperture_radius: float = 4.0):
    """The notebook's ``psf_flux(image, positions) -> flux`` (ADU): the PSF fitted with each star's own sky.

    Examples
    --------
    >>> psf_flux = psf_flux_function(epsf, (10.0, 15.0))  # doctest: +SKIP
    """
    from astropy.table import Table
    from photutils.background import LocalBackground
    from photutils.psf import PSFPhotometry

    def psf_flux(image, positions):
        """PSF-fitted flux (ADU) of the stars at `positions` in `image`, each with its own sky."""
        positions = np.asarray(positions, float).reshape(-1, 2)
        fitter = PSFPhotometry(psf, fit_shape=fit_shape, aperture_radius=aperture_radius,
                               local_bkg_estimator=LocalBackground(*annulus))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fitter(image, init_params=Table({"x": positions[:, 0], "y": positions[:, 1]}),
                            mask=np.isnan(image))
        return np.asarray(result["flux_fit"], float)

    return psf_flux


def reference_apertures(night):
    """``(flux, flux_err)`` of the notebook's aperture photometry on the reference stars (:func:`detections`).

    Examples
    --------
    >>> flux, flux_err = reference_apertures(night("data"))  # doctest: +SKIP
    """
    def compute():
        data, _, _ = frame_of(night)
        r = recipe(night)
        positions = detections(night)
        return aperture_flux_function(r["radius"], r["annulus"], r["gain"], r["readnoise"])(data, positions)

    return night.memo("l09_apertures", compute)


def zero_point_values(night):
    """The notebook's zero point on this night, the one expected, and the slips' values (None without a catalogue).

    Examples
    --------
    >>> round(zero_point_values(night("data"))["expected"], 2)  # doctest: +SKIP
    23.27
    """
    def compute():
        from astropy.stats import sigma_clipped_stats

        from ccdlab.crossmatch import match_to_catalog
        from ccdlab.data.simulate.catalog import moffat_encircled
        from ccdlab.stack import frame_wcs

        catalog = catalog_of(night)
        if catalog is None:
            return None
        data, header, _ = frame_of(night)
        r = recipe(night)
        positions = detections(night)
        flux, flux_err = reference_apertures(night)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wcs = frame_wcs(header, "the frame")
        ra, dec = wcs.pixel_to_world_values(positions[:, 0], positions[:, 1])
        index, _ = match_to_catalog(ra, dec, catalog, MATCH_RADIUS)
        with np.errstate(invalid="ignore", divide="ignore"):
            good = (index >= 0) & (flux / flux_err > MIN_SNR)  # saturated stars too: the clipping's outliers
            cat = np.asarray(catalog["mag"], float)[index[good]]
            f = flux[good] / r["exptime"]
            mag = -2.5 * np.log10(f)
            difference = cat - mag
        def clipped(values):
            return float(sigma_clipped_stats(values, sigma=3.0)[1])

        _, median, std = sigma_clipped_stats(difference, sigma=3.0)
        n = int(good.sum())
        values = {"recipe": float(median), "error": float(1.2533 * std / math.sqrt(n)), "n": n,
                  "mean": float(np.mean(difference)), "std": float(std),
                  "per_exposure": clipped(cat + 2.5 * np.log10(flux[good])),
                  "natural": clipped(cat + 2.5 * np.log(f)),
                  "reversed": float(-median)}
        truth = truth_of(night)
        if truth is not None:  # the truth's zero point for this aperture: the light beyond it is not counted
            fraction = moffat_encircled(r["radius"], truth["fwhm"], truth["beta"])
            values["expected"] = truth["zero_point"] + 2.5 * math.log10(fraction)
        else:
            values["expected"] = float(median)
        return values

    return night.memo("l09_zero_point", compute)


def stars_of(night):
    """The package's detections, brightest first and flagged (:func:`ccdlab.sources.detect_stars`), as the notebook makes them.

    Examples
    --------
    >>> len(stars_of(night("data")))  # doctest: +SKIP
    518
    """
    def compute():
        from ccdlab.sources import detect_stars

        data, _, _ = frame_of(night)
        r = recipe(night)
        return detect_stars(data, fwhm=r["fwhm"], background=r["background"], saturation=r["saturation"])

    return night.memo("l09_stars", compute)


def psf_of(night):
    """The ePSF the notebook builds (:func:`ccdlab.psf.build_psf` on the brightest isolated stars).

    Examples
    --------
    >>> psf_of(night("data")).oversampling  # doctest: +SKIP
    """
    def compute():
        from ccdlab.psf import build_psf, psf_stars

        data, _, _ = frame_of(night)
        return build_psf(data, psf_stars(stars_of(night)), background=recipe(night)["background"])

    return night.memo("l09_psf", compute)


def limit_values(night):
    """The 5-sigma limiting magnitude expected for the notebook's aperture, and the slips' values (or None).

    Examples
    --------
    >>> round(limit_values(night("data"))["expected"], 1)  # doctest: +SKIP
    20.8
    """
    def compute():
        from ccdlab.data.simulate.catalog import true_limiting_magnitude
        from ccdlab.photometry import empty_aperture_noise

        zp = zero_point_values(night)
        if zp is None:
            return None
        data, _, _ = frame_of(night)
        r = recipe(night)
        noise = empty_aperture_noise(data, r["radius"], r["annulus"])
        t = r["exptime"]
        values = {"expected": zp["expected"] - 2.5 * math.log10(5 * noise / t),
                  "pixel": zp["expected"] - 2.5 * math.log10(5 * r["background"].rms_median / t),
                  "three": zp["expected"] - 2.5 * math.log10(3 * noise / t),
                  "one": zp["expected"] - 2.5 * math.log10(noise / t),
                  "no_time": zp["expected"] - 2.5 * math.log10(5 * noise),
                  "natural": zp["expected"] - 2.5 * math.log(5 * noise / t),
                  "sky_level": zp["expected"] - 2.5 * math.log10(5 * r["background"].median / t)}
        truth = truth_of(night)
        if truth is not None:
            values["expected"] = true_limiting_magnitude(truth["zero_point"], t, truth["noise_e"], truth["gain"],
                                                         truth["fwhm"], r["radius"], r["annulus"], 5.0, truth["beta"])
        return values

    return night.memo("l09_limit", compute)


def solve_values(night):
    """The notebook's plate-solving references: pairs, the TAN fit's RMS, the true centre (or None).

    Examples
    --------
    >>> solve_values(night("data"))["rms"]  # doctest: +SKIP
    0.1
    """
    def compute():
        import astropy.units as u
        from astropy.coordinates import SkyCoord

        from ccdlab.astrometry import fit_wcs, header_pointing, match_stars, pixel_scale, sky_residuals
        from ccdlab.stack import frame_wcs

        catalog = catalog_of(night)
        if catalog is None:
            return None
        data, header, _ = frame_of(night)
        ny, nx = data.shape
        ra0, dec0 = header_pointing(header)
        start = SkyCoord(ra0, dec0, unit="deg").directional_offset_by(START_ANGLE * u.deg, START_OFFSET * u.arcmin)
        scale = pixel_scale(header)
        pairs = match_stars(stars_of(night), catalog, start.ra.deg, start.dec.deg, scale, data.shape)
        xy = np.column_stack([pairs["x"], pairs["y"]])
        wcs = fit_wcs(xy, pairs["ra"], pairs["dec"])
        rms = float(np.sqrt(np.mean(sky_residuals(wcs, xy, pairs["ra"], pairs["dec"]) ** 2)))
        center = ((nx - 1) / 2.0, (ny - 1) / 2.0)
        truth = truth_of(night)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            true_wcs = truth["wcs"] if truth is not None else frame_wcs(header, "the frame")
        ra_c, dec_c = true_wcs.pixel_to_world_values(*center)
        ra_1, dec_1 = wcs.all_pix2world([center[0]], [center[1]], 1)
        ra_t, dec_t = wcs.pixel_to_world_values(center[1], center[0])
        return {"rms": rms, "scale": scale, "center": (float(ra_c), float(dec_c)), "start": (start.ra.deg, start.dec.deg),
                "one_based": (float(ra_1[0]), float(dec_1[0])), "transposed": (float(ra_t), float(dec_t))}

    return night.memo("l09_solve", compute)

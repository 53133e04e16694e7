"""From a calibrated frame to calibrated magnitudes, in one call: what ``ccdlab photometry`` runs.

The steps, each in the module named for it (lesson 09 takes them one at a time):

1. the sky (:mod:`ccdlab.background`) and the stars (:mod:`ccdlab.sources`), with the seeing measured;
2. each star's flux: aperture photometry with a local sky annulus (:mod:`ccdlab.aperture`) made
   total with an aperture correction, or PSF photometry with a model built from the frame
   (:mod:`ccdlab.psf`) tied to the same total scale on bright isolated stars;
3. instrumental magnitudes, the stars' sky positions from the frame's WCS, their catalogue
   matches (:mod:`ccdlab.crossmatch`), the zero point and the limiting magnitude
   (:mod:`ccdlab.zeropoint`).

The result is a table of every detected star with its position, instrumental and calibrated
magnitude and their errors, and in its ``meta`` the zero point (``ZP``, ``ZP_ERR``), the 5-sigma
limiting magnitude (``MAGLIM``) and how they were made.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
from astropy.table import Table

from ccdlab.errors import PhotometryError, PhotometryWarning

__all__ = ["METHODS", "measure_magnitudes", "write_magnitudes"]

#: The photometry methods :func:`measure_magnitudes` knows.
METHODS = ("aperture", "psf")


def _exptime(header, exptime) -> float:
    if exptime is None:
        value = header.get("EXPTIME", header.get("EXPOSURE")) if header is not None else None
        try:
            exptime = float(value)
        except (TypeError, ValueError):
            raise PhotometryError("The header has no usable EXPTIME: pass the exposure time (exptime=, --exptime).") from None
    if not (math.isfinite(exptime) and exptime > 0):
        raise PhotometryError(f"The exposure time must be a positive number of seconds; got {exptime!r}.")
    return float(exptime)


def _clipped_median(values) -> float:
    from astropy.stats import sigma_clipped_stats

    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan
    return float(sigma_clipped_stats(values, sigma=3.0, maxiters=10)[1])


def measure_magnitudes(data, header=None, catalog=None, method: str = "aperture", fwhm: float | None = None,
                       radius: float | None = None, threshold: float = 5.0, gain: float | None = None,
                       readnoise: float | None = None, saturation: float | None = None, exptime: float | None = None,
                       max_separation: float = 1.5, wcs=None) -> Table:
    """Detect, measure and calibrate every star of a frame against a reference catalogue.

    Parameters
    ----------
    data : numpy.ndarray
        A calibrated frame (ADU): bias-subtracted and flat-fielded, NaN where masked.
    header : astropy.io.fits.Header, optional
        Its header: EXPTIME, the camera (GAIN...) and the WCS come from it.
    catalog : astropy.table.Table, optional
        Reference stars with ``ra``, ``dec``, ``mag`` (:func:`ccdlab.crossmatch.read_catalog`).
        Without it the magnitudes stay instrumental and ``ZP``, ``MAGLIM`` are NaN.
    method : {'aperture', 'psf'}
        How fluxes are measured.
    fwhm : float, optional
        The seeing (pixels); measured on the frame when not given.
    radius : float, optional
        Aperture radius (pixels); default 1.5 FWHM, with the sky annulus from 2.5 to 3.5 FWHM.
    threshold : float
        Detection threshold, sky standard deviations.
    gain, readnoise, saturation : float, optional
        Camera values (e-/ADU, e-, e-); by default from the header, else the course camera's.
    exptime : float, optional
        Exposure time (s); by default the header's EXPTIME.
    max_separation : float
        Largest catalogue match distance, arcseconds.
    wcs : astropy.wcs.WCS, optional
        The frame's WCS, when not the header's (e.g. a new plate solution).

    Returns
    -------
    astropy.table.Table
        One row per detected star, brightest first: ``id``, ``x``, ``y``, ``ra``, ``dec``, ``flux``,
        ``flux_err`` (ADU), ``snr``, ``mag_inst``, ``mag_inst_err`` (total instrumental magnitudes),
        ``mag``, ``mag_err`` (calibrated), ``catalog_mag``, ``separation`` (arcsec), ``zp_star``
        (used for the zero point), ``saturated``, ``near_edge``, ``crowded``. ``meta``: ``ZP``,
        ``ZP_ERR``, ``MAGLIM``, ``NZP``, ``ZPSCATTER``, ``APCORR``, ``FWHM``, ``EXPTIME``, ``METHOD``,
        ``RADIUS``, ``ANNULUS``, ``NSTARS``.

    Raises
    ------
    PhotometryError
        Not a frame, no exposure time, an unknown method, or no star found.
    ccdlab.errors.StackError
        A catalogue was given but the frame has no usable WCS (solve it first: ``ccdlab solve``).

    Examples
    --------
    >>> from ccdlab.io import read_frame
    >>> from ccdlab.crossmatch import read_catalog
    >>> data, header = read_frame("data/reduced/ccdlab/C0_20181013-145210-144.wcs.proc.fits")  # doctest: +SKIP
    >>> table = measure_magnitudes(data, header, read_catalog("data/catalog/reference_catalog.ecsv"))  # doctest: +SKIP
    >>> round(table.meta["ZP"], 2)  # doctest: +SKIP
    23.35
    """
    from ccdlab.aperture import aperture_correction, empty_sky_noise, measure_apertures
    from ccdlab.background import estimate_background
    from ccdlab.camera import camera_parameters
    from ccdlab.errors import CameraWarning
    from ccdlab.sources import DEFAULT_FWHM, detect_stars, measure_fwhm
    from ccdlab.zeropoint import fit_zero_point, instrumental_magnitude, limiting_magnitude

    if method not in METHODS:
        raise PhotometryError(f"Unknown photometry method {method!r}: use 'aperture' or 'psf'.")
    exptime = _exptime(header, exptime)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CameraWarning)
        camera = camera_parameters(header, gain=gain, readnoise=readnoise, satlevel=saturation)
    background = estimate_background(data)
    saturation_adu = 0.9 * camera.satlevel_adu
    guess = DEFAULT_FWHM if fwhm is None else float(fwhm)
    margin = 1.3 * 3.5 * guess + 1.0  # the annulus's outer radius if the seeing is up to 30 % worse than guessed
    stars = detect_stars(data, fwhm=guess, threshold=threshold, background=background, saturation=saturation_adu,
                         margin=margin)
    if fwhm is None:  # measured on the brightest clean stars; detection again only if the guess was far off
        clean = stars[stars["clean"]][:20]
        fwhm = measure_fwhm(data, clean if len(clean) >= 3 else None, background=background, guess=guess)
    radius = round(1.5 * fwhm, 2) if radius is None else float(radius)
    annulus = (round(max(radius + 2.0, 2.5 * fwhm), 2), round(max(radius + 6.0, 3.5 * fwhm), 2))
    if abs(fwhm / guess - 1.0) > 0.3 or annulus[1] + 1.0 > margin + 0.01:
        stars = detect_stars(data, fwhm=fwhm, threshold=threshold, background=background,
                             saturation=saturation_adu, margin=annulus[1] + 1.0)
    if len(stars) == 0:
        raise PhotometryError(f"No star found {threshold:g} sigma above the sky: lower the threshold, or check the frame.")
    apertures = measure_apertures(data, stars, radius, annulus, camera.gain, camera.readnoise)
    try:
        apcorr, apcorr_err, _ = aperture_correction(data, stars, radius, gain=camera.gain, readnoise=camera.readnoise)
    except PhotometryError as exc:
        warnings.warn(f"No aperture correction ({exc}); magnitudes are those of a {radius:g}-pixel aperture.",
                      PhotometryWarning, stacklevel=2)
        apcorr, apcorr_err = 0.0, 0.0
    ap_mag, ap_err = instrumental_magnitude(apertures["flux"], exptime, apertures["flux_err"])
    ap_mag = ap_mag + apcorr
    table = Table({"id": stars["id"], "x": stars["x"], "y": stars["y"]})
    if method == "aperture":
        flux, flux_err, mag_inst, mag_inst_err = apertures["flux"], apertures["flux_err"], ap_mag, ap_err
        correction = apcorr
    else:
        from ccdlab.psf import build_psf, psf_photometry, psf_stars

        model = build_psf(data, psf_stars(stars), background=background)
        fitted = psf_photometry(data, model, stars, background=background, gain=camera.gain, readnoise=camera.readnoise)
        flux, flux_err = fitted["flux"], fitted["flux_err"]
        table["x"], table["y"] = fitted["x"], fitted["y"]
        mag_inst, mag_inst_err = instrumental_magnitude(flux, exptime, flux_err)
        bright = stars["clean"] & ~apertures["crowded"] & (apertures["snr"] > 100)
        correction = _clipped_median((ap_mag - mag_inst)[bright]) if np.any(bright) else 0.0
        correction = 0.0 if not math.isfinite(correction) else correction
        mag_inst = mag_inst + correction
    table["ra"], table["dec"] = np.full(len(stars), np.nan), np.full(len(stars), np.nan)
    table["flux"], table["flux_err"] = np.asarray(flux, float), np.asarray(flux_err, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["snr"] = table["flux"] / table["flux_err"]
    table["mag_inst"], table["mag_inst_err"] = np.asarray(mag_inst, float), np.asarray(mag_inst_err, float)
    table["mag"], table["mag_err"] = np.full(len(stars), np.nan), np.full(len(stars), np.nan)
    table["catalog_mag"], table["separation"] = np.full(len(stars), np.nan), np.full(len(stars), np.nan)
    table["zp_star"] = np.zeros(len(stars), bool)
    table["saturated"], table["near_edge"] = stars["saturated"], stars["near_edge"]
    table["crowded"] = apertures["crowded"]
    meta = {"METHOD": method, "EXPTIME": exptime, "FWHM": round(float(fwhm), 3), "RADIUS": radius,
            "ANNULUS": list(annulus), "APCORR": round(float(correction), 5), "NSTARS": len(stars),
            "ZP": math.nan, "ZP_ERR": math.nan, "ZPSCATTER": math.nan, "NZP": 0, "MAGLIM": math.nan,
            "CAMERA": camera.describe()}
    if catalog is not None:
        from ccdlab.crossmatch import match_to_catalog
        from ccdlab.stack import frame_wcs

        solution = wcs if wcs is not None else frame_wcs(header, "the frame")
        ra, dec = solution.pixel_to_world_values(np.asarray(table["x"], float), np.asarray(table["y"], float))
        table["ra"], table["dec"] = ra, dec
        index, separation = match_to_catalog(ra, dec, catalog, max_separation)
        matched = index >= 0
        table["catalog_mag"][matched] = np.asarray(catalog["mag"], float)[index[matched]]
        table["separation"] = separation
        usable = matched & ~table["saturated"] & ~table["near_edge"] & (table["snr"] > 10) & \
            np.isfinite(table["mag_inst"])
        if method == "aperture":
            usable &= ~table["crowded"]
        cat_err = np.full(len(table), np.nan)
        if "mag_err" in catalog.colnames:
            cat_err[matched] = np.asarray(catalog["mag_err"], float)[index[matched]]
            usable &= ~(cat_err > 0.1)  # NaN errors (none given) pass
        # Weighted by both errors (a catalogue without errors: 0.02 mag each).
        errors = np.hypot(np.where(np.isfinite(cat_err), cat_err, 0.02), np.asarray(table["mag_inst_err"], float))
        zero_point = fit_zero_point(table["catalog_mag"][usable], table["mag_inst"][usable], errors=errors[usable])
        table["zp_star"][np.flatnonzero(usable)[zero_point.used]] = True
        table["mag"] = table["mag_inst"] + zero_point.value
        table["mag_err"] = np.hypot(table["mag_inst_err"], zero_point.error)
        noise = empty_sky_noise(data, stars, radius, annulus, gain=camera.gain, readnoise=camera.readnoise,
                                background=background)
        meta.update(ZP=round(zero_point.value, 5), ZP_ERR=round(zero_point.error, 5), NZP=zero_point.n_used,
                    ZPSCATTER=round(zero_point.scatter, 5),
                    MAGLIM=round(limiting_magnitude(zero_point.value, noise, exptime, 5.0, apcorr), 4))
    for name in ("x", "y", "flux", "flux_err", "snr"):
        table[name].info.format = ".3f" if name in ("x", "y") else ".5g"
    for name in ("mag_inst", "mag_inst_err", "mag", "mag_err", "catalog_mag", "separation"):
        table[name].info.format = ".4f"
    for name in ("ra", "dec"):
        table[name].info.format = ".7f"
        table[name].unit = "deg"
    table.meta.update(meta)
    return table


def write_magnitudes(table: Table, path) -> Path:
    """Write a :func:`measure_magnitudes` table as ECSV, atomically (the metadata travel with it).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_magnitudes(Table({"mag": [15.0]}, meta={"ZP": 23.35}), Path(tmp) / "stars.ecsv")
    ...     Table.read(out).meta["ZP"]
    23.35
    """
    from ccdlab.files import atomic_output

    path = Path(os.fspath(path)).expanduser()
    if path.suffix.lower() != ".ecsv":
        raise PhotometryError(f"Write the table as .ecsv (its metadata ZP, ZP_ERR, MAGLIM travel with it); got {path.name}.")
    with atomic_output(path) as tmp:
        table.write(tmp, format="ascii.ecsv", overwrite=True)
    return path

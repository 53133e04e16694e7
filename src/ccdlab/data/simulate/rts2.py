"""How the GROWTH-India Telescope's RTS2 software names, dates and labels its frames.

The synthetic night copies the real headers' quirks (IMAGETYP 'dark' on bias frames, CCD_TEMP
with an underscore, a junk GAIN, FILTER 'UNK', no BUNIT) and file names
(``C0_20181013-130440-460.fits``: camera, date, time to the millisecond).
"""

from __future__ import annotations

import datetime as _dt
import math

from astropy.io import fits
from astropy.table import Table

from ccdlab.data.simulate.sky import star_sky_positions, tan_wcs_header

__all__ = ["DEFAULT_SEED", "FIELD", "SITE", "NIGHT_DATE", "iso_time", "file_name", "julian_date", "airmass", "rts2_header"]

#: The seed of the default night (its date).
DEFAULT_SEED = 20181013

#: The observed field (a patch of sky near the zenith at Hanle on the evening of 2018-10-13).
FIELD = {"object": "F2239+3354", "ra": 339.75, "dec": 33.9, "rotation": 0.35}

#: The observatory as the headers give it.
SITE = {"latitude": 32.2, "longitude": 78.9, "altitude": 4500.0}

#: The date of the night (UT).
NIGHT_DATE = _dt.datetime(2018, 10, 13)

#: IMAGETYP and OBJECT of each kind of frame.
_LABELS = {
    "bias": ("dark", "bias"),
    "flat": ("flat", "skyflat"),
    "science": ("object", FIELD["object"]),
    "dark": ("dark", "dark"),
    "ptc_bias": ("dark", "bias"),
    "ptc_flat": ("flat", "ptc lamp flat"),
}


def iso_time(moment: _dt.datetime) -> str:
    """DATE-OBS as RTS2 writes it, to the millisecond.

    Examples
    --------
    >>> iso_time(_dt.datetime(2018, 10, 13, 13, 4, 40, 460000))
    '2018-10-13T13:04:40.460'
    """
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def file_name(moment: _dt.datetime, science: bool) -> str:
    """The file name RTS2 gives a frame taken at ``moment`` (science frames are astrometry-solved).

    Examples
    --------
    >>> file_name(_dt.datetime(2018, 10, 13, 13, 4, 40, 460000), science=False)
    'C0_20181013-130440-460.fits'
    """
    stem = moment.strftime("C0_%Y%m%d-%H%M%S-") + f"{moment.microsecond // 1000:03d}"
    return stem + (".wcs.fits" if science else ".fits")


def julian_date(moment: _dt.datetime) -> float:
    """The Julian date of a UT moment.

    Examples
    --------
    >>> julian_date(_dt.datetime(2000, 1, 1, 12))
    2451545.0
    """
    epoch = _dt.datetime(1970, 1, 1)
    return 2440587.5 + (moment - epoch).total_seconds() / 86400.0


def airmass(moment: _dt.datetime, ra: float, dec: float) -> float:
    """The airmass of (``ra``, ``dec``) seen from the site at ``moment`` (Hardie 1962).

    Examples
    --------
    >>> 1.0 <= airmass(_dt.datetime(2018, 10, 13, 15), FIELD["ra"], FIELD["dec"]) < 1.2
    True
    """
    jd = julian_date(moment)
    gmst = 280.46061837 + 360.98564736629 * (jd - 2451545.0)
    hour_angle = math.radians((gmst + SITE["longitude"] - ra) % 360.0)
    lat, dec_r = math.radians(SITE["latitude"]), math.radians(dec)
    sin_alt = math.sin(lat) * math.sin(dec_r) + math.cos(lat) * math.cos(dec_r) * math.cos(hour_angle)
    sec_z = 1.0 / max(sin_alt, 0.05)
    # Hardie (1962) polynomial in sec z - 1
    s = sec_z - 1.0
    return sec_z - 0.0018167 * s - 0.002875 * s * s - 0.0008083 * s * s * s


def rts2_header(frame: dict, shape: tuple[int, int], seed: int = DEFAULT_SEED) -> fits.Header:
    """Return the header the GROWTH-India Telescope's RTS2 software would write for ``frame``.

    Parameters
    ----------
    frame : dict
        One entry of :func:`ccdlab.data.simulate.night.night_plan` (or of the camera test's plan,
        :func:`ccdlab.data.simulate.camera_test.camera_test_plan`): ``kind``, ``date_obs``,
        ``exptime``, ``ccd_temp``, and optionally ``ccd_set`` (default -60) and ``detsec`` (a
        readout window).
    shape : (int, int)
        ``(ny, nx)`` of the frame.
    seed : int
        The night's seed (recorded in ``SIMSEED``).

    Returns
    -------
    astropy.io.fits.Header
        DATE-OBS, JD, EXPTIME, IMAGETYP ('dark' on bias frames and darks), OBJECT, FILTER
        ('UNK'), CCD_TEMP, CCD_SET, GAIN (junk: -9.1e-36), ALTITUDE, LATITUDE, LONGITUD, TELESCOP,
        INSTRUME; science frames add AIRMASS, RA, DEC and a TAN WCS; a windowed readout adds
        DETSEC. SIMULATE and SIMSEED say the frame is synthetic.

    Examples
    --------
    >>> from ccdlab.data.simulate.night import SIZES, night_plan
    >>> plan = night_plan("tiny")
    >>> header = rts2_header(plan[6], SIZES["tiny"])
    >>> header["IMAGETYP"], header["EXPTIME"], "CCD-TEMP" in header
    ('dark', 0.001, False)
    """
    ny, nx = int(shape[0]), int(shape[1])
    header = fits.Header()
    header["DATE-OBS"] = (frame["date_obs"], "start of exposure (UT)")
    header["JD"] = (round(julian_date(_dt.datetime.fromisoformat(frame["date_obs"])), 6), "Julian date of exposure start")
    header["EXPTIME"] = (frame["exptime"], "exposure length in seconds")
    imagetyp, target = _LABELS[frame["kind"]]
    header["IMAGETYP"] = (imagetyp, "image type")
    header["OBJECT"] = (target, "target name")
    header["FILTER"] = ("UNK", "camera filter")
    header["CCD_TEMP"] = (frame["ccd_temp"], "CCD temperature (C)")
    header["CCD_SET"] = (float(frame.get("ccd_set", -60.0)), "CCD set temperature (C)")
    header["GAIN"] = (-9.1e-36, "value reported by the camera")
    header["ALTITUDE"] = (SITE["altitude"], "observatory altitude (m)")
    header["LATITUDE"] = (SITE["latitude"], "observatory latitude (deg)")
    header["LONGITUD"] = (SITE["longitude"], "observatory longitude (deg east)")
    header["TELESCOP"] = ("GIT", "GROWTH-India Telescope, Hanle")
    header["INSTRUME"] = ("Andor iKon-XL 230", "camera")
    if frame["kind"] == "science":
        header["AIRMASS"] = (frame["airmass"], "airmass at mid-exposure")
        header["MJD-OBS"] = (round(header["JD"] - 2400000.5, 6), "modified Julian date of exposure start")
        wcs = tan_wcs_header((ny, nx), FIELD["ra"], FIELD["dec"], rotation=FIELD["rotation"], shift=frame["dither"])
        pointing = star_sky_positions(Table({"x": [(nx - 1) / 2.0], "y": [(ny - 1) / 2.0]}), wcs)
        header["RA"] = (round(float(pointing[0][0]), 5), "telescope pointing RA (deg)")
        header["DEC"] = (round(float(pointing[1][0]), 5), "telescope pointing Dec (deg)")
        header["COMMENT"] = "Astrometry solved: TAN WCS follows."
        header.extend(wcs.cards)
    if frame.get("detsec"):
        header["DETSEC"] = (frame["detsec"], "readout window on the detector (FITS pixels)")
    header["SIMULATE"] = (True, "synthetic frame made by ccdlab.simulate")
    header["SIMSEED"] = (int(seed), "seed of the synthetic night")
    return header

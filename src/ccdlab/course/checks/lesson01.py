"""Checks for lesson 01, FITS files: the image size and the header keywords of a frame."""

from __future__ import annotations

import math

import numpy as np

from ccdlab.course.checks import Part, answers, is_blank, number, text
from ccdlab.course.checks.compare import as_float

LESSON = "01_fits_files"

#: Spellings of the CCD temperature keyword, most common first.
TEMPERATURE_KEYS = ("CCD-TEMP", "CCD_TEMP", "CCDTEMP", "DETTEMP", "TEMPERAT")


def _header(night):
    return night.frame(night.first("bias"))[1]


def _value(header, key):
    return header[key] if key in header else None


def _size_hint(name: str, got, length: int, other: int, naxis: int) -> str | None:
    """A hint about a slip in one image length (``length`` is right, ``other`` the other axis's), or None."""
    keyword = "NAXIS1" if name == "x_len" else "NAXIS2"
    if isinstance(got, (tuple, list)) and len(got) == 2:
        return f"{name} is a pair, like data.shape = (NAXIS2, NAXIS1): give one number, {keyword}."
    value = as_float(got)
    if value is None or value == length:
        return None
    if value == naxis and naxis not in (length, other):
        return f"{name} = {value:g} is NAXIS, the number of axes; the length along each axis is in NAXIS1 and NAXIS2."
    if value == length - 1:
        return (f"{name} = {value:g} is the last index (numpy counts from 0), not the length: "
                f"the length is {keyword} itself.")
    if value == other and length != other:
        counts = "rows (y), NAXIS2 or len(data)" if name == "x_len" else "columns (x), NAXIS1"
        return f"{name} = {value:g} counts the {counts}; {name} is {keyword}."
    return None


@answers(LESSON, "x_len", "y_len")
def image_size(night, x_len, y_len):
    """The image size of the first bias frame, from NAXIS1 (x) and NAXIS2 (y).

    Examples
    --------
    >>> x_len, y_len = check("1.1", x_len=header["NAXIS1"], y_len=header["NAXIS2"])  # doctest: +SKIP
    ✔ Exercise 1.1: correct. Well done!
    """
    header = _header(night)
    nx, ny = int(header["NAXIS1"]), int(header["NAXIS2"])
    naxis = int(header.get("NAXIS", 2))
    parts = [
        number("x_len", x_len, nx, hint="The length of a row (x) is in NAXIS1.", reference=nx),
        number("y_len", y_len, ny, hint="The number of rows (y) is in NAXIS2.", reference=ny),
    ]
    if not is_blank(x_len) and not is_blank(y_len) and nx != ny and (as_float(x_len), as_float(y_len)) == (ny, nx):
        for part in parts:
            part.hint = "x and y are swapped: NAXIS1 counts columns (x), NAXIS2 counts rows (y)."
        return parts
    for part, got, length, other in ((parts[0], x_len, nx, ny), (parts[1], y_len, ny, nx)):
        if not part.ok and not part.blank:
            part.hint = _size_hint(part.name, got, length, other, naxis) or part.hint
    return parts


def _rounded_reading(value: float, measured: float) -> bool:
    """True when ``value`` is ``measured`` as read, or rounded to 0, 1 or 2 decimals.

    Examples
    --------
    >>> _rounded_reading(-59.0, -59.31), _rounded_reading(-59.3, -59.31), _rounded_reading(-60.0, -59.31)
    (True, True, False)
    >>> _rounded_reading(-59.31, -59.31), _rounded_reading(-59.2, -59.31)
    (True, False)
    """
    if math.isclose(value, measured, abs_tol=1e-6):
        return True
    for decimals in (0, 1, 2):
        if math.isclose(value, round(value, decimals), abs_tol=1e-9):
            return abs(value - measured) <= 0.5 * 10.0**-decimals + 1e-9
    return False


def _temperature_part(header, ccd_temp, temperature_key) -> Part:
    """The verdict on the CCD temperature: the measured one, as read or rounded; never the set point.

    When the set point is itself a rounding of the measured value (a camera that holds it to the
    hundredth), a student giving it cannot be told wrong, and is not.

    Examples
    --------
    >>> from astropy.io import fits
    >>> header = fits.Header({"CCD_TEMP": -59.31, "CCD_SET": -60.0})
    >>> [_temperature_part(header, t, "CCD_TEMP").ok for t in (-59.31, -59.3, -59, -60, -60.0)]
    [True, True, True, False, False]
    >>> _temperature_part(header, -60, "CCD_TEMP").hint
    'ccd_temp: that is CCD_SET, the temperature asked for; give the one measured.'
    >>> _temperature_part(fits.Header({"CCD_TEMP": -60.01, "CCD_SET": -60.0}), -60, "CCD_TEMP").ok
    True
    """
    measured = header[temperature_key] if temperature_key else None
    general = ("Headers differ between observatories: list the keywords that contain 'TEMP' and take the "
               "measured temperature, not the set point.")
    if is_blank(ccd_temp) or measured is None:
        return number("ccd_temp", ccd_temp, measured, atol=1e-6, hint=general, reference=measured)
    if ccd_temp is None:
        return Part("ccd_temp", False, "ccd_temp is None: no keyword of that spelling is in this file (CCD-TEMP is "
                    "not). " + general, measured)
    value = as_float(ccd_temp)
    if value is None:
        return number("ccd_temp", ccd_temp, measured, hint=general, reference=measured)
    set_point = as_float(header.get("CCD_SET"))
    if set_point is not None and math.isclose(value, set_point, abs_tol=1e-6) and not _rounded_reading(set_point, measured):
        return Part("ccd_temp", False, "ccd_temp: that is CCD_SET, the temperature asked for; give the one measured.",
                    measured)
    if _rounded_reading(value, float(measured)):
        return Part("ccd_temp", True, reference=measured)
    return number("ccd_temp", ccd_temp, measured, atol=1e-6, hint=general, reference=measured)


def _exptime_part(header, exptime) -> Part:
    expected = _value(header, "EXPTIME")
    part = number("exptime", exptime, expected, rtol=1e-6,
                  hint="EXPTIME is in seconds: read the header's value (header['EXPTIME']).", reference=expected)
    value = as_float(exptime)
    if part.ok or part.blank or value is None or not expected:
        return part
    if value == 0:
        part.hint = ("exptime = 0, but the header's EXPTIME is not exactly 0: a bias is a (nearly) zero-second "
                     "exposure, and the file records how long it really was. Give that value.")
    elif math.isclose(value, 1000.0 * float(expected), rel_tol=1e-6):
        part.hint = "That is EXPTIME in milliseconds: EXPTIME is in seconds, give it as the file writes it."
    return part


def _date_part(night, header, date_obs) -> Part:
    expected = _value(header, "DATE-OBS")
    part = text("date_obs", date_obs, expected, hint="Copy DATE-OBS exactly, as text.", case=True, reference=expected)
    if part.ok or part.blank or not isinstance(date_obs, str) or not isinstance(expected, str):
        return part
    got = date_obs.strip()
    if "T" in expected and got == expected.split("T")[0]:
        part.hint = "DATE-OBS holds the date and the time of the exposure's start: copy all of it, as text."
    elif got.replace(" ", "T") == expected:
        part.hint = "Copy DATE-OBS exactly as the file writes it: with the 'T' between the date and the time."
    elif got in {str(value).strip() for value in night.table["date_obs"]}:
        part.hint = "That is the DATE-OBS of another frame: read the header of the first bias frame."
    return part


def _altitude_part(header, altitude) -> Part:
    expected = _value(header, "ALTITUDE")
    hint = "Look for ALTITUDE in the header (use None if the file has no such keyword)."
    if altitude is None and expected is not None:
        return Part("altitude", False, "altitude is None, but this file has ALTITUDE: read its value.", expected)
    part = number("altitude", altitude, expected, rtol=1e-6, hint=hint, reference=expected)
    value = as_float(altitude)
    if not part.ok and not part.blank and value is not None:
        for key in ("LATITUDE", "LONGITUD", "ALTITUDE"):
            other = as_float(header.get(key))
            if key != "ALTITUDE" and other is not None and math.isclose(value, other, rel_tol=1e-6):
                part.hint = f"That is {key}: the observatory's altitude (in metres) is ALTITUDE."
    return part


@answers(LESSON, "date_obs", "exptime", "ccd_temp", "imagetyp", "altitude")
def header_values(night, date_obs, exptime, ccd_temp, imagetyp, altitude):
    """DATE-OBS, EXPTIME, the CCD temperature, IMAGETYP and ALTITUDE of the first bias frame.

    The measured temperature may be rounded (``-59`` or ``-59.3`` for a CCD_TEMP of ``-59.31``); the
    set point (CCD_SET) is told apart.

    Examples
    --------
    >>> check("1.2", date_obs=..., exptime=..., ccd_temp=..., imagetyp=..., altitude=...)  # doctest: +SKIP
    … Exercise 1.2: not attempted yet. Replace each `...` with your answer and run the cell again.
    """
    header = _header(night)
    temperature_key = next((key for key in TEMPERATURE_KEYS if key in header), None)
    imagetyp_hint = "Give IMAGETYP as the file writes it, even if it looks surprising for a bias."
    if isinstance(imagetyp, str) and "OBJECT" in header and imagetyp.strip().lower() == str(header["OBJECT"]).strip().lower() \
            and str(header["OBJECT"]).strip().lower() != str(header.get("IMAGETYP", "")).strip().lower():
        imagetyp_hint = "That is OBJECT (the target's name). " + imagetyp_hint
    return [
        _date_part(night, header, date_obs),
        _exptime_part(header, exptime),
        _temperature_part(header, ccd_temp, temperature_key),
        text("imagetyp", imagetyp, _value(header, "IMAGETYP"), hint=imagetyp_hint, reference=_value(header, "IMAGETYP")),
        _altitude_part(header, altitude),
    ]

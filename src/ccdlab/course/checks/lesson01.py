"""Checks for lesson 01, FITS files: the image size and the header keywords of a frame."""

from __future__ import annotations

import math

from ccdlab.course.checks import Part, answers, is_blank, number, text

LESSON = "01_fits_files"

#: Spellings of the CCD temperature keyword, most common first.
TEMPERATURE_KEYS = ("CCD-TEMP", "CCD_TEMP", "CCDTEMP", "DETTEMP", "TEMPERAT")


def _header(night):
    return night.frame(night.first("bias"))[1]


def _value(header, key):
    return header[key] if key in header else None


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
    parts = [
        number("x_len", x_len, nx, hint="The length of a row (x) is in NAXIS1.", reference=nx),
        number("y_len", y_len, ny, hint="The number of rows (y) is in NAXIS2.", reference=ny),
    ]
    if not is_blank(x_len) and not is_blank(y_len) and nx != ny and (x_len, y_len) == (ny, nx):
        for part in parts:
            part.hint = "x and y are swapped: NAXIS1 counts columns (x), NAXIS2 counts rows (y)."
    return parts


@answers(LESSON, "date_obs", "exptime", "ccd_temp", "imagetyp", "altitude")
def header_values(night, date_obs, exptime, ccd_temp, imagetyp, altitude):
    """DATE-OBS, EXPTIME, the CCD temperature, IMAGETYP and ALTITUDE of the first bias frame.

    Examples
    --------
    >>> check("1.2", date_obs=..., exptime=..., ccd_temp=..., imagetyp=..., altitude=...)  # doctest: +SKIP
    … Exercise 1.2: not attempted yet. Replace each `...` with your answer and run the cell again.
    """
    header = _header(night)
    temperature_key = next((key for key in TEMPERATURE_KEYS if key in header), None)
    expected_temp = header[temperature_key] if temperature_key else None
    parts = [
        text("date_obs", date_obs, _value(header, "DATE-OBS"), hint="Copy DATE-OBS exactly, as text.",
             case=True, reference=_value(header, "DATE-OBS")),
        number("exptime", exptime, _value(header, "EXPTIME"), rtol=1e-6,
               hint="EXPTIME is in seconds; read it from the header rather than the file name.",
               reference=_value(header, "EXPTIME")),
        number("ccd_temp", ccd_temp, expected_temp, atol=1e-6,
               hint="Headers differ between observatories: list the keywords that contain 'TEMP' "
                    "and take the measured temperature, not the set point.",
               reference=expected_temp),
        text("imagetyp", imagetyp, _value(header, "IMAGETYP"),
             hint="Give IMAGETYP as the file writes it, even if it looks surprising for a bias.",
             reference=_value(header, "IMAGETYP")),
        number("altitude", altitude, _value(header, "ALTITUDE"), rtol=1e-6,
               hint="Look for ALTITUDE in the header (use None if the file has no such keyword).",
               reference=_value(header, "ALTITUDE")),
    ]
    if not is_blank(ccd_temp) and expected_temp is not None and "CCD_SET" in header:
        try:
            if math.isclose(float(ccd_temp), float(header["CCD_SET"])) and not math.isclose(float(header["CCD_SET"]), float(expected_temp)):
                parts[2] = Part("ccd_temp", False, "ccd_temp: that is CCD_SET, the temperature asked for; give the one measured.", expected_temp)
        except (TypeError, ValueError):
            pass
    return parts

"""Answer catalogue of lesson 01: the image size and the header values of the first bias frame."""

import numpy as np
from astropy.io import fits

from catalogue import mistake, solution, valid

LESSON = "01_fits_files"


def size(x_len, y_len):
    return {"x_len": x_len, "y_len": y_len}


def header_answers(c, **changes):
    h = c.bias_header
    answers = {"date_obs": h["DATE-OBS"], "exptime": h["EXPTIME"], "ccd_temp": h["CCD_TEMP"],
               "imagetyp": h["IMAGETYP"], "altitude": h.get("ALTITUDE")}
    answers.update({name: (change(h) if callable(change) else change) for name, change in changes.items()})
    return answers


CASES = {
    "1.1": [
        solution("NAXIS1 and NAXIS2", lambda c: size(c.bias_header["NAXIS1"], c.bias_header["NAXIS2"])),
        valid("from data.shape, (y, x)", lambda c: size(c.bias_frames[0].shape[1], c.bias_frames[0].shape[0])),
        valid("numpy integers", lambda c: size(np.int64(c.bias_header["NAXIS1"]), np.int32(c.bias_header["NAXIS2"]))),
        valid("fits.getval on the file", lambda c: size(fits.getval(c.bias_files[0], "NAXIS1"), fits.getval(c.bias_files[0], "NAXIS2"))),
        valid("floats", lambda c: size(float(c.bias_header["NAXIS1"]), float(c.bias_header["NAXIS2"]))),
        mistake("x and y swapped (data.shape read as (x, y))",
                lambda c: size(c.bias_header["NAXIS2"], c.bias_header["NAXIS1"]), "swapped"),
        mistake("NAXIS, the number of axes, for x", lambda c: size(c.bias_header["NAXIS"], c.bias_header["NAXIS2"]),
                "number of axes"),
        mistake("the last index instead of the length", lambda c: size(c.bias_header["NAXIS1"] - 1, c.bias_header["NAXIS2"] - 1),
                "last index"),
        mistake("len(data) for x (that counts rows)", lambda c: size(len(c.bias_frames[0]), c.bias_header["NAXIS2"]),
                "counts the rows"),
        mistake("the whole data.shape as x_len", lambda c: size(c.bias_frames[0].shape, c.bias_header["NAXIS2"]),
                "give one number"),
        mistake("the sizes as text", lambda c: size(str(c.bias_header["NAXIS1"]), str(c.bias_header["NAXIS2"])),
                "should be a number"),
    ],
    "1.2": [
        solution("header[...] for each, header.get for ALTITUDE", lambda c: header_answers(c)),
        valid("the measured temperature rounded to whole degrees (issue 11)",
              lambda c: header_answers(c, ccd_temp=lambda h: round(h["CCD_TEMP"]))),
        valid("the measured temperature rounded to 0.1 C", lambda c: header_answers(c, ccd_temp=lambda h: round(h["CCD_TEMP"], 1))),
        valid("IMAGETYP in capitals, ALTITUDE as an int",
              lambda c: header_answers(c, imagetyp=lambda h: h["IMAGETYP"].upper(), altitude=lambda h: int(h["ALTITUDE"]))),
        valid("numpy numbers and fits.getval",
              lambda c: header_answers(c, exptime=lambda h: np.float64(h["EXPTIME"]),
                                       ccd_temp=lambda h: np.float32(fits.getval(c.bias_files[0], "CCD_TEMP")))),
        mistake("exptime = 0 for a bias (issue 11)", lambda c: header_answers(c, exptime=0), "not exactly 0"),
        mistake("exptime in milliseconds", lambda c: header_answers(c, exptime=lambda h: 1000 * h["EXPTIME"]), "milliseconds"),
        mistake("the set point CCD_SET", lambda c: header_answers(c, ccd_temp=lambda h: h["CCD_SET"]), "CCD_SET"),
        mistake("the set point as an int", lambda c: header_answers(c, ccd_temp=lambda h: int(h["CCD_SET"])), "CCD_SET"),
        mistake("header.get('CCD-TEMP'): the tutorial's spelling, absent here",
                lambda c: header_answers(c, ccd_temp=lambda h: h.get("CCD-TEMP")), "list the keywords that contain 'TEMP'"),
        mistake("IMAGETYP 'bias', what the frame is rather than what the file says",
                lambda c: header_answers(c, imagetyp="bias"), "as the file writes it"),
        mistake("OBJECT for IMAGETYP", lambda c: header_answers(c, imagetyp=lambda h: h["OBJECT"]), "That is OBJECT"),
        mistake("only the date of DATE-OBS", lambda c: header_answers(c, date_obs=lambda h: h["DATE-OBS"].split("T")[0]),
                "date and the time"),
        mistake("DATE-OBS with a space for the 'T'", lambda c: header_answers(c, date_obs=lambda h: h["DATE-OBS"].replace("T", " ")),
                "with the 'T'"),
        mistake("DATE-OBS of the first file of the night (a flat)",
                lambda c: header_answers(c, date_obs=lambda h: c.frame(c.flat_files[0])[1]["DATE-OBS"]), "another frame"),
        mistake("DATE-OBS as an astropy Time", lambda c: header_answers(c, date_obs=lambda h: __import__("astropy.time").time.Time(h["DATE-OBS"])),
                "as text"),
        mistake("altitude None though the file has ALTITUDE", lambda c: header_answers(c, altitude=None), "this file has ALTITUDE"),
        mistake("LATITUDE for the altitude", lambda c: header_answers(c, altitude=lambda h: h["LATITUDE"]), "That is LATITUDE"),
        mistake("exptime as text", lambda c: header_answers(c, exptime=lambda h: str(h["EXPTIME"])), "should be a number"),
    ],
}

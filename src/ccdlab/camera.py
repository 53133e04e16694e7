"""The camera's gain, read noise and saturation level, and where each value came from.

Cosmic-ray detection works in electrons, so it needs the gain (electrons per ADU), the read noise
(electrons) and the saturation level (electrons). Each value is taken, in this order:

1. from an explicit option (``ccdlab reduce --gain 1.6``, or ``camera_parameters(gain=1.6)``);
2. from the header, if a keyword holds a plausible value (GAIN/EGAIN, RDNOISE/READNOIS/...,
   SATURATE/...). Junk such as the GROWTH-India header's ``GAIN = -9.1e-36`` is rejected with a
   warning;
3. from the defaults of the course's camera (the GROWTH-India Telescope's Andor iKon-XL):
   1.6 e-/ADU, 14 e- and 96,000 e-.

The result always says which of the three each value came from, so a reduction can state it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

from astropy.io import fits

from ccdlab.errors import CameraError, CameraWarning

__all__ = [
    "DEFAULT_GAIN",
    "DEFAULT_READNOISE",
    "DEFAULT_SATLEVEL",
    "GAIN_KEYS",
    "READNOISE_KEYS",
    "SATURATION_KEYS",
    "CameraError",
    "CameraWarning",
    "CameraParameters",
    "camera_parameters",
]

#: Gain of the course's camera, electrons per ADU.
DEFAULT_GAIN = 1.6
#: Read noise of the course's camera, electrons.
DEFAULT_READNOISE = 14.0
#: Saturation level of the course's camera, electrons.
DEFAULT_SATLEVEL = 96_000.0

#: Header keywords that may hold the gain (e-/ADU), in order of preference.
GAIN_KEYS = ("GAIN", "EGAIN", "CCDGAIN", "GAIN1", "DETGAIN")
#: Header keywords that may hold the read noise (e-), in order of preference.
READNOISE_KEYS = ("RDNOISE", "READNOIS", "READNOISE", "RON", "ENOISE", "RDNOISE1")
#: Header keywords that may hold the saturation level (ADU, as the FITS convention has it).
SATURATION_KEYS = ("SATURATE", "SATLEVEL", "SATURATN", "MAXLIN")

# Plausible ranges: outside them a header value is junk, not a camera property.
_GAIN_RANGE = (0.01, 100.0)  # e-/ADU
_READNOISE_RANGE = (0.01, 1000.0)  # e-
_SATURATION_ADU_RANGE = (100.0, 1.0e7)  # ADU


@dataclass(frozen=True)
class CameraParameters:
    """Gain, read noise and saturation level, each with the place it came from.

    Attributes
    ----------
    gain : float
        Electrons per ADU.
    readnoise : float
        Read noise in electrons.
    satlevel : float
        Saturation level in electrons.
    gain_source, readnoise_source, satlevel_source : str
        ``'option'``, ``'header GAIN'`` (the keyword used) or ``'default'``.

    Examples
    --------
    >>> cam = CameraParameters(1.6, 14.0, 96000.0, "default", "default", "default")
    >>> cam.satlevel_adu
    60000.0
    """

    gain: float
    readnoise: float
    satlevel: float
    gain_source: str = "default"
    readnoise_source: str = "default"
    satlevel_source: str = "default"

    @property
    def satlevel_adu(self) -> float:
        """The saturation level in ADU (``satlevel / gain``)."""
        return self.satlevel / self.gain

    def describe(self) -> str:
        """One line stating each value, its unit and its source.

        Examples
        --------
        >>> camera_parameters().describe()
        'gain 1.6 e-/ADU (default), read noise 14 e- (default), saturation 96000 e- (default)'
        """
        return (
            f"gain {self.gain:g} e-/ADU ({self.gain_source}), "
            f"read noise {self.readnoise:g} e- ({self.readnoise_source}), "
            f"saturation {self.satlevel:g} e- ({self.satlevel_source})"
        )

    def as_dict(self) -> dict:
        """The values and sources as a plain dict (for JSON or a table).

        Examples
        --------
        >>> camera_parameters(gain=2.0).as_dict()["gain_source"]
        'option'
        """
        return asdict(self)


def _number(value) -> float:
    if isinstance(value, bool):
        return math.nan
    try:
        return float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return math.nan


#: For each explicit value: its name in messages, its unit, the option of ``ccdlab reduce`` and
#: the keyword of :func:`camera_parameters`, and the course camera's value (an example to give).
_OPTIONS = {
    "gain": ("gain", "e-/ADU", "--gain", DEFAULT_GAIN),
    "readnoise": ("read noise", "electrons", "--readnoise", DEFAULT_READNOISE),
    "satlevel": ("saturation level", "electrons", "--satlevel", DEFAULT_SATLEVEL),
}


def _explicit(keyword: str, value, allow_zero: bool = False) -> float:
    """An option's value as a float, or a CameraError naming the option to pass."""
    name, unit, option, example = _OPTIONS[keyword]
    number = _number(value)
    ok = math.isfinite(number) and (number >= 0 if allow_zero else number > 0)
    if not ok:
        need = "zero or more" if allow_zero else "a positive number of"
        raise CameraError(
            f"The {name} must be {need} {unit}, got {value!r}: pass the camera's value, e.g. "
            f"{option} {example:g} (or {keyword}={example:g} in Python)."
        )
    return number


def _from_header(header, keys, valid_range, what: str, unit: str):
    """Return (value, keyword) of the first plausible keyword, warning about junk ones."""
    if header is None:
        return None, None
    low, high = valid_range
    for key in keys:
        if key not in header:
            continue
        raw = header[key]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        value = _number(raw)
        if math.isfinite(value) and low <= value <= high:
            return value, key
        warnings.warn(
            f"Header keyword {key} = {raw!r} is not a plausible {what} ({low:g} to {high:g} {unit}); "
            f"ignored. Pass the {what} explicitly if the default is wrong for this camera.",
            CameraWarning,
            stacklevel=3,
        )
    return None, None


def camera_parameters(
    header: fits.Header | None = None,
    *,
    gain: float | None = None,
    readnoise: float | None = None,
    satlevel: float | None = None,
) -> CameraParameters:
    """Decide the gain, read noise and saturation level: options, else header, else defaults.

    Parameters
    ----------
    header : astropy.io.fits.Header, optional
        A raw frame's header to look in (GAIN/EGAIN/...; RDNOISE/READNOIS/...; SATURATE/...).
        A header saturation is in ADU (the FITS convention) and is converted with the gain.
    gain : float, optional
        Electrons per ADU; must be > 0.
    readnoise : float, optional
        Electrons; must be >= 0.
    satlevel : float, optional
        Saturation level in **electrons**; must be > 0.

    Returns
    -------
    CameraParameters
        The three values with their sources.

    Raises
    ------
    CameraError
        An explicit value is impossible (gain <= 0, negative read noise, saturation <= 0, not a
        number).

    Warns
    -----
    CameraWarning
        A header keyword holds a junk value (such as ``GAIN = -9.1e-36``); it is ignored.

    Examples
    --------
    >>> from astropy.io import fits
    >>> cam = camera_parameters(fits.Header({"GAIN": 2.2, "RDNOISE": 5.0}))
    >>> cam.gain, cam.gain_source, cam.satlevel_source
    (2.2, 'header GAIN', 'default')
    >>> camera_parameters(gain=1.6, readnoise=14, satlevel=96000).gain_source
    'option'
    """
    if gain is not None:
        gain_value, gain_source = _explicit("gain", gain), "option"
    else:
        gain_value, key = _from_header(header, GAIN_KEYS, _GAIN_RANGE, "gain", "e-/ADU")
        gain_source = f"header {key}" if key else "default"
        if gain_value is None:
            gain_value = DEFAULT_GAIN

    if readnoise is not None:
        readnoise_value, readnoise_source = _explicit("readnoise", readnoise, allow_zero=True), "option"
    else:
        readnoise_value, key = _from_header(header, READNOISE_KEYS, _READNOISE_RANGE, "read noise", "e-")
        readnoise_source = f"header {key}" if key else "default"
        if readnoise_value is None:
            readnoise_value = DEFAULT_READNOISE

    if satlevel is not None:
        satlevel_value, satlevel_source = _explicit("satlevel", satlevel), "option"
    else:
        adu, key = _from_header(header, SATURATION_KEYS, _SATURATION_ADU_RANGE, "saturation level", "ADU")
        if key:
            satlevel_value, satlevel_source = adu * gain_value, f"header {key} x gain"
        else:
            satlevel_value, satlevel_source = DEFAULT_SATLEVEL, "default"

    return CameraParameters(
        float(gain_value), float(readnoise_value), float(satlevel_value),
        gain_source, readnoise_source, satlevel_source,
    )

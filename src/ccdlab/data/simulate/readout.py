"""Reading a synthetic frame out: electrons plus noise, to ADU, to a 16-bit FITS file.

The camera adds shot noise (Gaussian with the variance of the signal: accurate at these levels)
and read noise to the electrons a pixel collected, divides by the gain, adds the bias (its
pattern and the frame's own offset), and the 16-bit converter rounds and clips the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

__all__ = ["GAIN", "READ_NOISE", "ADC_MAX", "add_noise", "read_out", "to_uint16", "write_fits"]

#: Camera gain (electrons per ADU).
GAIN = 1.6

#: Read noise (electrons).
READ_NOISE = 14.0

#: Largest value a 16-bit ADC records.
ADC_MAX = 65535


def to_uint16(adu: np.ndarray) -> np.ndarray:
    """Round and clip ADU (float, changed in place) to what a 16-bit converter records.

    Examples
    --------
    >>> to_uint16(np.array([-3.0, 2.6, 70000.0])).tolist()
    [0, 3, 65535]
    """
    np.clip(adu, 0, ADC_MAX, out=adu)
    np.rint(adu, out=adu)
    return adu.astype(np.uint16)


def write_fits(path: Path, data: np.ndarray, header: fits.Header | None = None) -> None:
    """Write a simulated frame or truth file (its folder is created).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_fits(Path(tmp) / "truth" / "a.fits", np.zeros((2, 2), dtype=np.uint8))
    ...     fits.getdata(Path(tmp) / "truth" / "a.fits").shape
    (2, 2)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fits.HDUList([fits.PrimaryHDU(data=data, header=header)]).writeto(path, output_verify="silentfix")


def add_noise(electrons: np.ndarray, rng: np.random.Generator) -> None:
    """Add shot noise (Gaussian approximation, fine at these levels) and read noise, in place.

    Examples
    --------
    >>> frame = np.full((200, 200), 1000.0, dtype=np.float32)
    >>> add_noise(frame, np.random.default_rng(0))
    >>> round(float(frame.std() / np.sqrt(1000 + READ_NOISE ** 2)), 1)
    1.0
    """
    sigma = electrons + np.float32(READ_NOISE**2)
    np.maximum(sigma, 0, out=sigma)
    np.sqrt(sigma, out=sigma)
    sigma *= rng.standard_normal(electrons.shape, dtype=np.float32)
    electrons += sigma


def read_out(electrons: np.ndarray, bias: np.ndarray, offset: float) -> np.ndarray:
    """Convert electrons (changed in place) to ADU on top of the bias and the frame's offset: uint16.

    Examples
    --------
    >>> read_out(np.array([[160.0]], dtype=np.float32), np.array([[270.0]], dtype=np.float32), 0.4).tolist()
    [[370]]
    """
    electrons /= np.float32(GAIN)
    electrons += bias
    electrons += np.float32(offset)
    return to_uint16(electrons)

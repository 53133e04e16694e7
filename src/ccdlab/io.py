"""Reading and writing CCD frames safely.

Frames are read as float32 with BZERO/BSCALE applied (the GROWTH-India camera stores uint16 as
BITPIX 16 with BZERO 32768), from the first HDU that holds an image, whether the file is plain
FITS (``.fits``, ``.fit``, ``.fts``), gzip-compressed (``.fits.gz``) or tile-compressed (``.fz``).

Frames are written atomically: to a temporary file in the target folder, then renamed, so a crash
never leaves half a file. ccdlab refuses to write into a raw-data folder or over one of its inputs.
"""

from __future__ import annotations

import os
import textwrap
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from ccdlab import validate
from ccdlab._version import __version__
from ccdlab.errors import (
    FrameError,
    InputError,
    MissingFileError,
    OutputExistsError,
    OverwriteRefusedError,
)
from ccdlab.files import atomic_output
from ccdlab.paths import is_raw_folder

__all__ = [
    "FITS_SUFFIXES",
    "FrameError",
    "is_fits_name",
    "read_frame",
    "read_header",
    "read_rows",
    "frame_shape",
    "write_frame",
    "HISTORY_WIDTH",
    "history_cards",
    "atomic_write_hdul",
    "WCS_NUMBERS",
    "wcs_problems",
    "is_path",
    "frame_data"
]

#: File endings ccdlab reads as FITS frames.
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fits.fz", ".fz")

#: Header keyword that marks a file written by ccdlab (only such files may be overwritten).
STAMP_KEY = "CCDLAB"

_SCALING_KEYS = ("BZERO", "BSCALE", "BLANK")


def is_fits_name(path: str | os.PathLike) -> bool:
    """Return True when a file name ends like a FITS frame.

    Examples
    --------
    >>> is_fits_name("C0_20181013-130440-460.wcs.fits"), is_fits_name("notes.txt")
    (True, False)
    """
    name = Path(path).name.lower()
    return any(name.endswith(suffix) for suffix in FITS_SUFFIXES)


def _open(path: Path) -> fits.HDUList:
    if not path.exists():
        raise MissingFileError(f"{path}: no such file. Check the name, or list the folder with inventory.scan().")
    if path.is_dir():
        raise FrameError(f"{path} is a folder, not a FITS file. Pass one frame, or scan the folder with inventory.scan().")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyUserWarning)
            _check_complete(path)
            hdul = fits.open(path, memmap=False, lazy_load_hdus=True)
            hdul.verify("silentfix+ignore")
            return hdul
    except FrameError:
        raise
    except PermissionError as exc:
        raise FrameError(
            f"{path} cannot be read ({exc.strerror or 'permission denied'}): check its permissions "
            f"(e.g. chmod u+r {path}) or copy the data somewhere you own.",
            kind="permission",
        ) from exc
    except (OSError, ValueError, TypeError, EOFError) as exc:
        if _not_fits(exc):
            raise FrameError(
                f"{path} is not a FITS file (it does not start like one): move it out of {_folder(path)}, "
                "it is not a camera frame.",
                kind="not_frame",
            ) from exc
        raise FrameError(
            f"{path} could not be read as FITS ({_reason(exc)}). It is damaged: download or copy it again.",
            kind="damaged",
        ) from exc


def _not_fits(exc: Exception) -> bool:
    """True when astropy found no SIMPLE card: the file is not FITS at all (not a broken one)."""
    return isinstance(exc, OSError) and "SIMPLE" in str(exc)


def _folder(path: Path) -> Path:
    """The folder holding ``path``, absolute (so that a message never says 'move it out of .')."""
    return Path(os.path.abspath(path)).parent


def _reason(exc: Exception) -> str:
    """astropy's message, without its advice meant for developers (ignore_missing_simple...)."""
    text = str(exc)
    if "SIMPLE" in text:
        return "it does not start like a FITS file"
    return text.split(". ")[0].strip().rstrip(".") or type(exc).__name__


def _data_bytes(header: fits.Header) -> int:
    """Bytes of data an HDU header announces (FITS standard: |BITPIX|/8 x GCOUNT x (PCOUNT + prod NAXISn))."""
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return 0
    count = 1
    for axis in range(1, naxis + 1):
        count *= int(header.get(f"NAXIS{axis}", 0))
    return abs(int(header.get("BITPIX", 8))) // 8 * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + count)


def _check_complete(path: Path) -> None:
    """Raise FrameError when a plain FITS file is shorter than its headers announce."""
    if path.name.lower().endswith(".gz"):
        return  # gzip checks its own integrity when the data are read
    size = path.stat().st_size
    with fits.open(path, memmap=False, lazy_load_hdus=True, disable_image_compression=True) as hdul:
        hdul.readall()
        for index, hdu in enumerate(hdul):
            needed = hdul.fileinfo(index)["datLoc"] + _data_bytes(hdu.header)
            if needed > size:
                raise FrameError(
                    f"{path} is truncated: its header announces {needed:,} bytes but the file has "
                    f"{size:,}. Download or copy it again.",
                    kind="damaged",
                )


def _image_hdu(hdul: fits.HDUList, path: Path, hdu: int | str | None):
    if hdu is not None:
        try:
            chosen = hdul[hdu]
        except (KeyError, IndexError) as exc:
            raise FrameError(f"{path} has no HDU {hdu!r}; it has {len(hdul)} HDU(s).") from exc
        if not getattr(chosen, "is_image", False) or chosen.header.get("NAXIS", 0) < 2:
            raise FrameError(f"HDU {hdu!r} of {path} holds no 2-D image.")
        return chosen
    for candidate in hdul:
        if getattr(candidate, "is_image", False) and candidate.header.get("NAXIS", 0) >= 2:
            return candidate
    raise FrameError(
        f"{path} holds no image HDU (only tables or empty HDUs): move it out of {_folder(path)}, "
        "it is not a camera frame.",
        kind="not_frame",
    )


def _checked(call, path: Path):
    try:
        return call()
    except FrameError:
        raise
    except (OSError, ValueError, TypeError, EOFError, IndexError) as exc:
        raise FrameError(
            f"{path} is damaged: its image data could not be read ({exc}). Download or copy it again.",
            kind="damaged",
        ) from exc


def read_frame(path: str | os.PathLike, hdu: int | str | None = None) -> tuple[np.ndarray, fits.Header]:
    """Read one frame as float32 with its header.

    Parameters
    ----------
    path : str or path-like
        A FITS file: ``.fits``/``.fit``/``.fts``, gzip-compressed or tile-compressed (``.fz``).
    hdu : int or str, optional
        Which HDU to read; by default the first one that holds a 2-D image.

    Returns
    -------
    data : numpy.ndarray
        The pixel values in ADU as float32, BZERO/BSCALE applied.
    header : astropy.io.fits.Header
        A copy of the image HDU's header; for a compressed frame the image header. Its
        BZERO/BSCALE/BLANK cards are removed because ``data`` is already scaled.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    FrameError
        The file is not readable FITS or holds no image; the message says what to do.

    Examples
    --------
    >>> data, header = read_frame("data/bias/C0_20181013-130440-460.fits")  # doctest: +SKIP
    >>> data.dtype, header["NAXIS1"]  # doctest: +SKIP
    (dtype('float32'), 4096)
    """
    path = Path(path)
    with _open(path) as hdul:
        image = _checked(lambda: _image_hdu(hdul, path, hdu), path)
        data = _checked(lambda: image.data, path)
        if data is None or data.ndim < 2:
            raise FrameError(f"{path} holds no 2-D image data.")
        data = np.asarray(data, dtype=np.float32)
        if data.ndim > 2:
            raise FrameError(f"{path} holds a {data.ndim}-D cube, not one frame; split it into 2-D frames first.")
        header = image.header.copy()
    for key in _SCALING_KEYS:
        header.remove(key, ignore_missing=True)
    return data, header


def is_path(item) -> bool:
    """True when ``item`` names a file (a ``str`` or path-like) rather than holding the data itself.

    Examples
    --------
    >>> is_path("bias/a.fits"), is_path(np.zeros((2, 2)))
    (True, False)
    """
    return isinstance(item, (str, os.PathLike))


def frame_data(frame, what: str = "frame", error=FrameError) -> np.ndarray:
    """A frame given as a file or as a 2-D array -> its data as float32.

    Parameters
    ----------
    frame : path-like or array-like
        A file (read with :func:`read_frame`) or the image itself.
    what : str
        How an error names it, e.g. ``"master bias"``.
    error : type
        The :class:`ccdlab.errors.CcdlabError` raised when an array is not a 2-D image.

    Examples
    --------
    >>> frame_data(np.ones((2, 2), dtype=np.uint16)).dtype
    dtype('float32')
    """
    if is_path(frame):
        return read_frame(frame)[0]
    return validate.image(frame, what, error=error, dtype=np.float32, hint="Pass a 2-D image or a file.")


def read_header(path: str | os.PathLike, hdu: int | str | None = None) -> fits.Header:
    """Read the header of a frame's image HDU without reading its pixels.

    For a frame whose image sits in an extension, the primary header's cards that the
    extension lacks (DATE-OBS, EXPTIME, ... often live there) are added at the end.

    Examples
    --------
    >>> read_header("data/bias/C0_20181013-130440-460.fits")["IMAGETYP"]  # doctest: +SKIP
    'dark'
    """
    path = Path(path)
    with _open(path) as hdul:
        image = _checked(lambda: _image_hdu(hdul, path, hdu), path)
        header = image.header.copy()
        primary = hdul[0]
        if image is not primary:
            for card in primary.header.cards:
                if card.keyword and card.keyword not in header and card.keyword not in ("SIMPLE", "BITPIX", "NAXIS", "EXTEND", "COMMENT", "HISTORY", ""):
                    header.append(card)
    return header


def frame_shape(path: str | os.PathLike) -> tuple[int, int]:
    """Return a frame's ``(ny, nx)`` shape (NAXIS2, NAXIS1) from its header.

    Examples
    --------
    >>> frame_shape("data/bias/C0_20181013-130440-460.fits")  # doctest: +SKIP
    (4108, 4096)
    """
    header = read_header(path)
    if "ZNAXIS1" in header:
        return int(header["ZNAXIS2"]), int(header["ZNAXIS1"])
    return int(header["NAXIS2"]), int(header["NAXIS1"])


def read_rows(path: str | os.PathLike, start: int, stop: int, hdu: int | str | None = None) -> np.ndarray:
    """Read rows ``start:stop`` of a frame as float32 without reading the whole image.

    Only the bytes of those rows are read from an uncompressed file (no memory map of the whole
    file), so reading a frame block by block keeps memory small.

    Examples
    --------
    >>> block = read_rows("data/bias/C0_20181013-130440-460.fits", 0, 256)  # doctest: +SKIP
    >>> block.shape  # doctest: +SKIP
    (256, 4096)
    """
    path = Path(path)
    with _open(path) as hdul:
        image = _checked(lambda: _image_hdu(hdul, path, hdu), path)
        block = _checked(lambda: image.section[start:stop], path)
    return np.asarray(block, dtype=np.float32)


def atomic_write_hdul(hdul: fits.HDUList, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write an HDUList atomically: to a temporary file beside ``path``, then rename it.

    A crash or a full disk never leaves a half-written file at ``path``. No raw-folder checks are
    made here: use :func:`write_frame` for reduction outputs.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from astropy.io import fits
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = atomic_write_hdul(fits.HDUList([fits.PrimaryHDU(np.zeros((2, 2)))]), Path(tmp) / "a.fits")
    ...     out.name
    'a.fits'
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists; pass overwrite=True to replace it.")
    with atomic_output(path) as part:
        hdul.writeto(part, overwrite=True, output_verify="silentfix")
    return path


def _written_by_ccdlab(path: Path) -> bool:
    try:
        return STAMP_KEY in fits.getheader(path)
    except Exception:  # unreadable: not ours, never overwrite
        return False


#: The longest text one HISTORY card holds (80 columns minus the keyword); astropy cuts longer
#: lines mid-word into several cards.
HISTORY_WIDTH = 72


def history_cards(text: str) -> list[str]:
    """Split a HISTORY sentence into lines that each fit one card, at spaces, indenting the rest.

    astropy cuts a longer HISTORY line every 72 characters, mid-word; ccdlab splits its own.

    Examples
    --------
    >>> history_cards("ccdlab: short")
    ['ccdlab: short']
    >>> for card in history_cards("ccdlab: rejected flat C0_20181013-124905-134.fits: saturated or "
    ...                           "non-linear: 60000 ADU above bias > 45000"):
    ...     print(card)
    ccdlab: rejected flat C0_20181013-124905-134.fits: saturated or
      non-linear: 60000 ADU above bias > 45000
    """
    return textwrap.wrap(text, HISTORY_WIDTH, subsequent_indent="  ", break_on_hyphens=False) or [""]


def write_frame(
    path: str | os.PathLike,
    data: np.ndarray,
    header: fits.Header | None = None,
    history: str | Iterable[str] = (),
    inputs: Iterable[str | os.PathLike] = (),
    overwrite: bool = True,
) -> Path:
    """Write a reduced frame (float32) or mask (uint8) as FITS, atomically, recording what was done.

    Parameters
    ----------
    path : str or path-like
        The output file. Its folder is created if needed.
    data : numpy.ndarray
        The 2-D image; written as float32 (NaN stays NaN), or as 8-bit integers (1 = True) when
        it is a boolean mask.
    header : astropy.io.fits.Header, optional
        Header to keep (usually the raw frame's); stale BZERO/BSCALE/BLANK cards are dropped.
    history : str or iterable of str
        HISTORY lines describing the step, e.g. ``"Bias subtracted with master_bias.fits"``.
    inputs : iterable of path-like
        The files the frame was made from; they are named in HISTORY and can never be overwritten.
    overwrite : bool
        Replace an earlier ccdlab output at ``path`` (default True, so re-running is safe).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    PermissionError
        ``path`` is inside a raw-data folder (bias/, flats/, science/, ...), is one of ``inputs``,
        or is an existing file that ccdlab did not write (a raw frame is never replaced).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_frame(Path(tmp) / "master_bias.fits", np.zeros((4, 4)), history="Median of 10 bias frames")
    ...     read_frame(out)[1]["HISTORY"][-1]
    'Median of 10 bias frames'
    """
    path = Path(path)
    inputs = [Path(p) for p in inputs]
    if is_raw_folder(path.parent) or is_raw_folder(path.resolve().parent):
        raise OverwriteRefusedError(
            f"Refusing to write {path.name} into the raw-data folder {path.resolve().parent}: raw folders are "
            "never changed. Write into an output folder such as reduced/ instead."
        )
    target = path.resolve()
    for source in inputs:
        if source.resolve() == target:
            raise OverwriteRefusedError(f"Refusing to overwrite the input frame {source}: choose another output name.")
    if path.exists():
        if not overwrite:
            raise OutputExistsError(f"{path} already exists; pass overwrite=True to replace it.")
        if not _written_by_ccdlab(path):
            raise OverwriteRefusedError(
                f"Refusing to overwrite {path}: it was not written by ccdlab (it may be a raw frame). "
                "Move it away or choose another output name."
            )
    data = validate.image(data, f"frame for {path.name}", error=InputError, cast=False)
    header = fits.Header() if header is None else header.copy()
    for key in _SCALING_KEYS:
        header.remove(key, ignore_missing=True)
    for key in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT"):
        header.remove(key, ignore_missing=True, remove_all=True)
    header[STAMP_KEY] = (__version__, "written by ccdlab")
    lines = [history] if isinstance(history, str) else list(history)
    lines += [f"input: {source.name}" for source in inputs]
    for line in lines:
        for card in history_cards(str(line)):
            header.add_history(card)
    pixels = data.astype(np.uint8) if data.dtype == bool else np.asarray(data, dtype=np.float32)
    hdu = fits.PrimaryHDU(pixels, header=header)
    return atomic_write_hdul(fits.HDUList([hdu]), path, overwrite=True)


#: Header keywords of a celestial WCS that must hold numbers.
WCS_NUMBERS = ("CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2", "CDELT1", "CDELT2", "CD1_1", "CD1_2", "CD2_1", "CD2_2",
               "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CROTA2", "EQUINOX")


def wcs_problems(header: fits.Header) -> list[str]:
    """The WCS keywords of a header that do not hold numbers, each as ``"KEY = 'value'"``.

    A value stored as text that reads as a number (``'12.5'``) is not a problem: astropy and
    :mod:`ccdlab.stack` read it. Text that is no number (``'twelve'``) makes the WCS unusable.

    Examples
    --------
    >>> wcs_problems(fits.Header({"CRVAL1": "twelve", "CRVAL2": "32.5", "CRPIX1": 10.0}))
    ["CRVAL1 = 'twelve'"]
    """
    problems = []
    for key in WCS_NUMBERS:
        if key not in header:
            continue
        value = header[key]
        if isinstance(value, bool):
            problems.append(f"{key} = {value!r}")
        elif isinstance(value, str):
            try:
                float(value)
            except ValueError:
                problems.append(f"{key} = {value!r}")
    return problems

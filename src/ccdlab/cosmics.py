"""Cosmic-ray detection and cleaning with L.A.Cosmic (astroscrappy), in ADU in and ADU out.

``astroscrappy.detect_cosmics`` multiplies the image by the gain and works in electrons: its read
noise and its saturation level are in electrons. Depending on its version, the cleaned image it
returns is in electrons (before 1.1) or back in the input's units (1.1 and later);
:func:`remove_cosmics` checks which, once, and always returns ADU.

Masked pixels (the vignetted corners of a calibrated frame, which are NaN) must not reach the
detector as NaN or as a cliff of zeros: either makes the Laplacian explode along the edge and
flags tens of thousands of "cosmic rays" there. They are replaced by the image's median and passed
to astroscrappy as ``inmask``, so they are neither searched nor used to clean their neighbours,
and they come back exactly as they went in.
"""

from __future__ import annotations

import collections
import functools
import hashlib
from pathlib import Path

import numpy as np

from ccdlab import lacosmic, validate
from ccdlab.errors import CosmicsError, InputError

__all__ = ["SATLEVEL_UNITS", "DEFAULT_OPTIONS", "CosmicsError", "remove_cosmics", "recall_cosmics", "cleaned_in_electrons",
           "keep_results_in", "results_folder"]

#: The units :func:`remove_cosmics` accepts for the saturation level.
SATLEVEL_UNITS = ("e-", "adu")

#: ccdlab's defaults for astroscrappy, where they differ from astroscrappy's own: sigclip 5.0 and
#: sigfrac 0.5 rather than 4.5 and 0.3. Scored pixel by pixel against the simulated nights' known
#: cosmic rays outside the vignetted corners (``bench/reduce.py --sweep``), astroscrappy's defaults
#: give recall 0.986 at precision 0.81 (workshop night); 5.0 / 0.3 0.983 / 0.92; 5.0 / 0.5 0.981 /
#: 0.97, and on the full night 0.969 / 0.971: most false pixels are noise grown onto a hit's rim at
#: 0.3 x 5 = 1.5 sigma. See docs/design.md. Pass ``sigclip=4.5, sigfrac=0.3`` for astroscrappy's.
DEFAULT_OPTIONS = {"sigclip": 5.0, "sigfrac": 0.5}

_UNIT_ALIASES = {"e-": "e-", "e": "e-", "electron": "e-", "electrons": "e-", "adu": "adu", "dn": "adu", "counts": "adu"}
_RESERVED = ("indat", "inmask", "gain", "readnoise", "satlevel")


@functools.lru_cache(maxsize=1)
def cleaned_in_electrons() -> bool:
    """Return True when the installed astroscrappy returns its cleaned image in electrons.

    Checked once on a tiny flat image with gain 4: a cleaned value of 400 (not 100) means
    electrons.

    Examples
    --------
    >>> isinstance(cleaned_in_electrons(), bool)
    True
    """
    import astroscrappy

    probe = np.full((16, 16), 100.0, dtype=np.float32)
    _, cleaned = astroscrappy.detect_cosmics(probe, gain=4.0, readnoise=1.0, satlevel=np.inf, niter=1)
    value = float(np.asarray(cleaned)[8, 8])
    return abs(value - 400.0) < abs(value - 100.0)


_positive = functools.partial(
    validate.positive, error=CosmicsError,
    hint="Use the camera's value (see ccdlab.camera.camera_parameters; the course camera has gain 1.6 e-/ADU, "
         "read noise 14 e-, saturation 96000 e-).",
)


def remove_cosmics(
    data,
    gain: float,
    readnoise: float,
    satlevel: float,
    mask=None,
    *,
    satlevel_unit: str = "e-",
    **astroscrappy_options,
) -> tuple[np.ndarray, np.ndarray]:
    """Find cosmic-ray hits and replace them, with L.A.Cosmic (``astroscrappy.detect_cosmics``).

    The answer is astroscrappy's, pixel for pixel; :func:`ccdlab.lacosmic.detect_cosmics` computes
    it in a quarter to a fifth of the time on a full frame, by recomputing each iteration only where the
    last one changed the image.

    Parameters
    ----------
    data : 2-D array
        A bias-subtracted, flat-fielded frame **in ADU**. NaN pixels are allowed (masked).
    gain : float
        Electrons per ADU (> 0).
    readnoise : float
        Read noise in **electrons** (>= 0).
    satlevel : float
        Saturation level, in the unit named by ``satlevel_unit``. Pixels at or above it, in
        saturated stars, are left alone. ``numpy.inf`` turns the check off.
    mask : 2-D bool array, optional
        True where pixels are bad (e.g. a vignetting mask). Together with NaN pixels they are
        excluded from detection and from cleaning, and returned unchanged.
    satlevel_unit : {'e-', 'adu'}
        Unit of ``satlevel``: electrons (default, like the camera's 96,000 e-) or ADU.
    **astroscrappy_options
        Passed on to ``astroscrappy.detect_cosmics``: ``sigclip`` (5.0 here, see
        :data:`DEFAULT_OPTIONS`; astroscrappy's own default is 4.5), ``sigfrac`` (0.5 here; astroscrappy's is 0.3),
        ``objlim`` (5.0; raise it if star cores are flagged), ``niter`` (4), ``cleantype``...

    Returns
    -------
    crmask : numpy.ndarray of bool
        True on the pixels found to be hit by cosmic rays (never on masked pixels).
    cleaned : numpy.ndarray of float32
        The image in ADU with those pixels replaced by a local mean of their good neighbours;
        masked and NaN pixels as they were.

    Raises
    ------
    CosmicsError
        gain <= 0, negative read noise, saturation <= 0, unknown ``satlevel_unit``, a mask of
        another shape, an image that is not 2-D or has no finite pixel.
    TypeError
        An astroscrappy option that this function sets itself (``gain``, ``inmask``...) was given.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> image = rng.normal(1000.0, 25.0, (64, 64)).astype(np.float32)
    >>> image[20, 30] += 5000.0  # a cosmic-ray hit
    >>> crmask, cleaned = remove_cosmics(image, gain=1.6, readnoise=14.0, satlevel=96000.0)
    >>> bool(crmask[20, 30]), abs(float(cleaned[20, 30]) - 1000.0) < 100.0
    (True, True)
    """
    return _cosmics(data, gain, readnoise, satlevel, mask, satlevel_unit, astroscrappy_options, compute=True)


def recall_cosmics(
    data,
    gain: float,
    readnoise: float,
    satlevel: float,
    mask=None,
    *,
    satlevel_unit: str = "e-",
    **astroscrappy_options,
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`remove_cosmics`'s answer if exactly this call was made before and kept, else None (nothing is run).

    Kept means in this process's memory or in :func:`keep_results_in`'s folder. ``ccdlab reduce``
    asks this first, so frames a lesson already cleaned need no worker process.

    Parameters
    ----------
    data, gain, readnoise, satlevel, mask, satlevel_unit, **astroscrappy_options
        As for :func:`remove_cosmics`.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray) or None
        ``(crmask, cleaned)`` as :func:`remove_cosmics` returns them, or None.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.random.default_rng(3).normal(1000.0, 25.0, (32, 32)).astype(np.float32)
    >>> recall_cosmics(image, 1.6, 14.0, 96000.0) is None
    True
    >>> first = remove_cosmics(image, 1.6, 14.0, 96000.0)
    >>> again = recall_cosmics(image, 1.6, 14.0, 96000.0)
    >>> bool(np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1]))
    True
    """
    return _cosmics(data, gain, readnoise, satlevel, mask, satlevel_unit, astroscrappy_options, compute=False)


def _cosmics(data, gain, readnoise, satlevel, mask, satlevel_unit, astroscrappy_options: dict, compute: bool):
    gain = _positive(gain, "gain", "electrons per ADU")
    readnoise = _positive(readnoise, "readnoise", "electrons", allow_zero=True)
    satlevel = _positive(satlevel, "satlevel", satlevel_unit, allow_inf=True)
    unit = _UNIT_ALIASES.get(str(satlevel_unit).strip().lower())
    if unit is None:
        raise CosmicsError(
            f"remove_cosmics: satlevel_unit must be 'e-' (electrons) or 'adu'; got {satlevel_unit!r}."
        )
    clash = sorted(set(astroscrappy_options) & set(_RESERVED))
    if clash:
        raise InputError(
            f"remove_cosmics sets {', '.join(clash)} itself: pass them as its own arguments "
            "(gain, readnoise, satlevel, mask), not as astroscrappy options."
        )
    image, bad, original = _filled(data, mask)
    satlevel_electrons = satlevel if unit == "e-" else satlevel * gain
    options = {**DEFAULT_OPTIONS, **astroscrappy_options}
    key = _memo_key(image, bad, gain, readnoise, satlevel_electrons, options)
    found = _recall(key, image.size) if key is not None else None
    if found is not None:  # exactly these inputs were cleaned before: the same hits, the same values
        hits, replaced = found
        crmask = np.zeros(image.shape, dtype=bool)
        crmask.reshape(-1)[hits] = True
        image[bad] = original
        image[crmask] = replaced
        return crmask, image
    if not compute:
        return None
    crmask, cleaned = lacosmic.detect_cosmics(
        image, inmask=bad, gain=gain, readnoise=readnoise, satlevel=satlevel_electrons, **options
    )
    crmask, image = _put_back(image, bad, original, crmask, cleaned, gain)
    if key is not None:
        _remember(key, np.flatnonzero(crmask), image[crmask].copy())
    return crmask, image


def _filled(data, mask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A float32 copy of the image with its bad pixels (NaN or masked) set to the median of the rest; the bad pixels; their values."""
    image = np.array(validate.image(data, "image", error=CosmicsError), dtype=np.float32)  # a copy: yours is never changed
    bad = ~np.isfinite(image)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != image.shape:
            raise CosmicsError(
                f"The mask is {mask.shape[::-1]} (x, y) but the image is {image.shape[::-1]}: make the mask "
                "from the master flat of the same camera setup."
            )
        bad |= mask
    if bad.all():
        raise CosmicsError(
            "remove_cosmics: every pixel is masked or NaN, so there is nothing to clean. Check the "
            "calibration (a flat of zeros?) and the mask."
        )
    original = image[bad]
    image[bad] = fill_value(image, bad)
    return image, bad, original


def fill_value(image, bad) -> float:
    """The value masked pixels are given before L.A.Cosmic sees them: the median of the good pixels.

    Examples
    --------
    >>> import numpy as np
    >>> fill_value(np.array([[1.0, 2.0], [3.0, np.nan]], np.float32), np.array([[False, False], [False, True]]))
    2.0
    """
    return float(np.median(np.asarray(image, dtype=np.float32)[~np.asarray(bad, dtype=bool)]))


def _put_back(image: np.ndarray, bad: np.ndarray, original: np.ndarray, crmask, cleaned, gain: float) -> tuple[np.ndarray, np.ndarray]:
    """``(crmask, cleaned)`` in ADU: flagged pixels replaced, bad pixels back as they came in."""
    crmask = np.asarray(crmask, dtype=bool) & ~bad
    replaced = np.asarray(cleaned, dtype=np.float32)[crmask]
    if cleaned_in_electrons():
        replaced /= np.float32(gain)
    # Only flagged pixels change: the rest keep their exact input values (a round trip through
    # electrons, x * gain / gain, would alter the last bit of every pixel).
    image[bad] = original
    image[crmask] = replaced
    return crmask, image


#: The results of the latest L.A.Cosmic runs in this process, by a digest of everything that goes
#: into astroscrappy (pixels, mask, numbers, options): the hits' positions and their new values,
#: a few kB per frame. A notebook and its checks run the same call on the same frame; the second
#: gets the first's answer instead of running L.A.Cosmic again (seconds per frame). With
#: :func:`keep_results_in`, they are also kept on disk for other processes.
_MEMO: "collections.OrderedDict[bytes, tuple[np.ndarray, np.ndarray]]" = collections.OrderedDict()

#: How many results :data:`_MEMO` keeps (the oldest is forgotten first).
_MEMO_SIZE = 16

#: Part of every digest: change it when what is kept, or how ccdlab turns astroscrappy's answer into
#: it, changes, so that results kept on disk by an older ccdlab are not read back.
_MEMO_FORMAT = "ccdlab.cosmics hits v1"


def _memo_key(image: np.ndarray, bad: np.ndarray, gain, readnoise, satlevel, options: dict) -> bytes | None:
    """A digest of one astroscrappy call, or None when an option is not a plain value (then nothing is kept).

    Examples
    --------
    >>> image, bad = np.ones((4, 4), np.float32), np.zeros((4, 4), bool)
    >>> _memo_key(image, bad, 1.6, 14.0, 9.6e4, {"sigclip": 5.0}) == _memo_key(image, bad, 1.6, 14.0, 9.6e4, {"sigclip": 5.0})
    True
    >>> _memo_key(image, bad, 1.6, 14.0, 9.6e4, {"sigclip": 5.0}) == _memo_key(image, bad, 1.6, 14.0, 9.6e4, {"sigclip": 4.5})
    False
    """
    import astroscrappy

    detect = astroscrappy.detect_cosmics
    plain = (bool, int, float, str, type(None), np.integer, np.floating, np.bool_)
    if not all(isinstance(value, plain) for value in options.values()):
        return None
    digest = hashlib.blake2b(digest_size=20)
    numbers = (_MEMO_FORMAT, image.shape, str(image.dtype), float(gain), float(readnoise), float(satlevel),
               sorted((str(k), repr(v)) for k, v in options.items()), astroscrappy.__version__,
               getattr(detect, "__module__", ""), getattr(detect, "__qualname__", repr(detect)), cleaned_in_electrons())
    digest.update(repr(numbers).encode())
    digest.update(memoryview(np.ascontiguousarray(image)).cast("B"))
    digest.update(memoryview(np.ascontiguousarray(bad)).cast("B"))
    return digest.digest()


def _remember(key: bytes, hits: np.ndarray, replaced: np.ndarray) -> None:
    _MEMO[key] = (hits, replaced)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    if _FOLDER is not None:
        from ccdlab.files import atomic_output

        try:
            with atomic_output(_FOLDER / f"{key.hex()}.npz") as part:
                with open(part, "wb") as handle:
                    np.savez(handle, hits=hits.astype(np.int64), replaced=replaced.astype(np.float32))
        except Exception:  # noqa: BLE001 - a result that cannot be kept is only computed again
            pass


def _recall(key: bytes, size: int):
    """``(hits, replaced)`` kept under ``key``, in memory or in :func:`keep_results_in`'s folder; else None."""
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    if _FOLDER is None:
        return None
    try:
        with np.load(_FOLDER / f"{key.hex()}.npz", allow_pickle=False) as kept:
            hits, replaced = np.asarray(kept["hits"], dtype=np.int64), np.asarray(kept["replaced"], dtype=np.float32)
    except Exception:  # noqa: BLE001 - missing or unreadable: run L.A.Cosmic
        return None
    if hits.ndim != 1 or hits.shape != replaced.shape or (hits.size and (hits.min() < 0 or hits.max() >= size)):
        return None
    _MEMO[key] = (hits, replaced)
    return hits, replaced


#: The folder where results are also kept on disk (:func:`keep_results_in`); None: in memory only.
_FOLDER: Path | None = None


def keep_results_in(folder) -> Path | None:
    """Also keep L.A.Cosmic's results on disk, in ``folder``, for the other processes of this course night.

    Each result is a small file (the hits' positions and their new values) named by a digest of
    everything that went into astroscrappy: the pixels, the mask, the gain, read noise, saturation
    and options, and astroscrappy's version. A later call with exactly the same inputs, in any
    process (lesson 07's reduction cleaning the frames lesson 06 cleaned), reads it instead of
    running L.A.Cosmic again; any other input has another name and is computed. The course's
    setup cell turns this on for the data folder's ``reduced/.lacosmic`` (never while grading);
    ``ccdlab.reduce`` passes it on to its workers.

    Parameters
    ----------
    folder : path-like or None
        Where to keep the results; None keeps them in memory only (the default).

    Returns
    -------
    pathlib.Path or None
        The folder used before.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = keep_results_in(tmp)
    ...     keep_results_in(before) == Path(tmp)
    True
    """
    global _FOLDER
    before = _FOLDER
    _FOLDER = Path(folder) if folder is not None else None
    return before


def results_folder() -> Path | None:
    """The folder given to :func:`keep_results_in`, or None (results kept in memory only).

    Examples
    --------
    >>> results_folder() is None or results_folder().name == ".lacosmic"
    True
    """
    return _FOLDER

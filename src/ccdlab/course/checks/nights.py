"""The night a notebook works on, and the reference results every lesson's checks share.

A :class:`Night` computes each reference once, with the package's own functions, on the data in
use (tiny, workshop, full or a real night), and keeps it: the master bias, the flats' screening,
the master flat, the vignetting mask, the camera, a calibrated frame. Every lesson's check module
takes what it needs from here, so no lesson's checks import another's.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ccdlab.errors import DataNotFoundError

__all__ = ["Night", "night", "forget_nights"]


class Night:
    """The data a notebook works on, with the expensive results computed once and kept.

    Parameters
    ----------
    data_dir : path-like
        The data folder (with ``bias/``, ``flats/``, ``science/``): the raw frames the references
        are computed from.
    outputs_dir : path-like, optional
        Where the student's own outputs are (``reduced/``: the files a check of written frames
        reads). Default: ``data_dir/reduced``. The grader points it at the sandbox's folder.
    trust_outputs : bool
        Whether references may reuse ccdlab's own reduction found in the data folder
        (``reduced/ccdlab/``, as lesson 07 does to save minutes). The grader says False: its
        references come from the raw frames alone.
    memo : dict, optional
        A store of kept results to share with another Night of the same raw frames.
    cache_dir : path-like, optional
        A folder where results that are arrays are also kept on disk, for the other processes
        grading the same night (the grader's; never the student's).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Night(tmp).files("bias")
    []
    """

    def __init__(self, data_dir, outputs_dir=None, trust_outputs: bool = True, memo: dict | None = None,
                 cache_dir=None):
        self.data_dir = Path(data_dir)
        self.outputs_dir = Path(outputs_dir) if outputs_dir is not None else self.data_dir / "reduced"
        self.trust_outputs = trust_outputs
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._memo: dict = {} if memo is None else memo

    def sharing(self, outputs_dir) -> "Night":
        """A Night of the same raw frames and kept results, reading the student's outputs elsewhere.

        Examples
        --------
        >>> base = Night("data", trust_outputs=False)
        >>> base.sharing("/tmp/sub/reduced")._memo is base._memo
        True
        """
        return Night(self.data_dir, outputs_dir, self.trust_outputs, self._memo, self.cache_dir)

    def memo(self, key, compute: Callable[[], Any]):
        """Return the value kept under ``key``, computing it once with ``compute()``.

        Examples
        --------
        >>> Night(".").memo("answer", lambda: 42)
        42
        """
        if key not in self._memo:
            self._memo[key] = self._cached(key, compute)
        return self._memo[key]

    def _cached(self, key, compute):
        if self.cache_dir is None:
            return compute()
        import hashlib

        path = self.cache_dir / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".npy")
        if path.is_file():
            try:
                return np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                pass
        value = compute()
        if isinstance(value, np.ndarray) and value.dtype != object:
            from ccdlab.files import atomic_output

            try:
                with atomic_output(path) as part:
                    with open(part, "wb") as handle:
                        np.save(handle, value, allow_pickle=False)
            except Exception:  # noqa: BLE001 - a cache that cannot be written is only slower
                pass
        return value

    @property
    def table(self):
        """The inventory table of the night (:func:`ccdlab.inventory.scan`).

        Examples
        --------
        >>> Night("data").table["name", "frame_type"]  # doctest: +SKIP
        """
        from ccdlab.inventory import scan

        return self.memo("table", lambda: scan(self.data_dir, warn=False))  # the notebook's own scan warns

    def files(self, frame_type: str) -> list[str]:
        """Paths of one frame type, sorted (as the notebooks list them).

        ``frame_type`` is ``'bias'``, ``'flat'`` or ``'science'`` (``'flats'`` is read as
        ``'flat'``).

        Examples
        --------
        >>> Night("data").files("bias")[:1]  # doctest: +SKIP
        ['data/bias/C0_20181013-130440-460.fits']
        """
        from ccdlab.inventory import frames_of_type

        frame_type = {"flats": "flat"}.get(frame_type, frame_type)
        return frames_of_type(self.table, frame_type)

    def first(self, frame_type: str) -> str:
        """The first frame of a type: the one the notebooks open as an example.

        Examples
        --------
        >>> Path(Night("data").first("science")).name  # doctest: +SKIP
        'C0_20181013-145210-144.wcs.fits'
        """
        found = self.files(frame_type)
        if not found:
            raise DataNotFoundError(
                f"No {frame_type} frame in {self.data_dir}: check the data folder with 'ccdlab doctor'."
            )
        return found[0]

    def frame(self, path):
        """``(data, header)`` of a frame (float32, as :func:`ccdlab.io.read_frame`).

        Frames are read each time, not kept: a full-size frame is 67 MB, and what the checks
        need from them (statistics, masters) is kept instead.

        Examples
        --------
        >>> data, header = Night("data").frame("data/bias/C0_20181013-130440-460.fits")  # doctest: +SKIP
        """
        from ccdlab.io import read_frame

        return read_frame(path)

    # --- the shared references --------------------------------------------------------------

    def master_bias(self) -> np.ndarray:
        """The reference master bias: the median of every bias frame (:func:`ccdlab.calibrate.master_bias`).

        Examples
        --------
        >>> night("data").master_bias().shape  # doctest: +SKIP
        (2054, 2048)
        """
        from ccdlab.calibrate import master_bias

        return self.memo("master_bias", lambda: master_bias(self.files("bias"), progress=False))

    def flat_screening(self):
        """The package's verdict on every flat (:func:`ccdlab.calibrate.screen_flats`), a table.

        Examples
        --------
        >>> night("data").flat_screening()["name", "used", "reason"]  # doctest: +SKIP
        """
        from ccdlab.calibrate import screen_flats

        return self.memo("flat_screening", lambda: screen_flats(self.files("flat"), self.master_bias()))

    def master_flat(self) -> np.ndarray:
        """The reference master flat: bias-subtracted, normalised, median-combined, 1 in the centre.

        Examples
        --------
        >>> float(np.median(night("data").master_flat()))  # doctest: +SKIP
        0.97...
        """
        from ccdlab.calibrate import master_flat

        return self.memo("master_flat", lambda: np.asarray(
            master_flat(self.files("flat"), self.master_bias(), progress=False).data))

    def mask(self) -> np.ndarray:
        """The reference vignetting mask: the master flat below 0.8 of its central level.

        Examples
        --------
        >>> float(night("data").mask().mean())  # doctest: +SKIP
        0.27...
        """
        from ccdlab.calibrate import vignetting_mask

        return self.memo("vignetting_mask", lambda: vignetting_mask(self.master_flat(), 0.8))

    def camera(self):
        """The camera's gain, read noise and saturation, from the first science frame's header.

        Examples
        --------
        >>> night("data").camera().describe()  # doctest: +SKIP
        'gain 1.6 e-/ADU (default), read noise 14 e- (default), saturation 96000 e- (default)'
        """
        from ccdlab.camera import camera_parameters
        from ccdlab.errors import CameraWarning

        def compute():
            header = self.frame(self.first("science"))[1]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CameraWarning)
                return camera_parameters(header)

        return self.memo("camera", compute)

    def calibrated(self, path) -> tuple:
        """``(data, header)`` of a science frame calibrated with the references (kept for the first frame).

        Examples
        --------
        >>> data, header = night("data").calibrated(night("data").first("science"))  # doctest: +SKIP
        """
        from ccdlab.calibrate import calibrate_frame

        def compute():
            return calibrate_frame(path, self.master_bias(), self.master_flat(), self.mask())

        if str(path) == str(self.first("science")):
            return self.memo(("calibrated", str(path)), compute)
        return compute()


_NIGHTS: dict[str, Night] = {}


def night(data_dir=None) -> Night:
    """Return the :class:`Night` for the data folder in use (found by :func:`ccdlab.paths.find_data_dir`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     night(tmp) is night(tmp)
    True
    """
    from ccdlab.paths import find_data_dir

    path = find_data_dir(data_dir)
    key = str(path)
    if key not in _NIGHTS:
        _NIGHTS[key] = Night(path)
    return _NIGHTS[key]


def forget_nights() -> None:
    """Forget every kept result (e.g. after the data folder changed).

    Examples
    --------
    >>> forget_nights()
    """
    _NIGHTS.clear()

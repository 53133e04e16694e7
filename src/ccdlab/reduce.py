"""The whole reduction of a night, as one function and one command: ``ccdlab reduce``.

inventory -> master bias -> [master dark, hot pixels] -> master flat(s) -> vignetting mask ->
calibrated science frames (``*.fb.fits``) -> cosmic-ray cleaned frames (``*.proc.fits``), plus a
one-page summary figure and a printed table of what was used, what was rejected and why.

A night with dark frames (typed dark by the inventory: ``darks/``, not the camera test in
``detector/``) gets a dark step: the darks of the longest exposure time, median-combined and
bias-subtracted, make ``master_dark.fits``; it is scaled to each science frame's exposure time
and subtracted after the bias, and the pixels whose dark current is ten times the median's
(``hot_pixels.fits``) are masked. HISTORY and the printed summary say so. A night without darks
is reduced exactly as before.

Outputs go to ``OUT`` (default ``DATA_DIR/reduced``), never into the raw folders; every file is
written atomically, so running again into the same folder is safe. For a science frame
``C0_20181013-130440-460.wcs.fits`` the outputs are ``C0_20181013-130440-460.wcs.fb.fits`` and
``C0_20181013-130440-460.wcs.proc.fits``.

Cosmic-ray cleaning, the slow step (L.A.Cosmic, about 6-10 s per 4096 x 4108 frame with
:mod:`ccdlab.lacosmic`, against 15-35 s with astroscrappy's own loop), runs in ``jobs`` worker
processes, one frame each, with single-threaded OpenMP: measured on the full night, two such
workers beat one process and two workers of two threads each. See docs/reduction.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from tqdm.auto import tqdm

from ccdlab._version import __version__
from ccdlab.calibrate import (
    DEFAULT_MASK_THRESHOLD,
    FLAT_SATURATION_FRACTION,
    calibrate_frame,
    master_bias,
    master_bias_history,
    master_flat,
    screen_biases,
    vignetting_mask,
)
from ccdlab.camera import CameraParameters, camera_parameters
from ccdlab.cosmics import keep_results_in, recall_cosmics, remove_cosmics, results_folder
from ccdlab.darks import DarkCurrent, dark_current, dark_rate, group_by_exposure, hot_pixels, master_dark, scale_dark
from ccdlab.errors import (
    CalibrationError,
    CcdlabWarning,
    CosmicsError,
    FrameError,
    FrameWarning,
    ReductionError,
)
from ccdlab.files import atomic_write_text, file_hash
from ccdlab.inventory import conflicts, describe_conflicts, scan
from ccdlab.inventory import exposure_time as inventory_exposure_time
from ccdlab.io import FITS_SUFFIXES, read_frame, read_header, wcs_problems, write_frame
from ccdlab.parallel import run_in_workers
from ccdlab.paths import RAW_FOLDERS, ensure_dir, find_data_dir, is_raw_folder

__all__ = [
    "ReductionError",
    "ReductionResult",
    "calibrated_saturation",
    "flat_max_level",
    "output_name",
    "reduce",
    "clean_task",
    "RECORD_NAME",
    "write_record",
    "read_record",
]


_OUTPUT_MARKERS = (".fb.fits", ".proc.fits")


def _is_ccdlab_output(row) -> bool:
    """A frame ccdlab wrote (stamped ``CCDLAB``: typed 'reduced'), or a calibrated or cleaned frame by its name."""
    return row["frame_type"] == "reduced" or str(row["name"]).lower().endswith(_OUTPUT_MARKERS)


def output_name(raw_name: str, step: str) -> str:
    """Name of a science frame's output: ``<name>.<step>.fits``, FITS suffix replaced.

    Parameters
    ----------
    raw_name : str
        The raw file's name, e.g. ``C0_20181013-130440-460.wcs.fits`` (or ``.fits.gz``, ``.fz``).
    step : str
        ``'fb'`` (bias- and flat-corrected) or ``'proc'`` (cosmic rays removed too).

    Examples
    --------
    >>> output_name("C0_20181013-130440-460.wcs.fits", "fb")
    'C0_20181013-130440-460.wcs.fb.fits'
    >>> output_name("night1.fits.gz", "proc")
    'night1.proc.fits'
    """
    name = Path(raw_name).name
    lower = name.lower()
    for suffix in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return f"{name}.{step}.fits"


def _safe_filter(filt: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", filt.strip()) or "none"


@dataclass
class ReductionResult:
    """What a reduction did: files written, frames used and rejected (with reasons), numbers.

    Attributes
    ----------
    data_dir, out_dir : pathlib.Path
        Where the raw frames were read and the outputs written.
    camera : CameraParameters
        Gain, read noise, saturation and where each came from.
    frames : astropy.table.Table
        One row per file found: ``name``, ``frame_type``, ``filter``, ``status`` ('used',
        'rejected' or 'ignored'), ``reason``, ``cosmic_pixels`` (-1 when not cleaned), ``output``.
    master_bias : pathlib.Path or None
    master_flats, masks : dict
        ``{filter: path}``.
    mask_fraction : dict
        ``{filter: fraction of pixels masked}``.
    summary_png : pathlib.Path or None
        The one-page summary figure.
    master_dark, hot_pixels : pathlib.Path or None
        The bias-subtracted master dark and the hot-pixel mask, when the night has darks.
    dark_exptime : float or None
        The master dark's exposure time (s).
    dark_current : ccdlab.darks.DarkCurrent or None
        The median pixel's dark current, with its uncertainty.
    n_hot_pixels : int
        Pixels masked as hot.
    notes : list of str
        Warnings met on the way: frames whose header disagrees with their folder, junk header
        values, a single frame...

    Examples
    --------
    >>> result = reduce("data", progress=False)  # doctest: +SKIP
    >>> result.frames[result.frames["status"] == "rejected"]  # doctest: +SKIP
    """

    data_dir: Path
    out_dir: Path
    camera: CameraParameters
    frames: Table
    master_bias: Path | None = None
    master_flats: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)
    mask_fraction: dict = field(default_factory=dict)
    summary_png: Path | None = None
    notes: list = field(default_factory=list)
    master_dark: Path | None = None
    hot_pixels: Path | None = None
    dark_exptime: float | None = None
    dark_current: DarkCurrent | None = None
    n_hot_pixels: int = 0

    def _of(self, status: str, frame_type: str | None = None) -> Table:
        keep = self.frames["status"] == status
        if frame_type is not None:
            keep &= self.frames["frame_type"] == frame_type
        return self.frames[keep]

    @property
    def used(self) -> Table:
        """The frames that went into the reduction."""
        return self._of("used")

    @property
    def rejected(self) -> Table:
        """The frames left out, with the reason."""
        return self._of("rejected")

    @property
    def calibrated(self) -> list[Path]:
        """The ``*.fb.fits`` files written."""
        return [self.out_dir / output_name(n, "fb") for n in self._of("used", "science")["name"]]

    @property
    def cleaned(self) -> list[Path]:
        """The ``*.proc.fits`` files written."""
        sci = self._of("used", "science")
        return [self.out_dir / output_name(n, "proc") for n, c in zip(sci["name"], sci["cosmic_pixels"]) if c >= 0]

    @property
    def cosmic_pixels(self) -> dict[str, int]:
        """``{science frame name: pixels flagged as cosmic rays}``."""
        sci = self._of("used", "science")
        return {str(n): int(c) for n, c in zip(sci["name"], sci["cosmic_pixels"]) if c >= 0}

    def report(self) -> str:
        """The printed summary: frames per type, rejections with reasons, mask, cosmic rays, camera.

        Examples
        --------
        >>> print(result.report())  # doctest: +SKIP
        """
        lines = [f"ccdlab reduce: {self.data_dir} -> {self.out_dir}", ""]
        lines.append(f"{'frame type':<12}{'found':>7}{'used':>7}{'rejected':>10}{'ignored':>9}")
        for kind in ("bias", "flat", "science", "dark", "unknown"):
            rows = self.frames[self.frames["frame_type"] == kind]
            if len(rows) == 0:
                continue
            count = Counter(str(s) for s in rows["status"])
            lines.append(f"{kind:<12}{len(rows):>7}{count['used']:>7}{count['rejected']:>10}{count['ignored']:>9}")
        left_out = self.frames[self.frames["status"] != "used"]
        if len(left_out):
            lines += ["", "Not used:"]
            for row in left_out:
                lines.append(f"  {row['name']} ({row['frame_type']}, {row['status']}): {row['reason']}")
        lines.append("")
        if self.master_bias is not None:
            lines.append(f"Master bias: {self.master_bias.name}")
        if self.master_dark is not None:
            lines.append(self.dark_summary())
        for filt, path in self.master_flats.items():
            fraction = self.mask_fraction.get(filt, math.nan)
            mask = self.masks.get(filt)
            lines.append(
                f"Master flat [{filt or 'no filter'}]: {path.name}; mask {mask.name if mask else '-'} "
                f"covers {100 * fraction:.1f}% of the pixels"
            )
        cosmics = self.cosmic_pixels
        if cosmics:
            lines += ["", f"{'science frame':<44}{'cosmic-ray pixels':>18}"]
            for name, count in cosmics.items():
                lines.append(f"{name:<44}{count:>18,d}")
        lines += ["", f"Camera: {self.camera.describe()}"]
        for note in self.notes:
            lines.append(f"Note: {note}")
        if self.summary_png is not None:
            lines.append(f"Summary figure: {self.summary_png}")
        return "\n".join(lines)

    def dark_summary(self) -> str:
        """One line on the dark step: the master dark, its scaling, the dark current, the hot pixels.

        Examples
        --------
        >>> print(result.dark_summary())  # doctest: +SKIP
        Master dark: master_dark.fits (5 darks of 300 s, bias-subtracted), scaled to each science frame's ...
        """
        if self.master_dark is None:
            return "No dark frames: no dark step."
        used = int(np.sum((self.frames["frame_type"] == "dark") & (self.frames["status"] == "used")))
        current = self.dark_current
        rate = ""
        if current is not None and math.isfinite(current.e_per_s):
            rate = f"; dark current {current.e_per_s:.3g} +/- {current.error_e_per_s:.2g} e-/s/pixel"
        return (f"Master dark: {self.master_dark.name} ({used} darks of {self.dark_exptime:g} s, bias-subtracted), "
                f"scaled to each science frame's exposure time and subtracted{rate}; "
                f"{self.n_hot_pixels} hot pixels masked ({self.hot_pixels.name if self.hot_pixels else '-'})")

    def __str__(self) -> str:
        return self.report()


def calibrated_saturation(satlevel: float, master_flat, mask=None) -> float:
    """The saturation level to use on a flat-fielded frame, in the same unit as ``satlevel``.

    A pixel saturated in the raw frame reads ``satlevel / flat`` after flat-fielding: where the
    flat is above 1 that falls *below* the camera's saturation, and L.A.Cosmic would no longer know
    the star core is saturated (and could flag it). Dividing by the brightest flat pixel in the
    field keeps every saturated pixel at or above the level used; only pixels within a few per cent
    of saturation are treated as saturated too, which is the safe side.

    Parameters
    ----------
    satlevel : float
        The camera's saturation (e.g. 96000 e-).
    master_flat : 2-D array or MasterFlat
        The normalised master flat the frame was divided by.
    mask : 2-D bool array, optional
        Pixels left out of the science frames (the vignetted corners); ignored here.

    Examples
    --------
    >>> import numpy as np
    >>> round(calibrated_saturation(96000.0, np.array([[0.5, 1.0], [1.02, 1.04]])), 1)
    92307.7
    """
    flat = np.asarray(master_flat, dtype=float)
    usable = np.isfinite(flat) if mask is None else np.isfinite(flat) & ~np.asarray(mask, dtype=bool)
    peak = float(np.max(flat[usable])) if usable.any() else 1.0
    return float(satlevel) / max(peak, 1.0)


def flat_max_level(camera: CameraParameters) -> float:
    """The brightest usable flat for a camera, in ADU above bias: 0.75 x its saturation in ADU.

    Above it a flat is saturated or no longer linear (see
    :data:`ccdlab.calibrate.FLAT_SATURATION_FRACTION`).

    Examples
    --------
    >>> from ccdlab.camera import camera_parameters
    >>> flat_max_level(camera_parameters())  # the course camera: 96,000 e- / 1.6 e-/ADU
    45000.0
    >>> flat_max_level(camera_parameters(gain=2.0, satlevel=80000))
    30000.0
    """
    return FLAT_SATURATION_FRACTION * camera.satlevel_adu


def _flat_reason(reason: str, camera: CameraParameters) -> str:
    """A flat's rejection reason, saying where the saturation limit comes from."""
    if not reason.startswith("saturated"):
        return reason
    return (f"{reason} ADU, the limit: {FLAT_SATURATION_FRACTION:g} x the camera's saturation "
            f"({camera.satlevel:g} e- = {camera.satlevel_adu:.0f} ADU)")


def _clean_one(fb_path: str, proc_path: str, gain: float, readnoise: float, satlevel: float, options: dict,
               camera_satlevel: float | None = None, recall_only: bool = False) -> int | None:
    """Clean one calibrated frame and write its ``.proc.fits``; return the cosmic-ray pixel count.

    With ``recall_only``, only from L.A.Cosmic's kept results (:func:`ccdlab.cosmics.recall_cosmics`):
    None, and nothing written, when this frame's are not kept.
    """
    data, header = read_frame(fb_path)
    if recall_only:
        found = recall_cosmics(data, gain, readnoise, satlevel, satlevel_unit="e-", **options)
        if found is None:
            return None
        crmask, cleaned = found
    else:
        crmask, cleaned = remove_cosmics(data, gain, readnoise, satlevel, satlevel_unit="e-", **options)
    return _write_cleaned(fb_path, proc_path, cleaned, header, int(crmask.sum()), gain, readnoise, satlevel,
                          camera_satlevel)


def _write_cleaned(fb_path: str, proc_path: str, cleaned, header, count: int, gain: float, readnoise: float,
                   satlevel: float, camera_satlevel: float | None) -> int:
    """Write a cleaned frame's ``.proc.fits`` with what was done in its header; return the count."""
    header["NCOSMIC"] = (count, "pixels flagged as cosmic rays by ccdlab")
    history = (  # write_frame splits it into cards
        f"ccdlab: cosmic rays removed (astroscrappy L.A.Cosmic): {count} pixels; "
        f"gain {gain:g} e-/ADU, read noise {readnoise:g} e-, saturation {camera_satlevel or satlevel:g} e- "
        f"({satlevel:.0f} e- after flat-fielding)"
    )
    write_frame(proc_path, cleaned, header, history=history, inputs=[fb_path])
    return count


def _write_mask(path: Path, mask: np.ndarray, filt: str, threshold: float) -> Path:
    """Write a vignetting mask as 8-bit integers (1 = masked), with what made it."""
    header = fits.Header()
    header["FILTER"] = filt
    header["MASKTHR"] = (threshold, "pixels below this fraction of the central flat")
    return write_frame(path, np.asarray(mask, dtype=bool), header, history="1 = masked (vignetted or dead), 0 = good")


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError, RuntimeError):  # not below it, or a link loop (the inventory names it)
        return False


def _check_output_folder(out_dir: Path, data_dir: Path) -> None:
    """Refuse an output folder that is a raw folder or lies inside one of the night's raw folders."""
    if is_raw_folder(out_dir):
        raise ReductionError(
            f"The output folder {out_dir} is a raw-data folder; ccdlab never writes there. Choose "
            f"another one, e.g. --out {data_dir / 'reduced'}."
        )
    if _inside(out_dir, data_dir):
        inner = out_dir.resolve().relative_to(data_dir.resolve()).parts
        for depth, name in enumerate(inner):
            if is_raw_folder(name):
                raw = data_dir.joinpath(*inner[: depth + 1])
                raise ReductionError(
                    f"The output folder {out_dir} is inside the raw-data folder {raw}; ccdlab never writes "
                    f"there. Choose another one, e.g. --out {data_dir / 'reduced'}."
                )


def _frames_table(data_dir: Path, out_dir: Path) -> Table:
    exclude = ["reduced", "truth", "detector"]
    if _inside(out_dir, data_dir) and out_dir.resolve() != data_dir.resolve():
        exclude.append(out_dir.name)
    table = scan(data_dir, exclude=tuple(exclude), warn=False)  # the notes report conflicts
    keep = [not _inside(Path(p), out_dir) or out_dir.resolve() == data_dir.resolve() for p in table["path"]]
    table = table[np.array(keep, dtype=bool)] if len(table) else table
    frames = Table()
    frames["name"] = [str(n) for n in table["name"]] if len(table) else np.array([], dtype=str)
    frames["frame_type"] = [str(t) for t in table["frame_type"]] if len(table) else np.array([], dtype=str)
    frames["filter"] = [str(f) for f in table["filter"]] if len(table) else np.array([], dtype=str)
    frames["status"] = np.array(["used"] * len(table), dtype="U8")
    frames["reason"] = np.array([""] * len(table), dtype=object)
    frames["cosmic_pixels"] = np.full(len(table), -1, dtype=int)
    frames["output"] = np.array([""] * len(table), dtype=object)
    frames["path"] = [str(p) for p in table["path"]] if len(table) else np.array([], dtype=str)
    frames["shape"] = [(int(a), int(b)) for a, b in zip(table["naxis2"], table["naxis1"])] if len(table) else []
    frames["note"] = [str(n) for n in table["note"]] if len(table) else np.array([], dtype=str)
    frames["conflict"] = np.array([bool(c) for c in table["conflict"]], dtype=bool)
    frames["problem"] = [str(p) for p in table["problem"]] if len(table) else np.array([], dtype=str)
    return frames


def _set(frames: Table, index: int, status: str, reason: str = "") -> None:
    frames["status"][index] = status
    frames["reason"][index] = reason


#: The completion record of a reduction, written last: its absence means the outputs are incomplete.
RECORD_NAME = "reduction.json"


def reduce(
    data_dir=None,
    out=None,
    *,
    gain: float | None = None,
    readnoise: float | None = None,
    satlevel: float | None = None,
    jobs: int | None = None,
    progress: bool = True,
    mask_threshold: float = DEFAULT_MASK_THRESHOLD,
    cosmic_options: dict | None = None,
    summary=False,
    verbose: bool = True,
) -> ReductionResult:
    """Reduce a night: masters, mask, calibrated and cosmic-ray cleaned science frames.

    Parameters
    ----------
    data_dir : path-like, optional
        The night's folder (bias/, flats/, science/ or any layout the inventory can type);
        by default the course data folder (:func:`ccdlab.paths.find_data_dir`).
    out : path-like, optional
        Output folder; default ``data_dir/reduced``. Must not be a raw folder nor inside one. It
        is created only once the night is known to hold bias, flat and science frames.
    gain, readnoise, satlevel : float, optional
        Camera values (e-/ADU, e-, e-). By default from the headers when plausible, else the
        course camera's 1.6 e-/ADU, 14 e-, 96,000 e- (see :mod:`ccdlab.camera`). The saturation
        also sets the brightest usable flat (:func:`flat_max_level`).
    jobs : int, optional
        Worker processes for cosmic-ray cleaning; default: one per core.
    progress : bool
        Show progress bars.
    mask_threshold : float
        Pixels below this fraction of the central flat are masked (default 0.8).
    cosmic_options : dict, optional
        Extra astroscrappy options (``sigclip``, ``objlim``...).
    summary : callable or bool
        A function ``summary(result, path) -> path`` that draws the summary picture into
        ``reduction_summary.png`` (``ccdlab reduce`` passes :func:`ccdlab.display.summary.save_summary`);
        False (default) draws nothing.
    verbose : bool
        Print the summary table at the end.

    Returns
    -------
    ReductionResult

    Raises
    ------
    ccdlab.errors.ReductionError
        ``data_dir`` is itself a raw folder (pass its parent); ``out`` is a raw folder, inside
        one, or the data folder itself; ``jobs`` < 1; no bias, flat or science frames were
        found, or no bias frame passes :func:`ccdlab.calibrate.screen_biases` (then nothing is
        created, not even ``out``); no usable flat; or a master flat without positive pixels.
    ccdlab.errors.CcdlabError
        Any other bad input (unreadable frames, impossible camera values...).

    Notes
    -----
    ``reduction.json`` (:data:`RECORD_NAME`) is written first as incomplete and last as complete,
    with every output and its checksum: ``ccdlab doctor`` tells an interrupted reduction.

    Examples
    --------
    >>> result = reduce("data", out="data/reduced", progress=False)  # doctest: +SKIP
    >>> result.cosmic_pixels  # doctest: +SKIP
    """
    if summary is True:
        raise ReductionError("reduce(summary=True) needs the drawing function: pass "
                             "summary=ccdlab.display.summary.save_summary, or run 'ccdlab reduce'.")
    data_dir = find_data_dir(data_dir)  # absolute, links resolved
    if is_raw_folder(data_dir) and not any((data_dir / name).is_dir() for name in RAW_FOLDERS):
        raise ReductionError(
            f"{data_dir} is a raw folder: pass the folder that holds bias/, flats/ and science/ "
            f"(its parent, {data_dir.parent})."
        )
    out_dir = Path(out).expanduser().resolve() if out is not None else data_dir / "reduced"
    _check_output_folder(out_dir, data_dir)
    if jobs is not None and (not isinstance(jobs, (int, np.integer)) or jobs < 1):
        raise ReductionError(f"jobs must be a whole number of processes, 1 or more; got {jobs!r}.")
    notes: list[str] = []
    frames = _sorted_frames(data_dir, out_dir, notes)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CcdlabWarning)
        header = read_header(frames["path"][_rows(frames, "science")[0]])  # camera values from the first science frame
        camera = camera_parameters(header, gain=gain, readnoise=readnoise, satlevel=satlevel)
        screening = _screen_biases(frames, data_dir)  # before anything is written
        ensure_dir(out_dir)
        _write_record(out_dir, {"complete": False, "data_dir": str(data_dir)})  # incomplete until the end
        bias, bias_path = _master_bias(frames, screening, out_dir, progress)
        dark = _master_dark(frames, bias, bias_path, camera, out_dir, progress, notes)
        flats = _master_flats(frames, bias, bias_path, camera, out_dir, mask_threshold, progress, notes)
        to_clean = _calibrate_science(frames, bias, bias_path, flats, camera, out_dir, mask_threshold, progress, dark)
        _clean_all(frames, to_clean, out_dir, camera, dict(cosmic_options or {}), jobs, progress)
    _keep_notes(caught, notes)

    result = ReductionResult(
        data_dir=data_dir, out_dir=out_dir, camera=camera, frames=frames, master_bias=bias_path,
        master_flats={f: v["flat_path"] for f, v in flats.items()}, masks={f: v["mask_path"] for f, v in flats.items()},
        mask_fraction={f: float(v["mask"].mean()) for f, v in flats.items()}, notes=notes,
    )
    if dark is not None:
        result.master_dark, result.hot_pixels = dark["path"], dark["hot_path"]
        result.dark_exptime, result.dark_current = dark["exptime"], dark["current"]
        result.n_hot_pixels = int(dark["hot"].sum())
    if summary:  # drawn while a thread checksums the outputs (hashlib works outside the GIL)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            hashes = pool.submit(_output_hashes, result)
            result.summary_png = summary(result, out_dir / "reduction_summary.png")
            write_record(result, hashes.result())
    else:
        write_record(result)
    if verbose:
        print(result.report())
    return result


def _rows(frames: Table, kind: str) -> list[int]:
    return [i for i in range(len(frames)) if frames["frame_type"][i] == kind and frames["status"][i] == "used"]


def _sorted_frames(data_dir: Path, out_dir: Path, notes: list) -> Table:
    """The frames table with what each file is for; raise when the night lacks bias, flats or science."""
    frames = _frames_table(data_dir, out_dir)
    if len(frames) == 0:
        raise ReductionError(
            f"No FITS frames found in {data_dir}. Put the raw frames in bias/, flats/ and science/ "
            "(create the course data with: python data_fetch.py)."
        )
    disagree = len(conflicts(frames))
    if disagree:
        notes.append(
            f"the header disagrees with the folder for {disagree} frame{'s' if disagree != 1 else ''} "
            f"(typed as the note says): {describe_conflicts(frames, limit=10)}"
        )
    for i, row in enumerate(frames):
        if row["problem"]:
            _set(frames, i, "rejected", str(row["note"]))
        elif _is_ccdlab_output(row):
            _set(frames, i, "ignored", "a ccdlab output, not a raw frame")
        elif row["frame_type"] == "unknown":
            _set(frames, i, "rejected", str(row["note"]) or "frame type unknown")
    needs = {
        "bias": "a reduction needs them. Put them in a bias/ folder (IMAGETYP 'bias', 'zero', or a ~0 s 'dark')",
        "flat": "a reduction needs them. Put them in a flats/ folder (IMAGETYP 'flat', 'skyflat'...)",
        "science": "there is nothing to calibrate. Put them in a science/ folder (IMAGETYP 'object', 'light'...)",
    }
    for kind, what in needs.items():
        if not _rows(frames, kind):
            label = "flat" if kind == "flat" else kind
            raise ReductionError(f"No {label} frames found in {data_dir}: {what}; inventory.scan() shows how each file was typed.")
    return frames


def _screen_biases(frames: Table, data_dir: Path) -> Table:
    rows = _rows(frames, "bias")
    screening = screen_biases([frames["path"][i] for i in rows])
    for i, screened in zip(rows, screening):
        if not screened["used"]:
            _set(frames, i, "rejected", str(screened["reason"]))
    if not _rows(frames, "bias"):
        shown = "; ".join(f"{r['name']}: {r['reason']}" for r in screening[:3])
        raise ReductionError(
            f"No usable bias frame among the {len(screening)} in {data_dir} ({shown}): put real bias "
            "frames (~0 s exposures, IMAGETYP 'bias') in bias/."
        )
    return screening


def _master_bias(frames: Table, screening: Table, out_dir: Path, progress: bool):
    rows = _rows(frames, "bias")
    paths = [frames["path"][i] for i in rows]
    bias = master_bias(paths, progress=progress)
    path = write_frame(out_dir / "master_bias.fits", bias, history=master_bias_history(screening), inputs=paths)
    for i in rows:
        frames["output"][i] = path.name
    return bias, path


def _master_dark(frames: Table, bias, bias_path: Path, camera: CameraParameters, out_dir: Path, progress: bool,
                 notes: list) -> dict | None:
    """The dark step: master dark from the longest darks, hot pixels, dark current; None without darks."""
    rows = _rows(frames, "dark")
    if not rows:
        return None
    usable = []
    for i in rows:
        exptime = inventory_exposure_time(read_header(frames["path"][i]))
        if tuple(frames["shape"][i]) != bias.shape:
            ny, nx = frames["shape"][i]
            _set(frames, i, "rejected", f"a dark of {nx} x {ny} pixels, unlike the bias frames "
                                        f"({bias.shape[1]} x {bias.shape[0]}): another readout")
        elif not (math.isfinite(exptime) and exptime > 0):
            _set(frames, i, "rejected", "a dark without EXPTIME: it cannot be scaled to the science frames")
        else:
            usable.append(i)
    if not usable:
        notes.append("no dark frame of the bias frames' size: no dark step")
        return None
    by_path = {frames["path"][i]: i for i in usable}
    groups = group_by_exposure(list(by_path))
    exptime = max(groups)
    chosen = groups[exptime]
    for time, paths in groups.items():
        if time != exptime:
            for path in paths:
                _set(frames, by_path[path], "ignored",
                     f"a {time:g} s dark: the master dark is made of the {len(chosen)} darks of {exptime:g} s (the longest)")
    master = master_dark(chosen, bias, progress=progress)
    header = fits.Header()
    header["EXPTIME"] = (exptime, "exposure time of the darks combined (s)")
    header["BUNIT"] = ("adu", "bias-subtracted dark signal of one exposure")
    history = [f"ccdlab: median of {len(chosen)} darks of {exptime:g} s, minus {bias_path.name}",
               "ccdlab: bias-subtracted: scale by exposure time before subtracting"]
    path = write_frame(out_dir / "master_dark.fits", master, header, history=history, inputs=chosen)
    hot = hot_pixels(dark_rate(master, exptime, camera.gain))
    hot_header = fits.Header()
    hot_header["EXPTIME"] = (exptime, "exposure time of the master dark (s)")
    hot_path = write_frame(out_dir / "hot_pixels.fits", hot, hot_header,
                           history=f"1 = hot: dark current above 10 x the median pixel's (from {path.name})")
    bias_files = [frames["path"][i] for i in _rows(frames, "bias")]
    current = dark_current(list(by_path), bias, bias_frames=bias_files, gain=camera.gain)
    for i in usable:
        if frames["status"][i] == "used":
            frames["output"][i] = path.name
    return {"master": master, "path": path, "exptime": exptime, "hot": hot, "hot_path": hot_path, "current": current}


def _master_flats(frames: Table, bias, bias_path: Path, camera: CameraParameters, out_dir: Path,
                  mask_threshold: float, progress: bool, notes: list) -> dict:
    """One master flat and mask per filter: ``{filter: {"flat", "flat_path", "mask", "mask_path"}}``."""
    by_filter: dict[str, list[int]] = {}
    for i in _rows(frames, "flat"):
        by_filter.setdefault(str(frames["filter"][i]), []).append(i)
    several = len(by_filter) > 1
    made = {}
    for filt, rows in sorted(by_filter.items()):
        paths = [frames["path"][i] for i in rows]
        try:
            flat = master_flat(paths, bias, filter=filt, max_level=flat_max_level(camera), progress=progress)
        except CalibrationError as exc:
            for i in rows:
                _set(frames, i, "rejected", f"no usable flat in this filter: {exc}")
            notes.append(f"no master flat for filter {filt or 'none'}: {exc}")
            continue
        for i, screened in zip(rows, flat.screening):
            if not screened["used"]:
                _set(frames, i, "rejected", _flat_reason(str(screened["reason"]), camera))
        suffix = f"_{_safe_filter(filt)}" if several else ""
        flat_path = write_frame(
            out_dir / f"master_flat{suffix}.fits", flat.data,
            header=fits.Header({"FILTER": filt}), history=flat.history(bias_path.name), inputs=flat.used,
        )
        if not np.any(np.asarray(flat.data) > 0):
            raise ReductionError(
                f"The master flat {flat_path} has no positive pixels (all NaN or <= 0), so no science "
                f"frame can be divided by it: look at it, and check the flats and the master bias "
                "(calibrate.screen_flats() shows each flat's level)."
            )
        mask = vignetting_mask(flat, threshold=mask_threshold)
        mask_path = _write_mask(out_dir / f"mask{suffix}.fits", mask, filt, mask_threshold)
        for i, screened in zip(rows, flat.screening):
            if screened["used"]:
                frames["output"][i] = flat_path.name
        made[filt] = {"flat": flat, "flat_path": flat_path, "mask": mask, "mask_path": mask_path}
    if not made:
        raise ReductionError(
            f"No usable flat among the flats: {'; '.join(notes)}. Take new flats or check their headers."
        )
    return made


def _calibrate_science(frames: Table, bias, bias_path: Path, flats: dict, camera: CameraParameters, out_dir: Path,
                       mask_threshold: float, progress: bool, dark: dict | None = None):
    """Write every science frame's ``*.fb.fits``, yielding ``(row, fb path, saturation after flat, shape)`` as each is written."""
    several = len(flats) > 1
    lookup = {filt.strip().lower(): filt for filt in flats}
    for i in tqdm(_rows(frames, "science"), desc="calibrate", unit="frame", disable=not progress, leave=False):
        filt = str(frames["filter"][i])
        key = lookup.get(filt.strip().lower())
        if key is None and len(flats) == 1 and not several and (not filt or not next(iter(flats))):
            key = next(iter(flats))
        if key is None:
            _set(frames, i, "rejected", f"no master flat in filter {filt or 'none'} (flats: {', '.join(sorted(flats)) or 'none'})")
            continue
        made = flats[key]
        path = Path(frames["path"][i])
        names = {"bias": bias_path.name, "flat": made["flat_path"].name, "mask": made["mask_path"].name}
        mask, scaled = made["mask"], None
        if dark is not None:
            exptime = inventory_exposure_time(read_header(path))
            if not math.isfinite(exptime) or exptime < 0:
                _set(frames, i, "rejected", "no EXPTIME: the master dark cannot be scaled to this frame")
                continue
            scaled = scale_dark(dark["master"], dark["exptime"], exptime)
            names["dark"] = f"{dark['path'].name} x {exptime / dark['exptime']:.4g} ({dark['exptime']:g} s to {exptime:g} s)"
            names["mask"] = f"{made['mask_path'].name} and {dark['hot_path'].name} ({int(dark['hot'].sum())} hot pixels)"
            mask = made["mask"] | dark["hot"]
        try:
            data, hdr = calibrate_frame(path, bias, made["flat"], mask, names=names, mask_threshold=mask_threshold,
                                        dark=scaled)
        except (CalibrationError, FrameError) as exc:
            _set(frames, i, "rejected", str(exc))
            continue
        broken = wcs_problems(hdr)
        if broken:
            warnings.warn(f"{path}: the WCS keyword{'s' if len(broken) > 1 else ''} {', '.join(broken)} "
                          f"{'are' if len(broken) > 1 else 'is'} not a number, so the WCS copied into its outputs is "
                          "unusable (stacking cannot align it): fix the header, or plate-solve the frame again.",
                          FrameWarning, stacklevel=2)
        fb_path = write_frame(out_dir / output_name(path.name, "fb"), data, hdr, inputs=[path])
        frames["output"][i] = fb_path.name
        shape = data.shape
        del data  # not held while the frame is cleaned
        yield i, fb_path, calibrated_saturation(camera.satlevel, made["flat"], made["mask"]), shape


def _keep_notes(caught, notes: list) -> None:
    """ccdlab's warnings become notes of the result; anything else is passed on unchanged."""
    for warning in caught:
        if issubclass(warning.category, CcdlabWarning):
            message = str(warning.message)
            if message not in notes:
                notes.append(message)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def _write_record(out_dir: Path, content: dict) -> Path:
    record = {"format": 1, "generator": "ccdlab.reduce", "ccdlab_version": __version__, **content}
    return atomic_write_text(out_dir / RECORD_NAME, json.dumps(record, indent=1, sort_keys=True) + "\n")


def _output_hashes(result: ReductionResult) -> dict:
    """``{file name: SHA-256}`` of every output of a reduction (what :func:`write_record` lists)."""
    outputs = sorted({str(name) for name in result.frames["output"] if str(name)}
                     | {p.name for p in [*result.master_flats.values(), *result.masks.values()]}
                     | ({result.hot_pixels.name} if result.hot_pixels is not None else set()))
    return {name: file_hash(result.out_dir / name) for name in outputs if (result.out_dir / name).is_file()}


def write_record(result: ReductionResult, hashes: dict | None = None) -> Path:
    """Write ``reduction.json`` as complete, listing every output and its SHA-256 (the last file written).

    ``hashes`` (``{file name: SHA-256}``), when given, are the outputs' checksums already computed.

    A reduction starts by writing the record with ``"complete": false``, so one that is interrupted
    leaves that behind, and ``ccdlab doctor`` says so.

    Examples
    --------
    >>> write_record(result).name  # doctest: +SKIP
    'reduction.json'
    """
    entries = _output_hashes(result) if hashes is None else hashes
    content = {
        "complete": True, "data_dir": str(result.data_dir),
        "camera": {"gain": result.camera.gain, "readnoise": result.camera.readnoise, "satlevel": result.camera.satlevel},
        "frames": {"used": len(result.used), "rejected": len(result.rejected)}, "outputs": entries,
    }
    if result.master_dark is not None:
        current = result.dark_current
        content["dark"] = {
            "master_dark": result.master_dark.name, "exptime": result.dark_exptime, "hot_pixels": result.n_hot_pixels,
            "dark_current_e_per_s": current.e_per_s if current is not None else None,
            "dark_current_error_e_per_s": current.error_e_per_s if current is not None else None,
        }
    return _write_record(result.out_dir, content)


def read_record(out_dir) -> dict | None:
    """The completion record of the reduction in ``out_dir``, or None when it is missing or unreadable.

    Examples
    --------
    >>> read_record("no-such-folder") is None
    True
    """
    try:
        return json.loads((Path(out_dir) / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _clean_all(frames: Table, to_clean, out_dir: Path, camera: CameraParameters, options: dict, jobs, progress: bool) -> None:
    to_clean = list(to_clean)  # every frame calibrated first
    if not to_clean:
        return
    jobs = min(jobs or os.cpu_count() or 1, len(to_clean))
    kept = results_folder()  # where this process keeps L.A.Cosmic's results: the workers too
    tasks = [_clean_task_of(frames, i, fb_path, satlevel, out_dir, camera, options, kept)
             for i, fb_path, satlevel, _ in to_clean]
    bar = tqdm(total=len(tasks), desc="cosmic rays", unit="frame", disable=not progress, leave=False)
    try:
        if kept is not None and jobs > 1:  # frames whose L.A.Cosmic results are kept need no worker process
            waiting = []
            for task in tasks:
                outcome = clean_task({**task, "recall_only": True})
                if outcome.get("missing"):
                    waiting.append(task)
                    continue
                _record_clean(frames, task, outcome)
                bar.update()
            tasks, jobs = waiting, min(jobs, len(waiting))
            if not tasks:
                return
        if jobs == 1 or os.name == "nt":
            for task in tasks:
                _record_clean(frames, task, clean_task(task))
                bar.update()
        else:
            for task, outcome in run_in_workers(tasks, jobs, "ccdlab.reduce:clean_task"):
                if outcome.get("retry"):  # no worker could take it: clean it here instead
                    outcome = clean_task(task)
                _record_clean(frames, task, outcome)
                bar.update()
    finally:
        bar.close()


def _clean_task_of(frames: Table, i: int, fb_path: Path, satlevel: float, out_dir: Path, camera: CameraParameters,
                   options: dict, kept=None) -> dict:
    proc = out_dir / output_name(frames["name"][i], "proc")
    return {"index": int(i), "fb": str(fb_path), "proc": str(proc),
            "args": [camera.gain, camera.readnoise, satlevel, options, camera.satlevel],
            "kept": str(kept) if kept is not None else None}


def clean_task(task: dict) -> dict:
    """Clean one frame (a task of :func:`ccdlab.parallel.run_in_workers`); failures come back as ``{"error": message}``.

    Examples
    --------
    >>> clean_task({"fb": "missing.fb.fits", "proc": "x.proc.fits", "args": [1.6, 14, 9e4, {}]})["error"][:7]
    'missing'
    """
    if task.get("kept"):
        keep_results_in(task["kept"])
    try:
        count = _clean_one(task["fb"], task["proc"], *task["args"], recall_only=bool(task.get("recall_only")))
    except (CosmicsError, FrameError, OSError) as exc:
        return {"error": str(exc)}
    return {"missing": True} if count is None else {"count": count}


def _record_clean(frames: Table, task: dict, outcome: dict) -> None:
    i = task["index"]
    if "error" in outcome:
        _set(frames, i, "rejected", f"cosmic-ray cleaning failed: {outcome['error']}")
        return
    frames["cosmic_pixels"][i] = int(outcome["count"])
    frames["output"][i] = Path(task["proc"]).name



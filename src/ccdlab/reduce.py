"""The whole reduction of a night, as one function and one command: ``ccdlab reduce``.

inventory -> master bias -> master flat(s) -> vignetting mask -> calibrated science frames
(``*.fb.fits``) -> cosmic-ray cleaned frames (``*.proc.fits``), plus a one-page summary figure and
a printed table of what was used, what was rejected and why.

Outputs go to ``OUT`` (default ``DATA_DIR/reduced``), never into the raw folders; every file is
written atomically, so running again into the same folder is safe. For a science frame
``C0_20181013-130440-460.wcs.fits`` the outputs are ``C0_20181013-130440-460.wcs.fb.fits`` and
``C0_20181013-130440-460.wcs.proc.fits``.

Cosmic-ray cleaning, the slow step (about 15 s per 4096 x 4108 frame), runs in ``jobs`` worker
processes, one frame each. Processes rather than threads: astroscrappy holds the GIL for much of
its work (measured: 2 threads gain little), and its OpenMP parts are a small share of the time, so
each worker runs single-threaded OpenMP and the workers share the cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import selectors
import subprocess
import sys
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from tqdm.auto import tqdm

from .calibrate import (
    DEFAULT_MASK_THRESHOLD,
    FLAT_SATURATION_FRACTION,
    CalibrationError,
    calibrate_frame,
    master_bias,
    master_bias_history,
    master_flat,
    screen_biases,
    vignetting_mask,
)
from .camera import CameraError, CameraParameters, CameraWarning, camera_parameters
from .combine import CombineError, CombineWarning
from .cosmics import CosmicsError, remove_cosmics
from .inventory import conflicts, describe_conflicts, scan
from .io import FITS_SUFFIXES, STAMP_KEY, FrameError, atomic_write_hdul, read_frame, read_header, write_frame
from .paths import RAW_FOLDERS, DataNotFoundError, ensure_dir, find_data_dir, is_raw_folder

__all__ = [
    "ReductionError",
    "ReductionResult",
    "calibrated_saturation",
    "flat_max_level",
    "output_name",
    "reduce",
    "add_arguments",
    "run",
]

#: Errors that mean "bad input", reported as one sentence by ``ccdlab reduce``.
EXPECTED_ERRORS = (
    CalibrationError, CameraError, CombineError, CosmicsError, FrameError, DataNotFoundError,
    FileNotFoundError, NotADirectoryError, PermissionError,
)


class ReductionError(ValueError):
    """The night cannot be reduced; the message says what is missing and what to do."""


EXPECTED_ERRORS = EXPECTED_ERRORS + (ReductionError,)

_OUTPUT_MARKERS = (".fb.fits", ".proc.fits")
_MASTER_PREFIXES = ("master_", "mask")


def _is_ccdlab_output(name: str, path: str) -> bool:
    """A calibrated or cleaned frame by its name, or a master or mask by its name and CCDLAB stamp."""
    lower = name.lower()
    if lower.endswith(_OUTPUT_MARKERS):
        return True
    if not lower.startswith(_MASTER_PREFIXES):
        return False
    try:
        return STAMP_KEY in read_header(path)
    except (FrameError, OSError):  # unreadable: the inventory already says why
        return False


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
               camera_satlevel: float | None = None) -> int:
    """Clean one calibrated frame and write its ``.proc.fits``; return the cosmic-ray pixel count."""
    data, header = read_frame(fb_path)
    crmask, cleaned = remove_cosmics(data, gain, readnoise, satlevel, satlevel_unit="e-", **options)
    count = int(crmask.sum())
    header["NCOSMIC"] = (count, "pixels flagged as cosmic rays by ccdlab")
    history = (  # write_frame splits it into cards
        f"ccdlab: cosmic rays removed (astroscrappy L.A.Cosmic): {count} pixels; "
        f"gain {gain:g} e-/ADU, read noise {readnoise:g} e-, saturation {camera_satlevel or satlevel:g} e- "
        f"({satlevel:.0f} e- after flat-fielding)"
    )
    write_frame(proc_path, cleaned, header, history=history, inputs=[fb_path])
    return count


def _write_mask(path: Path, mask: np.ndarray, filt: str, threshold: float) -> Path:
    if path.exists():
        try:
            ours = "CCDLAB" in fits.getheader(path)
        except Exception:
            ours = False
        if not ours:
            raise PermissionError(f"Refusing to overwrite {path}: it was not written by ccdlab. Move it away or choose another --out.")
    header = fits.Header()
    header["CCDLAB"] = ("mask", "written by ccdlab")
    header["FILTER"] = filt
    header["MASKTHR"] = (threshold, "pixels below this fraction of the central flat")
    header.add_history("1 = masked (vignetted or dead), 0 = good")
    hdu = fits.PrimaryHDU(mask.astype(np.uint8), header=header)
    return atomic_write_hdul(fits.HDUList([hdu]), path)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(folder.resolve())
        return True
    except ValueError:
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
    exclude = ["reduced", "truth"]
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
    return frames


def _set(frames: Table, index: int, status: str, reason: str = "") -> None:
    frames["status"][index] = status
    frames["reason"][index] = reason


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
    summary: bool = True,
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
    summary : bool
        Write the summary figure ``reduction_summary.png``.
    verbose : bool
        Print the summary table at the end.

    Returns
    -------
    ReductionResult

    Raises
    ------
    ReductionError
        ``data_dir`` is itself a raw folder (pass its parent); ``out`` is a raw folder or inside
        one; ``jobs`` < 1; no bias, flat or science frames were found, or no bias frame passes
        :func:`ccdlab.calibrate.screen_biases` (then nothing is created, not even ``out``); no
        usable flat; or a master flat without positive pixels.
    ccdlab.paths.DataNotFoundError
        ``data_dir`` does not exist.

    Examples
    --------
    >>> result = reduce("data", out="data/reduced", progress=False)  # doctest: +SKIP
    >>> result.cosmic_pixels  # doctest: +SKIP
    """
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
    options = dict(cosmic_options or {})
    notes: list[str] = []
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

    # Sort out what each file is for.
    for i, row in enumerate(frames):
        name = str(row["name"])
        if _is_ccdlab_output(name, str(row["path"])):
            _set(frames, i, "ignored", "a ccdlab output, not a raw frame")
        elif row["frame_type"] == "dark":
            _set(frames, i, "ignored", "dark frame: this reduction has no dark step")
        elif row["frame_type"] == "unknown":
            _set(frames, i, "rejected", str(row["note"]) or "frame type unknown")

    def indices(kind):
        return [i for i in range(len(frames)) if frames["frame_type"][i] == kind and frames["status"][i] == "used"]

    # Nothing is created before the night is known to hold what a reduction needs.
    if not indices("bias"):
        raise ReductionError(
            f"No bias frames found in {data_dir}: a reduction needs them. Put them in a bias/ folder "
            "(IMAGETYP 'bias', 'zero', or a ~0 s 'dark'); inventory.scan() shows how each file was typed."
        )
    if not indices("flat"):
        raise ReductionError(
            f"No flat frames found in {data_dir}: a reduction needs them. Put them in a flats/ folder "
            "(IMAGETYP 'flat', 'skyflat'...); inventory.scan() shows how each file was typed."
        )
    if not indices("science"):
        raise ReductionError(
            f"No science frames found in {data_dir}: there is nothing to calibrate. Put them in a science/ "
            "folder (IMAGETYP 'object', 'light'...); inventory.scan() shows how each file was typed."
        )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CameraWarning)
        warnings.simplefilter("always", CombineWarning)

        # Camera values, from the first science frame's header.
        header = read_header(frames["path"][indices("science")[0]])
        camera = camera_parameters(header, gain=gain, readnoise=readnoise, satlevel=satlevel)

        # Every bias screened first (size, exposure, level), before anything is written.
        bias_rows = indices("bias")
        screening = screen_biases([frames["path"][i] for i in bias_rows])
        for i, screened in zip(bias_rows, screening):
            if not screened["used"]:
                _set(frames, i, "rejected", str(screened["reason"]))
        bias_rows = indices("bias")
        if not bias_rows:
            shown = "; ".join(f"{r['name']}: {r['reason']}" for r in screening[:3])
            raise ReductionError(
                f"No usable bias frame among the {len(screening)} in {data_dir} ({shown}): put real bias "
                "frames (~0 s exposures, IMAGETYP 'bias') in bias/."
            )
        ensure_dir(out_dir)

        # Master bias, from the biases that passed.
        bias_paths = [frames["path"][i] for i in bias_rows]
        bias = master_bias(bias_paths, progress=progress)
        bias_path = write_frame(
            out_dir / "master_bias.fits", bias, history=master_bias_history(screening), inputs=bias_paths,
        )
        for i in bias_rows:
            frames["output"][i] = bias_path.name

        # Master flat(s), one per filter, each flat screened first.
        flat_rows = indices("flat")
        by_filter: dict[str, list[int]] = {}
        for i in flat_rows:
            by_filter.setdefault(str(frames["filter"][i]), []).append(i)
        several = len(by_filter) > 1
        max_level = flat_max_level(camera)
        flats, flat_paths, mask_paths, masks, fractions = {}, {}, {}, {}, {}
        for filt, rows in sorted(by_filter.items()):
            paths = [frames["path"][i] for i in rows]
            try:
                flat = master_flat(paths, bias, filter=filt, max_level=max_level, progress=progress)
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
            flats[filt], flat_paths[filt], mask_paths[filt], masks[filt] = flat, flat_path, mask_path, mask
            fractions[filt] = float(mask.mean())
        if not flats:
            raise ReductionError(
                f"No usable flat in {data_dir}: " + "; ".join(notes) + ". Take new flats or check their headers."
            )

        # Calibrate the science frames.
        science_rows = indices("science")
        lookup = {filt.strip().lower(): filt for filt in flats}
        to_clean = []
        for i in tqdm(science_rows, desc="calibrate", unit="frame", disable=not progress, leave=False):
            filt = str(frames["filter"][i])
            key = lookup.get(filt.strip().lower())
            if key is None and len(flats) == 1 and not several and (not filt or not next(iter(flats))):
                key = next(iter(flats))
            if key is None:
                _set(frames, i, "rejected", f"no master flat in filter {filt or 'none'} (flats: {', '.join(sorted(flats)) or 'none'})")
                continue
            path = Path(frames["path"][i])
            names = {"bias": bias_path.name, "flat": flat_paths[key].name, "mask": mask_paths[key].name}
            try:
                data, hdr = calibrate_frame(path, bias, flats[key], masks[key], names=names, mask_threshold=mask_threshold)
            except (CalibrationError, FrameError) as exc:
                _set(frames, i, "rejected", str(exc))
                continue
            fb_path = write_frame(out_dir / output_name(path.name, "fb"), data, hdr, inputs=[path])
            frames["output"][i] = fb_path.name
            to_clean.append((i, fb_path, calibrated_saturation(camera.satlevel, flats[key], masks[key])))

        # Remove cosmic rays, frames in parallel.
        if to_clean:
            _clean_all(frames, to_clean, out_dir, camera, options, jobs, progress)
    for warning in caught:
        if issubclass(warning.category, (CameraWarning, CombineWarning)):
            message = str(warning.message)
            if message not in notes:
                notes.append(message)
        else:  # not ours: pass it on unchanged
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)

    result = ReductionResult(
        data_dir=data_dir, out_dir=out_dir, camera=camera, frames=frames, master_bias=bias_path,
        master_flats=flat_paths, masks=mask_paths, mask_fraction=fractions, notes=notes,
    )
    if summary:
        from .summary import save_summary

        result.summary_png = save_summary(result, out_dir / "reduction_summary.png")
    if verbose:
        print(result.report())
    return result


def _clean_all(frames: Table, to_clean, out_dir: Path, camera: CameraParameters, options: dict, jobs, progress: bool) -> None:
    jobs = min(jobs or os.cpu_count() or 1, len(to_clean))
    tasks = []
    for i, fb_path, satlevel in to_clean:
        proc = out_dir / output_name(frames["name"][i], "proc")
        args = [camera.gain, camera.readnoise, satlevel, options, camera.satlevel]
        tasks.append({"index": int(i), "fb": str(fb_path), "proc": str(proc), "args": args})
    bar = tqdm(total=len(tasks), desc="cosmic rays", unit="frame", disable=not progress, leave=False)
    try:
        if jobs == 1 or os.name == "nt":
            for task in tasks:
                _record_clean(frames, task, _run_task(task))
                bar.update()
        else:
            for task, outcome in _run_in_workers(tasks, jobs):
                if outcome.get("retry"):  # no worker could take it: clean it here instead
                    outcome = _run_task(task)
                _record_clean(frames, task, outcome)
                bar.update()
    finally:
        bar.close()


def _run_task(task: dict) -> dict:
    """Clean one frame; expected failures come back as ``{"error": message}``."""
    try:
        return {"count": _clean_one(task["fb"], task["proc"], *task["args"])}
    except (CosmicsError, FrameError, OSError) as exc:
        return {"error": str(exc)}


def _worker_main() -> None:  # pragma: no cover - runs in the worker processes
    """Worker loop: one JSON task per line on stdin, one JSON outcome per line on stdout."""
    for line in sys.stdin:
        task = json.loads(line)
        try:
            outcome = _run_task(task)
        except Exception as exc:  # a bug: report it with its traceback, keep the worker alive
            traceback.print_exc()
            outcome = {"error": f"unexpected {type(exc).__name__}: {exc}"}
        print(json.dumps(outcome), flush=True)


def _worker_command() -> list[str]:
    """The command that starts one cosmic-ray worker (a fresh Python running :func:`_worker_main`)."""
    return [sys.executable, "-c", "from ccdlab.reduce import _worker_main; _worker_main()"]


def _run_in_workers(tasks: list, jobs: int):
    """Yield ``(task, outcome)`` as ``jobs`` worker processes clean the frames, one at a time each.

    An outcome ``{"retry": True}`` means no worker could clean that frame (one died, or none
    could start): the caller cleans it in its own process.

    Workers are fresh interpreters (``python -c ...``), not forks: no script is re-executed (no
    ``if __name__ == "__main__"`` guard needed), OpenMP state is never inherited across a fork,
    and each worker gets ``OMP_NUM_THREADS=1``.
    """
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    pending = list(tasks)
    selector = selectors.DefaultSelector()
    workers = []
    try:
        for _ in range(jobs):
            try:
                worker = subprocess.Popen(_worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            except OSError:
                break  # no more workers: what is left is cleaned by the caller
            workers.append(worker)
            task = pending.pop(0)
            try:
                worker.stdin.write(json.dumps(task) + "\n")
                worker.stdin.flush()
            except OSError:  # it died at once
                yield task, {"retry": True}
                continue
            selector.register(worker.stdout, selectors.EVENT_READ, [worker, task])
        while selector.get_map():
            for key, _ in selector.select():
                worker, task = key.data
                line = key.fileobj.readline()
                if not line:  # the worker died: its frame is cleaned by the caller
                    selector.unregister(key.fileobj)
                    yield task, {"retry": True}
                    continue
                yield task, json.loads(line)
                if pending:
                    key.data[1] = pending.pop(0)
                    try:
                        worker.stdin.write(json.dumps(key.data[1]) + "\n")
                        worker.stdin.flush()
                    except OSError:  # it died after its last answer
                        selector.unregister(key.fileobj)
                        yield key.data[1], {"retry": True}
                else:
                    selector.unregister(key.fileobj)
                    _close_quietly(worker.stdin)
        for task in pending:  # only if every worker died or none could start
            yield task, {"retry": True}
    finally:
        selector.close()
        for worker in workers:
            _close_quietly(worker.stdin)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _close_quietly(stream) -> None:
    try:
        if stream is not None and not stream.closed:
            stream.close()
    except OSError:  # a worker that died leaves a broken pipe behind
        pass


def _record_clean(frames: Table, task: dict, outcome: dict) -> None:
    i = task["index"]
    if "error" in outcome:
        _set(frames, i, "rejected", f"cosmic-ray cleaning failed: {outcome['error']}")
        return
    frames["cosmic_pixels"][i] = int(outcome["count"])
    frames["output"][i] = Path(task["proc"]).name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``ccdlab reduce``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="ccdlab reduce")
    >>> add_arguments(parser)
    >>> parser.parse_args(["data", "--out", "out", "--gain", "1.6"]).gain
    1.6
    """
    parser.description = (
        "Reduce a night: master bias, master flat(s), vignetting mask, calibrated (*.fb.fits) and "
        "cosmic-ray cleaned (*.proc.fits) science frames, a summary figure and table."
    )
    parser.add_argument("data_dir", nargs="?", default=None, metavar="DATA_DIR",
                        help="folder holding the raw frames (bias/, flats/, science/); default: the course data folder")
    parser.add_argument("--out", metavar="OUT", default=None, help="output folder (default: DATA_DIR/reduced)")
    parser.add_argument("--gain", type=float, default=None,
                        help="gain in e-/ADU (default: header GAIN/EGAIN if plausible, else 1.6)")
    parser.add_argument("--readnoise", type=float, default=None,
                        help="read noise in electrons (default: header RDNOISE/READNOIS if plausible, else 14)")
    parser.add_argument("--satlevel", type=float, default=None,
                        help="saturation level in electrons (default: header SATURATE x gain, else 96000)")
    parser.add_argument("--jobs", type=int, default=None, help="processes for cosmic-ray cleaning (default: one per core)")
    parser.add_argument("--no-progress", action="store_true", help="do not show progress bars")


def run(args: argparse.Namespace) -> int:
    """Run ``ccdlab reduce`` with parsed arguments; return the exit code.

    Bad input (missing folder, no bias, mismatched frames, impossible gain...) is reported as one
    sentence on stderr with exit code 1, never as a traceback.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(); add_arguments(parser)
    >>> run(parser.parse_args(["/no/such/folder", "--no-progress"]))  # doctest: +SKIP
    1
    """
    try:
        reduce(
            args.data_dir, args.out, gain=args.gain, readnoise=args.readnoise, satlevel=args.satlevel,
            jobs=args.jobs, progress=not args.no_progress, verbose=True,
        )
    except EXPECTED_ERRORS as exc:
        print(f"ccdlab reduce: error: {exc}", file=sys.stderr)
        return 1
    return 0

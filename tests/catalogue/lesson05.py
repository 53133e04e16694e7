"""Answer catalogue of lesson 05: one calibrated frame, and every science frame calibrated and written.

The answers to 5.2 are files: each case writes its frames into a fresh, empty ``reduced/`` folder of
its own (:func:`reduced`), which the night's checks then read, so the tiny night stays read-only
and no case sees another's files.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from catalogue import mistake, solution, valid

LESSON = "05_calibration"


class Lesson05:
    """What the notebook has at hand: the masters made by the package in three lines, the first raw frame."""

    def __init__(self, context):
        from ccdlab.calibrate import master_bias, master_flat, vignetting_mask

        self.context = context
        self.bias_files, self.flat_files = list(context.bias_files), list(context.flat_files)
        self.science_files = list(context.science_files)
        self.master_bias = master_bias(self.bias_files, progress=False)
        self.master_flat = master_flat(self.flat_files, self.master_bias, progress=False).data
        self.vignetted = vignetting_mask(self.master_flat, threshold=0.8)
        self.raw, self.raw_header = context.frame(self.science_files[0])

    def calibrate(self, raw=None, bias=None, flat=None, formula=None, masked=np.nan, mask=None):
        """The notebook's calibration, each piece of which a case may replace."""
        raw = self.raw if raw is None else raw
        bias = self.master_bias if bias is None else bias
        flat = self.master_flat if flat is None else flat
        formula = formula or (lambda raw, bias, flat: (raw - bias) / flat)
        data = formula(raw, bias, flat)
        if masked is not None:
            data[self.vignetted if mask is None else mask] = masked
        return data

    @functools.cached_property
    def flat_with_bias(self):
        """A master flat whose flats kept their bias (normalised like the right one)."""
        from ccdlab.calibrate import master_flat

        return master_flat(self.flat_files, np.zeros_like(self.master_bias), progress=False).data

    @functools.cached_property
    def flat_in_adu(self):
        """The good flats, bias-subtracted and median-combined, never normalised."""
        from ccdlab import combine

        used = [path for path, row in zip(self.flat_files, self.context.night.flat_screening()) if row["used"]]
        return combine(used, method="median", progress=False, offset=self.master_bias)


@functools.cache
def _lesson(data_dir):
    from catalogue import Context

    return Lesson05(Context(Path(data_dir)))


def L(c) -> Lesson05:
    return _lesson(str(c.data_dir))


def calibrated(value):
    return {"calibrated": value}


# --- 5.2: files -------------------------------------------------------------------------------------

_SCRATCH: list = []


def reduced(c) -> Path:
    """A fresh, empty ``reduced/`` folder for one answer; the night's checks read it from now on.

    (The tiny night is shared and read-only: the answers' files never go into it.)
    """
    if not _SCRATCH:
        _SCRATCH.append(tempfile.TemporaryDirectory(prefix="ccdlab-catalogue-05-"))
    folder = Path(tempfile.mkdtemp(dir=_SCRATCH[0].name)) / "reduced"
    folder.mkdir()
    c.night.outputs_dir = folder
    return folder


def fb_name(raw_path):
    """The notebook's own: C0_...wcs.fits -> C0_...wcs.fb.fits."""
    return Path(raw_path).name.replace(".fits", ".fb.fits")


HISTORY = ["Bias subtracted: median of the bias frames",
           "Divided by the normalised master flat; pixels where the flat < 0.8 set to NaN"]


def written(c, calibrate=None, history=HISTORY, name=fb_name, folder=None, frames=None):
    """Write the science frames as the notebook's loop does, each step replaceable; return the paths."""
    from ccdlab.io import read_frame, write_frame

    x = L(c)
    out = reduced(c)
    folder = out if folder is None else out.parent / folder
    calibrate = calibrate or (lambda raw: x.calibrate(raw=raw))
    paths = []
    for path in (x.science_files if frames is None else frames):
        data, header = read_frame(path)
        paths.append(write_frame(folder / name(path), calibrate(data), header, history=history, inputs=[path]))
    return paths


def fb(value):
    return {"fb_files": value}


def _with_package(c):
    from ccdlab.calibrate import calibrate_frame
    from ccdlab.io import write_frame

    x = L(c)
    out = reduced(c)
    paths = []
    for path in x.science_files:
        data, header = calibrate_frame(path, x.master_bias, x.master_flat, mask=x.vignetted)
        paths.append(str(write_frame(out / fb_name(path), data, header, inputs=[path])))
    return paths


def _with_master_flat_too(c):
    from ccdlab.io import write_frame

    paths = written(c)
    return paths + [write_frame(paths[0].parent / "master_flat.fits", L(c).master_flat, history="master flat")]


CASES = {
    "5.1": [
        solution("(raw - master_bias) / master_flat, NaN in the mask", lambda c: calibrated(L(c).calibrate())),
        valid("in float64", lambda c: calibrated(L(c).calibrate(raw=L(c).raw.astype(np.float64)))),
        valid("np.where(vignetted, np.nan, ...)",
              lambda c: calibrated(np.where(L(c).vignetted, np.nan, (L(c).raw - L(c).master_bias) / L(c).master_flat))),
        valid("np.divide(np.subtract(...), ...)",
              lambda c: calibrated(L(c).calibrate(formula=lambda r, b, f: np.divide(np.subtract(r, b), f)))),
        valid("the package's calibrate_frame",
              lambda c: calibrated(__import__("ccdlab.calibrate", fromlist=["x"]).calibrate_frame(
                  L(c).science_files[0], L(c).master_bias, L(c).master_flat, mask=L(c).vignetted)[0])),
        mistake("the bias not subtracted", lambda c: calibrated(L(c).calibrate(formula=lambda r, b, f: r / f)),
                "bias was not subtracted"),
        mistake("divided first, bias subtracted after",
                lambda c: calibrated(L(c).calibrate(formula=lambda r, b, f: r / f - b)), "subtract first"),
        mistake("the flat subtracted", lambda c: calibrated(L(c).calibrate(formula=lambda r, b, f: r - b - f)),
                "flat was subtracted"),
        mistake("multiplied by the flat", lambda c: calibrated(L(c).calibrate(formula=lambda r, b, f: (r - b) * f)),
                "multiplied"),
        mistake("never divided by the flat", lambda c: calibrated(L(c).calibrate(formula=lambda r, b, f: r - b)),
                "never divided by the flat"),
        mistake("the mask not applied", lambda c: calibrated(L(c).calibrate(masked=None)), "no pixel is NaN"),
        mistake("the masked pixels set to 0", lambda c: calibrated(L(c).calibrate(masked=0.0)), "are 0"),
        mistake("the mask inverted", lambda c: calibrated(L(c).calibrate(mask=~L(c).vignetted)), "inverted"),
        mistake("as integers (.astype(int))", lambda c: calibrated(L(c).calibrate(masked=0.0).astype(np.int32)),
                "floating point"),
        mistake("the bias as one number", lambda c: calibrated(L(c).calibrate(bias=np.median(L(c).master_bias))),
                "single number"),
        mistake("divided by a flat that still holds the bias",
                lambda c: calibrated(L(c).calibrate(flat=L(c).flat_with_bias)), "still holds the bias"),
        mistake("divided by an un-normalised flat (in ADU)",
                lambda c: calibrated(L(c).calibrate(flat=L(c).flat_in_adu)), "normalised master flat"),
        mistake("another science frame",
                lambda c: calibrated(L(c).calibrate(raw=c.frame(L(c).science_files[1])[0])), "another frame"),
        mistake("transposed", lambda c: calibrated(L(c).calibrate().T), "transposed"),
    ],
    "5.2": [
        solution("the loop with write_frame, its paths", lambda c: fb(written(c))),
        valid("the paths as text", lambda c: fb([str(p) for p in written(c)])),
        valid("a tuple", lambda c: fb(tuple(written(c)))),
        valid("sorted(out.glob('*.fb.fits'))", lambda c: fb(sorted(written(c)[0].parent.glob("*.fb.fits")))),
        valid("calibrate_frame's data and header (its own HISTORY)", lambda c: fb(_with_package(c))),
        valid("np.where for the mask, one HISTORY line", lambda c: fb(written(
            c, calibrate=lambda raw: np.where(L(c).vignetted, np.nan, (raw - L(c).master_bias) / L(c).master_flat),
            history="bias subtracted, then divided by the master flat"))),
        mistake("no HISTORY", lambda c: fb(written(c, history=())), "no HISTORY card"),
        mistake("the raw science frames listed", lambda c: fb(written(c) and list(L(c).science_files)),
                "raw science frames"),
        mistake("every frame written to the same name",
                lambda c: fb(written(c, name=lambda path: fb_name(L(c).science_files[0]))), "same file"),
        mistake("only the last path, not a list", lambda c: fb(written(c)[-1]), "names one file"),
        mistake("the bias not subtracted in the files",
                lambda c: fb(written(c, calibrate=lambda raw: L(c).calibrate(raw=raw, formula=lambda r, b, f: r / f))),
                "bias was not subtracted"),
        mistake("the mask not applied in the files",
                lambda c: fb(written(c, calibrate=lambda raw: L(c).calibrate(raw=raw, masked=None))), "no pixel is NaN"),
        mistake("written as integers",
                lambda c: fb(written(c, calibrate=lambda raw: L(c).calibrate(raw=raw, masked=0.0).astype(np.int16))),
                "whole numbers"),
        mistake("every file the first frame's calibration",
                lambda c: fb(written(c, calibrate=lambda raw: L(c).calibrate())), "another frame"),
        mistake("written outside reduced/", lambda c: fb(written(c, folder="calibrated")), "not in the reduced/ folder"),
        mistake("one frame left out", lambda c: fb(written(c, frames=L(c).science_files[:-1])), "missing from fb_files"),
        mistake("the master flat listed too", lambda c: fb(_with_master_flat_too(c)), "also lists master_flat.fits"),
        mistake("the images instead of the paths",
                lambda c: fb([L(c).calibrate(raw=c.frame(p)[0]) for p in L(c).science_files]), "not the images"),
    ],
}

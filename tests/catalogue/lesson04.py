"""Answer catalogue of lesson 04: each flat's median, the unusable flat, the master flat, the vignetting mask."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from catalogue import mistake, solution, valid

LESSON = "04_master_flat"


class Lesson04:
    """What the notebook has at hand on one night: the flats, the master bias, the central region."""

    def __init__(self, context):
        from ccdlab import combine
        from ccdlab.screening import illuminated_region

        self.flat_files = list(context.flat_files)
        self.flats = [context.frame(path)[0] for path in self.flat_files]
        self.master_bias = combine(context.bias_files, method="median", progress=False)
        self.centre = illuminated_region(self.master_bias.shape)

    # 4.1 -------------------------------------------------------------------------------------------

    @functools.cached_property
    def medians(self):
        return [float(np.median(flat)) for flat in self.flats]

    # 4.2 -------------------------------------------------------------------------------------------

    @property
    def bad_path(self):
        return self.flat_files[int(np.argmax(self.medians))]

    @property
    def bad_name(self):
        return Path(self.bad_path).name

    @property
    def good(self):
        return [flat for path, flat in zip(self.flat_files, self.flats) if path != self.bad_path]

    @property
    def good_files(self):
        return [path for path in self.flat_files if path != self.bad_path]

    # 4.3 -------------------------------------------------------------------------------------------

    def by_hand(self, flats=None, subtract_bias=True, normalise=None, combine=None, final=None):
        """The notebook's three steps, each of which a case may do otherwise."""
        normalise = normalise or (lambda flat: flat / np.median(flat[self.centre]))
        combine = combine or (lambda stack: np.median(stack, axis=0))
        final = final or (lambda combined: combined / np.median(combined[self.centre]))
        normalised = [normalise(flat - self.master_bias if subtract_bias else flat)
                      for flat in (self.good if flats is None else flats)]
        return final(combine(np.stack(normalised)))

    @functools.cached_property
    def master_flat(self):
        return self.by_hand()


@functools.cache
def _lesson(data_dir):
    from catalogue import Context

    return Lesson04(Context(Path(data_dir)))


def L(c) -> Lesson04:
    return _lesson(str(c.data_dir))


def medians(values):
    return {"flat_medians": values}


def bad(value):
    return {"bad_flat": value}


def flat(value):
    return {"master_flat": value}


def mask(value):
    return {"vignetted": value}


def _package_flat(c):
    from ccdlab.calibrate import master_flat

    return master_flat(L(c).good_files, L(c).master_bias, progress=False)


def _faintest(c):
    return Path(L(c).flat_files[int(np.argmin(L(c).medians))]).name


def _another_good(c):
    return next(Path(path).name for path in L(c).flat_files if path != L(c).bad_path)


CASES = {
    "4.1": [
        solution("np.median of each raw flat", lambda c: medians([float(np.median(f)) for f in L(c).flats])),
        valid("np.nanmedian, numpy floats", lambda c: medians([np.nanmedian(f) for f in L(c).flats])),
        valid("np.percentile(..., 50)", lambda c: medians([np.percentile(f, 50) for f in L(c).flats])),
        valid("one array: np.median over axes (1, 2) of the stack",
              lambda c: medians(np.median(np.stack(L(c).flats), axis=(1, 2)))),
        valid("a tuple of float64 medians", lambda c: medians(tuple(np.median(f.astype(np.float64)) for f in L(c).flats))),
        mistake("the means", lambda c: medians([float(np.mean(f)) for f in L(c).flats]), "means"),
        mistake("the medians of the central region",
                lambda c: medians([float(np.median(f[L(c).centre])) for f in L(c).flats]), "central region"),
        mistake("the master bias taken off first",
                lambda c: medians([float(np.median(f - L(c).master_bias)) for f in L(c).flats]), "bias taken off"),
        mistake("the bias level taken off first",
                lambda c: medians([float(np.median(f) - np.median(L(c).master_bias)) for f in L(c).flats]),
                "bias taken off"),
        mistake("sorted from faint to bright", lambda c: medians(sorted(L(c).medians)), "another order"),
        mistake("np.median(stack, axis=0): an image", lambda c: medians(np.median(np.stack(L(c).flats), axis=0)),
                "axis=0"),
        mistake("the medians as text", lambda c: medians([f"{m:.1f}" for m in L(c).medians]), "text"),
        mistake("only the usable flats",
                lambda c: medians([m for m, p in zip(L(c).medians, L(c).flat_files) if p != L(c).bad_path]),
                "unusable one too"),
        mistake("a dict of name: median",
                lambda c: medians({Path(p).name: m for p, m in zip(L(c).flat_files, L(c).medians)}), "not a dict"),
        mistake("one median of all the flats together", lambda c: medians(float(np.median(np.stack(L(c).flats)))),
                "single number"),
        mistake("the medians per second of exposure",
                lambda c: medians([m / c.frame(p)[1]["EXPTIME"] for m, p in zip(L(c).medians, L(c).flat_files)]),
                "exposure time"),
    ],
    "4.2": [
        solution("Path(...).name of the brightest flat", lambda c: bad(L(c).bad_name)),
        valid("the full path, as text", lambda c: bad(str(L(c).bad_path))),
        valid("a Path", lambda c: bad(Path(L(c).bad_path))),
        valid("a list of the name", lambda c: bad([L(c).bad_name])),
        valid("a tuple of the Path", lambda c: bad((Path(L(c).bad_path),))),
        valid("a numpy array of the name", lambda c: bad(np.array([L(c).bad_name]))),
        mistake("the file's stem, without .fits", lambda c: bad(Path(L(c).bad_path).stem), "without its ending"),
        mistake("its position in flat_files", lambda c: bad(int(np.argmax(L(c).medians))), "position"),
        mistake("its median", lambda c: bad(max(L(c).medians)), "a number"),
        mistake("the faintest flat", lambda c: bad(_faintest(c)), "faintest"),
        mistake("a usable flat", lambda c: bad(_another_good(c)), "looks usable"),
        mistake("None: all are fine", lambda c: bad(None), "None says"),
        mistake("two flats", lambda c: bad([L(c).bad_name, _faintest(c)]), "You named 2 flats"),
        mistake("a bias frame's name", lambda c: bad(Path(c.bias_files[0]).name), "bias frame"),
        mistake("a name with a typo", lambda c: bad(L(c).bad_name.replace("C0_", "CO_")), "not one of the flats"),
    ],
    "4.3": [
        solution("bias off, each normalised in the centre, median, normalised", lambda c: flat(L(c).master_flat)),
        valid("in float64", lambda c: flat(L(c).by_hand(flats=[f.astype(np.float64) for f in L(c).good]))),
        valid("np.nanmedian to combine", lambda c: flat(L(c).by_hand(combine=lambda s: np.nanmedian(s, axis=0)))),
        valid("np.percentile(stack, 50, axis=0)", lambda c: flat(L(c).by_hand(combine=lambda s: np.percentile(s, 50, axis=0)))),
        valid("ccdlab's combine of the normalised flats",
              lambda c: flat(L(c).by_hand(combine=lambda s: __import__("ccdlab").combine(list(s), progress=False)))),
        valid("the package's master flat of good_files, .data", lambda c: flat(_package_flat(c).data)),
        mistake("the bias left in the flats", lambda c: flat(L(c).by_hand(subtract_bias=False)), "bias is still"),
        mistake("the unusable flat combined too", lambda c: flat(L(c).by_hand(flats=L(c).flats)),
                "left out in Exercise 4.2"),
        mistake("the mean instead of the median", lambda c: flat(L(c).by_hand(combine=lambda s: np.mean(s, axis=0))),
                "mean of the flats"),
        mistake("the flats combined before normalising each", lambda c: flat(L(c).by_hand(normalise=lambda f: f)),
                "before each was normalised"),
        mistake("transposed (.T)", lambda c: flat(L(c).master_flat.T), "transposed"),
        mistake("normalised by the whole frame's median",
                lambda c: flat(L(c).by_hand(normalise=lambda f: f / np.median(f), final=lambda m: m / np.median(m))),
                "not 1"),
        mistake("never normalised", lambda c: flat(L(c).by_hand(normalise=lambda f: f, final=lambda m: m)), "not 1"),
        mistake("the stack, not combined", lambda c: flat(np.stack([f - L(c).master_bias for f in L(c).good])),
                "still a stack"),
        mistake("the package's MasterFlat object itself", lambda c: flat(_package_flat(c)), "MasterFlat"),
    ],
    "4.4": [
        solution("master_flat < 0.8", lambda c: mask(L(c).master_flat < 0.8)),
        valid("master_flat <= 0.8", lambda c: mask(L(c).master_flat <= 0.8)),
        valid("~(master_flat >= 0.8)", lambda c: mask(~(L(c).master_flat >= 0.8))),
        valid("np.less(master_flat, 0.8)", lambda c: mask(np.less(L(c).master_flat, 0.8))),
        valid("np.where(master_flat < 0.8, True, False)", lambda c: mask(np.where(L(c).master_flat < 0.8, True, False))),
        valid("the package's vignetting_mask",
              lambda c: mask(__import__("ccdlab.calibrate", fromlist=["x"]).vignetting_mask(L(c).master_flat, 0.8))),
        mistake("master_flat > 0.8: inverted", lambda c: mask(L(c).master_flat > 0.8), "inverted"),
        mistake("master_flat < 80 (per cent)", lambda c: mask(L(c).master_flat < 80), "not 80"),
        mistake("master_flat < 0.5", lambda c: mask(L(c).master_flat < 0.5), "the limit is 0.8"),
        mistake("np.where(master_flat < 0.8): the positions", lambda c: mask(np.where(L(c).master_flat < 0.8)),
                "positions"),
        mistake("as 0/1 integers", lambda c: mask((L(c).master_flat < 0.8).astype(int)), "holds numbers"),
        mistake("the flat with NaN in the corners",
                lambda c: mask(np.where(L(c).master_flat < 0.8, np.nan, L(c).master_flat)), "NaN"),
        mistake("transposed", lambda c: mask(L(c).master_flat.T < 0.8), "transposed"),
        mistake("a flat in ADU (never normalised), < 0.8",
                lambda c: mask(L(c).by_hand(normalise=lambda f: f, final=lambda m: m) < 0.8), "marks no pixel"),
    ],
}

"""Answer catalogue of lesson 07: the aligned median stack, and the gain in S/N measured on stars."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from catalogue import mistake, solution, valid

LESSON = "07_stacking"


class Lesson07:
    """What the notebook has at hand on one night: the cleaned frames, aligned as the solution aligns them,
    the stack, the stars and their apertures, the gain."""

    def __init__(self, context):
        from ccdlab.course.checks import lesson07

        self.night = context.night
        self.frames = lesson07.cleaned_frames_of(context.night)  # what reduce() writes into reduced/ccdlab/
        self.gain = context.night.camera().gain
        self.ny, self.nx = self.frames[0][0].shape

    def align(self, reference: int = 0, shape=None) -> list:
        from astropy.wcs import WCS
        from reproject import reproject_interp

        target = WCS(self.frames[reference][1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [reproject_interp((data, WCS(header)), target, shape_out=shape or (self.ny, self.nx),
                                     return_footprint=False) for data, header in self.frames]

    @functools.cached_property
    def aligned(self) -> list:
        return self.align()

    def combine(self, how=np.nanmedian, frames=None, axis=0, **options):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN corners
            return how(self.aligned if frames is None else frames, axis=axis, **options)

    @functools.cached_property
    def stack(self):
        return self.combine()

    @functools.cached_property
    def positions(self):
        from ccdlab import photometry

        stars = photometry.find_stars(self.stack, n_brightest=8)
        return np.transpose([stars["x"], stars["y"]])

    @functools.cached_property
    def n_effective(self):
        from ccdlab import photometry

        return photometry.effective_frames(len(self.frames), "median")

    def gain_with(self, star_snr, n_stack=None, ratio=None):
        """snr_gain as the notebook computes it with ``star_snr`` (or another ``ratio`` of the two results)."""
        many = star_snr(self.stack, self.n_effective if n_stack is None else n_stack)
        one = star_snr(self.frames[0][0], 1)
        if ratio is not None:
            return ratio(many, one)
        return np.median(np.asarray(many) / np.asarray(one))


_KEPT: dict = {}


def lesson(context) -> Lesson07:
    if context.data_dir not in _KEPT:
        _KEPT[context.data_dir] = Lesson07(context)
    return _KEPT[context.data_dir]


# 7.1 ---------------------------------------------------------------------------------------------

def _package_stack(c):
    from ccdlab.stack import align_frames, stack_frames

    cube, _, _ = align_frames(lesson(c).frames, reference=0, progress=False)
    return {"stack": stack_frames(cube, method="median")[0]}


def _with_footprints(c):
    from astropy.wcs import WCS
    from reproject import reproject_interp

    this = lesson(c)
    target = WCS(this.frames[0][1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [reproject_interp((data, WCS(header)), target, shape_out=(this.ny, this.nx)) for data, header in this.frames]
    return {"stack": this.combine(frames=np.stack([data for data, _ in pairs]))}


def _first_kept(c, quick=True):
    """The solution's: the first frame as it is, the others reprojected without the round-trip check,
    block by block on every core, and the median of the float32 cube (``quick``); or the plain calls."""
    from astropy.wcs import WCS
    from reproject import reproject_interp

    this = lesson(c)
    target = WCS(this.frames[0][1])
    options = {"block_size": (1024, 1024), "parallel": True} if quick else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aligned = [this.frames[0][0]] + [
            reproject_interp((data, WCS(header)), target, shape_out=(this.ny, this.nx), return_footprint=False,
                             roundtrip_coords=False, **options) for data, header in this.frames[1:]]
        if quick:
            return {"stack": np.nanmedian(np.array(aligned, dtype=np.float32), axis=0)}
    return {"stack": this.combine(frames=aligned)}


def _masked_median(c):
    cube = np.ma.masked_invalid(np.stack(lesson(c).aligned))
    return {"stack": np.ma.median(cube, axis=0).filled(np.nan)}


CASE_71 = [
    solution("the first frame kept, the others reproject_interp'ed onto its WCS in blocks on every core, then "
             "np.nanmedian(axis=0) of the float32 cube", _first_kept),
    valid("the same without blocks or threads, the median in float64", lambda c: _first_kept(c, quick=False)),
    valid("every frame reproject_interp'ed onto the first WCS, the first too", lambda c: {"stack": lesson(c).stack}),
    valid("ccdlab's align_frames and stack_frames", _package_stack),
    valid("a masked-array median (np.ma.median of np.ma.masked_invalid)", _masked_median),
    valid("the stack as float32", lambda c: {"stack": lesson(c).stack.astype(np.float32)}),
    valid("reproject with its footprints, the cube with np.stack", _with_footprints),
    mistake("the mean instead of the median", lambda c: {"stack": lesson(c).combine(np.nanmean)}, "the mean of the aligned"),
    mistake("np.median, which gives NaN where one frame has none",
            lambda c: {"stack": lesson(c).combine(np.median)}, "np.median gives NaN"),
    mistake("the frames not aligned", lambda c: {"stack": lesson(c).combine(frames=[d for d, _ in lesson(c).frames])},
            "not aligned"),
    mistake("the sum of the frames", lambda c: {"stack": lesson(c).combine(np.nansum)}, "sum of the frames"),
    mistake("the mean of the frames as they are: neither aligned nor a median",
            lambda c: {"stack": lesson(c).combine(np.nanmean, frames=[d for d, _ in lesson(c).frames])},
            "not aligned onto the first one"),
    mistake("only the first frame", lambda c: {"stack": lesson(c).frames[0][0]}, "just the first frame"),
    mistake("shape_out=(nx, ny), the axes swapped",
            lambda c: {"stack": lesson(c).combine(frames=lesson(c).align(shape=(lesson(c).nx, lesson(c).ny)))},
            "transposed"),
    mistake("the median along axis 1", lambda c: {"stack": lesson(c).combine(frames=lesson(c).aligned, axis=1)},
            "along a pixel axis"),
    mistake("the aligned frames, not combined", lambda c: {"stack": np.stack(lesson(c).aligned)}, "still the"),
    mistake("aligned onto the second frame's WCS",
            lambda c: {"stack": lesson(c).combine(frames=lesson(c).align(reference=1))}, "from where they are in the first"),
]


# 7.2 ---------------------------------------------------------------------------------------------

def star_snr_like(this: Lesson07, slip: str = ""):
    """The notebook's star_snr as a student writes it, with a ``slip``; '' is the solution's."""
    from photutils.aperture import (
        ApertureStats,
        CircularAnnulus,
        CircularAperture,
        aperture_photometry,
    )

    from ccdlab import photometry

    aperture = CircularAperture(this.positions, r=6.0)
    annulus = CircularAnnulus(this.positions, r_in=10.0, r_out=15.0)
    gain = this.gain

    def star_snr(image, n_frames):
        """S/N of the stars at `positions` in `image`, an image worth `n_frames` frames."""
        if slip == "raises":
            return aperture_photometry(image, aperture)["aperture_sum"] / undefined_noise  # noqa: F821 - the slip
        sky = ApertureStats(image, annulus).median
        total = (ApertureStats(image, aperture).sum if slip == "stats sum"
                 else np.asarray(aperture_photometry(image, aperture)["aperture_sum"]))
        flux = total if slip == "no sky" else total - sky * aperture.area
        if slip == "flux":
            return flux
        background = photometry.empty_aperture_noise(image)
        if slip == "electrons":  # the same S/N, counted in electrons
            electrons = np.clip(flux, 0, None) * gain * n_frames
            return flux * gain * n_frames / np.sqrt(electrons + (background * gain * n_frames) ** 2)
        n = 1 if slip == "n ignored" else n_frames
        photons = np.clip(flux, 0, None) * gain / n if slip == "times gain" else np.clip(flux, 0, None) / (gain * n)
        variance = photons + (0 if slip == "no background" else background ** 2)
        snr = flux / (variance if slip == "no sqrt" else np.sqrt(variance))
        if slip == "list":
            return list(snr)
        if slip == "median":
            return float(np.median(snr))
        return snr

    return star_snr


def answer(c, slip="", gain=None, **how):
    this = lesson(c)
    star_snr = star_snr_like(this, slip)
    value = gain(this, star_snr) if gain is not None else this.gain_with(star_snr, **how)
    return {"star_snr": star_snr, "snr_gain": value}


def _returns_none(c):
    def star_snr(image, n_frames):
        return None

    return {"star_snr": star_snr, "snr_gain": float(np.sqrt(lesson(c).n_effective))}


CASE_72 = [
    solution("star_snr as the formula, snr_gain the median of the ratios", lambda c: answer(c)),
    valid("snr_gain the mean of the ratios",
          lambda c: answer(c, ratio=lambda many, one: np.mean(np.asarray(many) / np.asarray(one)))),
    valid("snr_gain the ratio of the median S/N", lambda c: answer(c, ratio=lambda many, one: np.median(many) / np.median(one))),
    valid("star_snr counted in electrons", lambda c: answer(c, "electrons")),
    valid("star_snr returns a list; snr_gain a Python float",
          lambda c: answer(c, "list", gain=lambda this, f: float(np.median(np.divide(f(this.stack, this.n_effective),
                                                                                        f(this.frames[0][0], 1)))))),
    valid("the aperture sum from ApertureStats", lambda c: answer(c, "stats sum")),
    mistake("snr_gain = sqrt(4), the theory for a mean", lambda c: answer(c, gain=lambda this, f: np.sqrt(len(this.frames))),
            "is sqrt(4)"),
    mistake("snr_gain = sqrt(n_effective), the theory typed in",
            lambda c: answer(c, gain=lambda this, f: np.sqrt(this.n_effective)), "the theory"),
    mistake("the stack worth 4 whole frames (n instead of n_effective)",
            lambda c: answer(c, n_stack=len(lesson(c).frames)), "whole frames"),
    mistake("the stack worth one frame (n_frames=1 for the stack)", lambda c: answer(c, n_stack=1), "as one frame"),
    mistake("the first frame over the stack", lambda c: answer(c, ratio=lambda many, one: np.median(np.divide(one, many))),
            "below 1"),
    mistake("a ratio of fluxes, not of S/N", lambda c: {**answer(c), "snr_gain": lesson(c).gain_with(
        star_snr_like(lesson(c), "flux"))}, "ratio of the fluxes"),
    mistake("star_snr returns the flux", lambda c: answer(c, "flux"), "not their S/N"),
    mistake("the sky not subtracted", lambda c: answer(c, "no sky"), "sky under the star"),
    mistake("n_frames left out of the photon noise", lambda c: answer(c, "n ignored"), "same as with n_frames = 1"),
    mistake("the background noise left out", lambda c: answer(c, "no background"), "leaves out the background"),
    mistake("the flux multiplied by the gain in the photon noise", lambda c: answer(c, "times gain"),
            "multiplies the flux by the gain"),
    mistake("the variance for the noise (no square root)", lambda c: answer(c, "no sqrt"), "divides the flux by the variance"),
    mistake("star_snr returns the median, one number", lambda c: answer(c, "median"), "returns one number"),
    mistake("star_snr raises (a name not defined)",
            lambda c: {"star_snr": star_snr_like(lesson(c), "raises"), "snr_gain": ...}, "raised NameError"),
    mistake("star_snr still returns nothing", _returns_none, "returns nothing yet"),
    mistake("snr_gain as text", lambda c: {**answer(c), "snr_gain": f"{math.sqrt(lesson(c).n_effective):.2f}"},
            "should be a number"),
]


CASES = {"7.1": CASE_71, "7.2": CASE_72}

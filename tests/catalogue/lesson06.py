"""Answer catalogue of lesson 06: the camera's numbers and their units, cleaning with the mask, false detections."""

from __future__ import annotations

import functools

import numpy as np

from catalogue import mistake, solution, valid

LESSON = "06_cosmic_rays"


class Lesson06:
    """What the notebook has at hand on one night: the camera, the calibrated frame (with and without
    NaN corners), the vignetting mask, and remove_cosmics's results (kept per set of arguments)."""

    def __init__(self, context):
        from ccdlab.calibrate import calibrate_frame

        night = context.night
        self.header = context.frame(context.science_files[0])[1]
        self.camera = night.camera()
        self.vignetted = night.mask()
        first = context.science_files[0]
        self.unmasked = calibrate_frame(first, night.master_bias(), night.master_flat())[0]
        self.calibrated = calibrate_frame(first, night.master_bias(), night.master_flat(), mask=self.vignetted)[0]
        self.master_flat = night.master_flat()
        self._runs = {}

    def lacosmic(self, **changes) -> dict:
        cam = self.camera
        settings = {"gain": cam.gain, "readnoise": cam.readnoise, "satlevel": cam.satlevel, "mask": self.vignetted}
        settings.update(changes)
        return {key: value for key, value in settings.items() if value is not _DROP}

    def clean(self, data="unmasked", **settings):
        """remove_cosmics(data, **settings), kept: data is 'unmasked' or 'calibrated'."""
        from ccdlab.cosmics import remove_cosmics

        key = (data, tuple(sorted((k, _key(v)) for k, v in settings.items())))
        if key not in self._runs:
            self._runs[key] = remove_cosmics(getattr(self, data), **settings)
        return self._runs[key]

    def answer(self, lacosmic, data="unmasked", call=None, **overrides) -> dict:
        """The 6.2 answers for a lacosmic dict, cleaned with it (or with the ``call`` settings instead)."""
        crmask, cleaned = self.clean(data, **(lacosmic if call is None else call))
        return {"lacosmic": lacosmic, "crmask": crmask, "cleaned": cleaned, **overrides}

    @functools.cached_property
    def unmasked_hits(self):
        cam = self.camera
        return self.clean("unmasked", gain=cam.gain, readnoise=cam.readnoise, satlevel=cam.satlevel)[0]

    @functools.cached_property
    def masked_hits(self):
        return self.clean(**self.lacosmic())[0]


_DROP = object()


def _key(value):
    return ("array", id(value)) if isinstance(value, np.ndarray) else value


_KEPT: dict = {}


def lesson(context) -> Lesson06:
    if context.data_dir not in _KEPT:
        _KEPT[context.data_dir] = Lesson06(context)
    return _KEPT[context.data_dir]


# 6.1 ---------------------------------------------------------------------------------------------

def numbers(gain, read_noise, saturation):
    return {"gain": gain, "read_noise": read_noise, "saturation": saturation}


def camera(c):
    return lesson(c).camera


def _defaults():
    from ccdlab.camera import camera_parameters

    cam = camera_parameters()
    return numbers(cam.gain, cam.readnoise, cam.satlevel)


CASE_61 = [
    solution("the camera's values", lambda c: numbers(camera(c).gain, camera(c).readnoise, camera(c).satlevel)),
    valid("typed from the data sheet, whole numbers", lambda c: numbers(1.6, 14, 96000)),
    valid("numpy float32", lambda c: numbers(np.float32(camera(c).gain), np.float32(camera(c).readnoise),
                                             np.float32(camera(c).satlevel))),
    valid("camera_parameters() without a header (its defaults)", lambda c: _defaults()),
    valid("read noise converted from ADU (8.75 ADU x 1.6)",
          lambda c: numbers(camera(c).gain, camera(c).readnoise / camera(c).gain * camera(c).gain, camera(c).satlevel)),
    mistake("gain = 1/1.6, the unit inverted (ADU per electron)",
            lambda c: numbers(1 / camera(c).gain, camera(c).readnoise, camera(c).satlevel), "ADU per electron"),
    mistake("the header's junk GAIN", lambda c: numbers(lesson(c).header["GAIN"], camera(c).readnoise, camera(c).satlevel),
            "header is junk"),
    mistake("another gain (1.0)", lambda c: numbers(1.0, camera(c).readnoise, camera(c).satlevel),
            "not the camera's gain"),
    mistake("read noise in ADU", lambda c: numbers(camera(c).gain, camera(c).readnoise / camera(c).gain, camera(c).satlevel),
            "read noise in ADU"),
    mistake("read noise multiplied by the gain (converted twice)",
            lambda c: numbers(camera(c).gain, camera(c).readnoise * camera(c).gain, camera(c).satlevel),
            "already in electrons"),
    mistake("saturation in ADU", lambda c: numbers(camera(c).gain, camera(c).readnoise, camera(c).satlevel / camera(c).gain),
            "saturation level in ADU"),
    mistake("saturation = 65535, the converter's largest value",
            lambda c: numbers(camera(c).gain, camera(c).readnoise, 65535), "16-bit converter"),
    mistake("the gain as text", lambda c: numbers("1.6", camera(c).readnoise, camera(c).satlevel), "should be a number"),
]


# 6.2 ---------------------------------------------------------------------------------------------

def answer(c, data="unmasked", call=None, **changes):
    this = lesson(c)
    return this.answer(this.lacosmic(**changes), data=data, call=call)


def _float64_answer(c):
    this = lesson(c)
    cam = this.camera
    settings = {"gain": np.float64(cam.gain), "readnoise": np.float64(cam.readnoise),
                "satlevel": np.float64(cam.satlevel), "mask": this.vignetted}
    crmask, cleaned = this.clean("unmasked", **settings)
    return {"lacosmic": settings, "crmask": crmask, "cleaned": cleaned.astype(np.float64)}


def _lowered_saturation(c):
    from ccdlab.reduce import calibrated_saturation

    this = lesson(c)
    return answer(c, satlevel=calibrated_saturation(this.camera.satlevel, this.master_flat, mask=this.vignetted))


def _with_crmask(c, crmask):
    found = answer(c)
    return {**found, "crmask": crmask}


def _nan_frame(c):
    """`calibrated` (NaN corners) cleaned with the mask: the hits are right, the corners NaN."""
    return answer(c, data="calibrated")


def _in_electrons(c):
    found = answer(c)
    return {**found, "cleaned": found["cleaned"] * lesson(c).camera.gain}


def _called_without_the_mask(c):
    this = lesson(c)
    settings = this.lacosmic()
    return this.answer(settings, call={k: v for k, v in settings.items() if k != "mask"})


CASE_62 = [
    solution("a dict, then remove_cosmics(calibrated_unmasked, **lacosmic)", lambda c: answer(c)),
    valid("the mask as 0/1 integers (uint8)", lambda c: answer(c, mask=lesson(c).vignetted.astype(np.uint8))),
    valid("numbers typed from the data sheet, keys in another order",
          lambda c: lesson(c).answer({"mask": lesson(c).vignetted, "satlevel": 96000, "readnoise": 14, "gain": 1.6})),
    valid("float64 numbers, the cleaned frame as float64", _float64_answer),
    valid("the saturation lowered for the flat (as ccdlab.reduce does)", _lowered_saturation),
    valid("the saturation in ADU, with satlevel_unit='adu'",
          lambda c: answer(c, satlevel=lesson(c).camera.satlevel / lesson(c).camera.gain, satlevel_unit="adu")),
    mistake("read_noise / gain: the read noise in ADU",
            lambda c: answer(c, readnoise=lesson(c).camera.readnoise / lesson(c).camera.gain), "read noise in ADU"),
    mistake("gain = 1/1.6 (ADU per electron)", lambda c: answer(c, gain=1 / lesson(c).camera.gain), "ADU per electron"),
    mistake("the saturation in ADU, said to be electrons",
            lambda c: answer(c, satlevel=lesson(c).camera.satlevel / lesson(c).camera.gain), "saturation level in ADU"),
    mistake("no mask at all", lambda c: answer(c, mask=_DROP), "no 'mask'"),
    mistake("mask=None", lambda c: answer(c, mask=None), "is None"),
    mistake("the mask inverted (~vignetted)", lambda c: answer(c, mask=~lesson(c).vignetted), "True on the good pixels"),
    mistake("run on `calibrated` (NaN corners) with the mask", _nan_frame, "already NaN"),
    mistake("'read_noise' for 'readnoise' (a key remove_cosmics does not take)",
            lambda c: {**answer(c), "lacosmic": {**lesson(c).lacosmic(readnoise=_DROP), "read_noise": 14.0}},
            "'read_noise'"),
    mistake("lacosmic as a tuple of numbers",
            lambda c: {**answer(c), "lacosmic": (lesson(c).camera.gain, lesson(c).camera.readnoise, lesson(c).camera.satlevel)},
            "should be a dict"),
    mistake("the cleaned frame in electrons", _in_electrons, "in electrons"),
    mistake("the mask in lacosmic but not passed in the call", _called_without_the_mask, "inside the vignetted corners"),
    mistake("crmask as integers", lambda c: _with_crmask(c, lesson(c).masked_hits.astype(int)), "boolean"),
]


# 6.3 ---------------------------------------------------------------------------------------------

def counts(c, how="solution"):
    this = lesson(c)
    unmasked, vignetted, crmask = this.unmasked_hits, this.vignetted, this.masked_hits
    inside, outside, with_mask = int((unmasked & vignetted).sum()), int((unmasked & ~vignetted).sum()), int(crmask.sum())
    made = {"n_in_corners": inside, "n_outside": outside, "n_with_mask": with_mask}
    if how == "count_nonzero":
        made = {"n_in_corners": np.count_nonzero(unmasked[vignetted]), "n_outside": np.count_nonzero(unmasked[~vignetted]),
                "n_with_mask": np.count_nonzero(crmask)}
    elif how == "floats":
        made = {key: float(value) for key, value in made.items()}
    elif how == "numpy sums":
        made = {"n_in_corners": unmasked[vignetted].sum(), "n_outside": np.logical_and(unmasked, ~vignetted).sum(),
                "n_with_mask": np.sum(crmask)}
    elif how == "total in corners":
        made["n_in_corners"] = int(unmasked.sum())
    elif how == "mask area":
        made["n_in_corners"] = int(vignetted.sum())
    elif how == "swapped":
        made["n_in_corners"], made["n_outside"] = outside, inside
    elif how == "not flagged outside":
        made["n_outside"] = int((~unmasked & ~vignetted).sum())
    elif how == "without the mask":
        made["n_with_mask"] = int(unmasked.sum())
    elif how == "arrays":
        made["n_in_corners"] = unmasked & vignetted
    elif how == "crmask in the corners":
        made["n_with_mask"] = int(crmask[vignetted].sum())
    return made


CASE_63 = [
    solution("(crmask_unmasked & vignetted).sum() and the like", lambda c: counts(c)),
    valid("np.count_nonzero", lambda c: counts(c, "count_nonzero")),
    valid("counts as floats", lambda c: counts(c, "floats")),
    valid("numpy sums (np.int64), indexing and np.logical_and", lambda c: counts(c, "numpy sums")),
    mistake("every flagged pixel counted as in the corners", lambda c: counts(c, "total in corners"),
            "also in the vignetting mask"),
    mistake("the area of the corners (vignetted.sum())", lambda c: counts(c, "mask area"), "the mask's area"),
    mistake("inside and outside swapped", lambda c: counts(c, "swapped"), "swapped"),
    mistake("the pixels outside that were not flagged", lambda c: counts(c, "not flagged outside"), "NOT flagged"),
    mistake("n_with_mask from crmask_unmasked", lambda c: counts(c, "without the mask"), "count without the mask"),
    mistake("a boolean image instead of its count", lambda c: counts(c, "arrays"), "should be a number"),
    mistake("n_with_mask counted inside the corners only", lambda c: counts(c, "crmask in the corners"),
            "no hits inside the corners"),
]


CASES = {"6.1": CASE_61, "6.2": CASE_62, "6.3": CASE_63}

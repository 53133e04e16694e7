"""Checks for lesson 04, the master flat: screening the flats, combining them, the vignetting mask.

Each check first compares the answer with the reference the package computes on the night in use;
when the answer is wrong it then looks for the slip behind it (the mean for the median, the bias
left in, an inverted mask ...), by redoing the exercise *with* that slip and seeing whether the
answer matches it, so that the hint names the mistake rather than repeating the instructions.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ccdlab.course.checks import (
    Part,
    answers,
    blank_part,
    boolean_mask,
    image,
    is_blank,
)

LESSON = "04_master_flat"


# --- 4.1: the median of every flat -----------------------------------------------------------------


def _per_flat(night, key: str, measure) -> list[float]:
    """``measure(data)`` of every flat, in the order of ``night.files("flat")`` (kept on the night)."""
    return night.memo(("flat_measure", key),
                      lambda: [float(measure(night.frame(path)[0])) for path in night.files("flat")])


def _centre(shape):
    from ccdlab.screening import illuminated_region

    return illuminated_region(shape)


def _close(values, expected) -> bool:
    return len(values) == len(expected) and all(abs(v - e) <= 1e-4 * abs(e) + 1e-3 for v, e in zip(values, expected))


def _median_slip(night, values: list[float], expected: list[float]) -> str:
    """The hint for medians that match a common slip, else ''."""
    if _close(sorted(values), sorted(expected)):
        return ("These are the right medians in another order: keep the order of flat_files, so that each value "
                "belongs to the file beside it.")
    slips = [
        ("mean", ("These look like the means of the flats: take np.median, which the vignetted corners, hot pixels "
                 "and cosmic rays cannot pull.")),
        ("centre", "These are the medians of the central region only: take the median of each whole raw flat."),
        ("minus bias", ("These medians have the bias taken off: here take the raw flats' own medians (the bias comes "
                       "off in Exercise 4.3).")),
        ("minus bias level", ("These medians have the bias taken off: here take the raw flats' own medians (the bias "
                             "comes off in Exercise 4.3).")),
        ("per second", "These medians are divided by the exposure time: give the raw medians, in ADU."),
    ]
    for key, hint in slips:
        if _close(values, _slipped_medians(night, key)):
            return hint
    return ""


def _slipped_medians(night, key: str) -> list[float]:
    if key == "mean":
        return _per_flat(night, "mean", np.mean)
    if key == "centre":
        return _per_flat(night, "centre", lambda data: np.median(data[_centre(data.shape)]))
    if key == "minus bias":
        return _per_flat(night, "minus bias", lambda data: np.median(data - night.master_bias()))
    medians = _per_flat(night, "median", np.median)
    if key == "minus bias level":
        bias_level = night.memo("bias_level", lambda: float(np.median(night.master_bias())))
        return [m - bias_level for m in medians]
    exptimes = night.memo("flat_exptimes", lambda: [float(night.frame(path)[1].get("EXPTIME", math.nan))
                                                    for path in night.files("flat")])
    return [m / t if t else math.nan for m, t in zip(medians, exptimes)]


@answers(LESSON, "flat_medians")
def flat_medians(night, flat_medians):
    """The median of every flat, in the order of flat_files.

    Examples
    --------
    >>> check("4.1", flat_medians=[np.median(read_frame(p)[0]) for p in flat_files])  # doctest: +SKIP
    ✔ Exercise 4.1: correct. Well done!
    """
    expected = _per_flat(night, "median", np.median)
    name = "flat_medians"
    if is_blank(flat_medians):
        return [blank_part(name, expected)]
    shape = night.master_bias().shape
    if isinstance(flat_medians, dict):
        return [Part(name, False, "flat_medians should be a list, one median per flat in the order of flat_files, "
                     "not a dict: [... for path in flat_files].", expected)]
    if isinstance(flat_medians, (str, bytes)) or (isinstance(flat_medians, (list, tuple))
                                                  and any(isinstance(v, (str, bytes)) for v in flat_medians)):
        return [Part(name, False, "flat_medians holds text: give numbers (float(np.median(...))), one per flat.",
                     expected)]
    try:
        array = np.asarray(flat_medians, dtype=np.float64)
    except (TypeError, ValueError):
        return [Part(name, False, "flat_medians should be a list of numbers, one per flat.", expected)]
    if array.ndim == 0:
        return [Part(name, False, "flat_medians is a single number: give a list of numbers, one median per flat "
                     "([... for path in flat_files]).", expected)]
    if array.shape[-2:] == tuple(shape):
        return [Part(name, False, "flat_medians is an image: a median along axis=0 combines the flats pixel by "
                     "pixel. Here each flat's own median is wanted, one number per flat.", expected)]
    if array.ndim != 1:
        return [Part(name, False, f"flat_medians has shape {array.shape}: give a list of numbers, one per flat.",
                     expected)]
    values = [float(v) for v in array]
    if len(values) != len(expected):
        used = int(sum(bool(u) for u in night.flat_screening()["used"]))
        extra = (" Include the unusable one too: Exercise 4.2 decides which flat to leave out."
                 if len(values) == used and used < len(expected) else "")
        return [Part(name, False, f"flat_medians has {len(values)} values but there are {len(expected)} flats: "
                     f"one median per file in flat_files.{extra}", expected)]
    wrong = [i for i, (v, e) in enumerate(zip(values, expected)) if abs(v - e) > 1e-4 * abs(e) + 1e-3]
    if wrong:
        hint = _median_slip(night, values, expected) or (
            f"{len(wrong)} of the {len(values)} medians are off (the first is flat #{wrong[0]}): take np.median of "
            "each whole raw flat, in the order of flat_files.")
        return [Part(name, False, hint, expected)]
    return [Part(name, True, reference=expected)]


# --- 4.2: the unusable flat --------------------------------------------------------------------------


def file_names(value) -> list[str] | None:
    """The file names an answer names: a name, a path (text or ``Path``), or a list, tuple or array of them.

    Parameters
    ----------
    value : object
        The answer.

    Returns
    -------
    list of str or None
        The names (``Path(x).name`` of each), ``[]`` for None, or None when ``value`` names no file
        (a number, a dict ...).

    Examples
    --------
    >>> file_names("data/flats/a.fits"), file_names([Path("a.fits")]), file_names(None), file_names(3)
    (['a.fits'], ['a.fits'], [], None)
    """
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [Path(value).name]
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.ravel(value)) if isinstance(value, np.ndarray) else list(value)
        if all(isinstance(item, (str, os.PathLike)) for item in items):
            return [Path(item).name for item in items]
    return None


def _not_a_name(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bad_flat should be the flat's file name (text), not True or False."
    if isinstance(value, (int, np.integer)):
        return ("bad_flat is a number, the flat's position in the list: give its file name instead, "
                "Path(flat_files[i]).name.")
    if isinstance(value, (float, np.floating)):
        return "bad_flat is a number (a median?): give the flat's file name (text), Path(path).name."
    return "bad_flat should be a file name (text), e.g. Path(path).name."


@answers(LESSON, "bad_flat")
def bad_flat(night, bad_flat):
    """The file name of the flat that cannot be used (None if all are fine).

    A name, a full path (text or ``Path``), or a list of one of these all name the same file and
    are right; the notebook's next line compares file names, so each works there. The file's stem
    (the name without ``.fits``) is not taken: it gets a hint to give the whole name.

    Examples
    --------
    >>> check("4.2", bad_flat="C0_20181013-124905-134.fits")  # doctest: +SKIP
    ✔ Exercise 4.2: correct. Well done!
    """
    table = night.flat_screening()
    rejected = [str(row["name"]) for row in table if not row["used"]]
    reference = rejected[0] if len(rejected) == 1 else (rejected or None)
    if is_blank(bad_flat):
        return [blank_part("bad_flat", reference)]
    got = file_names(bad_flat)
    if got is None:
        return [Part("bad_flat", False, _not_a_name(bad_flat), reference)]
    if set(got) == set(rejected):
        return [Part("bad_flat", True, reference=reference)]
    if not rejected:
        return [Part("bad_flat", False, "All flats look usable here: answer None.", reference)]
    return [Part("bad_flat", False, _bad_flat_hint(night, got, rejected), reference)]


def _bad_flat_hint(night, got: list[str], rejected: list[str]) -> str:
    table = night.flat_screening()
    flats = [str(name) for name in table["name"]]
    one = "one flat is" if len(rejected) == 1 else f"{len(rejected)} flats are"
    if not got:
        return f"None says that every flat is usable, but {one} not: compare each flat's median with the others."
    others = {Path(path).name: kind for kind in ("bias", "science") for path in night.files(kind)}
    for name in got:
        if name not in flats:
            if name + ".fits" in flats or name + ".fit" in flats:
                return (f"{name!r} is a flat's name without its ending: give the whole file name, with .fits "
                        "(Path(path).name, not .stem).")
            if name in others:
                return f"{name} is a {others[name]} frame, not one of the flats: choose among flat_files."
            return f"{name!r} is not one of the flats: give the name of a file in flat_files (Path(path).name)."
    if len(got) > len(rejected):
        return (f"You named {len(got)} flats, but only {one} unusable here: compare each flat's median with the "
                "camera's range.")
    levels = {str(row["name"]): float(row["level"]) for row in table}
    used = [levels[name] for name in flats if name not in rejected]
    bright = any(levels[name] > max(used) for name in rejected) if used else True
    if bright:
        look = ("Which one is too bright, saturated? This camera's 16 bits stop at 65535 ADU, and its response "
                "stops being proportional to the light well before that.")
    else:
        look = "Which one is too faint to be worth combining?"
    if used and bright and all(levels[name] == min(used) for name in got):
        return f"That is the faintest flat, but faint is fine here: it is thousands of ADU above the bias. {look}"
    return f"The flat you named looks usable: compare each flat's median with the others. {look}"


# --- 4.3: the master flat ------------------------------------------------------------------------------


@answers(LESSON, "master_flat")
def master_flat_check(night, master_flat):
    """The normalised master flat from the good flats.

    Examples
    --------
    >>> master_flat = check("4.3", master_flat=combined / np.median(combined[centre]))  # doctest: +SKIP
    ✔ Exercise 4.3: correct. Well done!
    """
    expected = night.master_flat()
    if type(master_flat).__name__ == "MasterFlat" and hasattr(master_flat, "data"):
        return [Part("master_flat", False, "That is ccdlab's MasterFlat object: the lesson goes on with its image, "
                     "an array (master_flat(...).data).", expected)]
    part = image("master_flat", master_flat, expected, rtol=2e-3, atol=1e-4, max_bad_fraction=1e-3,
                 hint="Look again at each step: which flats go in, what comes off each one first, how each is "
                      "brought to the same level, how they are combined, and the final level of the centre.",
                 reference=expected)
    if not part.ok and not part.blank:
        slip = _flat_slip(night, master_flat, expected)
        if slip:
            part.hint = slip
    return [part]


#: Ways of making the master flat wrongly, as options of :func:`_flat_by_hand`, and what to say.
_FLAT_SLIPS = (
    ({"subtract_bias": False}, ("The vignetted corners are off by a few tenths of a per cent, as when the bias is "
                               "still in the flats: what has to come off each flat before it is normalised?")),
    ({"every_flat": True}, ("The flat you left out in Exercise 4.2 seems to be in this master: combine only the "
                           "good flats.")),
    ({"method": "mean"}, ("This looks like the mean of the flats: combine them with the median, which ignores a star "
                         "or a cosmic ray that is in one flat only.")),
    ({"normalise_each": False}, ("The flats were combined before each was normalised: divide each flat by the "
                                "median of its own central region first, since their brightness differs.")),
)


def _flat_by_hand(night, subtract_bias: bool = True, every_flat: bool = False, normalise_each: bool = True,
                  method: str = "median") -> np.ndarray:
    """A master flat made by hand as the notebook does, optionally with one of the slips of :data:`_FLAT_SLIPS`.

    Not kept: a full-size flat is 67 MB (:func:`_flat_slip` keeps every other pixel of the ones it needs).
    """
    def compute():
        table = night.flat_screening()
        used = {str(row["name"]) for row in table if row["used"]}
        files = [path for path in night.files("flat") if every_flat or Path(path).name in used]
        bias = night.master_bias() if subtract_bias else np.float32(0)
        centre = _centre(night.master_bias().shape)
        frames = []
        for path in files:
            frame = night.frame(path)[0] - bias
            frames.append(frame / np.median(frame[centre]) if normalise_each else frame)
        combined = (np.median if method == "median" else np.mean)(np.stack(frames), axis=0)
        return combined / np.median(combined[centre])

    return compute()


_STEP = np.s_[::2, ::2]  # slips are told apart on every other pixel: as telling, a quarter of the memory


def _flat_slip(night, got, expected) -> str:
    """A specific hint when ``got`` looks like a master flat made with a common slip, else ''."""
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if array.shape != expected.shape:
        return ""  # the comparison's own shape hint says what the shape means
    centre = _centre(expected.shape)
    level = float(np.nanmedian(array[centre])) if np.isfinite(array[centre]).any() else math.nan
    if math.isfinite(level) and abs(level - 1) > 0.005:
        return (f"Its central region reads {level:.4g}, not 1 ({level:.3g} times the expected level): normalise by "
                "the median of the central region (flat[centre]), each flat before combining and the combination at "
                "the end.")

    sub = array[_STEP]

    def distance(other):
        both = np.isfinite(sub) & np.isfinite(other)
        return float(np.median(np.abs(sub[both] - other[both]))) if both.any() else math.inf

    def slipped(options):  # only every other pixel is kept: four of these cost one full flat
        return night.memo(("flat_slip", tuple(sorted(options.items()))), lambda: _flat_by_hand(night, **options)[_STEP])

    rejected = not all(night.flat_screening()["used"])
    slips = [(hint, options) for options, hint in _FLAT_SLIPS if rejected or "every_flat" not in options]
    right = distance(np.asarray(expected)[_STEP])
    best = min(((distance(slipped(options)), hint) for hint, options in slips), default=(math.inf, ""))
    return best[1] if best[0] < 0.5 * right else ""


# --- 4.4: the vignetting mask -----------------------------------------------------------------------------


@answers(LESSON, "vignetted")
def vignetted_mask(night, vignetted):
    """True where the master flat is below 0.8 (of its central level).

    Examples
    --------
    >>> vignetted = check("4.4", vignetted=master_flat < 0.8)  # doctest: +SKIP
    ✔ Exercise 4.4: correct. Well done!
    """
    expected = night.mask()
    hint = "Which pixels of the master flat receive less than 80% of the light of its centre (1.0)?"
    if not is_blank(vignetted):
        slip = _mask_type_slip(vignetted, expected.shape)
        if slip:
            return [Part("vignetted", False, slip, expected)]
    part = boolean_mask("vignetted", vignetted, expected, max_bad_fraction=0.002, hint=hint, reference=expected)
    if not part.ok and not part.blank:
        array = np.asarray(vignetted)  # boolean_mask took it as an array already
        if array.shape == expected.shape:
            part.hint = _mask_slip(night, array, expected) or part.hint
    return [part]


def _mask_type_slip(value, shape) -> str:
    """A hint for a mask that is not a boolean image of the right kind, else ''."""
    if isinstance(value, tuple) and value and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in value):
        return ("vignetted holds the positions of the pixels (np.where(condition) gives those): the mask is the "
                "comparison itself, a boolean image such as flat < limit.")
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything that is no array: the comparison says so
        return ""
    if array.shape != tuple(shape) or array.dtype == bool:
        return ""
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        return ("vignetted is the flat with NaN in the vignetted pixels, an image of numbers: the mask is the "
                "boolean comparison that picks those pixels (True where masked).")
    if np.issubdtype(array.dtype, np.number):
        return (f"vignetted holds numbers ({array.dtype}), not True/False: as an index, 0 and 1 would pick rows 0 "
                "and 1 rather than the masked pixels. Keep the comparison's boolean result (no .astype()).")
    return ""


def _mask_slip(night, array: np.ndarray, expected: np.ndarray) -> str:
    """A specific hint for a boolean mask of the right shape that marks the wrong pixels, else ''."""
    if array.dtype != bool:
        return ""
    if float(np.mean(~array != expected)) <= 0.002:
        return ("The mask is inverted: True must mark the vignetted pixels, where the flat is below 0.8, and False "
                "the well-lit ones.")
    if array.all():
        return ("The mask marks every pixel: the master flat is normalised to 1 in the centre, so the limit is 0.8, "
                "not 80 (per cent).")
    if not array.any():
        return "The mask marks no pixel: compare the normalised master flat (1 in its centre) with 0.8."
    flat = night.master_flat()
    finite = np.isfinite(flat)
    limit = float(np.quantile(flat[finite], float(np.mean(array[finite])))) if finite.any() else math.nan
    if math.isfinite(limit) and abs(limit - 0.8) > 0.02:
        return (f"The mask marks the pixels below about {limit:.2f} of the centre's light: the limit is 0.8 "
                "(80% of the light).")
    return ""

"""The logic behind the notebook checks: one module per lesson, plus the shared tools here.

A lesson module registers one function per exercise with :func:`answers`, naming the answers it
takes (the keyword names a student passes to :func:`ccdlab.exercises.check`). Exercise IDs and
points are *not* written here: they live only in the solution notebooks' markers, and the ID a
notebook passes to ``check`` is only used to label the result. A check function receives the
:class:`Night` in use and the student's answers, and returns one :class:`Part` per answer: whether
it is right, a hint when not (what to look at, never the answer) and, when later cells need the
value, a reference to hand back instead.

Expected values are always computed from the data in use (:class:`Night`), with the package's own
functions, so the checks work on the tiny, workshop and full datasets and on a real night.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = [
    "LESSONS",
    "NO_REFERENCE",
    "Part",
    "CheckSpec",
    "answers",
    "checks_for",
    "find_check",
    "is_blank",
    "blank_part",
    "number",
    "text",
    "image",
    "boolean_mask",
    "Night",
    "night",
    "forget_nights",
]

#: The lessons, in teaching order; each has a module ``ccdlab.checks.lessonNN``.
LESSONS = (
    "00_getting_started",
    "01_fits_files",
    "02_statistics_display",
    "03_master_bias",
    "04_master_flat",
    "05_calibration",
    "06_cosmic_rays",
    "07_stacking",
)


class _NoReference:
    def __repr__(self) -> str:
        return "NO_REFERENCE"


#: Marks a part that has no reference value to hand back (the student's value is returned).
NO_REFERENCE = _NoReference()


@dataclass
class Part:
    """The verdict on one answer.

    Parameters
    ----------
    name : str
        The answer's keyword name, e.g. ``"x_len"``.
    ok : bool
        True when the answer is right.
    hint : str
        What to look at when it is not (never the answer itself).
    reference : object
        The value later cells can use instead of a wrong or blank answer, or
        :data:`NO_REFERENCE`.
    blank : bool
        True when the student has not filled this answer in yet (``...``).

    Examples
    --------
    >>> Part("x_len", True).ok
    True
    """

    name: str
    ok: bool
    hint: str = ""
    reference: Any = NO_REFERENCE
    blank: bool = False


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: the lesson, the answer names it takes, and the function.

    Examples
    --------
    >>> spec = CheckSpec("01_fits_files", ("x_len", "y_len"), lambda night, **a: [])
    >>> spec.names
    ('x_len', 'y_len')
    """

    lesson: str
    names: tuple[str, ...]
    function: Callable = field(compare=False)
    title: str = ""


_REGISTRY: dict[str, list[CheckSpec]] = {}


def answers(lesson: str, *names: str):
    """Register a check function for the answers ``names`` of ``lesson`` (a decorator).

    Parameters
    ----------
    lesson : str
        One of :data:`LESSONS`.
    *names : str
        The keyword names a student passes to ``check``; together they identify the check
        within the lesson, so they must be unique there.

    Examples
    --------
    >>> _ = checks_for("00_getting_started")  # the lesson's own checks, loaded first
    >>> @answers("00_getting_started", "demo_answer")
    ... def demo(night, demo_answer):
    ...     return [Part("demo_answer", demo_answer == 42, "Count again.")]
    >>> spec = find_check("00_getting_started", ["demo_answer"])
    >>> spec.title
    'demo'
    >>> _REGISTRY["00_getting_started"].remove(spec)   # (forget the demo again)
    """
    if lesson not in LESSONS:
        raise ValueError(f"Unknown lesson {lesson!r}: use one of {', '.join(LESSONS)}.")
    if not names:
        raise ValueError("A check needs at least one answer name.")

    def register(function):
        spec = CheckSpec(lesson, tuple(names), function, function.__name__)
        for other in _REGISTRY.get(lesson, []):
            if set(other.names) == set(spec.names):
                raise ValueError(f"Lesson {lesson} already has a check for the answers {other.names}.")
        _REGISTRY.setdefault(lesson, []).append(spec)
        return function

    return register


def _load(lesson: str) -> None:
    number = lesson.split("_", 1)[0]
    importlib.import_module(f"ccdlab.checks.lesson{number}")  # registers its checks once
    _REGISTRY.setdefault(lesson, [])


def checks_for(lesson: str) -> list[CheckSpec]:
    """Return the checks registered for a lesson (its module is imported on first use).

    Examples
    --------
    >>> [spec.names for spec in checks_for("01_fits_files")][0]
    ('x_len', 'y_len')
    """
    if lesson not in LESSONS:
        raise ValueError(f"Unknown lesson {lesson!r}: use one of {', '.join(LESSONS)}.")
    _load(lesson)
    return list(_REGISTRY[lesson])


def find_check(lesson: str | None, names) -> CheckSpec | None:
    """Find the check taking exactly the answers ``names``, in ``lesson`` or, if None, anywhere.

    Returns None when no check (or, without a lesson, more than one) matches.

    Examples
    --------
    >>> find_check("01_fits_files", ["y_len", "x_len"]).title
    'image_size'
    >>> find_check("01_fits_files", ["nonsense"]) is None
    True
    """
    wanted = set(names)
    lessons = [lesson] if lesson else list(LESSONS)
    found = [spec for name in lessons for spec in checks_for(name) if set(spec.names) == wanted]
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------
# Comparing answers


def is_blank(value) -> bool:
    """Return True for an answer not filled in yet: the Ellipsis ``...`` (or None from a stub).

    Examples
    --------
    >>> is_blank(...), is_blank(0)
    (True, False)
    """
    return value is Ellipsis


def blank_part(name: str, reference: Any = NO_REFERENCE) -> Part:
    """The part for an answer still blank.

    Examples
    --------
    >>> blank_part("x_len").blank
    True
    """
    return Part(name, False, f"{name} is still `...`: replace it with your answer.", reference, blank=True)


def _as_float(value):
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, str):
        return None
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.size != 1 or not (np.issubdtype(array.dtype, np.number)):
        return None
    return float(array.reshape(()))


def number(name: str, got, expected, rtol: float = 1e-6, atol: float = 0.0, hint: str = "",
           reference: Any = NO_REFERENCE) -> Part:
    """Compare a number with the expected one, within ``rtol`` (relative) or ``atol`` (absolute).

    Parameters
    ----------
    name : str
        The answer's name.
    got : object
        The student's answer.
    expected : float, or None when the data has no such value
        The expected value. With None the right answer is None (e.g. a keyword the file lacks).
    rtol, atol : float
        Tolerances; the answer is right when ``|got - expected| <= atol + rtol * |expected|``.
    hint : str
        What to look at when the number is off.
    reference : object
        What to hand back instead of a wrong answer.

    Examples
    --------
    >>> number("x_len", 4096, 4096.0).ok
    True
    >>> number("mean", 270.4, 270.0, rtol=1e-3, hint="Use the whole image.").hint
    'mean = 270.4 is not what the data gives. Use the whole image.'
    """
    if is_blank(got):
        return blank_part(name, reference)
    if expected is None:
        if got is None:
            return Part(name, True, reference=reference)
        return Part(name, False, f"{name}: this file has no such value. {hint}".strip(), reference)
    value = _as_float(got)
    if value is None:
        return Part(name, False, f"{name} should be a number, but it is {type(got).__name__} {_short(got)}. {hint}".strip(), reference)
    if not math.isfinite(value) and not (isinstance(expected, float) and math.isnan(expected) and math.isnan(value)):
        return Part(name, False, f"{name} is {value}: not a finite number. {hint}".strip(), reference)
    if abs(value - float(expected)) <= atol + rtol * abs(float(expected)):
        return Part(name, True, reference=reference)
    return Part(name, False, f"{name} = {_short(got)} is not what the data gives. {hint}".strip(), reference)


def _short(value) -> str:
    if isinstance(value, np.generic):  # 270.0, not np.float32(270.0)
        value = value.item()
    elif isinstance(value, (list, tuple)) and any(isinstance(item, np.generic) for item in value):
        value = type(value)(item.item() if isinstance(item, np.generic) else item for item in value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def text(name: str, got, expected, hint: str = "", case: bool = False, reference: Any = NO_REFERENCE) -> Part:
    """Compare a text answer (e.g. a header value) with the expected one, ignoring outer spaces.

    Parameters
    ----------
    case : bool
        Compare case too (default False: ``'DARK'`` matches ``'dark'``).

    Examples
    --------
    >>> text("imagetyp", "dark ", "dark").ok
    True
    >>> text("imagetyp", "bias", "dark", hint="Read IMAGETYP itself.").ok
    False
    """
    if is_blank(got):
        return blank_part(name, reference)
    if expected is None:
        ok = got is None
        return Part(name, ok, "" if ok else f"{name}: this file has no such keyword. {hint}".strip(), reference)
    if not isinstance(got, str):
        return Part(name, False, f"{name} should be text (a str), but it is {type(got).__name__} {_short(got)}. {hint}".strip(), reference)
    a, b = got.strip(), str(expected).strip()
    ok = a == b if case else a.lower() == b.lower()
    return Part(name, ok, "" if ok else f"{name} = {_short(got)} is not what the file says. {hint}".strip(), reference)


def image(name: str, got, expected, rtol: float = 1e-4, atol: float = 0.0, hint: str = "",
          reference: Any = NO_REFERENCE, max_bad_fraction: float = 0.0) -> Part:
    """Compare an image (2-D array) with the expected one, NaN matching NaN.

    Parameters
    ----------
    rtol, atol : float
        Tolerances per pixel (as :func:`numpy.isclose`).
    max_bad_fraction : float
        Fraction of pixels allowed to differ (e.g. at a mask's edge).

    Examples
    --------
    >>> import numpy as np
    >>> image("master_bias", np.ones((4, 4)), np.ones((4, 4))).ok
    True
    >>> image("master_bias", np.ones((4, 5)), np.ones((4, 4))).hint.startswith("master_bias has shape")
    True
    """
    if is_blank(got):
        return blank_part(name, reference)
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return Part(name, False, f"{name} should be an image (a 2-D array of numbers), but it is {type(got).__name__}. {hint}".strip(), reference)
    expected = np.asarray(expected, dtype=np.float64)
    if array.shape != expected.shape:
        return Part(name, False, f"{name} has shape {array.shape}, but the frames are {expected.shape}: "
                    f"combine along the stack axis (axis=0). {hint}".strip(), reference)
    nan_got, nan_expected = np.isnan(array), np.isnan(expected)
    close = np.isclose(array, expected, rtol=rtol, atol=atol) | (nan_got & nan_expected)
    bad = 1.0 - float(np.mean(close))
    if bad <= max_bad_fraction:
        return Part(name, True, reference=reference)
    detail = ""
    if nan_got.sum() != nan_expected.sum():
        detail = f" It has {int(nan_got.sum())} NaN pixels where {int(nan_expected.sum())} are expected."
    else:
        both = ~nan_got & ~nan_expected
        if both.any():
            ratio = np.median(array[both]) / np.median(expected[both]) if np.median(expected[both]) else np.nan
            if np.isfinite(ratio) and abs(ratio - 1) > 0.01:
                detail = f" Its median is {ratio:.3g} times the expected one."
    return Part(name, False, f"{name} differs from the expected image in {bad:.1%} of the pixels.{detail} {hint}".strip(), reference)


def boolean_mask(name: str, got, expected, hint: str = "", reference: Any = NO_REFERENCE,
                 max_bad_fraction: float = 0.0) -> Part:
    """Compare a boolean mask (True = masked) with the expected one.

    Examples
    --------
    >>> import numpy as np
    >>> boolean_mask("mask", np.array([True, False]), np.array([True, False])).ok
    True
    >>> boolean_mask("mask", np.array([1.0, 0.0]), np.array([True, False])).ok
    False
    """
    if is_blank(got):
        return blank_part(name, reference)
    array = np.asarray(got)
    expected = np.asarray(expected, dtype=bool)
    if array.dtype != bool:
        return Part(name, False, f"{name} should be a boolean array (True where masked), but its type is {array.dtype}: "
                    f"a comparison such as `image < limit` gives one. {hint}".strip(), reference)
    if array.shape != expected.shape:
        return Part(name, False, f"{name} has shape {array.shape}, but the image is {expected.shape}. {hint}".strip(), reference)
    bad = float(np.mean(array != expected))
    if bad <= max_bad_fraction:
        return Part(name, True, reference=reference)
    return Part(name, False, f"{name} marks {int(array.sum())} pixels where {int(expected.sum())} are expected. {hint}".strip(), reference)


# ---------------------------------------------------------------------------------------------
# The data in use


class Night:
    """The data a notebook works on, with the expensive results computed once and kept.

    Parameters
    ----------
    data_dir : path-like
        The data folder (with ``bias/``, ``flats/``, ``science/``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Night(tmp).files("bias")
    []
    """

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self._memo: dict = {}

    def memo(self, key, compute: Callable[[], Any]):
        """Return the value kept under ``key``, computing it once with ``compute()``.

        Examples
        --------
        >>> Night(".").memo("answer", lambda: 42)
        42
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def table(self):
        """The inventory table of the night (:func:`ccdlab.inventory.scan`).

        Examples
        --------
        >>> Night("data").table["name", "frame_type"]  # doctest: +SKIP
        """
        from ..inventory import scan

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
        from ..inventory import frames_of_type

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
            from ..paths import DataNotFoundError

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
        from ..io import read_frame

        return read_frame(path)


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
    from ..paths import find_data_dir

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

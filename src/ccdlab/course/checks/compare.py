"""Comparing a student's answer with the expected one: numbers, text, images and masks.

Each comparison returns a :class:`ccdlab.course.checks.registry.Part`: right or not, a hint when
not (what to look at, never the answer) and the reference to hand back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ccdlab.course.checks.registry import NO_REFERENCE, Part

__all__ = ["is_blank", "blank_part", "as_float", "number", "text", "image", "boolean_mask", "shape_hint"]


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


def as_float(value):
    """``value`` as a float when it is one real number (not text, not a bool, not complex), else None.

    Examples
    --------
    >>> as_float(np.int64(512)), as_float("512"), as_float(True), as_float((514, 512)), as_float(np.float32(2.5))
    (512.0, None, None, None, 2.5)
    """
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything a student gives
        return None
    if array.size != 1 or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
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
    value = as_float(got)
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
    >>> image("master_bias", np.ones((5, 4)), np.ones((4, 5))).hint.split(": ")[1]
    'it is transposed (rows and columns swapped; a .T too many?).'
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
        return Part(name, False, f"{shape_hint(name, array.shape, expected.shape)} {hint}".strip(), reference)
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


def shape_hint(name: str, shape: tuple, expected: tuple) -> str:
    """What a wrong shape says about the mistake behind it.

    Parameters
    ----------
    name : str
        The answer's name.
    shape, expected : tuple of int
        The answer's shape and the image's.

    Examples
    --------
    >>> shape_hint("master_flat", (6, 4), (4, 6))
    'master_flat has shape (6, 4), but the image is (4, 6): it is transposed (rows and columns swapped; a .T too many?).'
    >>> shape_hint("master_bias", (5, 4, 6), (4, 6))
    'master_bias has shape (5, 4, 6), but the image is (4, 6): still a stack of frames; combine along the stack axis (axis=0).'
    >>> shape_hint("master_bias", (5, 6), (4, 6))
    'master_bias has shape (5, 6), but the image is (4, 6): combine along the stack axis (axis=0), which leaves one image.'
    """
    shape, expected = tuple(shape), tuple(expected)
    start = f"{name} has shape {shape}, but the image is {expected}:"
    if len(shape) == len(expected) == 2 and shape == expected[::-1]:
        return f"{start} it is transposed (rows and columns swapped; a .T too many?)."
    if len(shape) == len(expected) + 1 and shape[1:] == expected:
        return f"{start} still a stack of frames; combine along the stack axis (axis=0)."
    if len(shape) < 2:
        return f"{start} a {len(shape)}-D array; keep the image 2-D (a reduction over both axes gives one number)."
    if len(shape) == len(expected) and any(a == b for a, b in zip(shape, expected)):
        return f"{start} combine along the stack axis (axis=0), which leaves one image."
    return f"{start} check which frames (or which cut-out) it is made from."


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
        return Part(name, False, f"{shape_hint(name, array.shape, expected.shape)} {hint}".strip(), reference)
    bad = float(np.mean(array != expected))
    if bad <= max_bad_fraction:
        return Part(name, True, reference=reference)
    return Part(name, False, f"{name} marks {int(array.sum())} pixels where {int(expected.sum())} are expected. {hint}".strip(), reference)

"""Answers as files: how a graded notebook submits its answers, and how the grader's reply comes back.

In a graded run the student's kernel never judges itself. Its ``check(...)`` writes the answers
into a folder (:func:`write_answers`), the grader reads them (:func:`read_answers`) outside the
kernel, judges them against its own data, and writes back the feedback and the values to hand
back (:func:`write_reply` / :func:`read_reply`).

The format is plain JSON plus ``.npy`` files, read with ``allow_pickle=False``, so reading a
submission can never run code. Values:

- ``...`` (a blank), None, bools, whole numbers, floats (NaN and inf too), text, paths;
- numpy scalars and arrays of numbers or booleans (masked arrays keep their mask), astropy
  quantities and tables of numeric columns;
- lists, tuples and dicts of these;
- functions (``median_combine``): pickled with cloudpickle and **never unpickled by the grader**,
  only inside a fresh sandboxed process (:mod:`ccdlab.classroom.grading.functions`);
- anything else becomes :class:`Unsupported`, which a check treats as a wrong type.

Examples
--------
>>> import tempfile, numpy as np
>>> with tempfile.TemporaryDirectory() as tmp:
...     folder = write_answers(tmp, "7", {"exercise": "1.1"}, {"x_len": 512, "arr": np.ones(3), "b": ...})
...     meta, values = read_answers(folder)
>>> meta["exercise"], values["x_len"], values["arr"].tolist(), values["b"]
('1.1', 512, [1.0, 1.0, 1.0], Ellipsis)
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np

from ccdlab.errors import InputError

__all__ = ["MAX_BYTES", "Unsupported", "PickledFunction", "AnswerWriter", "encode", "decode", "write_answers", "read_answers",
           "write_reply", "read_reply"]

#: Largest submission or reply (all its files together); larger answers are refused.
MAX_BYTES = 2_000_000_000

#: How deep lists and dicts may nest, and how many items one may hold.
_MAX_DEPTH, _MAX_ITEMS = 6, 100_000


@dataclass(frozen=True)
class Unsupported:
    """An answer of a kind that cannot be submitted (its type name is kept for the hint).

    Examples
    --------
    >>> Unsupported("CCDData").type_name
    'CCDData'
    """

    type_name: str

    def __repr__(self) -> str:
        return f"<a {self.type_name}>"


@dataclass(frozen=True)
class PickledFunction:
    """A submitted function, as cloudpickle bytes: only ever unpickled inside a sandbox.

    Examples
    --------
    >>> PickledFunction("median_combine", b"...").name
    'median_combine'
    """

    name: str
    data: bytes


class AnswerWriter:
    """Where the files of one submission or reply go (``.npy`` arrays, ``.pkl`` functions), with a size limit.

    Examples
    --------
    >>> AnswerWriter(Path("/tmp")).count
    0
    """

    def __init__(self, folder: Path):
        self.folder, self.count, self.size = folder, 0, 0

    def file(self, suffix: str) -> Path:
        self.count += 1
        return self.folder / f"v{self.count:04d}{suffix}"

    def added(self, path: Path) -> None:
        self.size += path.stat().st_size
        if self.size > MAX_BYTES:
            raise InputError(f"The answers are larger than {MAX_BYTES / 1e9:.0f} GB: submit results, not whole cubes.")


def _numeric(array: np.ndarray) -> bool:
    return array.dtype == bool or np.issubdtype(array.dtype, np.number)


def encode(value, writer: AnswerWriter, depth: int = 0) -> dict:
    """One value as JSON, big arrays as ``.npy`` files beside it (see the module notes).

    Examples
    --------
    >>> encode(3, None), encode(float("nan"), None)
    ({'kind': 'int', 'value': 3}, {'kind': 'float', 'value': 'nan'})
    """
    if depth > _MAX_DEPTH:
        return {"kind": "unsupported", "type": "deeply nested data"}
    if value is Ellipsis:
        return {"kind": "blank"}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"kind": "bool", "value": bool(value)}
    if isinstance(value, (int, np.integer)):
        out = {"kind": "int", "value": int(value)}
        if isinstance(value, np.integer):
            out["dtype"] = value.dtype.str
        return out
    if isinstance(value, (float, np.floating)):
        number = float(value)
        out = {"kind": "float", "value": number if math.isfinite(number) else str(number)}
        if isinstance(value, np.floating):
            out["dtype"] = value.dtype.str
        return out
    if isinstance(value, str):
        return {"kind": "str", "value": value}
    if isinstance(value, PurePath):
        return {"kind": "path", "value": str(value)}
    if type(value).__name__ == "Quantity" and hasattr(value, "unit"):
        return {"kind": "quantity", "value": encode(np.asarray(value.value), writer, depth + 1), "unit": str(value.unit)}
    if isinstance(value, np.ma.MaskedArray):
        return {"kind": "masked", "data": encode(np.asarray(value.data), writer, depth + 1),
                "mask": encode(np.ma.getmaskarray(value), writer, depth + 1)}
    if isinstance(value, np.ndarray):
        if not _numeric(value):
            if value.dtype.kind in "US" and value.size <= _MAX_ITEMS:
                return {"kind": "strings", "value": value.astype(str).tolist()}
            return {"kind": "unsupported", "type": f"array of {value.dtype}"}
        if value.ndim == 0:
            return encode(value[()], writer, depth)
        path = writer.file(".npy")
        np.save(path, np.ascontiguousarray(value), allow_pickle=False)
        writer.added(path)
        return {"kind": "array", "file": path.name}
    if type(value).__name__ in ("Table", "QTable") and hasattr(value, "colnames"):
        return {"kind": "table", "columns": [[name, encode(np.asarray(value[name]), writer, depth + 1)]
                                             for name in value.colnames]}
    if isinstance(value, (list, tuple)):
        if len(value) > _MAX_ITEMS:
            return {"kind": "unsupported", "type": f"{type(value).__name__} of {len(value)} items"}
        return {"kind": type(value).__name__, "items": [encode(item, writer, depth + 1) for item in value]}
    if isinstance(value, dict):
        if len(value) > _MAX_ITEMS:
            return {"kind": "unsupported", "type": f"dict of {len(value)} items"}
        return {"kind": "dict", "items": [[encode(k, writer, depth + 1), encode(v, writer, depth + 1)] for k, v in value.items()]}
    if callable(value) and hasattr(value, "__code__"):
        try:
            import cloudpickle

            data = cloudpickle.dumps(value)
        except Exception as exc:  # noqa: BLE001 - a function that cannot be sent is reported, not raised
            return {"kind": "unsupported", "type": f"function that cannot be sent ({type(exc).__name__})"}
        path = writer.file(".pkl")
        path.write_bytes(data)
        writer.added(path)
        return {"kind": "function", "name": getattr(value, "__name__", "function"), "file": path.name}
    if isinstance(value, PickledFunction):
        path = writer.file(".pkl")
        path.write_bytes(value.data)
        writer.added(path)
        return {"kind": "function", "name": value.name, "file": path.name}
    return {"kind": "unsupported", "type": type(value).__name__}


def decode(data, folder: Path, depth: int = 0, functions: str = "keep"):
    """A value back from :func:`encode`'s JSON; arrays read with ``allow_pickle=False``.

    ``functions="keep"`` gives a :class:`PickledFunction` (the grader never unpickles it);
    ``functions="load"`` unpickles it (only where the bytes are trusted: the grader's reply in the
    student's kernel, or a sandboxed process).

    Examples
    --------
    >>> decode({"kind": "tuple", "items": [{"kind": "int", "value": 1}, {"kind": "blank"}]}, Path("."))
    (1, Ellipsis)
    """
    if depth > _MAX_DEPTH + 2 or not isinstance(data, dict):
        return Unsupported("malformed answer")
    kind = data.get("kind")
    if kind == "blank":
        return Ellipsis
    if kind == "none":
        return None
    if kind == "bool":
        return bool(data.get("value"))
    if kind in ("int", "float"):
        raw = data.get("value")
        value = int(raw) if kind == "int" else float(raw)
        dtype = data.get("dtype")
        if dtype:
            try:
                return np.dtype(dtype).type(value)
            except TypeError:
                return value
        return value
    if kind == "str":
        return str(data.get("value", ""))
    if kind == "strings":
        return np.array([str(v) for v in data.get("value", [])])
    if kind == "path":
        return Path(str(data.get("value", "")))
    if kind == "array":
        name = str(data.get("file", ""))
        path = folder / name
        if "/" in name or name.startswith(".") or not path.is_file() or path.is_symlink():
            return Unsupported("missing array")
        return np.load(path, allow_pickle=False)
    if kind == "masked":
        values = decode(data.get("data"), folder, depth + 1)
        mask = decode(data.get("mask"), folder, depth + 1)
        if isinstance(values, np.ndarray) and isinstance(mask, np.ndarray):
            return np.ma.MaskedArray(values, mask=mask)
        return Unsupported("masked array")
    if kind == "quantity":
        from astropy import units

        try:
            return decode(data.get("value"), folder, depth + 1) * units.Unit(str(data.get("unit", "")))
        except (ValueError, TypeError):
            return Unsupported("Quantity")
    if kind == "table":
        from astropy.table import Table

        return Table({str(name): decode(column, folder, depth + 1) for name, column in data.get("columns", [])})
    if kind in ("list", "tuple"):
        items = [decode(item, folder, depth + 1, functions) for item in data.get("items", [])]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {_hashable(decode(k, folder, depth + 1)): decode(v, folder, depth + 1, functions) for k, v in data.get("items", [])}
    if kind == "function":
        name = str(data.get("file", ""))
        path = folder / name
        if "/" in name or not path.is_file() or path.is_symlink():
            return Unsupported("function")
        if functions == "load":
            import cloudpickle

            return cloudpickle.loads(path.read_bytes())
        return PickledFunction(str(data.get("name", "function")), path.read_bytes())
    return Unsupported(str(data.get("type", kind)))


def _hashable(key):
    try:
        hash(key)
        return key
    except TypeError:
        return repr(key)


def write_answers(outbox, seq: str, meta: dict, values: dict) -> Path:
    """Write one submission into ``outbox/<seq>/`` atomically (a finished folder, or none).

    Parameters
    ----------
    outbox : path-like
        The folder the grader watches.
    seq : str
        The submission's name in the folder.
    meta : dict
        ``exercise``, ``lesson``, and ``raised`` (the error of a cell that raised, or None).
    values : dict
        The answers by name.

    Returns
    -------
    pathlib.Path
        The submission's folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_answers(tmp, "1", {"exercise": "0.1"}, {"n_bias": 5}).name
    '1'
    """
    outbox = Path(outbox)
    partial = outbox / f".{seq}.partial"
    partial.mkdir(parents=True, exist_ok=False)
    writer = AnswerWriter(partial)
    encoded = {"meta": meta, "names": list(values), "values": {name: encode(v, writer) for name, v in values.items()}}
    (partial / "answers.json").write_text(json.dumps(encoded), encoding="utf-8")
    final = outbox / seq
    os.replace(partial, final)
    return final


def read_answers(folder) -> tuple[dict, dict]:
    """``(meta, {name: value})`` of a submission folder; functions stay :class:`PickledFunction`.

    Raises
    ------
    ccdlab.errors.InputError
        The folder holds no readable submission.

    Examples
    --------
    >>> read_answers("no-such-folder")
    Traceback (most recent call last):
    ...
    ccdlab.errors.InputError: no-such-folder holds no readable submission.
    """
    folder = Path(folder)
    try:
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and not p.is_symlink())
        if size > MAX_BYTES:
            raise InputError(f"The submission in {folder} is larger than {MAX_BYTES / 1e9:.0f} GB: it was not read.")
        raw = json.loads((folder / "answers.json").read_text(encoding="utf-8"))
        meta = dict(raw.get("meta") or {})
        values = {str(name): decode(raw["values"][name], folder) for name in raw.get("names", [])}
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"{folder} holds no readable submission.") from None
    return meta, values


def write_reply(inbox, seq: str, reply: dict, handback: dict) -> Path:
    """Write the grader's reply to submission ``seq``: ``inbox/<seq>/`` then ``inbox/<seq>.json`` last.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_reply(tmp, "1", {"text": "ok"}, {"n_bias": 5}).name
    '1.json'
    """
    inbox = Path(inbox)
    folder = inbox / seq
    folder.mkdir(parents=True, exist_ok=True)
    writer = AnswerWriter(folder)
    content = dict(reply, handback={name: encode(v, writer) for name, v in handback.items()})
    partial = inbox / f".{seq}.json.partial"
    partial.write_text(json.dumps(content), encoding="utf-8")
    os.replace(partial, inbox / f"{seq}.json")
    return inbox / f"{seq}.json"


def read_reply(inbox, seq: str) -> dict | None:
    """The grader's reply to submission ``seq`` (functions unpickled: the grader is trusted), or None yet.

    Examples
    --------
    >>> read_reply("no-such-folder", "1") is None
    True
    """
    path = Path(inbox) / f"{seq}.json"
    if not path.is_file():
        return None
    content = json.loads(path.read_text(encoding="utf-8"))
    folder = Path(inbox) / seq
    content["handback"] = {name: decode(value, folder, functions="load")
                           for name, value in (content.get("handback") or {}).items()}
    return content

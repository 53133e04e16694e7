"""``ccdlab doctor``: is this machine ready for the course?

It checks, in order, and says how to fix each problem:

1. the Python version;
2. every package the course needs, importable and recent enough;
3. the data folder (found as :func:`ccdlab.paths.find_data_dir` finds it): a folder, and not
   one raw folder (``bias/``) given in place of the night that holds it;
4. its layout: ``bias/``, ``flats/`` and ``science/``;
5. the frames in it (typed by :func:`ccdlab.inventory.scan`): at least one bias, one flat and
   one science frame, better three or more bias and flat frames, all of one size; files that
   cannot be read (truncated downloads, no permission); FITS files that are no frames (tables,
   empty files); frames whose header contradicts their folder; other files, which are ignored;
6. the output folder ``reduced/``: can ccdlab write there?

The doctor never writes into the data folder, except a probe file in ``reduced/`` that it removes
again (and ``reduced/`` itself when it had to create it).

Only the standard library is imported at the top, so the doctor runs even when a scientific
package is broken, which is exactly when it is needed.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ccdlab.errors import InputError
from ccdlab.paths import (
    FETCH_COMMAND,
    RAW_FOLDERS,
    DataNotFoundError,
    candidate_data_dirs,
    find_data_dir,
    is_raw_folder,
    on_colab,
    reduced_dir,
)

__all__ = [
    "MIN_PYTHON",
    "MINIMUM_VERSIONS",
    "LAB_VERSIONS",
    "required_packages",
    "STATUSES",
    "Check",
    "Report",
    "diagnose",
]

#: Oldest Python the course runs on (as in pyproject.toml's requires-python).
MIN_PYTHON = (3, 10)

#: The core requirements when ccdlab's own metadata cannot be read (a source tree not installed).
_FALLBACK_REQUIREMENTS = {
    "numpy": "1.24", "scipy": "1.10", "astropy": "5.3", "matplotlib": "3.7", "photutils": "1.9",
    "astroscrappy": "1.1", "reproject": "0.12", "ipywidgets": "8.0", "tqdm": "4.60", "pooch": "1.7",
    "cloudpickle": "2.0",
}


def required_packages(extra: str | None = None) -> dict[str, str]:
    """Distribution name -> oldest version, read from ccdlab's installed metadata (pyproject.toml).

    Parameters
    ----------
    extra : str, optional
        An extra (``"lab"``, ``"instructor"``): its own packages instead of the core.

    Examples
    --------
    >>> required_packages()["numpy"]
    '1.24'
    >>> "jupyterlab" in required_packages("lab")
    True
    """
    import re

    try:
        lines = importlib.metadata.requires("ccdlab") or []
    except importlib.metadata.PackageNotFoundError:
        return dict(_FALLBACK_REQUIREMENTS) if extra is None else {}
    found = {}
    for line in lines:
        spec, _, marker = line.partition(";")
        wanted = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        if (wanted.group(1) if wanted else None) != extra:
            continue
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?:>=\s*([0-9][^,\s]*))?", spec)
        if match and match.group(1).lower() != "ccdlab":
            found[match.group(1)] = match.group(2) or "0"
    return found


#: Distribution name -> oldest version the course works with (the core install, from pyproject.toml).
MINIMUM_VERSIONS = required_packages()

#: Packages of the ``lab`` extra, needed to run the course locally (not on Colab): a warning when missing.
LAB_VERSIONS = required_packages("lab")

#: Import names that differ from the distribution name.
IMPORT_NAMES: dict[str, str] = {}

#: Check outcomes, from good to bad.
STATUSES = ("ok", "warn", "fail")

SYMBOLS = {"ok": "\u2714", "warn": "!", "fail": "\u2718"}
ASCII_SYMBOLS = {"ok": "+", "warn": "!", "fail": "x"}

#: Fewest frames of each type a reduction needs, and how many make a good master.
MIN_FRAMES = {"bias": 1, "flat": 1, "science": 1}
GOOD_FRAMES = {"bias": 3, "flat": 3}
FOLDER_OF_TYPE = {"bias": "bias", "flat": "flats", "science": "science"}

#: Other names people give the raw folders, to suggest a rename.
FOLDER_ALIASES = {
    "bias": ("biases", "zero", "zeros", "bias_frames", "Bias", "BIAS"),
    "flats": ("flat", "flatfield", "flatfields", "skyflats", "Flat", "Flats", "FLAT", "FLATS"),
    "science": ("sci", "object", "objects", "light", "lights", "targets", "Science", "SCIENCE"),
}

#: Free space below which the output check warns (bytes).
LOW_DISK_BYTES = 1_000_000_000


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report.

    Attributes
    ----------
    name : str
        What was checked, e.g. ``"numpy"`` or ``"data folder"``.
    status : {"ok", "warn", "fail"}
        ``"fail"``: the course cannot run until it is fixed; ``"warn"``: it runs, but not well.
    message : str
        What was found.
    fix : str
        What to do about it (empty when nothing needs doing).

    Examples
    --------
    >>> print(Check("bias frames", "warn", "2 bias frames", "add more").format())
    ! bias frames: 2 bias frames
        fix: add more
    """

    name: str
    status: str
    message: str
    fix: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise InputError(f"Unknown check status {self.status!r}: use one of {', '.join(STATUSES)}.")

    def format(self, ascii_only: bool = False, width: int = 0) -> str:
        """Return the check as one line (plus an indented ``fix:`` line when there is a fix).

        Parameters
        ----------
        ascii_only : bool
            Use ``+``/``!``/``x`` instead of ``✔``/``!``/``✘`` (for consoles without Unicode).
        width : int
            Pad the name to this width, to align the messages of a report.

        Examples
        --------
        >>> Check("Python", "ok", "3.12.1").format(ascii_only=True)
        '+ Python: 3.12.1'
        >>> Check("Python", "ok", "3.12.1").format(width=8)
        '✔ Python:   3.12.1'
        """
        symbol = (ASCII_SYMBOLS if ascii_only else SYMBOLS)[self.status]
        label = f"{self.name}:"
        text = f"{symbol} {label:<{width + 1}} {self.message}"
        if self.fix and self.status != "ok":
            text += f"\n    fix: {self.fix}"
        return text


class Report(list):
    """The doctor's findings: a list of :class:`Check`, in the order they were made.

    Examples
    --------
    >>> report = Report([Check("Python", "ok", "3.12.1"), Check("data folder", "fail", "missing", "fetch it")])
    >>> report.ok, report.exit_code, [c.name for c in report.failures]
    (False, 1, ['data folder'])
    """

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self if check.status == "fail"]

    @property
    def warnings(self) -> list[Check]:
        """The checks that passed with a warning."""
        return [check for check in self if check.status == "warn"]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings allowed)."""
        return not self.failures

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, 1 otherwise (the command's exit code)."""
        return 0 if self.ok else 1

    def find(self, name: str) -> Check:
        """Return the check called ``name``.

        Examples
        --------
        >>> Report([Check("Python", "ok", "3.12.1")]).find("Python").status
        'ok'
        """
        for check in self:
            if check.name == name:
                return check
        raise KeyError(f"No check called {name!r}; the checks are: {', '.join(c.name for c in self)}.")

    def summary(self) -> str:
        """One sentence: all good, or how many problems and warnings.

        Examples
        --------
        >>> Report([Check("Python", "ok", "3.12.1")]).summary()
        'All good: ready for the course.'
        """
        failures, warnings = len(self.failures), len(self.warnings)
        if not failures and not warnings:
            return "All good: ready for the course."
        if not failures:
            noun = "warning" if warnings == 1 else "warnings"
            return f"Ready for the course, with {warnings} {noun} (the ! lines) worth a look."
        parts = [f"{failures} problem{'s' if failures != 1 else ''}"]
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        return f"Not ready: {' and '.join(parts)}. Fix the failed lines above, then run 'ccdlab doctor' again."

    def format(self, ascii_only: bool = False) -> str:
        """The whole report as text: one line per check, then the summary.

        Examples
        --------
        >>> print(Report([Check("Python", "ok", "3.12.1")]).format())
        ccdlab doctor
        ✔ Python: 3.12.1
        All good: ready for the course.
        """
        width = max((len(check.name) for check in self), default=0)
        lines = ["ccdlab doctor"] + [check.format(ascii_only, width) for check in self] + [self.summary()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    __repr__ = __str__


# --------------------------------------------------------------------------------------------
# the checks


def _version_tuple(text: str) -> tuple[int, ...]:
    """Leading numeric parts of a version: '1.24.0rc1' -> (1, 24, 0)."""
    numbers = []
    for part in str(text).split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    return tuple(numbers)


def _older(found: str, minimum: str) -> bool:
    have, need = _version_tuple(found), _version_tuple(minimum)
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) < need + (0,) * (width - len(need))


def _check_python() -> Check:
    found = ".".join(str(v) for v in sys.version_info[:3])
    need = ".".join(str(v) for v in MIN_PYTHON)
    if sys.version_info[:2] < MIN_PYTHON:
        return Check(
            "Python", "fail", f"{found} is older than the {need} ccdlab needs",
            f"Install Python {need} or newer (e.g. from python.org or with conda), then reinstall ccdlab with it.",
        )
    return Check("Python", "ok", f"{found} (needs {need} or newer)")


def _pip(spec: str, upgrade: bool = False) -> str:
    command = f"python -m pip install {'--upgrade ' if upgrade else ''}'{spec}'"
    if on_colab():
        command = f"%pip install {'--upgrade ' if upgrade else ''}'{spec}' in a cell, then restart the runtime"
    return command


def _check_package(name: str, minimum: str, needed_for: str = "") -> Check:
    """A package importable and recent enough; ``needed_for`` makes a problem a warning that says what it limits."""
    spec = f"{name}>={minimum}"
    module_name = IMPORT_NAMES.get(name, name)
    if needed_for and on_colab():
        return Check(name, "ok", "not needed on Colab (Colab is the notebook server)")
    status = "warn" if needed_for else "fail"
    limits = f"; {needed_for}" if needed_for else ""
    try:
        if needed_for:
            # A tool the notebooks run in (JupyterLab, the kernel), not code they import: find it without
            # importing it (importing a notebook server takes seconds; ``ccdlab lab`` says if it cannot start).
            module = importlib.util.find_spec(module_name)
            if module is None:
                raise ModuleNotFoundError(f"No module named {module_name!r}")
        else:
            module = importlib.import_module(module_name)
    except Exception as exc:  # a broken install raises more than ImportError
        why = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return Check(name, status, f"cannot be imported ({why}){limits}", _pip(spec))
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        version = str(getattr(module, "__version__", ""))
    if not version:
        return Check(name, "warn", f"imports, but its version is unknown (needs {minimum} or newer)", _pip(spec, True))
    if _older(version, minimum):
        return Check(name, status, f"{version} is older than the {minimum} ccdlab needs{limits}", _pip(spec, upgrade=True))
    return Check(name, "ok", f"{version} (needs {minimum} or newer)")


def _fetch_fix(folder: Path | None = None) -> str:
    if folder is None:
        return f"Create the default dataset with: {FETCH_COMMAND}   (run it in the course folder)"
    return f"Create the default dataset there with: {FETCH_COMMAND} --dest {folder}   (or check the path)"


def _not_a_folder(path: Path, from_env: bool = False) -> Check:
    """A failed data-folder check for a path that exists but is a file (``--data notes.json``)."""
    given, how = ("CCDLAB_DATA points to", "Point CCDLAB_DATA at") if from_env else ("--data gives", "Give with --data")
    return Check(
        "data folder", "fail", f"{given} {path}, which is a file, not a folder",
        f"{how} the folder that holds bias/, flats/ and science/ instead (e.g. {path.parent}).",
    )


def _raw_folder_given(folder: Path) -> Check | None:
    """A failed check when the data folder is itself a raw folder (``--data night/bias``), else None."""
    if not is_raw_folder(folder) or any((folder / name).is_dir() for name in RAW_FOLDERS):
        return None
    return Check(
        "data folder", "fail",
        f"{folder} is a raw folder ({folder.name}/), not the folder that holds bias/, flats/ and science/",
        f"Check the night that holds it instead: ccdlab doctor --data {folder.parent}",
    )


def _check_data_folder(data_dir) -> tuple[list[Check], Path | None]:
    try:
        folder = find_data_dir(data_dir)
    except DataNotFoundError:
        if data_dir is not None:
            path = Path(data_dir).expanduser().resolve()
            if path.exists():
                return [_not_a_folder(path)], None
            return [Check("data folder", "fail", f"{path} does not exist", _fetch_fix(path))], None
        env = os.environ.get("CCDLAB_DATA")
        if env:
            path = Path(env).expanduser().resolve()
            if path.exists():
                return [_not_a_folder(path, from_env=True)], None
            return [Check("data folder", "fail", f"CCDLAB_DATA points to {path}, which does not exist",
                          _fetch_fix(path) + ", or unset CCDLAB_DATA to use the default folder")], None
        looked = "; ".join(f"{label} ({path})" for label, path in candidate_data_dirs())
        return [Check("data folder", "fail", f"no course data found. Looked in: {looked}", _fetch_fix())], None
    raw = _raw_folder_given(folder)
    if raw is not None:  # never go on: the output check would create reduced/ inside a raw folder
        return [raw], None
    if data_dir is not None:
        source = "given with --data"
    else:
        source = next((label for label, path in candidate_data_dirs() if path.is_dir() and path.resolve() == folder), "found")
    return [Check("data folder", "ok", f"{folder} ({source})")], folder


def _check_layout(folder: Path) -> Check:
    missing, hints = [], []
    for name in RAW_FOLDERS:
        path = folder / name
        if path.is_dir():
            continue
        missing.append(f"{name}/")
        alias = next((a for a in FOLDER_ALIASES.get(name, ()) if (folder / a).is_dir()), None)
        if path.exists():
            hints.append(f"{path} is a file, not a folder: move it away and create the folder {name}/")
        elif alias:
            hints.append(f"rename {alias}/ to {name}/")
    if not missing:
        return Check("layout", "ok", "bias/, flats/ and science/ are there")
    fix = "; ".join(hints) if hints else (
        f"Put your frames into {', '.join(missing)} inside {folder}, or create the default dataset with: "
        f"{FETCH_COMMAND}"
    )
    return Check("layout", "fail", f"{folder} lacks {', '.join(missing)}", fix[0].upper() + fix[1:])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _shorten(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _check_frames(folder: Path) -> list[Check]:
    try:
        from ccdlab.inventory import other_files, scan
    except Exception as exc:  # astropy missing or broken: already reported above
        return [Check("frames", "fail", f"cannot read frame headers ({type(exc).__name__}: {exc})",
                      "Fix the package problems above (astropy), then run 'ccdlab doctor' again.")]
    try:
        table = scan(folder, warn=False)  # the conflicts get a line of their own below
        ignored = other_files(folder)
    except OSError as exc:
        return [Check("frames", "fail", f"could not list the frames in {folder} ({exc})",
                      "Check that the folder is readable (and, on Colab, that Google Drive is mounted).")]
    types = [str(t) for t in table["frame_type"]]
    checks = []
    for frame_type, least in MIN_FRAMES.items():
        count = types.count(frame_type)
        where = folder / FOLDER_OF_TYPE[frame_type]
        noun = f"{frame_type} frame"
        if count < least:
            checks.append(Check(
                f"{frame_type} frames", "fail", f"no {noun} found under {folder}",
                f"Put {frame_type} frames into {where}/"
                + (" (3 or more is better)" if frame_type in GOOD_FRAMES else "")
                + f", or create the default dataset with: {FETCH_COMMAND}",
            ))
        elif count < GOOD_FRAMES.get(frame_type, 0):
            checks.append(Check(
                f"{frame_type} frames", "warn",
                f"only {_plural(count, noun)}: a median of fewer than 3 cannot reject cosmic rays",
                f"Add more {frame_type} frames to {where}/ if you have them: more frames make a less noisy master.",
            ))
        else:
            checks.append(Check(f"{frame_type} frames", "ok", _plural(count, noun)))
    checks.extend(_check_damaged(table))
    checks.extend(_check_not_frames(table))
    checks.extend(_check_not_files(table))
    checks.extend(_check_outputs_among_raw(table, folder))
    checks.extend(_check_other_files(ignored, folder))
    unknown = [row for row in table if str(row["frame_type"]) == "unknown" and not _problem(row)]
    if unknown:
        listed = "; ".join(f"{row['name']} ({_shorten(str(row['note']))})" for row in unknown[:3])
        more = f"; and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        checks.append(Check(
            "untyped files", "warn", f"{_plural(len(unknown), 'file')} left aside: {listed}{more}",
            "Move files that are not frames out of the data folder, or give frames an IMAGETYP "
            "(inspect them with ccdlab.inventory.scan).",
        ))
    checks.extend(_check_conflicts(table))
    sizes: dict[tuple[int, int], int] = {}
    for row in table:
        if str(row["frame_type"]) in MIN_FRAMES and int(row["naxis1"]) > 0:
            key = (int(row["naxis1"]), int(row["naxis2"]))
            sizes[key] = sizes.get(key, 0) + 1
    if len(sizes) > 1:
        listed = ", ".join(f"{nx} x {ny} ({_plural(n, 'frame')})" for (nx, ny), n in sorted(sizes.items(), key=lambda kv: -kv[1]))
        checks.append(Check(
            "frame sizes", "warn", f"frames differ in size (NAXIS1 x NAXIS2): {listed}",
            "Calibration and science frames must match (same binning and readout area): move the odd ones out.",
        ))
    elif sizes:
        (nx, ny), = sizes
        checks.append(Check("frame sizes", "ok", f"all frames are {nx} x {ny} pixels (NAXIS1 x NAXIS2)"))
    if all(types.count(kind) >= least for kind, least in MIN_FRAMES.items()):
        checks.append(_guarded("usable frames", _check_usable, table))
    return checks


def _check_not_files(table) -> list[Check]:
    """Names that look like frames but are no files: a FIFO would make a reader wait forever."""
    rows = [row for row in table if _problem(row) == "not_file"]
    if not rows:
        return []
    return [Check("not files", "warn", f"{_plural(len(rows), 'name')} left out, not regular files: {_listing(rows, '; ')}",
                  "Remove them from the data folder (named pipes, devices, broken or looping links).")]


def _check_outputs_among_raw(table, folder: Path) -> list[Check]:
    """Frames ccdlab wrote (CCDLAB keyword) sitting among the raw frames, e.g. after --out DATA_DIR."""
    rows = [row for row in table if str(row["frame_type"]) == "reduced"]
    if not rows:
        return []
    names = ", ".join(str(row["name"]) for row in rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
    return [Check("outputs among raw frames", "warn",
                  f"{_plural(len(rows), 'file')} written by ccdlab sit among the raw frames ({names}); they are not "
                  "counted as raw frames",
                  f"Move them out of the raw folders; let ccdlab write into {folder / 'reduced'} (the default of "
                  "'ccdlab reduce').")]


def _check_usable(table) -> Check:
    """Can the night be reduced? The bias frames and flats screened as the reduction screens them."""
    from ccdlab.calibrate import master_bias, screen_biases, screen_flats

    def paths(kind):
        return [str(row["path"]) for row in table if str(row["frame_type"]) == kind and not _problem(row)]

    def reasons(screened):
        rejected = [row for row in screened if not row["used"]]
        shown = "; ".join(f"{row['name']}: {_shorten(str(row['reason']), 70)}" for row in rejected[:3])
        return shown + (f"; and {len(rejected) - 3} more" if len(rejected) > 3 else "")

    biases = screen_biases(paths("bias"))
    good_bias = [str(row["path"]) for row in biases if row["used"]]
    if not good_bias:
        return Check("usable frames", "fail", f"the night cannot be reduced: no bias frame is usable ({reasons(biases)})",
                     "Put real bias frames (~0 s exposures, not NaN or empty) into bias/.")
    flats = screen_flats(paths("flat"), master_bias(good_bias, progress=False))
    good_flats = int(sum(bool(row["used"]) for row in flats))
    if not good_flats:
        return Check("usable frames", "fail", f"the night cannot be reduced: no flat is usable ({reasons(flats)})",
                     "Take new flats: exposed well above the bias, below saturation (screen_flats() shows each level).")
    message = f"{len(good_bias)} of {len(biases)} bias frames and {good_flats} of {len(flats)} flats pass screening"
    if good_flats < len(flats) or len(good_bias) < len(biases):
        return Check("usable frames", "ok", f"{message}; left out: {reasons(biases)}{'; ' if reasons(biases) else ''}{reasons(flats)}")
    return Check("usable frames", "ok", message)


def _problem(row) -> str:
    """The inventory's ``problem``: ``'damaged'``, ``'not_frame'``, ``'permission'``, ``'not_file'`` or ``''``."""
    return str(row["problem"])


def _what_is_wrong(row, cut: str = ". ") -> str:
    """'name is truncated: ...' from a '<prefix> <path> is truncated: ... Download ...' note.

    The note is cut at the first ``cut`` after the path (its advice is the check's fix).
    """
    from ccdlab.inventory import NOTE_PREFIXES

    text = str(row["note"]).removeprefix(NOTE_PREFIXES[_problem(row)]).strip()
    path = str(row["path"])
    if text.startswith(path):
        text = text[len(path):]
        return _shorten(f"{row['name']}{text.split(cut)[0].rstrip('.')}", 110)
    return _shorten(f"{row['name']} ({text.split(cut)[0].rstrip('.')})", 110)


def _listing(rows, cut: str = ". ") -> str:
    listed = "; ".join(_what_is_wrong(row, cut) for row in rows[:5])
    return listed + (f"; and {len(rows) - 5} more" if len(rows) > 5 else "")


def _check_damaged(table) -> list[Check]:
    """Files that look like FITS but cannot be read: truncated downloads, broken copies, no permission."""
    checks = []
    damaged = [row for row in table if _problem(row) == "damaged"]
    if damaged:
        them = "it" if len(damaged) == 1 else "them"
        checks.append(Check(
            "damaged files", "warn",
            f"{_plural(len(damaged), 'file')} cannot be read and will be left out: {_listing(damaged)}",
            f"Download or copy {them} again (for the course data: {FETCH_COMMAND}); "
            f"until then the reduction works without {them}.",
        ))
    locked = [row for row in table if _problem(row) == "permission"]
    if locked:
        checks.append(Check(
            "unreadable files", "warn",
            f"{_plural(len(locked), 'file')} may not be read and will be left out: {_listing(locked, ': ')}",
            "Make them readable (e.g. chmod -R u+r on the data folder), or copy the data folder somewhere "
            "you own and point CCDLAB_DATA at the copy.",
        ))
    return checks


def _check_not_frames(table) -> list[Check]:
    """FITS files that are no camera frames (only tables, or empty) or not FITS at all despite their name."""
    rows = [row for row in table if _problem(row) == "not_frame"]
    if not rows:
        return []
    them, are = ("it", "it is") if len(rows) == 1 else ("them", "they are")
    return [Check(
        "not frames", "warn", f"{_plural(len(rows), 'file')} left out, not camera frames: {_listing(rows, ': ')}",
        f"Move {them} out of the data folder: {are} not camera frames (tables, empty or non-FITS files).",
    )]


def _check_other_files(paths, folder: Path) -> list[Check]:
    """One information line naming the files that are not FITS frames (notes.txt, .DS_Store).

    The data folder's own ``manifest.json`` (its checksums) is not named: it belongs there.
    """
    from ccdlab.data.manifest import MANIFEST_NAME

    names = [Path(path).relative_to(folder).as_posix() for path in paths]
    names = [name for name in names if name != MANIFEST_NAME]
    checks = _check_catalog(folder)
    names = [name for name in names if not name.startswith("catalog/")]
    if not names:
        return checks
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return checks + [Check("other files", "ok", f"{_plural(len(names), 'file')} ignored, not FITS frames: {listed}")]


def _check_catalog(folder: Path) -> list[Check]:
    """The reference catalogue in catalog/ (lesson 09, ``ccdlab photometry``): can it be read?"""
    from ccdlab.crossmatch import find_catalog, read_catalog
    from ccdlab.errors import CcdlabError

    path = find_catalog(folder)
    if path is None:
        return []
    try:
        table = read_catalog(path)
    except CcdlabError as exc:
        return [Check("catalogue", "warn", f"catalog/{path.name} cannot be used: {exc}",
                      "Save it as a table with RA and Dec in degrees and a magnitude column (ECSV, CSV or FITS).")]
    return [Check("catalogue", "ok", f"catalog/{path.name}: {len(table)} stars (columns "
                  f"{', '.join(v for v in table.meta['columns'].values() if v)})")]


def _check_conflicts(table) -> list[Check]:
    """Frames typed from their folder against what their header says (or an unknown IMAGETYP)."""
    if "conflict" not in table.colnames:
        return []
    from ccdlab.inventory import conflicts, describe_conflicts

    count = len(conflicts(table))
    if not count:
        return []
    return [Check(
        "frame types", "warn",
        f"{_plural(count, 'frame')} whose header disagrees with its folder: {describe_conflicts(table)}",
        f"Look at {'this frame' if count == 1 else 'these frames'}: if the header is right, move it into the "
        "folder of its type; if the folder is right, nothing to do (ccdlab follows the folder).",
    )]


def _write_probe(folder: Path) -> None:
    """Create, write and remove a small temporary file in ``folder``."""
    handle, name = tempfile.mkstemp(prefix=".ccdlab-doctor-", suffix=".tmp", dir=folder)
    try:
        os.write(handle, b"ccdlab doctor write test\n")
    finally:
        os.close(handle)
        os.unlink(name)


def _check_output(folder: Path) -> Check:
    out = reduced_dir(folder, create=False)
    existed = out.exists()
    fix_elsewhere = (
        "copy the data folder somewhere you can write (e.g. your home folder) and point CCDLAB_DATA "
        "at the copy (or use --data)"
    )
    try:
        if existed and not out.is_dir():
            return Check("output folder", "fail", f"{out} is a file, so outputs cannot go there",
                         f"Move or rename the file {out}; ccdlab writes its outputs into a folder of that name.")
        out.mkdir(parents=True, exist_ok=True)
        _write_probe(out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return Check("output folder", "fail", f"cannot write into {out} ({reason})",
                     f"Make it writable (chmod u+w {out if existed else folder}), or {fix_elsewhere}.")
    finally:
        if not existed and out.is_dir():
            try:
                out.rmdir()  # leave no trace: the reduction creates it when it runs
            except OSError:
                pass
    free = shutil.disk_usage(out if out.is_dir() else folder).free
    message = f"{out} is writable ({free / 1e9:.1f} GB free)"
    incomplete = _incomplete_reduction(out)
    if incomplete:
        return Check("output folder", "warn", f"{message}, but {incomplete}",
                     "Run the reduction again ('ccdlab reduce'): it replaces its own outputs and finishes the set.")
    if free < LOW_DISK_BYTES:
        return Check("output folder", "warn", message + ": little room for reduced frames",
                     f"Free some disk space, or {fix_elsewhere}.")
    return Check("output folder", "ok", message)


def _incomplete_reduction(out: Path) -> str:
    """Why a reduction written under ``out`` (``reduced/`` or ``reduced/ccdlab/``) is incomplete, or ""."""
    from ccdlab.files import file_hash
    from ccdlab.reduce import RECORD_NAME, read_record

    for folder in (out, out / "ccdlab"):
        if not (folder / RECORD_NAME).is_file():
            continue
        record = read_record(folder) or {}
        if not record.get("complete"):
            return f"the reduction into {folder} did not finish (interrupted?): some outputs are missing or old"
        outputs = record.get("outputs", {})
        missing = [name for name in outputs if not (folder / name).is_file()]
        if missing:
            return f"{_plural(len(missing), 'output')} of the reduction into {folder} are missing ({', '.join(missing[:3])})"
        changed = [name for name, digest in outputs.items() if file_hash(folder / name) != digest]
        if changed:
            return f"{_plural(len(changed), 'output')} in {folder} changed since the reduction wrote them ({', '.join(changed[:3])})"
    return ""


def _guarded(name: str, check, *args):
    """Run a check; a crash becomes a failed check instead of a traceback."""
    try:
        return check(*args)
    except Exception as exc:  # the doctor must always finish its report
        return Check(name, "fail", f"the check itself failed ({type(exc).__name__}: {exc})",
                     "Please report this to your instructor with the lines above.")


def diagnose(data_dir: str | os.PathLike | None = None) -> Report:
    """Check the installation, the data folder and the output folder.

    Parameters
    ----------
    data_dir : str or path-like, optional
        The data folder to check; by default the one ccdlab would use
        (see :func:`ccdlab.paths.find_data_dir`).

    Returns
    -------
    Report
        A list of :class:`Check` (each ``ok``, ``warn`` or ``fail`` with a message and a fix);
        ``report.ok`` is True when nothing failed. When no data folder is found, the layout,
        frame and output checks are left out (the data-folder check says what to do).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     report = diagnose(empty)
    >>> report.find("layout").status, report.exit_code
    ('fail', 1)
    """
    report = Report()
    report.append(_guarded("Python", _check_python))
    for name, minimum in MINIMUM_VERSIONS.items():
        report.append(_guarded(name, _check_package, name, minimum))
    for name, minimum in LAB_VERSIONS.items():
        report.append(_guarded(name, _check_package, name, minimum, "needed to run the notebooks on this computer"))
    data_checks, folder = _check_data_folder(data_dir)
    report.extend(data_checks)
    if folder is None:
        return report
    report.append(_guarded("layout", _check_layout, folder))
    frames = _guarded("frames", _check_frames, folder)
    report.extend(frames if isinstance(frames, list) else [frames])
    report.append(_guarded("output folder", _check_output, folder))
    return report


# --------------------------------------------------------------------------------------------
# command line

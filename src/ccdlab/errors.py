"""Every error and warning ccdlab raises, in one place, under one base class each.

Catch :class:`CcdlabError` to catch any of ccdlab's errors: each one's message is a sentence that
names the file or value at fault and says what to do. The command line catches it once and prints
that sentence; in a notebook it shows as the sentence alone, without a traceback. Each error also
derives from the Python exception it used to be (``ValueError``, ``FileNotFoundError``...), so
code written against those keeps working.

Warnings derive from :class:`CcdlabWarning`, so ``warnings.simplefilter("ignore", CcdlabWarning)``
silences them all.

Examples
--------
>>> from ccdlab.errors import CcdlabError, FrameError
>>> try:
...     raise FrameError("bias/a.fits is empty: download it again.")
... except CcdlabError as exc:
...     print(exc)
bias/a.fits is empty: download it again.
"""

from __future__ import annotations

__all__ = [
    "CcdlabError",
    "CcdlabWarning",
    # any input
    "InputError",
    "MissingFileError",
    "NotAFolderError",
    "OutputExistsError",
    "OverwriteRefusedError",
    # data and files
    "DataNotFoundError",
    "FrameError",
    "ManifestError",
    "FetchError",
    "DatasetExistsError",
    "ColabError",
    # the reduction
    "CameraError",
    "CombineError",
    "CalibrationError",
    "CosmicsError",
    "ReductionError",
    "StackError",
    "PhotometryError",
    "DetectorError",
    "CatalogError",
    "AstrometryError",
    # the course and the classroom
    "SetupError",
    "CheckError",
    "AuthoringError",
    "ReleaseError",
    "GradingError",
    "SandboxError",
    "StudentCodeError",
    "CommandUnavailable",
    # warnings
    "CameraWarning",
    "CombineWarning",
    "InventoryWarning",
    "StackWarning",
    "FrameWarning",
    "PhotometryWarning",
]


class CcdlabError(Exception):
    """The base of every ccdlab error: its message names what is wrong and what to do.

    In IPython and Jupyter the error shows as its class name and message, without a traceback.

    Examples
    --------
    >>> CcdlabError("No data.")._render_traceback_()
    ['CcdlabError: No data.']
    """

    def _render_traceback_(self):  # IPython shows this instead of the traceback
        return [f"{type(self).__name__}: {self}"]


class CcdlabWarning(UserWarning):
    """The base of every ccdlab warning.

    Examples
    --------
    >>> issubclass(CameraWarning, CcdlabWarning)
    True
    """


# --- any input ---------------------------------------------------------------------------------


class InputError(CcdlabError, ValueError, TypeError):
    """An argument is not usable (wrong type, shape or range); the message says what to pass.

    It is also a ``ValueError`` and a ``TypeError``, as the checks it replaced were.

    Examples
    --------
    >>> isinstance(InputError("x"), ValueError) and isinstance(InputError("x"), TypeError)
    True
    """


class MissingFileError(CcdlabError, FileNotFoundError):
    """A file or folder that was named does not exist; the message says what to do."""


class NotAFolderError(CcdlabError, NotADirectoryError):
    """A path that should be a folder is a file; the message says what to do."""


class OutputExistsError(CcdlabError, FileExistsError):
    """An output exists and was not to be replaced; nothing was changed."""


class OverwriteRefusedError(CcdlabError, PermissionError):
    """ccdlab refuses to overwrite a file it did not write (a raw frame, an input); nothing was changed."""


# --- data and files -----------------------------------------------------------------------------


class DataNotFoundError(MissingFileError):
    """No course data was found; the message says where ccdlab looked and how to fetch data."""


class FrameError(CcdlabError, ValueError):
    """A file is not a usable frame; the message names the file and what to do.

    Attributes
    ----------
    kind : str
        What is wrong, for callers that group problems: ``'damaged'`` (truncated or broken: copy
        it again), ``'not_frame'`` (not FITS, or no image in it: move it out of the data),
        ``'permission'`` (it may not be read), ``'not_file'`` (a named pipe, a device, a link
        loop: not a file at all) or ``''`` (anything else).

    Examples
    --------
    >>> FrameError("a.fits is truncated. Download or copy it again.", kind="damaged").kind
    'damaged'
    """

    def __init__(self, message: str = "", kind: str = ""):
        super().__init__(message)
        self.kind = kind


class ManifestError(CcdlabError, ValueError):
    """A manifest is missing, unreadable, or does not match the files; the message says what to do."""


class FetchError(CcdlabError, RuntimeError):
    """A download or its extraction failed; the message says what happened and what to do."""


class DatasetExistsError(OutputExistsError):
    """The data folder already holds a different dataset; nothing was changed."""


class ColabError(CcdlabError, RuntimeError):
    """Drive could not be mounted or read; the message says what to do."""


# --- the reduction ------------------------------------------------------------------------------


class CameraError(CcdlabError, ValueError):
    """An explicit camera value is impossible (e.g. gain <= 0); the message says what to pass."""


class CombineError(CcdlabError, ValueError):
    """Frames cannot be combined; the message names the frame and what to do."""


class CalibrationError(CcdlabError, ValueError):
    """Calibration cannot go on; the message names the frame and says what to do."""


class CosmicsError(CcdlabError, ValueError):
    """Cosmic-ray cleaning cannot run on this input; the message says what to fix."""


class ReductionError(CcdlabError, ValueError):
    """The night cannot be reduced; the message says what is missing and what to do."""


class StackError(CcdlabError, ValueError):
    """Frames cannot be aligned or stacked; the message names the frame and what to do."""


class DetectorError(CcdlabError, ValueError):
    """The frames cannot measure the camera: no pair, frames of different sizes, too few frames."""


class PhotometryError(CcdlabError, ValueError):
    """Photometry cannot run on this input; the message says what to fix."""


class CatalogError(CcdlabError, ValueError):
    """A reference catalogue cannot be read or used (no RA/Dec or magnitude column, no overlap)."""


class AstrometryError(CcdlabError, ValueError):
    """A frame cannot be plate-solved; the message says what is missing (pointing, scale, stars)."""


# --- the course and the classroom ----------------------------------------------------------------


class SetupError(CcdlabError, RuntimeError):
    """The setup cell could not find or create the data; the message says what to do.

    Examples
    --------
    >>> SetupError("No data.")._render_traceback_()
    ['No data.']
    """

    def _render_traceback_(self):  # a student sees the sentence alone
        return [str(self)]


class CheckError(CcdlabError, RuntimeError):
    """An exercise could not be checked (no data, unknown lesson); the message says what to do."""


class AuthoringError(CcdlabError, ValueError):
    """A solution notebook's markers are malformed; the message names the notebook and cell."""


class ReleaseError(CcdlabError, ValueError):
    """The release cannot be made safely; the message names the file and what to do."""


class GradingError(CcdlabError, ValueError):
    """Grading cannot start (no solutions, no submissions, no data); the message says what to do."""


class StudentCodeError(CcdlabError):
    """A student's function, called by the grader in a sandbox, raised (named like the original error).

    Examples
    --------
    >>> error = StudentCodeError.named("ValueError", "bad shape")
    >>> type(error).__name__, str(error), isinstance(error, StudentCodeError)
    ('ValueError', 'bad shape', True)
    """

    @classmethod
    def named(cls, name: str, message: str) -> "StudentCodeError":
        safe = name if name.isidentifier() else "Error"
        return type(safe, (cls,), {})(message)


class SandboxError(GradingError):
    """The grading sandbox cannot run here (no bubblewrap, no user namespaces); the message says why."""


class CommandUnavailable(CcdlabError, RuntimeError):
    """A command whose code is not installed (the student hand-out leaves out instructor tools)."""


# --- warnings -----------------------------------------------------------------------------------


class CameraWarning(CcdlabWarning):
    """A header keyword held a junk value and was ignored."""


class CombineWarning(CcdlabWarning):
    """A combination ran but its result deserves a second look (e.g. only one frame)."""


class InventoryWarning(CcdlabWarning):
    """A scan found frames whose header disagrees with their folder; the message lists them."""


class StackWarning(CcdlabWarning):
    """Alignment or stacking ran, but something deserves a look (e.g. a WCS value was a string)."""


class FrameWarning(CcdlabWarning):
    """A frame was read, but a header value is unusable (e.g. a WCS keyword stored as text)."""


class PhotometryWarning(CcdlabWarning):
    """Photometry ran, but a result deserves a look (e.g. few stars for the zero point)."""

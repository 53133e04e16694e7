"""ccdlab: learn CCD image reduction with graded notebooks and a small, careful helper package.

The reduction science sits at the top of the package, one module per step, where notebooks import
it: :mod:`ccdlab.paths`, :mod:`ccdlab.io`, :mod:`ccdlab.inventory`, :mod:`ccdlab.stats`,
:mod:`ccdlab.camera`, :mod:`ccdlab.overscan`, :mod:`ccdlab.combine`, :mod:`ccdlab.screening`,
:mod:`ccdlab.calibrate`, :mod:`ccdlab.cosmics`, :mod:`ccdlab.reduce`, :mod:`ccdlab.stack`,
:mod:`ccdlab.photometry`. Around it, one subpackage per audience:

- :mod:`ccdlab.data`: the synthetic night, downloads, manifests, Colab's Drive, the doctor;
- :mod:`ccdlab.display`: pictures of frames, the stretch explorer, the reduction summary;
- :mod:`ccdlab.course`: what a student's notebook needs (setup cell, checks, results);
- :mod:`ccdlab.classroom`: the instructor's tools (authoring, release, grading); not in the hand-out;
- :mod:`ccdlab.commands`: the ``ccdlab`` command line, one module per command.

``import ccdlab`` is instant: each module is imported the first time it is used::

    import ccdlab
    master = ccdlab.combine(bias_files, method="median")   # the combine module is callable

Module paths of earlier versions (``ccdlab.exercises``, ``ccdlab.setup_cell``, ``ccdlab.colab``,
...) still work: see :mod:`ccdlab._compat`.
"""

from __future__ import annotations

import importlib

from ccdlab import _compat
from ccdlab._version import __version__

__all__ = ["__version__"]

#: Modules and subpackages that ``ccdlab.<name>`` imports on first use.
_LAZY = frozenset({
    "errors", "validate", "files", "paths", "io", "inventory", "stats", "camera", "overscan", "combine",
    "screening", "calibrate", "cosmics", "parallel", "reduce", "stack", "photometry",
    "data", "display", "course", "classroom", "commands", "cli",
})

_compat.install()


def __getattr__(name: str):
    """Import ``ccdlab.<name>`` on first use (``import ccdlab; ccdlab.io.read_frame(...)``)."""
    if name in _LAZY or name in _compat.MOVED_NAMES:
        return importlib.import_module(f"ccdlab.{name}")
    raise AttributeError(f"module 'ccdlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)

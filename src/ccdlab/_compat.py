"""Module paths of earlier ccdlab versions, kept working for notebooks already handed out.

Notebooks and scripts written for ccdlab 0.1 import ``ccdlab.exercises``, ``ccdlab.setup_cell``,
``ccdlab.colab``, ``ccdlab.doctor``... Those modules now live in subpackages; :data:`MOVED` maps
each old path to the new one, and :func:`install` (run by ``import ccdlab``) teaches Python's
import system to answer the old name with the new module itself (the same module object, so
state such as the current lesson is shared). Old paths inside a moved package
(``ccdlab.checks.lesson01``) follow their package.

Examples
--------
>>> import ccdlab.exercises, ccdlab.course.exercises
>>> ccdlab.exercises is ccdlab.course.exercises
True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["MOVED", "MOVED_NAMES", "new_name", "install"]

#: Old module path -> where it lives now.
MOVED = {
    "ccdlab.exercises": "ccdlab.course.exercises",
    "ccdlab.results": "ccdlab.course.results",
    "ccdlab.setup_cell": "ccdlab.course.setup",
    "ccdlab.checks": "ccdlab.course.checks",
    "ccdlab.colab": "ccdlab.data.colab",
    "ccdlab.doctor": "ccdlab.data.doctor",
    "ccdlab.fetch": "ccdlab.data.fetch",
    "ccdlab.manifest": "ccdlab.data.manifest",
    "ccdlab.simulate": "ccdlab.data.simulate",
    "ccdlab.simulate_sky": "ccdlab.data.simulate.sky",
    "ccdlab.simulate_detector": "ccdlab.data.simulate.detector",
    "ccdlab.simulate_cosmics": "ccdlab.data.simulate.cosmic_rays",
    "ccdlab.explorer": "ccdlab.display.explorer",
    "ccdlab.summary": "ccdlab.display.summary",
    "ccdlab.markers": "ccdlab.course.markers",
    "ccdlab.authoring": "ccdlab.classroom.authoring",
    "ccdlab.release": "ccdlab.classroom.release",
    "ccdlab.grading": "ccdlab.classroom.grading",
    "ccdlab.grading_run": "ccdlab.classroom.grading.run",
    "ccdlab.grading_report": "ccdlab.classroom.grading.report",
}

#: The old names as attributes of the package (``ccdlab.exercises``).
MOVED_NAMES = frozenset(old.split(".", 1)[1] for old in MOVED)


def new_name(old: str) -> str | None:
    """Where the module ``old`` lives now, or None when it did not move.

    Examples
    --------
    >>> new_name("ccdlab.checks.lesson01")
    'ccdlab.course.checks.lesson01'
    >>> new_name("ccdlab.io") is None
    True
    """
    if old in MOVED:
        return MOVED[old]
    package, _, rest = old.rpartition(".")
    while package:
        if package in MOVED:
            return f"{MOVED[package]}.{old[len(package) + 1:]}"
        package, _, _ = package.rpartition(".")
    return None


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answer an old module path with the module that now lives elsewhere."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("ccdlab.") or new_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(new_name(spec.name))

    def exec_module(self, module):  # already executed under its new name
        pass


_FINDER = _MovedModules()


def install() -> None:
    """Put the old-path finder on ``sys.meta_path`` (once).

    Examples
    --------
    >>> install(); sum(isinstance(f, _MovedModules) for f in sys.meta_path)
    1
    """
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        # First in line: an old package's submodule (ccdlab.checks.lesson01) would otherwise be found
        # again through the new package's __path__ and run a second time under its old name.
        sys.meta_path.insert(0, _FINDER)

"""ccdlab: learn CCD image reduction with graded notebooks and a small, careful helper package.

The function most lessons meet first is re-exported here::

    import ccdlab
    master = ccdlab.combine(bias_files, method="median")

Everything else lives in one module per concept: ``ccdlab.io``, ``ccdlab.inventory``,
``ccdlab.stats``, ``ccdlab.display``, ``ccdlab.calibrate``, ``ccdlab.cosmics``, ...
"""

__version__ = "0.1.0"

from .combine import combine  # noqa: E402  (the function shadows its module's name on purpose)

__all__ = ["__version__", "combine"]

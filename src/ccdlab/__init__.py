"""ccdlab: learn CCD image reduction with graded notebooks and a small, careful helper package."""

__version__ = "0.1.0"

"""The version of ccdlab (read without importing anything else)."""

__version__ = "0.2.0"

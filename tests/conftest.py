"""Shared test settings: a non-interactive plotting backend and no network."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
# Tests never read the developer's own data folder by accident.
os.environ.pop("CCDLAB_DATA", None)

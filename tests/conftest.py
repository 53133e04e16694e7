"""Shared test settings: a non-interactive plotting backend, and no inherited data folder."""

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _no_inherited_data_folder(monkeypatch):
    """Unit tests never read a data folder by accident: each names the folder it uses."""
    monkeypatch.delenv("CCDLAB_DATA", raising=False)


@pytest.fixture(autouse=True)
def _lacosmic_results_kept_in_memory_only():
    """A test whose setup cell keeps L.A.Cosmic's results in its data folder leaves the next test none of it."""
    from ccdlab import cosmics

    before = cosmics.results_folder()
    yield
    cosmics.keep_results_in(before)


@pytest.fixture(scope="session")
def tiny_night() -> Path:
    """The tiny synthetic night the notebooks run on (made once per machine into .cache/).

    Treat it as read-only: copy it (``shutil.copytree``) before changing anything.
    """
    return Path(os.environ["CCDLAB_NOTEBOOK_DATA"])


@pytest.fixture(scope="session")
def calibration_night(tmp_path_factory):
    """A small synthetic night with a known flat (tests/synthetic.py), shared by the calibration
    and screening tests; treat it as read-only."""
    import synthetic

    return synthetic.make_night(tmp_path_factory.mktemp("calibration-night"), n_science=1)


@pytest.fixture(scope="session")
def warm_night(tmp_path_factory) -> Path:
    """The tiny synthetic night of the warm camera (-10 C: darks/ and dark current in every frame); read-only."""
    from ccdlab.data.simulate import make_night

    return make_night(tmp_path_factory.mktemp("warm") / "night", size="tiny", progress=False, camera="warm")


@pytest.fixture(scope="session")
def tiny_reduced(tiny_night, tmp_path_factory) -> Path:
    """ccdlab's reduction of the tiny night (bias, flat, cosmic rays), in a folder of its own; read-only."""
    from ccdlab.reduce import reduce

    out = tmp_path_factory.mktemp("tiny-reduced")
    reduce(tiny_night, out, progress=False, verbose=False, jobs=1)
    return out


@pytest.fixture(scope="session")
def tiny_first_proc(tiny_night, tiny_reduced) -> Path:
    """The first cleaned science frame of the tiny night (``*.proc.fits``)."""
    from ccdlab.reduce import output_name

    first = sorted((tiny_night / "science").glob("*.fits"))[0]
    return tiny_reduced / output_name(first.name, "proc")

"""Lesson 09 on a real night: WCS values stored as text, no simulator truth, with and without a catalogue.

Real frames carry no truth/, and often no catalogue: the detection, aperture and PSF parts must run
(their checks judged against the package's own numbers), and the zero-point and plate-solving
parts must say what they need and skip without failing. Given a catalogue (as the grading sandbox
gives one, without the truth), every part runs and the solution earns full marks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from astropy.io import fits

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "09_photometry.ipynb"
NUMERIC_WCS = ("CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2", "CD1_1", "CD1_2", "CD2_1", "CD2_2")

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def real_night(tiny_night: Path, dest: Path, catalogue: bool) -> Path:
    """The tiny night as a real one: raw folders only, WCS values as quoted text, maybe its catalogue."""
    for folder in ("bias", "flats", "science"):
        shutil.copytree(tiny_night / folder, dest / folder)
    if catalogue:
        shutil.copytree(tiny_night / "catalog", dest / "catalog")
    for path in sorted((dest / "science").glob("*.fits")):
        with fits.open(path, mode="update") as hdul:
            for key in NUMERIC_WCS:
                hdul[0].header[key] = repr(float(hdul[0].header[key]))  # e.g. CRVAL1 = '339.75'
    return dest


def run_solution(data_dir: Path, tmp_path: Path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(SOLUTION, as_version=4)
    env = {"CCDLAB_DATA": str(data_dir), "MPLBACKEND": "Agg"}
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    os.environ.pop("CCDLAB_RESULTS", None)
    try:
        NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    # printed text, and the plain-text form of the HTML feedback each check displays
    return "\n".join(output.get("text", "") or str(output.get("data", {}).get("text/plain", ""))
                     for cell in notebook.cells for output in cell.get("outputs", []))


def test_without_a_catalogue_the_photometry_runs_and_the_rest_says_what_it_needs(tiny_night, tmp_path):
    data = real_night(tiny_night, tmp_path / "night", catalogue=False)
    assert isinstance(fits.getheader(next((data / "science").glob("*.fits")))["CRVAL1"], str)
    text = run_solution(data, tmp_path)
    assert "No reference catalogue" in text and "catalog/" in text
    for exercise in ("9.1", "9.2", "9.3", "9.5"):
        assert f"✔ Exercise {exercise}: correct" in text
    assert not any(f"Exercise {exercise}:" in text for exercise in ("9.4", "9.6", "9.7"))  # skipped, not failed
    assert "4 of 4 exercises correct." in text


def test_with_a_catalogue_but_no_truth_every_part_runs(tiny_night, tmp_path):
    data = real_night(tiny_night, tmp_path / "night", catalogue=True)
    text = run_solution(data, tmp_path)
    assert "7 of 7 exercises correct." in text

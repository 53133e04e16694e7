"""Pictures of photometry and astrometry (ccdlab.display.photometry): titles, labels, no repr."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from ccdlab.display.photometry import (plot_astrometric_residuals, plot_magnitude_errors, plot_zero_point,
                                       show_psf, show_stars)
from ccdlab.errors import InputError
from photometry_scene import wcs_for


def test_show_stars_from_a_table_with_apertures():
    image = np.random.default_rng(0).normal(100, 5, (120, 100))
    shown = show_stars(image, Table({"x_centroid": [10.0, 50.0], "y_centroid": [20.0, 60.0]}), radius=5)
    assert len(shown.ax.patches) == 2 and shown.ax.get_title() == "2 stars"
    with pytest.raises(InputError, match="x/y"):
        show_stars(image, Table({"ra": [1.0]}))


def test_zero_point_plot_marks_the_stars_left_out():
    catalog = np.linspace(14, 20, 20)
    used = np.ones(20, bool)
    used[:3] = False
    plot = plot_zero_point(catalog, catalog - 23.0, 23.0, used=used, title="ZP")
    labels = [t.get_text() for t in plot.ax.get_legend().get_texts()]
    assert labels[0] == "used (17)" and labels[1] == "left out (3)" and plot.ax.get_title() == "ZP"
    with pytest.raises(InputError, match="same stars"):
        plot_zero_point(catalog, catalog[:5], 23.0)
    assert repr(plot).startswith("Plot(") and plot._ipython_display_() is None


def test_magnitude_errors_psf_and_residuals():
    reference = np.linspace(14, 20, 10)
    plot = plot_magnitude_errors(reference, {"PSF": reference + 0.02})
    assert "RMS 0.020" in plot.ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(InputError, match="one magnitude per star"):
        plot_magnitude_errors(reference, {"PSF": reference[:3]})
    assert show_psf(np.ones((9, 9))).ax.get_xlabel() == "x from the centre (pixel)"
    wcs = wcs_for((100, 100))
    xy = np.array([(10.0, 10.0), (80.0, 60.0)])
    ra, dec = wcs.all_pix2world(xy[:, 0] + 0.01, xy[:, 1], 0)
    assert "RMS 0.010" in plot_astrometric_residuals(wcs, xy, ra, dec).ax.get_title()

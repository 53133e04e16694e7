"""The lessons of the course, in teaching order: one solution notebook and one check module each.

Examples
--------
>>> LESSONS[0]
'00_getting_started'
"""

__all__ = ["LESSONS"]

#: The lessons, in teaching order; each has a module ``ccdlab.course.checks.lessonNN`` and a notebook ``NN_name.ipynb``.
LESSONS = (
    "00_getting_started",
    "01_fits_files",
    "02_statistics_display",
    "03_master_bias",
    "04_master_flat",
    "05_calibration",
    "06_cosmic_rays",
    "07_stacking",
    "08_detector",
    "09_photometry",
)

"""The synthetic night: frames of the GROWTH-India camera made offline, seeded, with their truth.

:func:`make_night` writes a night (bias, flats, science frames and a ``truth/`` folder);
:mod:`ccdlab.data.simulate.night` plans and writes it from the sky (:mod:`.sky`), the detector
(:mod:`.detector`) and cosmic rays (:mod:`.cosmic_rays`).

Examples
--------
>>> from ccdlab.data.simulate import SIZES
>>> SIZES["tiny"]
(514, 512)
"""

from ccdlab.data.simulate.night import (
    ADC_MAX,
    DATASET_ITEMS,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    FIELD,
    GAIN,
    READ_NOISE,
    SATURATION,
    SITE,
    SIZES,
    make_night,
    night_plan,
    rts2_header,
)

__all__ = [
    "SIZES", "DEFAULT_SIZE", "DEFAULT_SEED", "GAIN", "READ_NOISE", "SATURATION", "ADC_MAX",
    "DATASET_ITEMS", "FIELD", "SITE", "night_plan", "rts2_header", "make_night",
]

"""The synthetic night: frames of the GROWTH-India camera made offline, seeded, with their truth.

:func:`make_night` writes a night (bias, flats, science frames, the camera test of lesson 08 in
``detector/``, and a ``truth/`` folder); :mod:`ccdlab.data.simulate.night` plans and writes it
from the sky (:mod:`.sky`), the detector (:mod:`.detector`), cosmic rays (:mod:`.cosmic_rays`),
dark current (:mod:`.dark_current`) and the photon-transfer pairs (:mod:`.photon_transfer`,
:mod:`.camera_test`), read out as the camera does (:mod:`.readout`) with RTS2 headers
(:mod:`.rts2`). :mod:`ccdlab.data.stand_in` makes a tiny one for lessons run on real data that
lacks darks or flat pairs.

Examples
--------
>>> from ccdlab.data.simulate import SIZES
>>> SIZES["tiny"]
(514, 512)
"""

from ccdlab.data.simulate.night import (
    ADC_MAX,
    CAMERAS,
    DEFAULT_CAMERA,
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
    "SIZES", "CAMERAS", "DEFAULT_CAMERA", "DEFAULT_SIZE", "DEFAULT_SEED", "GAIN", "READ_NOISE", "SATURATION", "ADC_MAX",
    "DATASET_ITEMS", "FIELD", "SITE", "night_plan", "rts2_header", "make_night",
]

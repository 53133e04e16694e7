"""The reduction core, applied to the tiny synthetic night, recovers the truth beside it.

No notebook involved: this is the check that the package does the science right on data whose
answer we know (the flat the simulator applied, the cosmic rays it injected, the stars it placed).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from ccdlab import calibrate, inventory
from ccdlab.cosmics import remove_cosmics


def true_cosmics(folder, frame):
    """The injected cosmic-ray mask of a science frame, e.g. truth/cosmics/C0_...-144.crmask.fits."""
    stem = Path(frame).name.removesuffix(".fits").removesuffix(".wcs")
    return Path(folder) / "truth" / "cosmics" / f"{stem}.crmask.fits"


@pytest.fixture(scope="module")
def night(tiny_night):
    table = inventory.scan(tiny_night)
    bias = calibrate.master_bias(inventory.frames_of_type(table, "bias"), progress=False)
    flat = calibrate.master_flat(inventory.frames_of_type(table, "flat"), bias, progress=False)
    mask = calibrate.vignetting_mask(flat)
    truth = json.loads((tiny_night / "truth" / "truth.json").read_text())
    return {"dir": Path(tiny_night), "table": table, "bias": bias, "flat": flat, "mask": mask, "truth": truth}


def test_master_bias_matches_true_bias(night):
    true_bias = fits.getdata(night["dir"] / "truth" / "master_bias.fits").astype(np.float64)
    residual = np.asarray(night["bias"], dtype=np.float64) - true_bias
    n_bias = int(np.sum(night["table"]["frame_type"] == "bias"))
    read_noise_adu = night["truth"]["read_noise_e"] / night["truth"]["gain_e_per_adu"]
    # the median of N frames has noise ~ 1.25 * sigma / sqrt(N)
    assert abs(np.median(residual)) < 1.0
    assert np.std(residual) < 1.5 * 1.2533 * read_noise_adu / np.sqrt(n_bias)


def test_master_flat_recovers_true_flat_to_one_percent(night):
    true_flat = fits.getdata(night["dir"] / "truth" / "true_flat.fits").astype(np.float64)
    master = np.asarray(night["flat"], dtype=np.float64)
    field = ~night["mask"] & (true_flat >= 0.8) & np.isfinite(master)
    assert field.mean() > 0.4  # the unvignetted field is most of the chip
    ratio = master[field] / true_flat[field]
    rms = np.sqrt(np.mean((ratio - np.median(ratio)) ** 2))
    assert rms < 0.01, f"master flat differs from the true flat by {rms:.2%} RMS"


def test_unusable_flat_is_rejected_with_a_reason(night):
    screening = night["flat"].screening
    rejected = dict(night["flat"].rejected)
    assert set(rejected) == set(night["truth"]["unusable_flats"])
    assert all(reason.strip() for reason in rejected.values())
    assert len(screening) == int(np.sum(night["table"]["frame_type"] == "flat"))


def test_vignetting_mask_matches_truth(night):
    true_flat = fits.getdata(night["dir"] / "truth" / "true_flat.fits")
    truth_mask = true_flat < 0.8
    agreement = np.mean(night["mask"] == truth_mask)
    assert agreement > 0.99
    assert night["mask"][0, 0] and night["mask"][-1, -1]  # the corners are vignetted


def test_cosmic_rays_found_with_recall_and_precision_over_90_percent(night):
    truth = night["truth"]
    science = inventory.frames_of_type(night["table"], "science")
    assert len(science) >= 2
    stars = Table.read(night["dir"] / "truth" / "stars.ecsv")
    found = hits = true_total = 0
    for path in science:
        calibrated, _ = calibrate.calibrate_frame(path, night["bias"], night["flat"], mask=night["mask"])
        crmask, cleaned = remove_cosmics(calibrated, truth["gain_e_per_adu"], truth["read_noise_e"], truth["saturation_e"], mask=night["mask"])
        true_mask = fits.getdata(true_cosmics(night["dir"], path)).astype(bool)
        usable = ~night["mask"]
        true_mask &= usable
        found += int(np.sum(crmask & usable))
        hits += int(np.sum(crmask & true_mask))
        true_total += int(np.sum(true_mask))
        assert np.all(np.isnan(cleaned[night["mask"]]))
    recall, precision = hits / true_total, hits / max(found, 1)
    assert recall >= 0.9, f"recall {recall:.1%}"
    assert precision >= 0.9, f"precision {precision:.1%}"
    assert len(stars) > 0


def test_no_star_core_flagged(night):
    truth = night["truth"]
    path = inventory.frames_of_type(night["table"], "science")[0]
    calibrated, _ = calibrate.calibrate_frame(path, night["bias"], night["flat"], mask=night["mask"])
    crmask, _ = remove_cosmics(calibrated, truth["gain_e_per_adu"], truth["read_noise_e"], truth["saturation_e"], mask=night["mask"])
    true_cr = fits.getdata(true_cosmics(night["dir"], path)).astype(bool)
    stars = Table.read(night["dir"] / "truth" / "stars.ecsv")
    ny, nx = crmask.shape
    flagged_cores = 0
    checked = 0
    for x, y in zip(stars["x"], stars["y"]):
        ix, iy = int(round(float(x))), int(round(float(y)))
        if not (1 <= ix < nx - 1 and 1 <= iy < ny - 1) or night["mask"][iy, ix]:
            continue
        core = (slice(iy - 1, iy + 2), slice(ix - 1, ix + 2))
        if true_cr[core].any():  # a real hit on the star: flagging it is right
            continue
        checked += 1
        flagged_cores += bool(crmask[core].any())
    assert checked > 5
    assert flagged_cores == 0, f"{flagged_cores} of {checked} star cores flagged as cosmic rays"

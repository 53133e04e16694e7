"""Benchmark measuring the camera: truth against what `ccdlab detector` recovers, and how long it takes.

Run: python bench/detector.py [--sizes tiny workshop] [--cameras cool warm] [--data DIR ...]
For each synthetic night (made in a temporary folder, removed afterwards) it prints the truth and
the measurement (with its uncertainty) of the gain, read noise, dark current, full well and
linearity limit, the hot pixels found, the run time of the measurement and of making the night,
and the residual dark signal left by `ccdlab reduce` in the warm night's calibrated frames.
`--data DIR` measures nights you already have instead (their truth is read from their manifest).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from ccdlab.characterise import characterise  # noqa: E402
from ccdlab.data.fetch import ensure_default  # noqa: E402
from ccdlab.data.simulate import SIZES  # noqa: E402
from ccdlab.data.simulate.camera_test import truth_of_night  # noqa: E402


def measure(night: Path) -> list[tuple]:
    """Rows (quantity, truth, measured, error, unit) and the run time."""
    truth = truth_of_night(night)
    start = time.perf_counter()
    result = characterise(night)
    wall = time.perf_counter() - start
    t = truth or {}
    rows = [
        ("gain", t.get("gain_e_per_adu"), result.gain, "e-/ADU"),
        ("read noise", t.get("read_noise_e"), result.read_noise_e, "e-"),
        ("dark current", t.get("dark_current_e_per_s"), result.dark_current, "e-/s"),
        ("full well", t.get("full_well_e"), result.full_well_e, "e-"),
        ("linearity 1 %", t.get("linearity_limit_output_e"), result.linearity_limit_e, "e-"),
        ("hot pixels", t.get("n_hot_pixels"), result.hot_pixels, ""),
    ]
    return rows, wall


def calibrated_levels(night: Path, tmp: Path) -> tuple[list[float], object]:
    """`ccdlab reduce` the night; return each calibrated frame's median (where the flat > 0.9), and the result."""
    from astropy.io import fits

    from ccdlab.reduce import reduce

    result = reduce(night, tmp / f"reduced-{night.name}", progress=False, verbose=False, summary=False, jobs=1)
    flat = fits.getdata(night / "truth" / "true_flat.fits").astype(float)
    levels = []
    for path in result.calibrated:
        data = fits.getdata(path).astype(float)
        levels.append(float(np.median(data[np.isfinite(data) & (flat > 0.9)])))
    return levels, result


def print_table(title: str, rows, wall: float, make: float | None) -> None:
    print(f"\n{title}")
    print(f"  {'quantity':<14}{'truth':>14}{'measured':>34}{'off by':>9}{'within':>9}")
    for name, truth, m, unit in rows:
        shown = m.text() if name != "hot pixels" else (f"{m.value:,.0f}" if m.measured else "not measured")
        if truth is None or not m.measured:
            off, within = "", ""
        else:
            off = f"{100 * (m.value / truth - 1):+.1f} %"
            within = f"{abs(m.value - truth) / m.error:.1f} sd" if math.isfinite(m.error) and m.error > 0 else ""
        truth_text = "" if truth is None else (f"{truth:,.4g}" if truth < 1000 else f"{truth:,.0f}")
        print(f"  {name:<14}{truth_text:>14}{shown:>34}{off:>9}{within:>9}")
    made = f"; night made in {make:.1f} s" if make is not None else ""
    print(f"  ccdlab detector's measurement took {wall:.2f} s{made}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=["workshop"])
    parser.add_argument("--cameras", nargs="+", choices=["cool", "warm"], default=["cool", "warm"])
    parser.add_argument("--data", nargs="+", type=Path, default=None, help="measure these nights instead")
    args = parser.parse_args(argv)
    if args.data:
        for night in args.data:
            rows, wall = measure(night)
            print_table(f"{night}", rows, wall, None)
        return 0
    for size in args.sizes:
        levels = {}
        with tempfile.TemporaryDirectory(prefix=f"ccdlab-bench-detector-{size}-") as tmp:
            for camera in args.cameras:
                night = Path(tmp) / camera
                start = time.perf_counter()
                ensure_default(night, size=size, camera=camera, progress=False)
                make = time.perf_counter() - start
                rows, wall = measure(night)
                print_table(f"{size} night, {camera} camera", rows, wall, make)
                start = time.perf_counter()
                levels[camera], result = calibrated_levels(night, Path(tmp))
                step = result.dark_summary() if result.master_dark is not None else "no darks in the night: no dark step"
                print(f"  ccdlab reduce: {time.perf_counter() - start:.1f} s; {step}")
            if {"cool", "warm"} <= set(levels):
                read_adu = 14.0 / 1.6
                left = [w - c for w, c in zip(levels["warm"], levels["cool"])]
                print(f"\n  dark signal left in the warm night's calibrated frames (median, warm - cool, same sky): "
                      f"{', '.join(f'{x:+.2f}' for x in left)} ADU; read noise {read_adu:.2f} ADU; "
                      f"745 e- = 466 ADU of dark removed per 180 s frame")
    print("\nfull well: truth is the charge a pixel holds; the photon transfer curve's turnover sits a few per cent"
          "\nbelow it (a full pixel reads 3 % low, and the lamp fills some pixels before the mean). hot pixels: the"
          "\nwarm camera's hottest pixels fill up and bleed along their column in the darks; those trails count too.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

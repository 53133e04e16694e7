"""Benchmark: aligning and median-stacking 4 dithered frames, time and peak memory.

Writes 4 float32 frames (a sky with noise and stars, NaN in the vignetted corners, a TAN WCS that
follows fractional dithers of a few pixels, like the course's ``*.proc.fits``) of each size into a
temporary folder, then aligns them on the first frame's WCS and median-stacks them, each way in a
fresh Python process so that peak memory is measured alone:

- ``ccdlab``: :func:`ccdlab.stack.align_frames` (``reproject_interp`` in blocks of rows into a
  float32 cube) then :func:`ccdlab.stack.stack_frames` (block-wise median, coverage map);
- ``naive``: what a notebook would write: ``reproject_interp`` on whole frames (float64 output
  and footprint), ``np.stack`` and ``np.nanmedian``;
- ``adaptive``: ccdlab with ``method="adaptive"`` (``reproject_adaptive``; slow, off by default).

Wall time covers reading the files, aligning and stacking (not starting Python or importing).
Peak RSS is the child's ``VmHWM``. Results are compared with the first case's away from the
edges of the data (within 10 px of any frame's NaN or border a frame may count in one way and
not in the other: an interpolation halo). Run from the project folder::

    .venv/bin/python bench/stack.py                          # both sizes (a few minutes)
    .venv/bin/python bench/stack.py --sizes 1024x1027        # a quick look
    .venv/bin/python bench/stack.py --cases ccdlab,naive,adaptive --sizes 2048x2054
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import case_result, peak_rss_mb, run_child

CASES = ("ccdlab", "naive", "adaptive")
DEFAULT_CASES = ("ccdlab", "naive")
DEFAULT_SIZES = ("2048x2054", "4096x4108")
DITHERS = [(0.0, 0.0), (3.41, -2.73), (-4.18, 5.06), (6.27, 1.84)]


def tan_header(shape, dx, dy):
    from astropy.io import fits

    ny, nx = shape
    scale = 0.676 / 3600.0
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["CRVAL1"], header["CRVAL2"] = 339.75, 33.9
    header["CRPIX1"], header["CRPIX2"] = (nx - 1) / 2 + 1 + dx, (ny - 1) / 2 + 1 + dy
    header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = -scale, 0.0, 0.0, scale
    return header


def write_frames(folder: Path, ny: int, nx: int, seed: int = 0) -> None:
    import numpy as np
    from astropy.io import fits

    rng = np.random.default_rng(seed)
    n_stars = int(ny * nx / 4000)
    xs, ys = rng.uniform(0, nx, n_stars), rng.uniform(0, ny, n_stars)
    fluxes = 10 ** rng.uniform(3.0, 5.5, n_stars)
    yy, xx = np.mgrid[0:ny, 0:nx]
    corner = np.hypot((xx - nx / 2) / (nx / 2), (yy - ny / 2) / (ny / 2)) > 1.25
    del yy, xx
    sigma = 3.5 / 2.3548
    for index, (dx, dy) in enumerate(DITHERS):
        image = rng.normal(940.0, 26.0, (ny, nx)).astype(np.float32)
        for x, y, f in zip(xs + dx, ys + dy, fluxes):
            x0, y0 = int(x) - 8, int(y) - 8
            if x0 < 0 or y0 < 0 or x0 + 17 > nx or y0 + 17 > ny:
                continue
            sy, sx = np.mgrid[y0 : y0 + 17, x0 : x0 + 17]
            image[y0 : y0 + 17, x0 : x0 + 17] += (f / (2 * np.pi * sigma**2) * np.exp(-((sx - x) ** 2 + (sy - y) ** 2) / (2 * sigma**2))).astype(np.float32)
        image[corner] = np.nan
        fits.PrimaryHDU(image, tan_header((ny, nx), dx, dy)).writeto(folder / f"frame_{index}.proc.fits", overwrite=True)




def run_case(case: str, folder: Path) -> dict:
    import warnings

    import numpy as np

    paths = sorted(folder.glob("frame_*.proc.fits"))
    if case in ("ccdlab", "adaptive"):
        from ccdlab.stack import align_frames, stack_frames

        rss_after_import = peak_rss_mb()
        start = time.perf_counter()
        cube, _, _ = align_frames(paths, method="interp" if case == "ccdlab" else "adaptive", progress=False)
        result, _ = stack_frames(cube, method="median")
    elif case == "naive":
        from astropy.io import fits
        from astropy.wcs import WCS, FITSFixedWarning
        from reproject import reproject_interp

        rss_after_import = peak_rss_mb()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            first = fits.getheader(paths[0])
            target, shape = WCS(first), (first["NAXIS2"], first["NAXIS1"])
            aligned = []
            for path in paths:
                with fits.open(path) as hdul:
                    data, header = hdul[0].data, hdul[0].header
                    aligned.append(reproject_interp((data, WCS(header)), target, shape_out=shape)[0])
            result = np.nanmedian(np.stack(aligned), axis=0)
    else:
        raise SystemExit(f"unknown case {case!r}: use one of {', '.join(CASES)}")
    return case_result(folder, case, result, time.perf_counter() - start, rss_after_import)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(DEFAULT_SIZES), help="comma-separated NXxNY, e.g. 2048x2054")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help="comma-separated, from: " + ", ".join(CASES))
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--nx", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ny", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case == "write":
        write_frames(Path(args.dir), args.ny, args.nx)
        return 0
    if args.case:
        print(json.dumps(run_case(args.case, Path(args.dir))))
        return 0

    import numpy as np

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    table = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        nx, ny = (int(v) for v in size.lower().split("x"))
        with tempfile.TemporaryDirectory(prefix="ccdlab-bench-stack-") as tmp:
            folder = Path(tmp)
            print(f"Writing 4 frames of {nx} x {ny} float32 to {folder} ...", flush=True)
            subprocess.run([sys.executable, __file__, "--case", "write", "--dir", tmp, "--nx", str(nx), "--ny", str(ny)],
                           check=True)
            from astropy.io import fits

            holes = np.zeros((ny, nx), dtype=bool)  # NaN of any input frame
            for path in folder.glob("frame_*.proc.fits"):
                holes |= ~np.isfinite(fits.getdata(path))
            reference = None
            for case in cases:
                row = run_child(__file__, "--case", case, "--dir", tmp)
                if row is None:
                    continue
                data = np.load(row["result"])
                if reference is None:
                    reference = data
                # Compare away from the edges of the data (10 px from any frame's NaN and from the
                # border): there the two ways may differ by one frame (the interpolation's halo).
                from scipy.ndimage import binary_dilation

                edge = binary_dilation(holes, iterations=10) | ~np.isfinite(data) | ~np.isfinite(reference)
                edge[:10, :] = edge[-10:, :] = edge[:, :10] = edge[:, -10:] = True
                both = ~edge
                row["max_diff"] = float(np.max(np.abs(data[both] - reference[both]))) if both.any() else float("nan")
                row["nan_fraction"] = float(np.mean(~np.isfinite(data)))
                row["size"] = f"{nx} x {ny}"
                table.append(row)
                print(f"  {case:9s} {row['wall_s']:7.2f} s  {row['peak_rss_mb']:7.0f} MB", flush=True)
    print()
    print("4 dithered float32 frames, aligned on the first frame's WCS and median-stacked; each case in a fresh process")
    header = f"{'size':12s} {'case':9s} {'wall [s]':>9s} {'peak RSS [MB]':>14s} {'after import [MB]':>18s} {'NaN':>7s} {'max |diff| inside':>18s}"
    print(header)
    print("-" * len(header))
    for row in table:
        print(f"{row['size']:12s} {row['case']:9s} {row['wall_s']:9.2f} {row['peak_rss_mb']:14.0f} "
              f"{row['import_rss_mb']:18.0f} {row['nan_fraction']:7.1%} {row['max_diff']:18.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

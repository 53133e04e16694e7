"""Benchmark: median-combining full-size frames, time and peak memory.

Writes ``--frames`` frames of ``--nx`` x ``--ny`` uint16 pixels (BITPIX 16, BZERO 32768, like the
GROWTH-India camera) to a temporary folder, then median-combines them, each way in a fresh Python
process so that peak memory is measured alone:

- ``ccdlab``: :func:`ccdlab.combine` (block by block, selection-network median);
- ``seed``: the seed tutorial's function (a float64 stack of all frames, ``np.median``);
- ``numpy``: a float32 stack of all frames held in memory, ``np.median``;
- ``ccdproc``: ``ccdproc.combine(..., method="median", mem_limit=500e6)``.

Wall time covers reading the files and combining (not starting Python or importing). Peak RSS is
the child's own ``ru_maxrss`` (resident memory, memory-mapped file pages included). Results are
checked against the numpy result. Run from the project folder::

    .venv/bin/python bench/combine.py            # the full-size benchmark (takes a minute or two)
    .venv/bin/python bench/combine.py --nx 512 --ny 512 --frames 5   # a quick look
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

CASES = ("ccdlab", "seed", "numpy", "ccdproc")


def write_frames(folder: Path, n: int, ny: int, nx: int, seed: int = 0) -> list[Path]:
    import numpy as np
    from astropy.io import fits

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        data = rng.normal(270.0, 9.0, size=(ny, nx)).astype(np.float32)
        data[rng.random((ny, nx), dtype=np.float32) < 1e-4] = 60000.0  # a few hot pixels / cosmics
        path = folder / f"frame_{i:02d}.fits"
        fits.PrimaryHDU(np.clip(data, 0, 65535).astype(np.uint16)).writeto(path, overwrite=True)
        paths.append(path)
    return paths




def run_case(case: str, folder: Path, mem_limit: float) -> dict:
    """Run one case in this process; return wall time, peak RSS and where the result is."""
    import numpy as np
    from astropy.io import fits

    paths = sorted(folder.glob("frame_*.fits"))
    if case == "ccdlab":
        from ccdlab.combine import combine

        rss_after_import = peak_rss_mb()
        start = time.perf_counter()
        result = combine(paths, method="median", mem_limit=mem_limit, progress=False)
    elif case == "seed":
        rss_after_import = peak_rss_mb()
        start = time.perf_counter()
        # The seed tutorial's median_combine_frames, as written there.
        x_len = fits.getval(paths[0], "NAXIS2")
        y_len = fits.getval(paths[0], "NAXIS1")
        all_frames = np.empty((len(paths), x_len, y_len))
        for i in range(len(paths)):
            all_frames[i, :, :] = fits.open(paths[i])[0].data
        result = np.median(all_frames, axis=0)
    elif case == "numpy":
        rss_after_import = peak_rss_mb()
        start = time.perf_counter()
        ny, nx = fits.getval(paths[0], "NAXIS2"), fits.getval(paths[0], "NAXIS1")
        stack = np.empty((len(paths), ny, nx), dtype=np.float32)
        for i, path in enumerate(paths):
            stack[i] = fits.getdata(path)
        result = np.median(stack, axis=0)
    elif case == "ccdproc":
        import warnings

        import ccdproc

        rss_after_import = peak_rss_mb()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = np.asarray(ccdproc.combine([str(p) for p in paths], method="median", mem_limit=500e6, unit="adu").data)
    else:
        raise SystemExit(f"unknown case {case!r}: use one of {', '.join(CASES)}")
    return case_result(folder, case, result, time.perf_counter() - start, rss_after_import)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--nx", type=int, default=4096)
    parser.add_argument("--ny", type=int, default=4108)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES))
    parser.add_argument("--mem-limit", type=float, default=64e6, help="ccdlab's mem_limit in bytes")
    parser.add_argument("--repeat", type=int, default=1, help="run each case this many times; the best is kept")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.case == "write":  # child process: write the frames (keeps the parent small)
        write_frames(Path(args.dir), args.frames, args.ny, args.nx)
        return 0
    if args.case:  # child process: one case
        print(json.dumps(run_case(args.case, Path(args.dir), args.mem_limit)))
        return 0

    import numpy as np

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-") as tmp:
        folder = Path(tmp)
        print(f"Writing {args.frames} frames of {args.nx} x {args.ny} uint16 to {folder} ...", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--case", "write", "--dir", str(folder), "--frames", str(args.frames),
             "--nx", str(args.nx), "--ny", str(args.ny)],
            check=True,
        )
        rows = {}
        for case in cases:
            best = None
            for _ in range(max(1, args.repeat)):
                row = run_child(__file__, "--case", case, "--dir", str(folder), "--mem-limit", str(args.mem_limit))
                if row is None:
                    break
                if best is None or row["wall_s"] < best["wall_s"]:
                    best = row
            if best is not None:
                rows[case] = best
                print(f"  {case:8s} {best['wall_s']:7.2f} s  {best['peak_rss_mb']:7.0f} MB", flush=True)
        reference = rows.get("numpy")
        ref_data = np.load(reference["result"]) if reference else None
        print()
        print(f"{args.frames} frames of {args.nx} x {args.ny} uint16, median combine, each case in a fresh process")
        header = f"{'case':10s} {'wall [s]':>9s} {'peak RSS [MB]':>14s} {'after import [MB]':>18s} {'time / numpy':>13s} {'RSS / numpy':>12s} {'max |diff|':>11s}"
        print(header)
        print("-" * len(header))
        for case, row in rows.items():
            t_ratio = row["wall_s"] / reference["wall_s"] if reference else float("nan")
            m_ratio = row["peak_rss_mb"] / reference["peak_rss_mb"] if reference else float("nan")
            diff = float(np.max(np.abs(np.load(row["result"]) - ref_data))) if ref_data is not None else float("nan")
            print(f"{case:10s} {row['wall_s']:9.2f} {row['peak_rss_mb']:14.0f} {row['import_rss_mb']:18.0f} {t_ratio:13.2f} {m_ratio:12.2f} {diff:11.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

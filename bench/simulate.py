"""Benchmark the synthetic night: generation time, second-run (verify) time and size per preset.

The frames of lessons 00-07 (raw) and the camera test of lesson 08 (detector/) are counted apart.

Run: python bench/simulate.py [--sizes tiny workshop full] [--seed N]
Prints a table; writes only into a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ccdlab.data.fetch import ensure_default  # noqa: E402
from ccdlab.data.simulate import DEFAULT_SEED, SIZES  # noqa: E402


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"ccdlab-bench-{size}-") as tmp:
            dest = Path(tmp) / "data"
            start = time.perf_counter()
            ensure_default(dest, size=size, seed=args.seed, progress=False)
            create = time.perf_counter() - start
            start = time.perf_counter()
            status = ensure_default(dest, size=size, seed=args.seed, progress=False).status
            verify = time.perf_counter() - start
            raw = sum(folder_bytes(dest / name) for name in ("bias", "flats", "science"))
            test = folder_bytes(dest / "detector")
            total = folder_bytes(dest)
            frames = sum(1 for name in ("bias", "flats", "science") for _ in (dest / name).glob("*.fits"))
            tests = sum(1 for _ in (dest / "detector").rglob("*.fits"))
            ny, nx = SIZES[size]
            rows.append((size, f"{nx} x {ny}", frames, tests, create, verify, status, raw / 1e6, test / 1e6, total / 1e6))
    print(f"{'size':<9} {'NAXIS1 x NAXIS2':<16} {'frames':>6} {'+ test':>6} {'create s':>9} {'2nd run s':>10} "
          f"{'2nd run':>8} {'raw MB':>8} {'test MB':>8} {'all MB':>8}")
    for size, shape, frames, tests, create, verify, status, raw, test, total in rows:
        print(f"{size:<9} {shape:<16} {frames:>6} {tests:>6} {create:>9.2f} {verify:>10.2f} {status:>8} {raw:>8.1f} "
              f"{test:>8.1f} {total:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

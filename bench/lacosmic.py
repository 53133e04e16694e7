"""Benchmark: L.A.Cosmic by astroscrappy and by ccdlab.lacosmic on every science frame of a night.

Each calibrated science frame of the night (``*.fb.fits`` from ``ccdlab reduce``, made once into
``.cache/``) is cleaned in each of two fresh Python processes, one per implementation, with
the course's camera and operating point: ``astroscrappy.detect_cosmics`` itself and
``ccdlab.lacosmic.detect_cosmics`` (what ``remove_cosmics`` and ``ccdlab reduce`` use). The table
gives each frame's time both ways (the best of ``--repeat`` runs), the pixels flagged, and whether the hits
and the cleaned values are identical, then the peak memory of each process.

    python bench/lacosmic.py                     # the full night (4 frames of 4096 x 4108)
    python bench/lacosmic.py --size workshop     # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_mb, run_child  # noqa: E402

#: The course camera's numbers (gain e-/ADU, read noise and saturation in e-) and ccdlab's operating point.
OPTIONS = {"gain": 1.6, "readnoise": 14.0, "satlevel": 96000.0, "sigclip": 5.0, "sigfrac": 0.5, "objlim": 5.0, "niter": 4}


def calibrated_frames(size: str) -> list[Path]:
    from ccdlab.data.fetch import fetch_default
    from ccdlab.reduce import reduce

    night = Path(fetch_default(dest=ROOT / ".cache" / f"data-{size}", size=size, progress=False))
    out = ROOT / ".cache" / f"lacosmic-{size}"
    frames = sorted(out.glob("*.fb.fits"))
    if not frames:
        reduce(night, out, progress=False, verbose=False, summary=False)
        frames = sorted(out.glob("*.fb.fits"))
    return frames


def child(case: str, frames: list[str], saved: str, repeat: int) -> dict:
    """Clean every frame ``repeat`` times with one implementation; save the hits and values; time the best run."""
    import numpy as np

    from ccdlab.cosmics import fill_value
    from ccdlab.io import read_frame

    if case == "astroscrappy":
        from astroscrappy import detect_cosmics
    else:
        from ccdlab import lacosmic

        lacosmic.matches_astroscrappy()  # the once-per-process probe, outside the timing
        detect_cosmics = lacosmic.detect_cosmics
    rows = []
    for k, path in enumerate(frames):
        data, _ = read_frame(path)
        image = np.array(data, dtype=np.float32)
        bad = ~np.isfinite(image)
        image[bad] = fill_value(image, bad)
        best = None
        for _ in range(repeat):
            start = time.perf_counter()
            hits, cleaned = detect_cosmics(image, inmask=bad, **OPTIONS)
            seconds = time.perf_counter() - start
            best = seconds if best is None else min(best, seconds)
        np.savez(Path(saved) / f"{case}-{k}.npz", hits=hits, cleaned=cleaned)
        rows.append({"frame": Path(path).name, "seconds": best, "flagged": int(hits.sum())})
    return {"rows": rows, "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full", choices=("tiny", "workshop", "full"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per frame and implementation (the best is kept)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--frames", help=argparse.SUPPRESS)
    parser.add_argument("--saved", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(child(args.case, json.loads(args.frames), args.saved, max(1, args.repeat))))
        return 0

    import numpy as np

    frames = [str(path) for path in calibrated_frames(args.size)]
    threads = os.environ.get("OMP_NUM_THREADS", "all cores")
    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-lacosmic-") as saved:
        results = {}
        for case in ("astroscrappy", "ccdlab.lacosmic"):
            results[case] = run_child(__file__, "--case", case, "--frames", json.dumps(frames), "--saved", saved,
                                      "--repeat", str(args.repeat))
            if results[case] is None:
                return 1
        print(f"\nL.A.Cosmic on the {args.size} night's calibrated science frames (OpenMP threads: {threads}); "
              f"gain 1.6, read noise 14, sigclip 5, sigfrac 0.5, objlim 5, niter 4")
        print(f"{'frame':36s} {'astroscrappy (s)':>16s} {'ccdlab (s)':>10s} {'speed-up':>8s} {'flagged':>8s} identical")
        same_everywhere = True
        for k, (slow, fast) in enumerate(zip(results["astroscrappy"]["rows"], results["ccdlab.lacosmic"]["rows"])):
            one, two = (np.load(Path(saved) / f"{case}-{k}.npz") for case in ("astroscrappy", "ccdlab.lacosmic"))
            same = bool(np.array_equal(one["hits"], two["hits"]) and np.array_equal(one["cleaned"], two["cleaned"]))
            same_everywhere &= same
            print(f"{slow['frame']:36s} {slow['seconds']:16.2f} {fast['seconds']:10.2f} "
                  f"{slow['seconds'] / fast['seconds']:7.1f}x {fast['flagged']:8d} {'yes' if same else 'NO'}")
        print(f"{'peak memory of the process (MB)':36s} {results['astroscrappy']['peak_rss_mb']:16.0f} "
              f"{results['ccdlab.lacosmic']['peak_rss_mb']:10.0f}")
    return 0 if same_everywhere else 1


if __name__ == "__main__":
    sys.exit(main())

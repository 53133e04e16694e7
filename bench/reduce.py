"""Benchmark: a whole night through ``ccdlab reduce`` and through the ccdproc pipeline, side by side.

Each case runs in a fresh Python process on the same synthetic night (default: the full night, 5
bias, 6 flats, 4 science frames of 4096 x 4108). The table gives wall time (imports included, as
a user waits for them), the peak memory of the whole process tree (the case and any worker it
starts, sampled every 20 ms), the master flat's error against the true flat, and the cosmic-ray
recall and precision against the truth masks, outside the vignetted corners:

- ``ccdlab``: :func:`ccdlab.reduce.reduce` as ``ccdlab reduce`` runs it (summary figure included),
  one worker per core; ``ccdlab-1``: the same with one process;
- ``ccdproc``: what an astronomer would write with ccdproc: ``combine`` (median) for the master
  bias and the master flat (bias-subtracted flats scaled by their median; the unusable flat left
  out, as ccdlab's screening does), ``ccd_process`` for each science frame, then
  ``cosmicray_lacosmic`` with the same parameters as ccdlab (sigclip, sigfrac, objlim, niter, gain,
  read noise, saturation), each result written to disk. ``ccd_process`` divides by the flat
  normalised to its *mean* (ccdproc's default), vignetted corners included: the calibrated frames
  come out about 13% low, which L.A.Cosmic's noise model notices (more false hits).

A profile of where ``reduce`` spends its time follows (its steps, timed in the ``ccdlab`` case),
and ``--sweep`` adds L.A.Cosmic's precision-recall curve over sigclip, sigfrac, objlim and niter on
the tiny and workshop nights (and the best points on the full night).

    python bench/reduce.py                       # the full night (makes it once into .cache/)
    python bench/reduce.py --size workshop       # quicker
    python bench/reduce.py --sweep --cases none  # the cosmic-ray operating point only
    python bench/reduce.py --baseline main       # also ccdlab as it is at another commit, in the same run

With ``--baseline REV`` the ``ccdlab`` case runs a second time on the package as it was at ``REV``
(``git archive`` of its ``src/`` put first on ``PYTHONPATH``; its workers follow it): before and
after side by side, the ccdproc pipeline as the yardstick of the same run, on a shared machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
CASES = ("ccdlab", "ccdlab-1", "ccdproc")
STEPS = ("_master_bias", "_master_dark", "_master_flats", "_calibrate_science", "_clean_all", "write_record")
BASELINE = "ccdlab@"  # the ccdlab case on the package at another commit: "ccdlab@<rev>"


# ---------------------------------------------------------------------------------------------
# Measuring a process tree


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, MB."""
    children: dict[int, list] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 2**20


def run_measured(args: list, src: str | None = None) -> tuple[dict | None, float, float]:
    """Run a child Python (on the package in ``src`` if given); return (its JSON line, wall seconds, peak tree memory MB)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    peak = [0.0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_mb(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        print(f"  {' '.join(args[:2])}: failed\n{err[-3000:]}", file=sys.stderr)
        return None, wall, peak[0]
    return json.loads(out.strip().splitlines()[-1]), wall, peak[0]


# ---------------------------------------------------------------------------------------------
# The cases (each in its own process)


def case_ccdlab(data: Path, out: Path, jobs: int) -> dict:
    from ccdlab import reduce as pipeline
    from ccdlab.display.summary import save_summary

    steps: dict[str, float] = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                steps[name] = steps.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    for name in STEPS:
        if hasattr(pipeline, name):
            setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    start = time.perf_counter()
    result = pipeline.reduce(data, out=out, jobs=jobs, progress=False, summary=timed("summary figure", save_summary),
                             verbose=False)
    steps["total"] = time.perf_counter() - start
    flat = next(iter(result.master_flats.values()))
    pairs = [(str(out / pipeline.output_name(name, "fb")), str(out / pipeline.output_name(name, "proc")), name)
             for name in result.frames["name"][[t == "science" for t in result.frames["frame_type"]]]]
    return {"steps": steps, "master_flat": str(flat), "master_bias": str(result.master_bias), "science": pairs}


def case_ccdproc(data: Path, out: Path, options: dict) -> dict:
    import warnings

    import ccdproc
    import numpy as np
    from astropy.nddata import CCDData

    truth = json.loads((data / "truth" / "truth.json").read_text())
    unusable = {Path(name).name for name in truth.get("unusable_flats", [])}
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bias_files = sorted(str(p) for p in (data / "bias").glob("*.fits"))
        master_bias = ccdproc.combine(bias_files, method="median", unit="adu")
        master_bias.write(out / "master_bias.fits", overwrite=True)
        flats = [ccdproc.subtract_bias(CCDData.read(p, unit="adu"), master_bias)
                 for p in sorted((data / "flats").glob("*.fits")) if p.name not in unusable]
        master_flat = ccdproc.combine(flats, method="median", scale=lambda a: 1.0 / np.median(a))
        master_flat.write(out / "master_flat.fits", overwrite=True)
        del flats
        science = []
        for path in sorted((data / "science").glob("*.fits")):
            raw = CCDData.read(path, unit="adu")
            calibrated = ccdproc.ccd_process(raw, master_bias=master_bias, master_flat=master_flat)
            cleaned = ccdproc.cosmicray_lacosmic(
                calibrated, gain=options["gain"], readnoise=options["readnoise"],
                satlevel=options["satlevel"], sigclip=options["sigclip"], sigfrac=options["sigfrac"],
                objlim=options["objlim"], niter=options["niter"], gain_apply=False,
            )
            target = out / f"{path.stem}.proc.fits"
            cleaned.write(target, overwrite=True, hdu_uncertainty=None)
            science.append(str(target))
    return {"steps": {"total": time.perf_counter() - start}, "master_flat": str(out / "master_flat.fits"),
            "master_bias": str(out / "master_bias.fits"), "science": science}


# ---------------------------------------------------------------------------------------------
# Quality against the truth


def usable_region(data: Path):
    """Pixels outside the vignetted corners: the true flat above 0.8 of its central level."""
    import numpy as np
    from astropy.io import fits

    true = fits.getdata(data / "truth" / "true_flat.fits").astype(np.float64)
    ny, nx = true.shape
    centre = np.median(true[ny // 4: 3 * ny // 4, nx // 4: 3 * nx // 4])
    return true / centre, true / centre > 0.8


def flat_error(path: str, data: Path) -> float:
    """Median |master / true - 1| over the usable region, both normalised to their median there, in %."""
    import numpy as np
    from astropy.io import fits

    true, good = usable_region(data)
    master = fits.getdata(path).astype(np.float64)
    ratio = (master[good] / np.median(master[good])) / (true[good] / np.median(true[good]))
    return float(100 * np.median(np.abs(ratio - 1)))


def cosmic_scores(masks: list, data: Path) -> tuple[float, float, int]:
    """Recall, precision and flagged pixels of (name, found mask) pairs against the truth, in the usable region."""
    import numpy as np
    from astropy.io import fits

    _, good = usable_region(data)
    hits = found = true_total = 0
    for name, mask in masks:
        stem = Path(name).name.removesuffix(".fits").removesuffix(".wcs")
        true = fits.getdata(data / "truth" / "cosmics" / f"{stem}.crmask.fits").astype(bool) & good
        mask = np.asarray(mask, dtype=bool) & good
        hits += int(np.sum(mask & true))
        found += int(mask.sum())
        true_total += int(true.sum())
    return hits / max(true_total, 1), hits / max(found, 1), found


def ccdlab_masks(science: list) -> list:
    """ccdlab's cosmic-ray masks: the pixels ``.proc.fits`` changed from ``.fb.fits``."""
    import numpy as np
    from astropy.io import fits

    masks = []
    for fb, proc, name in science:
        before, after = fits.getdata(fb), fits.getdata(proc)
        masks.append((name, (before != after) & np.isfinite(before)))
    return masks


def ccdproc_masks(science: list) -> list:
    from astropy.io import fits

    masks = []
    for path in science:
        with fits.open(path) as hdus:
            masks.append((Path(path).name.replace(".proc", ""), hdus["MASK"].data.astype(bool)))
    return masks


def same_outputs(first: dict, second: dict) -> str:
    """How far ccdlab's outputs of two cases are apart (masters and cleaned frames)."""
    import numpy as np
    from astropy.io import fits

    worst = 0.0
    pairs = [(first["master_bias"], second["master_bias"]), (first["master_flat"], second["master_flat"])]
    pairs += [(a[1], b[1]) for a, b in zip(first["science"], second["science"])]
    for a, b in pairs:
        x, y = fits.getdata(a).astype(np.float64), fits.getdata(b).astype(np.float64)
        if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
            return "NO (shapes or NaN differ)"
        finite = np.isfinite(x)
        worst = max(worst, float(np.max(np.abs(x[finite] - y[finite]) / np.maximum(np.abs(y[finite]), 1e-6), initial=0)))
    return "identical" if worst == 0 else f"within {worst:.1e} (relative)"


# ---------------------------------------------------------------------------------------------
# The cosmic-ray operating point


GRID = {"sigclip": (4.5, 5.0, 5.5, 6.0), "sigfrac": (0.3, 0.5), "objlim": (5.0, 8.0), "niter": (2, 4)}


def sweep_case(data: Path, grid: list, jobs: int) -> list:
    """Precision and recall of each astroscrappy setting on a night's calibrated frames."""
    import numpy as np

    from ccdlab import calibrate, inventory
    from ccdlab.reduce import calibrated_saturation

    table = inventory.scan(data, warn=False)
    bias = calibrate.master_bias(inventory.frames_of_type(table, "bias"), progress=False)
    truth = json.loads((data / "truth" / "truth.json").read_text())
    flat = calibrate.master_flat(inventory.frames_of_type(table, "flat"), bias, progress=False).data  # screened
    mask = calibrate.vignetting_mask(flat)
    with tempfile.TemporaryDirectory(prefix="ccdlab-sweep-") as tmp:
        frames = []
        for path in inventory.frames_of_type(table, "science"):
            calibrated, _ = calibrate.calibrate_frame(path, bias, flat, mask=mask)
            target = Path(tmp) / f"{Path(path).stem}.npy"
            np.save(target, calibrated)
            frames.append((Path(path).name, str(target)))
        np.save(Path(tmp) / "mask.npy", mask)
        satlevel = calibrated_saturation(truth["saturation_e"], flat, mask)  # as reduce does
        tasks = [{"frame": f, "name": n, "mask": str(Path(tmp) / "mask.npy"), "options": dict(options),
                  "gain": truth["gain_e_per_adu"], "readnoise": truth["read_noise_e"], "satlevel": satlevel}
                 for options in grid for n, f in frames]
        found = {}
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                outcomes = list(pool.map(sweep_task, tasks))
        else:
            outcomes = [sweep_task(task) for task in tasks]
        for task, outcome in zip(tasks, outcomes):
            found.setdefault(json.dumps(task["options"], sort_keys=True), []).append((task["name"], outcome))
    rows = []
    for options in grid:
        key = json.dumps(options, sort_keys=True)
        masks = [(name, _unpack(outcome)) for name, outcome in found[key]]
        recall, precision, flagged = cosmic_scores(masks, data)
        rows.append({**options, "recall": recall, "precision": precision, "flagged": flagged, "seconds": sum(
            outcome["seconds"] for _, outcome in found[key])})
    return rows


def sweep_task(task: dict) -> dict:
    """One frame cleaned with one setting (a worker task)."""
    import numpy as np

    from ccdlab.cosmics import remove_cosmics

    start = time.perf_counter()
    crmask, _ = remove_cosmics(np.load(task["frame"]), task["gain"], task["readnoise"], task["satlevel"],
                               mask=np.load(task["mask"]), **task["options"])
    return {"mask": np.packbits(crmask), "shape": list(crmask.shape), "seconds": time.perf_counter() - start}


def _unpack(outcome: dict):
    import numpy as np

    count = int(np.prod(outcome["shape"]))
    return np.unpackbits(outcome["mask"])[:count].reshape(outcome["shape"]).astype(bool)


def print_sweep(size: str, rows: list) -> None:
    print(f"\nL.A.Cosmic on the {size} night: pixel recall and precision against the truth, outside the vignetted corners")
    print(f"{'sigclip':>7} {'sigfrac':>7} {'objlim':>6} {'niter':>5} {'recall':>7} {'precision':>9} {'flagged':>8} {'cpu (s)':>8}")
    front = [r for r in rows if not any(o["recall"] >= r["recall"] and o["precision"] >= r["precision"] and o is not r
                                        and (o["recall"], o["precision"]) != (r["recall"], r["precision"]) for o in rows)]
    for r in sorted(rows, key=lambda r: (-r["precision"], -r["recall"])):
        tag = " <- Pareto front" if r in front else ""
        print(f"{r['sigclip']:>7g} {r['sigfrac']:>7g} {r['objlim']:>6g} {r['niter']:>5d} {r['recall']:>7.3f} "
              f"{r['precision']:>9.3f} {r['flagged']:>8d} {r['seconds']:>8.1f}{tag}")


# ---------------------------------------------------------------------------------------------


def night(size: str) -> Path:
    from ccdlab.data.fetch import fetch_default

    return Path(fetch_default(dest=ROOT / ".cache" / f"data-{size}", size=size, progress=False))


def child(args) -> int:
    data, out = Path(args.data), Path(args.out)
    if args.case in ("ccdlab", "ccdlab-1") or args.case.startswith(BASELINE):
        result = case_ccdlab(data, out, 1 if args.case == "ccdlab-1" else args.jobs)
    elif args.case == "ccdproc":
        result = case_ccdproc(data, out, json.loads(args.options))
    elif args.case == "sweep":
        result = {"rows": sweep_case(data, json.loads(args.options), args.jobs)}
    else:
        raise SystemExit(f"unknown case {args.case!r}")
    print(json.dumps(result))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="full", choices=("tiny", "workshop", "full"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, from: " + ", ".join(CASES) + " (or none)")
    parser.add_argument("--sweep", action="store_true", help="also L.A.Cosmic's precision-recall over its parameters")
    parser.add_argument("--sweep-sizes", default="tiny,workshop")
    parser.add_argument("--sweep-points", help="instead of the grid: sigclip:sigfrac:objlim:niter,... (e.g. the best "
                                               "points of the small nights, on --sweep-sizes full)")
    parser.add_argument("--baseline", help="also run the ccdlab case on the package at this git revision (before/after)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--options", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        return child(args)

    from ccdlab.cosmics import DEFAULT_OPTIONS

    data = night(args.size)
    truth = json.loads((data / "truth" / "truth.json").read_text())
    options = {"sigclip": 4.5, "sigfrac": 0.3, "objlim": 5.0, "niter": 4, **DEFAULT_OPTIONS,
               "gain": truth["gain_e_per_adu"], "readnoise": truth["read_noise_e"], "satlevel": truth["saturation_e"]}
    cases = [c for c in args.cases.split(",") if c in CASES]
    if args.baseline and cases:
        cases.insert(0, BASELINE + args.baseline)
    results = {}
    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-reduce-", dir=ROOT / ".cache") as tmp:
        src = None
        if args.baseline and cases:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "src"], capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            src = str(Path(tmp) / "src")
        for case in cases:
            found, wall, peak = run_measured(["--case", case, "--data", str(data), "--out", str(Path(tmp) / case),
                                              "--jobs", str(args.jobs), "--options", json.dumps(options)],
                                             src=src if case.startswith(BASELINE) else None)
            if found is None:
                continue
            masks = ccdlab_masks(found["science"]) if case.startswith("ccdlab") else ccdproc_masks(found["science"])
            recall, precision, flagged = cosmic_scores(masks, data)
            results[case] = {**found, "wall": wall, "peak": peak, "flat_error": flat_error(found["master_flat"], data),
                             "recall": recall, "precision": precision, "flagged": flagged}
            print(f"  {case}: {wall:.1f} s, {peak:.0f} MB", flush=True)
        if cases:
            shape = "x".join(str(n) for n in truth["shape"][::-1])
            print(f"\nThe {args.size} night ({shape}; {len(list((data / 'science').glob('*.fits')))} science frames) on "
                  f"{os.cpu_count()} cores, {args.jobs} job(s) for ccdlab; L.A.Cosmic sigclip {options['sigclip']:g}, "
                  f"sigfrac {options['sigfrac']:g}, objlim {options['objlim']:g}, niter {options['niter']}")
            print(f"{'pipeline':<14} {'wall (s)':>9} {'x ccdproc':>9} {'peak (MB)':>10} {'x ccdproc':>9} "
                  f"{'flat err %':>10} {'CR recall':>9} {'CR precision':>12}")
            base = results.get("ccdproc")
            for case, r in results.items():
                t_ratio = f"{r['wall'] / base['wall']:.2f}" if base else "-"
                m_ratio = f"{r['peak'] / base['peak']:.2f}" if base else "-"
                print(f"{case:<14} {r['wall']:>9.1f} {t_ratio:>9} {r['peak']:>10.0f} {m_ratio:>9} {r['flat_error']:>10.3f} "
                      f"{r['recall']:>9.3f} {r['precision']:>12.3f}")
            if "ccdlab" in results and "ccdlab-1" in results:
                print(f"ccdlab with {args.jobs} jobs against one: {same_outputs(results['ccdlab'], results['ccdlab-1'])}")
            before = BASELINE + str(args.baseline)
            if "ccdlab" in results and before in results:
                print(f"ccdlab against {before}: {same_outputs(results['ccdlab'], results[before])}")
            for case in (before, "ccdlab"):
                if case not in results:
                    continue
                steps = results[case]["steps"]
                print(f"\nWhere {case} reduce spends its {results[case]['wall']:.1f} s (wall; steps that overlap "
                      "others count their own wall time)")
                accounted = sum(v for k, v in steps.items() if k != "total")
                for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
                    if name != "total":
                        print(f"  {name.strip('_').replace('_', ' '):<22} {seconds:>6.1f} s")
                print(f"  {'other steps':<22} {steps['total'] - accounted:>6.1f} s")
                print(f"  {'start and imports':<22} {results[case]['wall'] - steps['total']:>6.1f} s")
    if args.sweep:
        grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
        if args.sweep_points:
            grid = [dict(zip(GRID, (float(a), float(b), float(c), int(d))))
                    for a, b, c, d in (point.split(":") for point in args.sweep_points.split(","))]
        for size in [s for s in args.sweep_sizes.split(",") if s]:
            found, wall, _ = run_measured(["--case", "sweep", "--data", str(night(size)), "--out", "-",
                                           "--jobs", str(args.jobs), "--options", json.dumps(grid)])
            if found:
                print_sweep(size, found["rows"])
                print(f"({wall:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

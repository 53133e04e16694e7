"""Benchmark: every solution notebook on the workshop night, in course order, with its slowest cells.

A student goes through the lessons in order on one data folder, so this does too: a fresh copy of
the workshop night (``reduced/`` empty), each solution notebook executed top to bottom in a fresh
kernel (nbclient), the wall time of each cell taken from the kernel's own timestamps. The table
gives each lesson's time (kernel start included) against the target of 30 s, and its three
slowest cells.

    python bench/lessons.py                      # the workshop night (made once into .cache/)
    python bench/lessons.py --size tiny --lessons 06_cosmic_rays,07_stacking
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 30.0


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = dt.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def _first_line(cell) -> str:
    for line in cell.source.splitlines():
        if (line.strip() and not line.lstrip().startswith("#")) or "EXERCISE" in line:
            return line.strip()[:48]
    return cell.source.strip()[:48]


def run_lesson(path: Path, folder: Path, timeout: float) -> tuple[float, list, int]:
    """Execute one notebook; return (wall seconds, [(seconds, code cell number, first line)], errors)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=True, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    cells, errors, number = [], 0, 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        cells.append((_seconds(cell), number, _first_line(cell)))
        errors += any(output.get("output_type") == "error" for output in cell.get("outputs", []))
    return wall, sorted(cells, reverse=True), errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="workshop", choices=("tiny", "workshop", "full"))
    parser.add_argument("--lessons", default="", help="comma-separated lesson names (default: all, in order)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per cell")
    args = parser.parse_args(argv)

    from ccdlab.course.lessons import LESSONS
    from ccdlab.data.fetch import fetch_default

    night = Path(fetch_default(dest=ROOT / ".cache" / f"data-{args.size}", size=args.size, progress=False))
    wanted = [name for name in (args.lessons.split(",") if args.lessons else LESSONS) if name]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-lessons-", dir=ROOT / ".cache") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(night, data, ignore=shutil.ignore_patterns("reduced"))
        work = Path(tmp) / "work"
        work.mkdir()
        os.environ["CCDLAB_DATA"] = str(data)
        os.environ.setdefault("MPLBACKEND", "Agg")
        os.environ.pop("CCDLAB_RESULTS", None)
        for name in wanted:
            path = ROOT / "solutions" / f"{name}.ipynb"
            if not path.is_file():
                print(f"  {name}: no solution notebook", file=sys.stderr)
                continue
            wall, cells, errors = run_lesson(path, work, args.timeout)
            rows.append((name, wall, cells, errors))
            print(f"  {name}: {wall:.1f} s", flush=True)

    print(f"\nSolution notebooks on the {args.size} night, in course order, on {os.cpu_count()} cores "
          f"(target: {TARGET_S:g} s per lesson)")
    print(f"{'lesson':<24} {'wall (s)':>8} {'':>4}  slowest cells (code cell number: seconds, first line)")
    for name, wall, cells, errors in rows:
        flag = "ok" if wall <= TARGET_S else "SLOW"
        slow = "; ".join(f"[{n}] {s:.1f} s {line!r}" for s, n, line in cells[:3])
        print(f"{name:<24} {wall:>8.1f} {flag:>4}  {slow}" + (f"  ({errors} cell(s) raised)" if errors else ""))
    total = sum(wall for _, wall, _, _ in rows)
    print(f"{'all lessons':<24} {total:>8.1f}")
    return 0 if all(errors == 0 for *_, errors in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

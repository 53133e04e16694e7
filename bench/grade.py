"""Benchmark: grade a class of 30 mixed submissions, with and without the sandbox, side by side;
with ``--cluster``, a class of 60 on a two-worker Dask LocalCluster against ``--jobs 2``.

The submissions cycle through the course's lessons and six kinds: the solution (full marks), the
blank student notebook (zero), a solution whose first exercise raises, one whose second exercise
loops forever (stopped by the cell timeout), one whose kernel dies half-way, and a damaged file.
Each way of grading runs in a fresh process on the same class; the table gives the wall time,
the grader's peak memory and the largest peak of the processes it started (a worker, a kernel),
and the sandbox's cost as a ratio. Target: the sandbox at most 15% slower.

With ``--cluster`` the same kind of class (60 notebooks unless ``--copies``) is graded in the
sandbox twice, each in a fresh process: on this machine with ``--jobs 2``, and on a Dask
``LocalCluster`` on 127.0.0.1 with two worker processes of one thread each (``ccdlab grade
--scheduler``); the table gives both wall times (the cluster's start-up apart), the ratio, and
whether the two grades CSVs are the same bytes.

    python bench/grade.py [--copies 30] [--jobs N] [--cell-timeout 20] [--size tiny]
    python bench/grade.py --cluster [--copies 60]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, run_child  # noqa: E402

from ccdlab.classroom.grading import grade, load_solutions  # noqa: E402
from ccdlab.course.markers import EXERCISE_RE, cell_source  # noqa: E402
from ccdlab.paths import project_root  # noqa: E402

KINDS = ("solution", "blank", "error", "loop", "crash", "invalid")


def exercise_cells(notebook) -> list:
    return [i for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and EXERCISE_RE.search(cell_source(cell))]


def make_submission(kind: str, solution, student, path: Path) -> None:
    if kind == "invalid":
        path.write_text(nbformat.writes(student)[:200], encoding="utf-8")
        return
    nb = copy.deepcopy(student if kind == "blank" else solution)
    cells = exercise_cells(nb)
    if kind == "error" and cells:
        nb.cells[cells[0]].source = "raise ValueError('a bug of mine')\n" + nb.cells[cells[0]].source
    if kind == "loop" and cells:
        target = cells[min(1, len(cells) - 1)]
        nb.cells[target].source = "while True:\n    pass\n" + nb.cells[target].source
    if kind == "crash" and cells:
        nb.cells.insert(cells[len(cells) // 2], new_code_cell("import os\nos._exit(1)"))
    nbformat.write(nb, path)


def make_class(folder: Path, copies: int, solutions_dir: Path) -> dict:
    from ccdlab.classroom.authoring import make_student

    lessons = load_solutions(solutions_dir)
    pairs = []
    for name in lessons:
        solution = nbformat.read(solutions_dir / f"{name}.ipynb", as_version=4)
        pairs.append((name, solution, make_student(solution, name)))
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    for number in range(copies):
        name, solution, student = pairs[number % len(pairs)]
        kind = KINDS[(number + number // len(pairs)) % len(KINDS)]
        make_submission(kind, solution, student, folder / f"student{number:02d}_{name}.ipynb")
        kinds[f"student{number:02d}"] = kind
    return kinds


def child(args) -> int:
    """One way of grading the class, in this fresh process; prints a JSON line."""
    if args.case in ("local2", "cluster"):
        return cluster_child(args)
    start = time.perf_counter()
    book = grade([args.returned], args.solutions, args.data, timeout=args.timeout, cell_timeout=args.cell_timeout,
                 jobs=args.jobs, progress=False, sandbox=args.case)
    wall = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = [{"student": r.student, "status": r.status, "points": r.points, "max": r.max_points} for r in book.rows]
    print(json.dumps({"case": args.case, "wall_s": wall, "peak_rss_mb": peak_rss_mb(), "children_peak_mb": children,
                      "sandboxed": book.settings.get("sandboxed"), "rows": rows, "warnings": book.warnings}))
    return 0


def cluster_child(args) -> int:
    """``local2``: --jobs 2 here; ``cluster``: a two-worker LocalCluster (one thread each). Both sandboxed."""
    from ccdlab.classroom.grading.report import write_csv

    scheduler, cluster, started = None, None, 0.0
    if args.case == "cluster":
        from distributed import LocalCluster

        begin = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        scheduler, started = cluster.scheduler_address, time.perf_counter() - begin
    try:
        start = time.perf_counter()
        book = grade([args.returned], args.solutions, args.data, timeout=args.timeout, cell_timeout=args.cell_timeout,
                     jobs=2 if scheduler is None else None, progress=False, sandbox="require", scheduler=scheduler)
        wall = time.perf_counter() - start
    finally:
        if cluster is not None:
            cluster.close()
    csv = write_csv(book.rows, Path(args.returned).parent / f"grades_{args.case}.csv")
    print(json.dumps({"case": args.case, "wall_s": wall, "start_s": started, "csv": str(csv),
                      "slots": book.settings.get("jobs"), "warnings": book.warnings,
                      "rows": [{"student": r.student, "status": r.status, "points": r.points, "max": r.max_points}
                               for r in book.rows]}))
    return 0


def compare_cluster(args, results: dict) -> int:
    """Print the --cluster table: wall times, ratio, same CSV bytes."""
    local, remote = results["local2"], results["cluster"]
    print()
    print(f"grading {args.copies} notebooks ({args.size} night, in the sandbox, --cell-timeout {args.cell_timeout:g}) "
          f"on {os.cpu_count()} cores")
    print(f"{'grading':<40} {'wall (s)':>9} {'per notebook':>13}")
    print(f"{'this machine, --jobs 2':<40} {local['wall_s']:>9.1f} {local['wall_s'] / args.copies:>12.2f}s")
    print(f"{'LocalCluster, 2 workers x 1 thread':<40} {remote['wall_s']:>9.1f} {remote['wall_s'] / args.copies:>12.2f}s"
          f"   (+{remote['start_s']:.1f} s to start the cluster)")
    print(f"cluster / local: x{remote['wall_s'] / local['wall_s']:.2f} wall time")
    here, there = Path(local["csv"]).read_text().splitlines(), Path(remote["csv"]).read_text().splitlines()
    same = Path(local["csv"]).read_bytes() == Path(remote["csv"]).read_bytes()
    print(f"same grades CSV, byte for byte: {'yes' if same else 'NO'}")
    for a, b in zip(here, there):
        if a != b:  # e.g. a cell near --cell-timeout on a loaded machine: a timeout one way, not the other
            print(f"  here:    {a}\n  cluster: {b}")
    for warning in local["warnings"] + remote["warnings"]:
        print(f"warning: {warning}")
    return 0 if same else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=None, help="notebooks in the class (30; 60 with --cluster)")
    parser.add_argument("--cluster", action="store_true",
                        help="instead: a two-worker Dask LocalCluster against --jobs 2 (needs the cluster extra)")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--cell-timeout", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--solutions", default=None)
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--returned", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.copies = args.copies or (60 if args.cluster else 30)
    root = project_root() or Path.cwd()
    args.solutions = str(Path(args.solutions or root / "solutions"))
    if args.case:
        return child(args)

    from ccdlab.data.fetch import fetch_default

    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-grade-") as tmp:
        tmp = Path(tmp)
        data = fetch_default(dest=tmp / "data", size=args.size, progress=False)
        kinds = make_class(tmp / "returned", args.copies, Path(args.solutions))
        common = ["--returned", str(tmp / "returned"), "--data", str(data), "--copies", str(args.copies),
                  "--cell-timeout", str(args.cell_timeout), "--timeout", str(args.timeout), "--solutions", args.solutions]
        if args.jobs:
            common += ["--jobs", str(args.jobs)]
        cases = ("local2", "cluster") if args.cluster else ("off", "require")
        results = {case: run_child(__file__, "--case", case, *common) for case in cases}
        if all(results.values()) and args.cluster:
            return compare_cluster(args, results)

    if not all(results.values()):
        return 1
    print()
    print(f"grading {args.copies} notebooks ({args.size} night, {args.jobs or os.cpu_count()} at a time, "
          f"--cell-timeout {args.cell_timeout:g}) on {os.cpu_count()} cores")
    print(f"{'grading':<22} {'wall (s)':>9} {'per notebook':>13} {'grader peak (MB)':>17} {'largest child (MB)':>19}")
    for case, label in (("off", "without the sandbox"), ("require", "in the sandbox")):
        r = results[case]
        print(f"{label:<22} {r['wall_s']:>9.1f} {r['wall_s'] / args.copies:>12.2f}s {r['peak_rss_mb']:>17.0f} "
              f"{r['children_peak_mb']:>19.0f}")
    ratio = results["require"]["wall_s"] / results["off"]["wall_s"]
    print(f"sandbox cost: x{ratio:.2f} wall time (target <= x1.15)")
    same = [(r["student"], r["status"], r["points"]) for r in results["off"]["rows"]] == \
        [(r["student"], r["status"], r["points"]) for r in results["require"]["rows"]]
    print(f"same grades both ways: {'yes' if same else 'NO'}")
    by_kind = defaultdict(list)
    for row in results["require"]["rows"]:
        by_kind[kinds.get(row["student"], "?")].append(row)
    print()
    print(f"{'kind':<10} {'rows':>5} {'score':>6}  statuses (in the sandbox)")
    for kind in KINDS:
        rows = by_kind.get(kind, [])
        if rows:
            score = sum(r["points"] for r in rows) / max(sum(r["max"] for r in rows), 1e-9)
            statuses = ", ".join(f"{s} {n}" for s, n in Counter(r["status"] for r in rows).most_common())
            print(f"{kind:<10} {len(rows):>5} {100 * score:>5.0f}%  {statuses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

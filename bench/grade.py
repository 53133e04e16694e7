"""Benchmark: grade 30 mixed submissions on the tiny dataset and print the wall time.

The submissions cycle through the course's lessons and six kinds: the solution (full marks), the
blank student notebook (zero), a solution whose first exercise raises, one whose second exercise
loops forever (stopped by the cell timeout), one whose kernel dies half-way, and a damaged file.
Uses the project's ``solutions/`` and ``notebooks/`` (student versions are generated when
``notebooks/`` lacks them); target: under 5 minutes on 2 cores.

    python bench/grade.py [--copies 30] [--jobs N] [--cell-timeout 20] [--size tiny]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from ccdlab.classroom.grading import grade, load_solutions
from ccdlab.classroom.markers import EXERCISE_RE, cell_source
from ccdlab.paths import project_root

KINDS = ("solution", "blank", "error", "loop", "crash", "invalid")


def exercise_cells(notebook) -> list:
    return [i for i, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and EXERCISE_RE.search(cell_source(cell))]


def make_submission(kind: str, solution, student, path: Path) -> None:
    if kind == "invalid":
        path.write_text(nbformat.writes(student)[: 200], encoding="utf-8")
        return
    nb = copy.deepcopy(student if kind == "blank" else solution)
    cells = exercise_cells(nb)
    if kind == "error" and cells:
        nb.cells[cells[0]].source = "raise ValueError('a bug of mine')\n" + nb.cells[cells[0]].source
    if kind == "loop" and cells:
        nb.cells[cells[min(1, len(cells) - 1)]].source = "while True:\n    pass\n" + nb.cells[cells[min(1, len(cells) - 1)]].source
    if kind == "crash" and cells:
        nb.cells.insert(cells[len(cells) // 2], new_code_cell("import os\nos._exit(1)"))
    nbformat.write(nb, path)


def make_data(dest: Path, size: str) -> Path:
    try:
        from ccdlab.data.fetch import fetch_default
    except ImportError:
        from ccdlab.data.simulate import make_night

        make_night(dest, size=size, progress=False)
    else:
        fetch_default(dest=dest, size=size, progress=False)
    return dest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--cell-timeout", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--solutions", default=None)
    parser.add_argument("--notebooks", default=None)
    args = parser.parse_args(argv)

    root = project_root() or Path.cwd()
    solutions_dir = Path(args.solutions or root / "solutions")
    notebooks_dir = Path(args.notebooks or root / "notebooks")
    lessons = load_solutions(solutions_dir)
    pairs = []
    for name in lessons:
        solution = nbformat.read(solutions_dir / f"{name}.ipynb", as_version=4)
        student_path = notebooks_dir / f"{name}.ipynb"
        if student_path.is_file():
            student = nbformat.read(student_path, as_version=4)
        else:  # not generated yet: make it the way 'make notebooks' does
            from ccdlab.classroom.authoring import make_student

            student = make_student(solution, name)
        pairs.append((name, solution, student))

    with tempfile.TemporaryDirectory(prefix="ccdlab-bench-grade-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        data = make_data(tmp / "data", args.size)
        data_seconds = time.perf_counter() - start
        returned = tmp / "returned"
        returned.mkdir()
        kinds = {}
        for number in range(args.copies):
            # every lesson in turn, and the kinds rotating across lessons
            name, solution, student = pairs[number % len(pairs)]
            kind = KINDS[(number + number // len(pairs)) % len(KINDS)]
            path = returned / f"student{number:02d}_{name}.ipynb"
            make_submission(kind, solution, student, path)
            kinds[f"student{number:02d}"] = kind
        start = time.perf_counter()
        book = grade([returned], solutions_dir, data, timeout=args.timeout, cell_timeout=args.cell_timeout,
                     jobs=args.jobs, progress=True)
        wall = time.perf_counter() - start

    by_kind = defaultdict(list)
    for sub in book.submissions:
        by_kind[kinds[sub.student]].append(sub)
    print()
    print(f"{'kind':<10} {'notebooks':>9} {'mean score':>10}  statuses")
    for kind in KINDS:
        subs = by_kind.get(kind, [])
        if not subs:
            continue
        score = sum(s.points for s in subs) / max(sum(s.max_points for s in subs), 1e-9)
        statuses = Counter(row.status for s in subs for row in s.rows)
        listed = ", ".join(f"{status} {n}" for status, n in statuses.most_common())
        print(f"{kind:<10} {len(subs):>9} {100 * score:>9.0f}%  {listed}")
    jobs = book.settings["jobs"]
    print()
    print(f"lessons: {', '.join(lessons)}; data: {args.size} (made in {data_seconds:.1f} s); cores: {os.cpu_count()}")
    print(f"graded {len(book.submissions)} notebooks with --jobs {jobs} --cell-timeout {args.cell_timeout:g}: "
          f"wall time {wall:.1f} s ({wall / max(len(book.submissions), 1):.2f} s per notebook); target < 300 s")
    for warning in book.warnings:
        print(f"WARNING: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

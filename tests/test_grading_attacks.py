"""The catalogue of attacks on grading: each hostile notebook (a blank lesson 01 plus its attack) must
gain no points, be reported where it is visible, leave the instructor's files and other students'
grades untouched, leave no process behind, and end within its time bound."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from ccdlab.classroom.authoring import make_student
from ccdlab.classroom.grading import grade, write_reports
from ccdlab.classroom.grading.run import TRUNCATED
from ccdlab.classroom.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
MARK = "4242"  # every process an attack starts carries it, so a survivor is found

pytestmark = pytest.mark.slow

TIMEOUT, CELL_TIMEOUT = 240, 90


def blank():
    return make_student(nbformat.read(SOLUTIONS / "01_fits_files.ipynb", as_version=4), "01_fits_files")


def with_cell(source: str, at: int = 3):
    nb = blank()
    nb.cells.insert(at, new_code_cell(source))
    return nb


def cell_index(nb, marker):
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)


def repeat_the_check():
    """Run the exercise's check twice: the first hands back the reference, the second submits it."""
    nb = blank()
    cell = nb.cells[cell_index(nb, "EXERCISE 1.1")]
    line = next(line for line in cell.source.splitlines() if "check(" in line)
    cell.source += "\n" + line
    cell2 = nb.cells[cell_index(nb, "EXERCISE 1.2")]
    cell2.source += "\n" + cell2.source[cell2.source.index("date_obs, exptime"):]
    return nb


PATCHES = '''
import numpy, ccdlab.course.exercises as ex, ccdlab.course.results as res, ccdlab.course.judge as judge
numpy.isclose = lambda *a, **k: numpy.ones(numpy.broadcast(*a[:2]).shape, bool)
numpy.allclose = lambda *a, **k: True
judge.judge = lambda *a, **k: judge.Verdict("1.1", "01_fits_files", "correct", 1.0)
res.record(res.ExerciseResult("1.1", "correct", 1.0, "", "01_fits_files"))
res.record(res.ExerciseResult("1.2", "correct", 1.0, "", "01_fits_files"))
'''

PATCH_CHECK = '''
import ccdlab.course.exercises as ex
ex.check = lambda exercise, **answers: tuple(answers.values()) if len(answers) > 1 else list(answers.values())[0]
check = ex.check
'''

THREAD = '''
import json, os, threading, time
def forge():
    for n in range(400):
        for box in ("/sandbox/outbox", "/sandbox/inbox"):
            try:
                folder = os.path.join(box, f"t{n}-{box[-5:]}")
                os.makedirs(folder)
                with open(os.path.join(folder, "answers.json"), "w") as f:
                    json.dump({"meta": {"exercise": "1.1"}, "names": ["x_len", "y_len"],
                               "values": {"x_len": {"kind": "int", "value": 1}, "y_len": {"kind": "int", "value": 1}}}, f)
            except OSError:
                pass
        for name in ("results.jsonl", "/sandbox/work/results.jsonl"):
            try:
                with open(name, "a") as f:
                    f.write(json.dumps({"exercise": "1.1", "status": "correct", "score": 1.0}) + "\\n")
            except OSError:
                pass
        time.sleep(0.05)
threading.Thread(target=forge, daemon=True).start()
'''

FORGE_RECORD = '''
import json, os, signal
record = json.dumps({"status": "completed", "cells": [], "submissions": [
    {"exercise": "1.1", "cell": 10, "counted": True, "status": "correct", "score": 1.0},
    {"exercise": "1.2", "cell": 18, "counted": True, "status": "correct", "score": 1.0}]}) + "\\n"
written = 0
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for fd in (os.listdir(f"/proc/{pid}/fd") if os.access(f"/proc/{pid}/fd", os.R_OK) else []):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "w") as f:
                    f.write(record)
                    written += 1
            except OSError:
                pass
for pid in (1, os.getppid()):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
print("wrote", written)
'''

DETACHED = f'''
import subprocess, sys
subprocess.Popen(["setsid", "sh", "-c", "sleep {MARK}; echo late > /sandbox/work/late.txt"], start_new_session=True)
subprocess.Popen([sys.executable, "-c", "import os, time\\nos.setsid()\\nwhile True:\\n    time.sleep(1)  # {MARK}"],
                 start_new_session=True)
'''


def privacy_cell(paths: dict) -> str:
    return f'''
import os, glob
probes = {paths!r}
probes["job"] = "../job.json"
for name, path in probes.items():
    for found in glob.glob(path) or [path]:
        try:
            with open(found, "rb") as f:
                f.read(10)
            print("READ", name, found)
        except OSError:
            pass
        try:
            with open(found, "ab") as f:
                f.write(b"x")
            print("WROTE", name, found)
        except OSError:
            pass
for raw in glob.glob("/sandbox/data/*/*.fits"):
    try:
        with open(raw, "r+b") as f:
            f.seek(100)
            f.write(b"EXPTIME = 99.0")
        os.utime(raw, (0, 0))
        print("WROTE", raw)
    except OSError:
        pass
with open("/proc/1/cmdline", "rb") as f:
    print("INIT", f.read()[:40])
'''


MEMORY = "hog = bytearray(13 * 2**30)\nprint('HELD', len(hog))"
FLOOD = "import os\nchunk = b'x' * 2**20\nfor _ in range(128):\n    os.write(1, chunk)\nprint('flooded')"
BIG_DISPLAY = "from IPython.display import HTML, display\ndisplay(HTML('<b>' + 'x' * 200_000_000 + '</b>'))"
FORK = f'''
import subprocess
started = []
for _ in range(2000):
    try:
        started.append(subprocess.Popen(["sleep", "{MARK}"], start_new_session=True))
    except OSError as exc:
        print("stopped at", len(started), type(exc).__name__)
        break
'''


def digests(*folders) -> dict:
    found = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and not path.is_symlink():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def survivors() -> str:
    return subprocess.run(["pgrep", "-af", MARK], capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, tiny_night):
    returned = tmp_path_factory.mktemp("returned")
    home = tmp_path_factory.mktemp("home")
    (home / "secret.txt").write_text("the instructor's")
    earlier = tmp_path_factory.mktemp("earlier") / "grades.csv"
    earlier.write_text("student,points\nada,5\n")
    paths = {"solutions": str(SOLUTIONS / "01_fits_files.ipynb"), "returned": str(returned / "*.ipynb"),
             "grades": str(earlier), "home": str(home / "secret.txt"), "data": str(tiny_night / "bias" / "*.fits"),
             "shadow": "/etc/shadow", "new file in /etc": "/etc/ccdlab-was-here",
             "root home": os.path.expanduser("~") + "/*"}
    attacks = {
        "repeat": repeat_the_check(),
        "patches": with_cell(PATCHES),
        "patchcheck": with_cell(PATCH_CHECK),
        "thread": with_cell(THREAD),
        "forge": with_cell(FORGE_RECORD),
        "detached": with_cell(DETACHED),
        "privacy": with_cell(privacy_cell(paths)),
        "memory": with_cell(MEMORY),
        "flood": with_cell(FLOOD),
        "display": with_cell(BIG_DISPLAY),
        "fork": with_cell(FORK),
        "@evil": blank(),
    }
    for who, nb in attacks.items():
        nbformat.write(nb, returned / f"{who}_01_fits_files.ipynb")
    nbformat.write(nbformat.read(SOLUTIONS / "01_fits_files.ipynb", as_version=4), returned / "ada_01_fits_files.ipynb")
    watched = [SOLUTIONS, tiny_night, ROOT / "src" / "ccdlab", returned, home, earlier.parent]
    before = digests(*watched)
    executed = tmp_path_factory.mktemp("executed")
    start = time.monotonic()
    book = grade([returned], SOLUTIONS, tiny_night, timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT, jobs=2, progress=False,
                 executed_dir=executed, sandbox="require")
    elapsed = time.monotonic() - start
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    write_reports(book, out)
    time.sleep(3)  # anything left running would act now
    return {"book": book, "before": before, "after": digests(*watched), "elapsed": elapsed, "executed": executed,
            "out": out, "csv": out.read_text(), "survivors": survivors(), "attacks": list(attacks)}


def rows_of(book, student):
    """The student's exercise rows (written answers, graded by the instructor, left out)."""
    return {row.exercise: row for row in book.rows if row.student == student and not row.written}


def executed_text(attacked, who) -> str:
    """Everything the attack's notebook showed (its outputs, not its source)."""
    path = next(Path(attacked["executed"]).glob(f"{who}__01_fits_files__*.ipynb"))
    notebook = nbformat.read(path, as_version=4)
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + output.get("ename", "") + str(output.get("evalue", "")))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.mark.parametrize("who", ["repeat", "patches", "patchcheck", "thread", "forge", "detached", "privacy", "memory",
                                 "flood", "display", "fork", "@evil"])
def test_an_attack_gains_no_points(attacked, who):
    rows = rows_of(attacked["book"], who)
    assert set(rows) == {"1.1", "1.2"}, rows
    assert sum(row.points for row in rows.values()) == 0, {k: (r.status, r.hint) for k, r in rows.items()}


def test_the_honest_student_beside_them_keeps_full_marks(attacked):
    rows = rows_of(attacked["book"], "ada")
    assert sum(row.points for row in rows.values()) == 5


def test_nothing_outside_the_sandboxes_was_read_or_changed(attacked):
    assert attacked["after"] == attacked["before"]
    assert not [w for w in attacked["book"].warnings if "changed while grading" in w]
    text = executed_text(attacked, "privacy")
    assert "READ" not in text and "WROTE" not in text
    assert "INIT" in text  # the probe ran: /proc is the sandbox's own


def test_no_process_outlives_the_batch(attacked):
    assert attacked["survivors"] == ""


def test_the_batch_ends_within_its_bound(attacked):
    # each notebook: its own timeout plus the worker's slack; two at a time
    assert attacked["elapsed"] < (TIMEOUT + 60) * len(attacked["attacks"]) / 2 + 120


def test_submissions_that_do_not_count_are_reported(attacked):
    book = attacked["book"]
    repeat = next(s for s in book.submissions if s.student == "repeat")
    assert any("exercise 1.1 was checked again" in note for note in repeat.notes)
    assert "repeat" in attacked["out"].with_suffix(".md").read_text().split("## Notebooks to look at")[1]


def test_a_forged_record_and_killed_parents_change_nothing(attacked):
    sub = next(s for s in attacked["book"].submissions if s.student == "forge")
    assert sub.status in ("completed", "kernel died") and sub.record.submissions == [] or all(
        not s.counted or s.status == "not attempted" for s in sub.record.submissions)


def test_resource_hogs_are_bounded(attacked):
    book = attacked["book"]
    memory = executed_text(attacked, "memory")
    assert "MemoryError" in memory and "HELD" not in memory
    flood = next(s for s in book.submissions if s.student == "flood")
    assert flood.status == "completed"
    kept = executed_text(attacked, "flood")  # 128 MiB printed, the first 100,000 characters kept
    assert TRUNCATED in kept and len(kept) < 2 * Limits().output_chars
    assert "left out by the grader" in executed_text(attacked, "display")
    assert "stopped at" in executed_text(attacked, "fork")


def test_a_student_name_that_would_run_in_a_spreadsheet_is_text(attacked):
    rows = list(csv.DictReader(attacked["csv"].splitlines()))
    assert "'@evil" in {row["student"] for row in rows}
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())

"""Running one returned notebook: its kernel in the sandbox, its answers judged outside it.

This is the part of :mod:`ccdlab.classroom.grading` that touches a student's code.

- The kernel runs inside bubblewrap (:mod:`ccdlab.classroom.grading.sandbox`): it sees the raw
  night read-only at ``/sandbox/data``, a fresh ``/sandbox/work``, its own ``reduced/``, and talks
  to the grader only through two folders. nbclient drives it from outside over Unix sockets.
- Each ``check(...)`` in the kernel submits its answers into the outbox. A watcher in the grader
  takes each submission out of the kernel's reach as soon as it is complete, and :class:`Referee`
  judges it with :func:`ccdlab.course.judge.judge` against the grader's own night, then replies
  (feedback and the values to hand back) into the inbox, which the kernel can only read.
- The answer that counts for an exercise is the first one submitted while that exercise's own
  cell (the cell with its ``# EXERCISE`` marker and its check line) runs. Any other submission is
  answered, "not counted", without references, and reported.
- A submitted function is called by the grader in a fresh sandbox of its own
  (:mod:`ccdlab.classroom.grading.functions`), never in the grader's process.
- Each cell has a timeout (the kernel is interrupted, then stopped if it does not answer) and the
  notebook a deadline; printed text and display outputs are capped; when the run ends the sandbox
  is killed, and every process it started dies with it.

The outcome is a :class:`RunRecord`; turning it into grade rows is :mod:`ccdlab.classroom.grading.score`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath

from ccdlab.classroom.grading.sandbox import (
    MOUNT,
    Limits,
    Mounts,
    make_cgroup,
    remove_cgroup,
    sandbox_argv,
)
from ccdlab.course.markers import EXERCISE_RE, cell_source, check_answers

__all__ = [
    "RUN_STATUSES",
    "CellRecord",
    "Submitted",
    "RunRecord",
    "Referee",
    "code_cell_numbers",
    "data_entries",
    "kernel_environment",
    "copy_data",
    "execute_notebook",
    "stop_all",
]

#: How a run ended: all cells ran; the notebook deadline passed; the kernel died; the kernel never
#: started; the notebook could not be read.
RUN_STATUSES = ("completed", "timeout", "kernel died", "kernel failed", "invalid notebook")

#: Seconds a kernel has to answer after a cell timed out and was interrupted.
PROBE_SECONDS = 5

#: Entries of a data folder a notebook never gets: earlier outputs and the simulator's answers.
NOT_SHOWN = ("reduced", "truth")


class _OrphanTaskFilter(logging.Filter):
    """Drop asyncio's "Task exception was never retrieved" (nbclient leaves such a task after a cell
    timeout) before its traceback is formatted: the report is logged from a finalizer during garbage
    collection, and formatting it parses source (carets) inside whatever ``ast.parse`` was running,
    which corrupts CPython 3.11's parser state (gh-106905: "AST constructor recursion depth mismatch")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "exception was never retrieved" not in str(record.msg)


logging.getLogger("asyncio").addFilter(_OrphanTaskFilter())

_LIVE: set = set()  # the kernel processes (sandboxes) running now, killed all at once by stop_all()
_LIVE_LOCK = threading.Lock()


def stop_all() -> None:
    """Kill every notebook running now (what Ctrl-C does to a batch): each sandbox dies with its processes.

    Examples
    --------
    >>> stop_all()
    """
    with _LIVE_LOCK:
        running = list(_LIVE)
    for process in running:
        try:
            process.kill()
        except OSError:
            pass


@dataclass
class CellRecord:
    """What happened to one code cell.

    Parameters
    ----------
    index : int
        Position of the cell in the notebook (0-based, all cell types counted).
    status : str
        ``"ok"``, ``"error"`` (the cell raised), ``"timeout"``, ``"kernel died"`` or ``"not run"``.
    ename, evalue : str
        The exception's name and message when the cell raised.
    submitted : list of str
        Exercise IDs submitted while this cell ran.

    Examples
    --------
    >>> CellRecord(3, "error", "NameError", "name 'x' is not defined").status
    'error'
    """

    index: int
    status: str
    ename: str = ""
    evalue: str = ""
    submitted: list = field(default_factory=list)


@dataclass
class Submitted:
    """One submission the kernel made, and what the grader made of it.

    Parameters
    ----------
    exercise : str
        The exercise ID the submission gave.
    cell : int
        The cell that was running (-1 when none).
    counted : bool
        True for the one submission that counts for the exercise.
    reason : str
        Why it was not counted.
    status, score, hint : str, float, str
        The verdict (for counted submissions).
    parts : dict
        ``{answer name: "right" | "wrong" | "blank" | "raised"}``.
    raised : str
        The error, when the exercise's cell raised before its check.
    values : dict
        Small answers (numbers, short text) as given, to compare students' answers.

    Examples
    --------
    >>> Submitted("1.1", 4, True, status="correct", score=1.0).counted
    True
    """

    exercise: str
    cell: int
    counted: bool
    reason: str = ""
    status: str = ""
    score: float = 0.0
    hint: str = ""
    parts: dict = field(default_factory=dict)
    raised: str = ""
    values: dict = field(default_factory=dict)


@dataclass
class RunRecord:
    """The outcome of running one notebook.

    Parameters
    ----------
    status : str
        One of :data:`RUN_STATUSES`.
    cells : list of CellRecord
        One record per code cell, in notebook order.
    submissions : list of Submitted
        Every submission, in order.
    message : str
        A sentence about how the run ended (empty when it completed).
    elapsed : float
        Wall time of the run in seconds.
    sandboxed : bool
        True when the kernel ran in the sandbox.

    Examples
    --------
    >>> RunRecord("completed").status
    'completed'
    """

    status: str
    cells: list = field(default_factory=list)
    submissions: list = field(default_factory=list)
    message: str = ""
    elapsed: float = 0.0
    sandboxed: bool = True

    def code_number(self, index: int) -> int:
        """The number of the code cell at notebook position ``index``, as Jupyter numbers it when the
        notebook runs from the top: code cells only, counted from 1 (0 when it is not a code cell of the run).

        Examples
        --------
        >>> RunRecord("completed", cells=[CellRecord(1, "ok"), CellRecord(3, "error")]).code_number(3)
        2
        """
        for number, cell in enumerate(self.cells, start=1):
            if cell.index == index:
                return number
        return 0

    def to_json(self) -> str:
        """Serialise to JSON (see :meth:`from_dict`).

        Examples
        --------
        >>> RunRecord.from_dict(json.loads(RunRecord("timeout").to_json())).status
        'timeout'
        """
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_dict(cls, data: dict) -> "RunRecord":
        """Rebuild a record from :meth:`to_json` output.

        Examples
        --------
        >>> RunRecord.from_dict({"status": "completed", "cells": [{"index": 0, "status": "ok"}]}).cells[0].index
        0
        """
        cells = [CellRecord(**cell) for cell in data.get("cells", [])]
        submissions = [Submitted(**item) for item in data.get("submissions", [])]
        return cls(status=str(data["status"]), cells=cells, submissions=submissions,
                   message=str(data.get("message", "")), elapsed=float(data.get("elapsed", 0.0)),
                   sandboxed=bool(data.get("sandboxed", True)))


def code_cell_numbers(notebook) -> dict:
    """``{notebook position: code cell number}``: code cells only, counted from 1, as Jupyter numbers
    them (``[3]``) when the notebook runs from the top, and as every hint and report names them.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
    ...     nbformat.v4.new_code_cell("a = 1"), nbformat.v4.new_markdown_cell("Now b."), nbformat.v4.new_code_cell("b = 2")])
    >>> code_cell_numbers(nb)
    {1: 1, 3: 2}
    """
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else notebook.cells
    positions = [index for index, cell in enumerate(cells) if cell.get("cell_type") == "code"]
    return {index: number for number, index in enumerate(positions, start=1)}


def data_entries(data_dir) -> dict:
    """The entries of a data folder a graded notebook sees (raw folders, catalogues), by name.

    ``reduced/`` (outputs of earlier runs) and ``truth/`` (the simulator's answers) are left out,
    and so are hidden files.

    Examples
    --------
    >>> data_entries("no-such-folder")
    {}
    """
    folder = Path(data_dir) if data_dir else None
    if folder is None or not folder.is_dir():
        return {}
    return {entry.name: entry for entry in sorted(folder.iterdir())
            if entry.name.lower() not in NOT_SHOWN and not entry.name.startswith(".")}


def copy_data(source, dest) -> Path:
    """A private copy of a data folder for an unsandboxed run: raw files read-only, ``reduced/`` writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "src" / "bias").mkdir(parents=True)
    ...     _ = (Path(tmp) / "src" / "bias" / "b.fits").write_bytes(b"x")
    ...     copy = copy_data(Path(tmp) / "src", Path(tmp) / "copy")
    ...     (copy / "reduced").is_dir(), sorted(p.name for p in copy.iterdir())
    (True, ['bias', 'reduced'])
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name, entry in data_entries(source).items():
        if entry.is_dir():
            shutil.copytree(entry, dest / name, symlinks=False)
        elif entry.is_file():
            shutil.copy2(entry, dest / name)
    (dest / "reduced").mkdir(exist_ok=True)
    for path in dest.rglob("*"):
        if "reduced" not in path.relative_to(dest).parts and path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return dest


def kernel_environment(data: str, outbox: str, inbox: str, home: str) -> dict:
    """The whole environment of a graded kernel (nothing of the grader's is passed on).

    Examples
    --------
    >>> env = kernel_environment("/sandbox/data", "/sandbox/outbox", "/sandbox/inbox", "/sandbox/work")
    >>> env["CCDLAB_DATA"], env["CCDLAB_GRADING"], "CCDLAB_RESULTS" in env
    ('/sandbox/data', '1', False)
    """
    env = {
        "HOME": home, "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "CCDLAB_DATA": data, "CCDLAB_GRADING": "1",
        "CCDLAB_GRADER_OUTBOX": outbox, "CCDLAB_GRADER_INBOX": inbox, "IPYTHONDIR": f"{home}/.ipython",
        "MPLCONFIGDIR": f"{home}/.matplotlib",
    }
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[key] = "1"  # several notebooks run side by side
    return env


# ---------------------------------------------------------------------------------------------
# Judging what the kernel submits


def _marked_cells(notebook) -> dict:
    """``{exercise id: index of the code cell declaring it and holding its check line}``."""
    found = {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        calls = check_answers(source)
        for match in EXERCISE_RE.finditer(source):
            if match["id"] in calls:
                found.setdefault(match["id"], index)
    return found


def _small(value):
    """An answer small enough to keep for comparing students (numbers and short text), else None."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, str)) and len(str(value)) < 200:
        return value
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, (list, tuple)) and len(value) <= 20:
            items = [_small(v) for v in value]
            return items if all(i is not None or v is None for i, v in zip(items, value)) else None
    except ImportError:  # pragma: no cover
        pass
    return None


class Referee:
    """Judges one notebook's submissions outside its kernel, and replies into the kernel's inbox.

    Parameters
    ----------
    lesson : str
        The lesson the grader identified (the kernel's own claim is not trusted).
    notebook : NotebookNode
        The submitted notebook (to find each exercise's own cell).
    night : ccdlab.course.checks.Night
        The grader's night for this submission (its outputs folder is the sandbox's ``reduced/``).
    host : dict
        ``{path inside the sandbox: host path}`` of the folders answers may name (work, reduced).
    inbox : path-like
        Where replies go (read-only inside the sandbox, at ``inside_inbox``).
    inside_inbox : str
        The inbox as the kernel sees it.
    function_timeout : float
        Seconds one call of a submitted function may take.
    expected : dict, optional
        ``{exercise id: set of answer names}`` its check line passes in the solution: a submission
        with other names (another exercise's check) is judged "wrong check".

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('# EXERCISE 1.1 (1 point): x\\ncheck("1.1", a=a)')])
    >>> Referee("01_demo", nb, None, {}, "/tmp/inbox", "/sandbox/inbox").marked
    {'1.1': 0}
    """

    def __init__(self, lesson: str, notebook, night, host: dict, inbox, inside_inbox: str, function_timeout: float = 60.0,
                 expected: dict | None = None):
        self.lesson, self.night, self.expected = lesson, night, expected or {}
        self.marked = _marked_cells(notebook)
        self.numbers = code_cell_numbers(notebook)
        self.host = {str(inside): Path(path) for inside, path in host.items()}
        self.inbox, self.inside_inbox = Path(inbox), str(inside_inbox)
        self.function_timeout = function_timeout
        self.submissions: list[Submitted] = []
        self.counted: set = set()
        self.lock = threading.Lock()

    # -- paths between the sandbox and the host

    def _to_host(self, value):
        if isinstance(value, (str, PurePath)) and str(value).startswith(str(MOUNT) + "/"):
            text = os.path.normpath(str(value))
            for inside, host in self.host.items():
                if text == inside or text.startswith(inside + "/"):
                    candidate = host / os.path.relpath(text, inside)
                    safe = _regular_inside(candidate, host)
                    mapped = candidate if safe else host / ".not-a-regular-file" / candidate.name
                    return type(value)(mapped) if isinstance(value, PurePath) else str(mapped)
            return value
        if isinstance(value, list):
            return [self._to_host(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._to_host(v) for v in value)
        return value

    def _to_sandbox(self, value):
        if isinstance(value, (str, PurePath)):
            text = str(value)
            for inside, host in self.host.items():
                if text == str(host) or text.startswith(str(host) + "/"):
                    mapped = inside + text[len(str(host)):]
                    return type(value)(mapped) if isinstance(value, PurePath) else mapped
            return value
        if isinstance(value, list):
            return [self._to_sandbox(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._to_sandbox(v) for v in value)
        return value

    # -- one submission

    def handle(self, folder: Path, cell: int | None, seq: str | None = None) -> None:
        """Judge the submission in ``folder`` (already out of the kernel's reach) and reply to ``seq``.

        Examples
        --------
        >>> Referee("l", __import__("nbformat").v4.new_notebook(), None, {}, "/tmp/x", "/x").handle(Path("none"), 0)  # doctest: +SKIP
        """
        from ccdlab.classroom.grading.functions import SandboxedFunction
        from ccdlab.course.answers import PickledFunction, read_answers, write_reply
        from ccdlab.course.checks.registry import FramesToWrite
        from ccdlab.course.judge import judge

        seq = seq or folder.name
        try:
            meta, answers = read_answers(folder)
        except Exception as exc:  # noqa: BLE001 - an unreadable submission is answered, never fatal
            write_reply(self.inbox, seq, {"status": "error", "message": f"The answers could not be read ({exc})."}, {})
            return
        exercise = str(meta.get("exercise", ""))[:40]
        raised = str(meta.get("raised", "") or "")[:300]
        with self.lock:
            own_cell = self.marked.get(exercise)
            if own_cell is None:
                reason = f"exercise {exercise} has no cell with its marker and check line in this notebook"
            elif cell != own_cell:
                where = f"code cell {self.numbers[cell]}" if cell in self.numbers else "outside any cell"
                reason = f"it was submitted from {where}, not from the exercise's own cell (code cell {self.numbers[own_cell]})"
            elif exercise in self.counted:
                reason = "the exercise was already checked once in this run; only the first check counts"
            else:
                reason = ""
                self.counted.add(exercise)
        values = {name: _small(value) for name, value in answers.items()}
        if reason:
            self.submissions.append(Submitted(exercise, -1 if cell is None else cell, False, reason=reason,
                                              raised=raised, values=values))
            note = f"Not counted: {reason}."
            write_reply(self.inbox, seq, {"status": "error", "exercise": exercise, "lesson": self.lesson,
                                          "message": f"Exercise {exercise}: checked, but not counted.", "note": note}, {})
            return
        wanted = self.expected.get(exercise)
        if wanted and set(answers) != set(wanted):
            hint = (f"The check of exercise {exercise} was given {', '.join(sorted(answers)) or 'no answers'}, not "
                    f"{', '.join(sorted(wanted))}: use the check line of the exercise as the notebook gives it.")
            self.submissions.append(Submitted(exercise, cell, True, status="wrong check", hint=hint, raised=raised,
                                              values=values))
            write_reply(self.inbox, seq, {"status": "error", "exercise": exercise, "lesson": self.lesson,
                                          "message": hint}, {})
            return
        given = {name: SandboxedFunction(value, self.function_timeout) if isinstance(value, PickledFunction)
                 else self._to_host(value) for name, value in answers.items()}
        verdict = judge(self.lesson, exercise, given, self.night, raised=raised)
        handback = {}
        for name in verdict.references:
            value = verdict.handback.get(name)
            if isinstance(value, FramesToWrite):
                written = value.write(self.inbox / seq / "frames")
                value = [f"{self.inside_inbox}/{seq}/frames/{Path(p).name}" for p in written]
            handback[name] = self._to_sandbox(value)
        self.submissions.append(Submitted(exercise, cell, True, status=verdict.status, score=float(verdict.score),
                                          hint=verdict.hint, parts=dict(verdict.parts), raised=raised, values=values))
        _send_checks_by_value()
        reply = {"status": verdict.status, "score": verdict.score, "lesson": verdict.lesson, "parts": verdict.parts,
                 "hints": verdict.hints, "references": list(handback), "message": verdict.message}
        write_reply(self.inbox, seq, reply, handback)


def _send_checks_by_value() -> None:
    """Reference functions come from the check modules, which a graded kernel does not have: pickle them by value."""
    import cloudpickle

    import ccdlab.course.checks

    cloudpickle.register_pickle_by_value(ccdlab.course.checks)


def _regular_inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is a regular file below ``folder`` with no symbolic link on the way."""
    try:
        relative = path.relative_to(folder)
    except ValueError:
        return False
    current = folder
    for part in relative.parts:
        if part in ("..", ""):
            return False
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return False
    return stat.S_ISREG(os.lstat(path).st_mode)


# ---------------------------------------------------------------------------------------------
# Driving the kernel


class _Watcher(threading.Thread):
    """Takes each finished submission out of the outbox and has the referee judge it."""

    def __init__(self, outbox: Path, taken: Path, referee: Referee):
        super().__init__(daemon=True)
        self.outbox, self.taken, self.referee = outbox, taken, referee
        self.cell: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.sweep()
            self.stop.wait(0.02)
        self.sweep()

    def sweep(self) -> None:
        try:
            entries = sorted(self.outbox.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or not re.fullmatch(r"[\w.-]{1,80}", entry.name):
                continue
            target = self.taken / f"{len(list(self.taken.iterdir())):05d}-{entry.name}"
            try:
                os.replace(entry, target)  # out of the kernel's reach before it is read
            except OSError:
                continue
            if not target.is_dir() or target.is_symlink():
                continue
            try:
                self.referee.handle(target, self.cell, seq=entry.name)
            except Exception as exc:  # noqa: BLE001 - a bug of ours: answer the kernel, keep grading
                from ccdlab.course.answers import write_reply

                write_reply(self.referee.inbox, entry.name, {"status": "error",
                            "message": f"The grader could not judge this exercise ({type(exc).__name__}: {exc})."}, {})


class _OutputDrain(threading.Thread):
    """Reads the kernel's own standard output (not the notebook's), keeping the first ``limit`` characters."""

    def __init__(self, stream, limit: int):
        super().__init__(daemon=True)
        self.stream, self.limit, self.kept = stream, limit, []
        self.size = 0

    def run(self) -> None:
        try:
            for chunk in iter(lambda: self.stream.read(65536), b""):
                if self.size < self.limit:
                    self.kept.append(chunk[: self.limit - self.size])
                self.size += len(chunk)
        except (OSError, ValueError):
            pass


#: What ends a cell's printed text the grader cut short.
TRUNCATED = "\n[output truncated by the grader]\n"


def _truncate(streams: list, limit: int) -> None:
    """Cut a cell's stream outputs to ``limit`` characters in all, the one marker included, at the end.

    Examples
    --------
    >>> streams = [{"text": "a" * 80}, {"text": "b" * 80}]
    >>> _truncate(streams, 100)
    >>> streams.append({"text": "c" * 50}); _truncate(streams, 100)  # more text after the cut
    >>> sum(len(s["text"]) for s in streams), streams[-1]["text"] == TRUNCATED, streams[0]["text"] == "a" * (100 - len(TRUNCATED))
    (100, True, True)
    """
    for stream in streams:
        stream["text"] = stream.get("text", "").replace(TRUNCATED, "")
    excess = sum(len(stream["text"]) for stream in streams) - limit + len(TRUNCATED)
    for stream in reversed(streams):
        cut = min(max(excess, 0), len(stream["text"]))
        stream["text"] = stream["text"][:len(stream["text"]) - cut]
        excess -= cut
    streams[-1]["text"] += TRUNCATED


def _make_client(notebook, cell_timeout: float, limits: Limits):
    from nbclient import NotebookClient

    displayed: dict = {}  # cell index -> bytes of display data it sent

    class _Client(NotebookClient):
        """A notebook client that caps what it keeps of each cell's outputs: printed text, each display,
        and all of a cell's displays together (many small ones add up as one big one does)."""

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            streams = [o for o in outs if o.get("output_type") == "stream"]
            if sum(len(o.get("text", "")) for o in streams) > limits.output_chars:
                _truncate(streams, limits.output_chars)
            if out is not None and outs and outs[-1] is out and out.get("output_type") in ("display_data", "execute_result"):
                size = sum(len(str(v)) for v in out.get("data", {}).values())
                before = displayed.get(cell_index, 0)
                displayed[cell_index] = before + size
                if size > limits.display_bytes:
                    out["data"] = {"text/plain": f"[a display of {size / 1e6:.0f} MB, left out by the grader]"}
                elif before + size > limits.display_bytes:
                    if before <= limits.display_bytes:
                        out["data"] = {"text/plain": f"[displays past {limits.display_bytes / 1e6:.0f} MB in this cell, "
                                                     "left out by the grader]"}
                    elif display_id is None:  # later ones are dropped (one with an id stays, for its updates)
                        outs.pop()
                    else:
                        out["data"] = {"text/plain": ""}
            return out

    return _Client(
        notebook, timeout=max(1, int(round(cell_timeout))), allow_errors=True, interrupt_on_timeout=False,
        record_timing=False, shutdown_kernel="immediate", startup_timeout=120, iopub_timeout=4,
        raise_on_iopub_timeout=False,
    )


def _probe(client) -> bool:
    """Return True when the kernel answers a trivial cell within PROBE_SECONDS."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell, new_notebook

    saved_nb, saved_timeout = client.nb, client.timeout
    client.nb = new_notebook(cells=[new_code_cell("pass")])
    client.timeout = PROBE_SECONDS
    try:
        client.execute_cell(client.nb.cells[0], 0)
        return True
    except (CellTimeoutError, DeadKernelError):
        return False
    except Exception:  # noqa: BLE001 - any failure means the kernel is not usable
        return False
    finally:
        client.nb, client.timeout = saved_nb, saved_timeout


def _interrupt(client) -> None:
    try:
        from jupyter_core.utils import run_sync

        run_sync(client.km.interrupt_kernel)()
    except Exception:  # noqa: BLE001 - a failed interrupt shows up in the probe
        pass


def _kernel_manager(folder: Path, argv: list, interrupt_mode: str):
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    spec = folder / "spec" / "ccdlab-graded"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "ccdlab graded", "language": "python",
                                                  "interrupt_mode": interrupt_mode}))
    sockets = folder / "kernel"
    sockets.mkdir(exist_ok=True)
    km = AsyncKernelManager(kernel_name="ccdlab-graded", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]),
                            transport="ipc", ip=str(sockets / "k"))
    km.connection_file = str(sockets / "connection.json")
    return km, sockets


def execute_notebook(notebook, folder, data_dir, night, lesson: str, *, cell_timeout: float = 180,
                     timeout: float = 600, sandbox: bool = True, limits: Limits | None = None,
                     expected: dict | None = None) -> RunRecord:
    """Run every code cell of a notebook in a fresh (sandboxed) kernel; judge its answers outside it.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The notebook (version 4). Its cells receive the new outputs.
    folder : path-like
        An empty folder of the grader's for this run (work, reduced, outbox, inbox, sockets).
    data_dir : path-like or None
        The night the notebook works on (shown read-only; without ``reduced/`` and ``truth/``).
    night : ccdlab.course.checks.Night
        The grader's night (references), shared between submissions of the same data.
    lesson : str
        The lesson the grader identified.
    expected : dict, optional
        The answer names of each exercise's check line in the solution (see :class:`Referee`).
    cell_timeout, timeout : float
        Seconds allowed per cell and for the whole notebook (including the kernel start).
    sandbox : bool
        Run the kernel in bubblewrap (False only where it cannot run: no isolation then).
    limits : Limits, optional

    Returns
    -------
    RunRecord

    Examples
    --------
    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0")])
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     execute_notebook(nb, tmp, None, None, "01_fits_files").cells[0].ename
    'ZeroDivisionError'
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    start = time.monotonic()
    deadline = start + timeout
    limits = limits or Limits()
    folder = Path(folder)
    work, reduced, outbox, inbox, taken = (folder / name for name in ("work", "reduced", "outbox", "inbox", "taken"))
    for path in (work, reduced, outbox, inbox, taken):
        path.mkdir(parents=True, exist_ok=True)
    for path in (work, reduced, outbox):
        path.chmod(0o777)  # the sandbox's user may be another than the grader's
    for path in (folder, inbox):
        path.chmod(0o755)
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell.get("cell_type") == "code"]
    cells = {i: CellRecord(i, "not run") for i in code_cells}
    record = RunRecord("completed", sandboxed=sandbox)
    group = ""
    if sandbox:
        inside = {"data": str(MOUNT / "data"), "work": str(MOUNT / "work"), "outbox": str(MOUNT / "outbox"),
                  "inbox": str(MOUNT / "inbox")}
        env = kernel_environment(inside["data"], inside["outbox"], inside["inbox"], inside["work"])
        mounts = Mounts(work=work, raw=data_entries(data_dir), reduced=reduced, outbox=outbox, inbox=inbox)
        group = make_cgroup(limits.processes)
        km_argv = None  # filled below, once the socket folder is known
    else:
        data_copy = copy_data(data_dir, folder / "data") if data_dir else folder / "data"
        data_copy.mkdir(exist_ok=True)
        reduced = data_copy / "reduced"
        inside = {"data": str(data_copy), "work": str(work), "outbox": str(outbox), "inbox": str(inbox)}
        env = kernel_environment(inside["data"], inside["outbox"], inside["inbox"], inside["work"])
    host = {f"{inside['data']}/reduced": reduced, inside["work"]: work}
    referee = Referee(lesson, notebook, night.sharing(reduced) if night is not None else None, host, inbox,
                      inside["inbox"], expected=expected)
    record.submissions = referee.submissions
    command = [str(Path(sys.prefix) / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km, sockets = _kernel_manager(folder, command, "message" if sandbox else "signal")
    if sandbox:
        mounts.shared = [sockets]
        km_argv = sandbox_argv(mounts, command, env, limits, group)
        (folder / "spec" / "ccdlab-graded" / "kernel.json").write_text(json.dumps(
            {"argv": km_argv, "display_name": "ccdlab graded", "language": "python", "interrupt_mode": "message"}))
    client = _make_client(notebook, cell_timeout, limits)
    client.km = km
    watcher = _Watcher(outbox, taken, referee)
    drain = None
    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = (execute_reply or {}).get("content", {})

    client.on_cell_executed = on_cell_executed
    try:
        try:
            kernel_env = env if sandbox else {**env, "PATH": env["PATH"]}
            client.start_new_kernel(cwd=str(work), env=kernel_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            process = getattr(km.provisioner, "process", None)
            if process is not None:
                with _LIVE_LOCK:
                    _LIVE.add(process)
            if process is not None and process.stdout is not None:
                drain = _OutputDrain(process.stdout, limits.output_chars)
                drain.start()
            client.start_new_kernel_client()
        except Exception as exc:  # noqa: BLE001 - any start failure is reported, not raised
            record.status = "kernel failed"
            record.message = f"The Python kernel did not start ({type(exc).__name__}: {exc})."
            return _finish(record, cells, code_cells, start)
        watcher.start()
        for number, index in enumerate(code_cells, start=1):
            cell = notebook.cells[index]
            cell_record = cells[index]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                record.status = "timeout"
                record.message = f"The notebook ran out of time ({timeout:g} s) before code cell {number}."
                break
            client.timeout = max(1, int(min(cell_timeout, remaining) + 0.999))
            watcher.cell = index
            try:
                if cell.source.strip():  # numbered as its place among the code cells, as the hints name it
                    client.execute_cell(cell, index, execution_count=number)
                reply = replies.pop(index, {})
                if reply.get("status") == "error":
                    cell_record.status = "error"
                    cell_record.ename = str(reply.get("ename", ""))[:100]
                    cell_record.evalue = str(reply.get("evalue", ""))[:500]
                else:
                    cell_record.status = "ok"
            except CellTimeoutError:
                cell_record.status = "timeout"
                if time.monotonic() >= deadline - 0.5:
                    record.status = "timeout"
                    record.message = f"The notebook ran out of time ({timeout:g} s) in code cell {number}."
                    break
                _interrupt(client)
                if not _probe(client):
                    record.status = "timeout"
                    record.message = (f"Code cell {number} ran longer than {cell_timeout:g} s and did not stop "
                                      "when interrupted; the kernel was stopped.")
                    break
            except DeadKernelError:
                cell_record.status = "kernel died"
                record.status = "kernel died"
                record.message = f"The Python kernel died while running code cell {number}."
                break
            finally:
                watcher.sweep()  # a submission made at the very end of the cell is still the cell's
                watcher.cell = None
                cell_record.submitted = [s.exercise for s in referee.submissions if s.cell == index]
    finally:
        _stop_kernel(client)
        watcher.stop.set()
        if watcher.is_alive():
            watcher.join(timeout=30)
        remove_cgroup(group)
        if drain is not None:
            drain.join(timeout=5)
    return _finish(record, cells, code_cells, start)


def _finish(record: RunRecord, cells: dict, code_cells: list, start: float) -> RunRecord:
    record.cells = [cells[i] for i in code_cells]
    record.elapsed = time.monotonic() - start
    return record


def _stop_kernel(client) -> None:
    """Stop the kernel and the sandbox around it (every process in it dies), then wait for it."""
    km = getattr(client, "km", None)
    if km is None:
        return
    process = getattr(getattr(km, "provisioner", None), "process", None)
    try:
        client._cleanup_kernel()
    except Exception:  # noqa: BLE001 - the kernel may already be gone
        pass
    if process is not None:
        try:
            process.kill()
        except OSError:
            pass
        try:
            process.wait(timeout=30)
        except Exception:  # noqa: BLE001
            pass
        with _LIVE_LOCK:
            _LIVE.discard(process)

"""Running one returned notebook in a sandbox: a fresh kernel, its own folder, its own data copy.

This is the part of :mod:`ccdlab.classroom.grading` that touches a student's code. Each submission runs in a
separate worker process (``python -m ccdlab.classroom.grading.run JOB.json``) so that nothing a notebook does
-- raise, loop forever, kill its kernel, kill its parent -- can stop the rest of the batch:

- the working folder (the kernel's current folder) is fresh and empty;
- ``CCDLAB_DATA`` points at a private copy of the course data, raw frames read-only, with a
  writable ``reduced/`` folder; the instructor's data folder is never shown to the notebook;
- ``CCDLAB_RESULTS`` names a file in a folder the grader owns; after *every* cell the worker copies
  the new lines into its own memory and notes which cell recorded them, so a cell that rewrites or
  deletes the file cannot change earlier results, and each result can be traced to its cell;
- each cell has a timeout (the kernel is interrupted, then killed if it does not answer) and the
  whole notebook has a deadline (the kernel is killed);
- errors in cells do not stop the run (later exercises still grade); a dead kernel ends the run;
- the outcome goes back to the grader through a private pipe, not a file the notebook could edit.

The outcome is a :class:`RunRecord`; turning it into grades is :func:`ccdlab.classroom.grading.grade_record`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "RUN_STATUSES",
    "CellRecord",
    "RunRecord",
    "kernel_environment",
    "copy_data",
    "make_writable",
    "execute_notebook",
    "run_job",
    "main",
]

#: How a run ended: all cells ran; the notebook deadline passed; the kernel died; the kernel never
#: started; the notebook could not be read.
RUN_STATUSES = ("completed", "timeout", "kernel died", "kernel failed", "invalid notebook")

#: Stream output kept per cell in the executed notebook (a print loop must not fill the memory).
MAX_STREAM_CHARS = 100_000

#: Seconds a kernel has to answer after a cell timed out and was interrupted.
PROBE_SECONDS = 5


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
    recorded : list of str
        Exercise IDs whose results were recorded while this cell ran.
    rewrote_results : bool
        True when the results file shrank or changed its earlier lines during this cell.

    Examples
    --------
    >>> CellRecord(3, "error", "NameError", "name 'x' is not defined").status
    'error'
    """

    index: int
    status: str
    ename: str = ""
    evalue: str = ""
    recorded: list = field(default_factory=list)
    rewrote_results: bool = False


@dataclass
class RunRecord:
    """The outcome of running one notebook.

    Parameters
    ----------
    status : str
        One of :data:`RUN_STATUSES`.
    cells : list of CellRecord
        One record per code cell, in notebook order.
    results : list of dict
        Every result line the checks wrote, in order, each with the extra key ``"cell"`` (the
        index of the cell that recorded it).
    message : str
        A sentence about how the run ended (empty when it completed).
    elapsed : float
        Wall time of the run in seconds.

    Examples
    --------
    >>> RunRecord("completed").status
    'completed'
    """

    status: str
    cells: list = field(default_factory=list)
    results: list = field(default_factory=list)
    message: str = ""
    elapsed: float = 0.0

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
        return cls(
            status=str(data["status"]), cells=cells, results=list(data.get("results", [])),
            message=str(data.get("message", "")), elapsed=float(data.get("elapsed", 0.0)),
        )


def kernel_environment(results_path, data_dir=None, base: dict | None = None) -> dict:
    """Return the environment a submission's kernel runs with.

    The grader's own ``CCDLAB_*`` settings are dropped; ``CCDLAB_RESULTS`` and (when given)
    ``CCDLAB_DATA`` point into the sandbox; plotting is non-interactive; numerical libraries use one
    thread each, because several notebooks run side by side.

    Parameters
    ----------
    results_path : path-like
        The results file the checks append to.
    data_dir : path-like, optional
        The sandbox's data copy.
    base : dict, optional
        The environment to start from (default: this process's).

    Examples
    --------
    >>> env = kernel_environment("/tmp/r.jsonl", "/tmp/data", base={"CCDLAB_DATA": "/home/me/data"})
    >>> env["CCDLAB_DATA"], env["CCDLAB_RESULTS"], env["CCDLAB_GRADING"]
    ('/tmp/data', '/tmp/r.jsonl', '1')
    """
    env = {key: value for key, value in (os.environ if base is None else base).items()
           if not key.startswith("CCDLAB_") and not key.startswith("JPY_")}
    env["CCDLAB_RESULTS"] = str(results_path)
    env["CCDLAB_GRADING"] = "1"
    if data_dir is not None:
        env["CCDLAB_DATA"] = str(data_dir)
    env["MPLBACKEND"] = "Agg"
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[key] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# Folders of a data folder that a sandbox does not get (see copy_data).
NOT_COPIED = ("reduced", "truth")


def copy_data(source, dest) -> Path:
    """Copy a course data folder into a sandbox: raw files read-only, an empty ``reduced/`` writable.

    The instructor's own ``reduced/`` (outputs of earlier runs) and ``truth/`` (the simulator's
    answers) are not copied: every submission starts from the raw night alone, as a student's
    did, and the copy stays small.

    Parameters
    ----------
    source : path-like
        The instructor's data folder (``bias/``, ``flats/``, ``science/``, maybe ``reduced/``).
    dest : path-like
        Where the copy goes (must not exist yet).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "src" / "bias").mkdir(parents=True)
    ...     _ = (Path(tmp) / "src" / "bias" / "b.fits").write_bytes(b"x")
    ...     copy = copy_data(Path(tmp) / "src", Path(tmp) / "copy")
    ...     ok = (copy / "reduced").is_dir() and not os.access(copy / "bias" / "b.fits", os.W_OK) or os.geteuid() == 0
    ...     make_writable(copy)
    >>> ok
    True
    """
    source, dest = Path(source), Path(dest)
    def ignore(folder, names):
        skip = set(shutil.ignore_patterns(".ipynb_checkpoints")(folder, names))
        if Path(folder) == source:
            skip |= {name for name in names if name.lower() in NOT_COPIED}
        return skip

    shutil.copytree(source, dest, symlinks=False, ignore=ignore)
    reduced = dest / "reduced"
    reduced.mkdir(exist_ok=True)
    for folder, dirs, files in os.walk(dest, topdown=False):
        here = Path(folder)
        if here == reduced or reduced in here.parents:
            continue
        for name in files:
            (here / name).chmod(stat.S_IRUSR | stat.S_IRGRP)
        if here != dest:
            here.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    return dest


def make_writable(folder) -> None:
    """Give the owner write permission back on a folder tree (so it can be deleted).

    Examples
    --------
    >>> make_writable("no-such-folder")
    """
    folder = Path(folder)
    if not folder.exists():
        return
    for path in [folder, *folder.rglob("*")]:
        try:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IRUSR | (stat.S_IXUSR if path.is_dir() else 0))
        except OSError:
            pass


class _ResultsTail:
    """Follow the results file: new lines after each cell, and whether earlier lines changed."""

    def __init__(self, path: Path):
        self.path = path
        self.seen = b""

    def new_lines(self) -> tuple[list[dict], bool]:
        try:
            content = self.path.read_bytes()
        except OSError:
            content = b""
        if content.startswith(self.seen):
            base, fresh, rewritten = self.seen, content[len(self.seen):], False
        else:  # shrank, deleted or edited: take the file as it is now, and say so
            base, fresh, rewritten = b"", content, True
        # Only whole lines: a line still being written is read after the next cell.
        fresh = fresh[:fresh.rfind(b"\n") + 1]
        self.seen = base + fresh
        lines = []
        for raw in fresh.decode("utf-8", errors="replace").splitlines():
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if isinstance(data, dict) and "exercise" in data:
                lines.append(data)
        return lines, rewritten


def _make_client(notebook, cell_timeout: float):
    from nbclient import NotebookClient

    class _Client(NotebookClient):
        """A notebook client that keeps at most MAX_STREAM_CHARS of printed text per cell."""

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            total = sum(len(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
            if total > MAX_STREAM_CHARS and outs and outs[-1].get("output_type") == "stream":
                keep = max(0, len(outs[-1]["text"]) - (total - MAX_STREAM_CHARS))
                outs[-1]["text"] = outs[-1]["text"][:keep]
                if not outs[-1]["text"].endswith("[output truncated by the grader]\n"):
                    outs[-1]["text"] += "\n[output truncated by the grader]\n"
            return out

    return _Client(
        notebook, timeout=max(1, int(round(cell_timeout))), kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=False, record_timing=False, shutdown_kernel="immediate",
        startup_timeout=120, iopub_timeout=4, raise_on_iopub_timeout=False,
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


def execute_notebook(notebook, workdir, env: dict, results_path, cell_timeout: float = 180,
                     timeout: float = 600) -> RunRecord:
    """Run every code cell of a notebook in a fresh kernel and record what happened.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The notebook (version 4). Its cells receive the new outputs.
    workdir : path-like
        The kernel's current folder.
    env : dict
        The kernel's environment (see :func:`kernel_environment`).
    results_path : path-like
        The results file named by ``env["CCDLAB_RESULTS"]``.
    cell_timeout, timeout : float
        Seconds allowed per cell and for the whole notebook (including the kernel start).

    Returns
    -------
    RunRecord

    Examples
    --------
    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0")])
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     execute_notebook(nb, tmp, kernel_environment(f"{tmp}/r.jsonl"), f"{tmp}/r.jsonl").cells[0].ename
    'ZeroDivisionError'
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    start = time.monotonic()
    deadline = start + timeout
    results_path = Path(results_path)
    tail = _ResultsTail(results_path)
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell.get("cell_type") == "code"]
    cells = {i: CellRecord(i, "not run") for i in code_cells}
    record = RunRecord("completed")
    client = _make_client(notebook, cell_timeout)
    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = (execute_reply or {}).get("content", {})

    client.on_cell_executed = on_cell_executed
    try:
        client.km = client.create_kernel_manager()
        client.start_new_kernel(cwd=str(workdir), env=env)
        client.start_new_kernel_client()
    except Exception as exc:  # noqa: BLE001 - any start failure is reported, not raised
        record.status = "kernel failed"
        record.message = f"The Python kernel did not start ({type(exc).__name__}: {exc})."
        _cleanup(client)
        record.cells = [cells[i] for i in code_cells]
        record.elapsed = time.monotonic() - start
        return record

    try:
        count = 0
        for index in code_cells:
            cell = notebook.cells[index]
            cell_record = cells[index]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                record.status = "timeout"
                record.message = f"The notebook ran out of time ({timeout:g} s) before cell {index + 1}."
                break
            client.timeout = max(1, int(min(cell_timeout, remaining) + 0.999))
            try:
                if cell.source.strip():
                    count += 1
                    client.execute_cell(cell, index, execution_count=count)
                reply = replies.pop(index, {})
                if reply.get("status") == "error":
                    cell_record.status = "error"
                    cell_record.ename = str(reply.get("ename", ""))
                    cell_record.evalue = str(reply.get("evalue", ""))[:500]
                else:
                    cell_record.status = "ok"
            except CellTimeoutError:
                cell_record.status = "timeout"
                if time.monotonic() >= deadline - 0.5:
                    record.status = "timeout"
                    record.message = f"The notebook ran out of time ({timeout:g} s) in cell {index + 1}."
                    break
                client.km and _interrupt(client)
                if not _probe(client):
                    record.status = "timeout"
                    record.message = (f"Cell {index + 1} ran longer than {cell_timeout:g} s and did not stop "
                                      "when interrupted; the kernel was stopped.")
                    break
            except DeadKernelError:
                cell_record.status = "kernel died"
                record.status = "kernel died"
                record.message = f"The Python kernel died while running cell {index + 1}."
                break
            finally:
                lines, rewritten = tail.new_lines()
                cell_record.rewrote_results = cell_record.rewrote_results or rewritten
                for line in lines:
                    line["cell"] = index
                    record.results.append(line)
                    cell_record.recorded.append(str(line.get("exercise", "")))
    finally:
        _cleanup(client)
    lines, rewritten = tail.new_lines()  # anything a background thread wrote at the very end
    last = cells[code_cells[-1]] if code_cells else None
    for line in lines:
        line["cell"] = last.index if last else -1
        record.results.append(line)
    if last is not None and rewritten:
        last.rewrote_results = True
    record.cells = [cells[i] for i in code_cells]
    record.elapsed = time.monotonic() - start
    return record


def _interrupt(client) -> None:
    try:
        from jupyter_core.utils import run_sync

        run_sync(client.km.interrupt_kernel)()
    except Exception:  # noqa: BLE001 - a failed interrupt shows up in the probe
        pass


def _cleanup(client) -> None:
    if getattr(client, "km", None) is None:
        return
    try:
        client._cleanup_kernel()
    except Exception:  # noqa: BLE001 - the kernel may already be gone
        pass


def run_job(job: dict) -> RunRecord:
    """Prepare a sandbox for one submission, run it and return the record.

    Parameters
    ----------
    job : dict
        ``notebook`` (the submission copy to run), ``sandbox`` (an empty folder the worker may fill),
        ``data`` (the instructor's data folder or None), ``cell_timeout``, ``timeout``, and
        optionally ``executed`` (where to save the executed notebook).

    Returns
    -------
    RunRecord

    Examples
    --------
    >>> run_job({"notebook": "missing.ipynb", "sandbox": "/tmp/none"}).status  # doctest: +SKIP
    'invalid notebook'
    """
    import nbformat

    start = time.monotonic()
    sandbox = Path(job["sandbox"])
    work, results_dir = sandbox / "work", sandbox / "results"
    work.mkdir(parents=True, exist_ok=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    results_path = results_dir / "results.jsonl"
    try:
        notebook = nbformat.read(job["notebook"], as_version=4)
    except Exception as exc:  # noqa: BLE001 - reported as a status
        return RunRecord("invalid notebook", message=f"The notebook could not be read ({exc}).")
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    if job.get("data"):
        data_copy = copy_data(job["data"], sandbox / "data")
    else:  # no data: an empty folder, so that ccdlab never falls back to the instructor's own data/
        data_copy = sandbox / "data"
        data_copy.mkdir(exist_ok=True)
    env = kernel_environment(results_path, data_copy)
    timeout = float(job.get("timeout", 600)) - (time.monotonic() - start)
    record = execute_notebook(notebook, work, env, results_path,
                              cell_timeout=float(job.get("cell_timeout", 180)), timeout=max(timeout, 1.0))
    record.elapsed = time.monotonic() - start
    if job.get("executed"):
        try:
            nbformat.write(notebook, job["executed"])
        except Exception:  # noqa: BLE001 - the executed copy is a convenience
            pass
    return record


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: ``python -m ccdlab.classroom.grading.run JOB.json``; prints the record as JSON.

    The record is written to a private copy of the standard output taken before the kernel starts;
    the kernel's own output goes to ``log.txt`` in the sandbox, so nothing the notebook prints can
    pass for the record.

    Examples
    --------
    >>> main([])  # doctest: +SKIP
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m ccdlab.classroom.grading.run JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    private = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    log = os.open(Path(job["sandbox"]) / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    try:
        record = run_job(job)
    except Exception as exc:  # noqa: BLE001 - the grader reports it for this submission only
        record = RunRecord("kernel failed", message=f"The grader could not run this notebook ({type(exc).__name__}: {exc}).")
    private.write(record.to_json() + "\n")
    private.flush()
    private.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Where one notebook's grading runs: a fresh worker process on this machine (:class:`LocalRunner`).

A *grading job* is one notebook to run and judge, described by a small dict (see
:func:`ccdlab.classroom.grading.worker.run_job`). The batch hands each job to a *runner*, which
returns the job's :class:`~ccdlab.classroom.grading.run.RunRecord`. Every runner has

- ``slots``: how many jobs it runs at the same time;
- ``sandbox_status()``: why the sandbox cannot run where the jobs run, or ``""``;
- ``prepare(data_dir)``: get the shared night ready where the jobs run, before any of them;
- ``remote``: True when the jobs run on other machines (then a student's night is made there);
- ``__call__(job, folder, deadline)``: run one job, return its record, never later than
  ``deadline`` seconds (plus what it takes to stop it);
- ``stop()``: stop every running job now (Ctrl-C); ``close()``: release what it holds;
- ``where``: a few words for the report.

This module holds the local runner: each job runs as ``python -m ccdlab.classroom.grading.worker
job.json`` in a process of its own, killed with its sandbox at its deadline. The cluster runner
(:mod:`ccdlab.classroom.grading.cluster`) runs the same command on a Dask worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ccdlab.classroom.grading.run import RunRecord
from ccdlab.classroom.grading.sandbox import status

__all__ = ["LIVE", "run_worker", "stop_workers", "LocalRunner"]

#: Worker processes running now (killed all at once by :func:`stop_workers`).
LIVE: set = set()
_LIVE_LOCK = threading.Lock()


def run_worker(job: dict, path, deadline: float) -> RunRecord:
    """Grade one notebook in a fresh worker process (:mod:`ccdlab.classroom.grading.worker`).

    The worker and its sandbox are killed when ``deadline`` seconds pass, or on :func:`stop_workers`.

    Parameters
    ----------
    job : dict
        The job (see :func:`ccdlab.classroom.grading.worker.run_job`).
    path : path-like
        Where the job file is written (a folder of the grader's, never shown to the notebook).
    deadline : float
        Seconds the worker may take in all.

    Returns
    -------
    RunRecord
        ``timeout`` when the deadline passed, ``kernel failed`` when the worker itself failed.

    Examples
    --------
    >>> run_worker({"notebook": "missing.ipynb", "folder": "/tmp/x", "data": None, "lesson": "l"},
    ...            "/tmp/ccdlab-job.json", 60).status  # doctest: +SKIP
    'invalid notebook'
    """
    Path(path).write_text(json.dumps(job), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "ccdlab.classroom.grading.worker", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    with _LIVE_LOCK:
        LIVE.add(process)
    try:
        out, err = process.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.communicate()
        return RunRecord("timeout", message=f"The notebook did not finish within {deadline:g} s and was stopped.")
    finally:
        with _LIVE_LOCK:
            LIVE.discard(process)
    lines = out.decode("utf-8", errors="replace").strip().splitlines()
    try:
        return RunRecord.from_dict(json.loads(lines[-1]))
    except (IndexError, ValueError, KeyError, TypeError):
        tail = err.decode("utf-8", errors="replace").strip().splitlines()[-1:] or [f"exit code {process.returncode}"]
        return RunRecord("kernel failed", message=f"The grader's worker for this notebook stopped ({tail[0]}).")


def stop_workers() -> None:
    """Kill every running worker now (what Ctrl-C does): their sandboxes die with them.

    Examples
    --------
    >>> stop_workers()
    """
    with _LIVE_LOCK:
        running = list(LIVE)
    for process in running:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass


class LocalRunner:
    """Run grading jobs in worker processes on this machine, ``slots`` at a time.

    Parameters
    ----------
    slots : int
        Jobs at the same time (``--jobs``).
    run : callable, optional
        What runs one job (default :func:`run_worker`).

    Examples
    --------
    >>> runner = LocalRunner(2)
    >>> runner.slots, runner.remote, runner.where
    (2, False, 'this machine')
    """

    remote = False

    def __init__(self, slots: int, run=None):
        self.slots = max(1, int(slots))
        self._run = run or run_worker
        self.where = "this machine"

    def sandbox_status(self) -> str:
        """Why the sandbox cannot run here, or ``""`` (:func:`ccdlab.classroom.grading.sandbox.status`).

        Examples
        --------
        >>> isinstance(LocalRunner(1).sandbox_status(), str)
        True
        """
        return status()

    def prepare(self, data_dir) -> None:
        """Nothing to do: the jobs read the night where it is.

        Examples
        --------
        >>> LocalRunner(1).prepare(None)
        """

    def __call__(self, job: dict, folder: Path, deadline: float) -> RunRecord:
        """Run one job in a worker process; its job file goes into ``folder``.

        Examples
        --------
        >>> LocalRunner(1, run=lambda job, path, deadline: RunRecord("completed"))({}, Path("/tmp"), 60).status
        'completed'
        """
        return self._run(job, Path(folder) / "job.json", deadline)

    def stop(self) -> None:
        """Kill the running workers (Ctrl-C).

        Examples
        --------
        >>> LocalRunner(1).stop()
        """
        stop_workers()

    def close(self) -> None:
        """Nothing held.

        Examples
        --------
        >>> LocalRunner(1).close()
        """

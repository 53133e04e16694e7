"""Running independent tasks in fresh worker processes, one task at a time each.

The slow step of a reduction (L.A.Cosmic, about 15 s per full frame) runs one frame per worker.
Workers are fresh interpreters started with ``python -c``, fed JSON tasks over a pipe, rather than
a ``multiprocessing`` pool: spawn re-runs a student's script that has no ``if __name__ ==
"__main__"`` guard, and fork can hang in GNU OpenMP after astroscrappy ran in the parent kernel.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import subprocess
import sys
import traceback
from pathlib import Path

__all__ = ["worker_main", "worker_command", "run_in_workers"]


def worker_main(function: str) -> None:  # pragma: no cover - runs in the worker processes
    """Worker loop: one JSON task per line on stdin, one JSON outcome per line on stdout.

    ``function`` is ``"module:name"``, a function taking a task dict and returning an outcome dict.

    Examples
    --------
    >>> worker_main("ccdlab.reduce:clean_task")  # doctest: +SKIP
    """
    module, _, name = function.partition(":")
    _run_task = getattr(importlib.import_module(module), name)
    for line in sys.stdin:
        task = json.loads(line)
        try:
            outcome = _run_task(task)
        except Exception as exc:  # a bug: report it with its traceback, keep the worker alive
            traceback.print_exc()
            outcome = {"error": f"unexpected {type(exc).__name__}: {exc}"}
        print(json.dumps(outcome), flush=True)


def worker_command(function: str) -> list[str]:
    """The command that starts one worker: a fresh Python running :func:`worker_main`.

    Examples
    --------
    >>> worker_command("ccdlab.reduce:clean_task")[-1]
    "from ccdlab.parallel import worker_main; worker_main('ccdlab.reduce:clean_task')"
    """
    return [sys.executable, "-c", f"from ccdlab.parallel import worker_main; worker_main({function!r})"]


def run_in_workers(tasks: list, jobs: int, function: str):
    """Yield ``(task, outcome)`` as ``jobs`` worker processes run ``function`` on the tasks, one at a time each.

    Parameters
    ----------
    tasks : iterable of dict
        JSON-serialisable tasks; an iterator is read only as workers become free, so tasks can
        be made while the first ones run (None ends it early).
    jobs : int
        Worker processes (at most one per task is started).
    function : str
        ``"module:name"`` of the function each worker calls on a task.

    An outcome ``{"retry": True}`` means no worker could run that task (one died, or none could
    start): the caller runs it in its own process.

    Workers are fresh interpreters (``python -c ...``), not forks: no script is re-executed (no
    ``if __name__ == "__main__"`` guard needed), OpenMP state is never inherited across a fork,
    and each worker gets ``OMP_NUM_THREADS=1``.

    Examples
    --------
    >>> tasks = [{"fb": "a.fb.fits", "proc": "a.proc.fits", "args": [1.6, 14, 9e4, {}]}]
    >>> for task, outcome in run_in_workers(tasks, 1, "ccdlab.reduce:clean_task"):  # doctest: +SKIP
    ...     print(outcome)
    """
    package_root = str(Path(__file__).resolve().parents[1])
    command = worker_command(function)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    source = iter(tasks)
    pending: list = []  # tasks taken from the source that no worker could be given

    def next_task():
        return pending.pop(0) if pending else next(source, None)

    selector = selectors.DefaultSelector()
    workers = []
    try:
        for _ in range(jobs):  # all started at once: their imports overlap the wait for the first task
            try:
                workers.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                                env=env))
            except OSError:
                break  # no more workers: what is left is cleaned by the caller
        for worker in workers:
            task = next_task()
            if task is None:
                _close_quietly(worker.stdin)
                continue
            try:
                worker.stdin.write(json.dumps(task) + "\n")
                worker.stdin.flush()
            except OSError:  # it died at once
                yield task, {"retry": True}
                continue
            selector.register(worker.stdout, selectors.EVENT_READ, [worker, task])
        while selector.get_map():
            for key, _ in selector.select():
                worker, task = key.data
                line = key.fileobj.readline()
                if not line:  # the worker died: its frame is cleaned by the caller
                    selector.unregister(key.fileobj)
                    yield task, {"retry": True}
                    continue
                yield task, json.loads(line)
                following = next_task()
                if following is not None:
                    key.data[1] = following
                    try:
                        worker.stdin.write(json.dumps(following) + "\n")
                        worker.stdin.flush()
                    except OSError:  # it died after its last answer
                        selector.unregister(key.fileobj)
                        yield following, {"retry": True}
                else:
                    selector.unregister(key.fileobj)
                    _close_quietly(worker.stdin)
        pending.extend(source)  # only if every worker died or none could start
        for task in pending:  # only if every worker died or none could start
            yield task, {"retry": True}
    finally:
        selector.close()
        for worker in workers:
            _close_quietly(worker.stdin)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _close_quietly(stream) -> None:
    try:
        if stream is not None and not stream.closed:
            stream.close()
    except OSError:  # a worker that died leaves a broken pipe behind
        pass

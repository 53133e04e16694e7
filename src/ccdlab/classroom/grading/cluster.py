"""Grading on a Dask cluster: ``ccdlab grade SUBMISSIONS --out grades.csv --scheduler tcp://HOST:PORT``.

The same jobs as a local run, on other machines. Each Dask task is one notebook's grading: what
:func:`ccdlab.classroom.grading.process.run_worker` does locally (``python -m
ccdlab.classroom.grading.worker job.json`` in a process of its own, in the sandbox, killed at its
deadline), run by :func:`run_remote` on a Dask worker. The grades are the same as a local run's:
the batch (identifying, scoring, the CSV) stays on the grading machine; only the running moves.

Shared nothing: a task carries everything its worker needs as data, and brings back only data.

- In: the notebook's bytes, the job (lesson, the answer names of each check line, timeouts,
  sandbox, memory) and a description of the night (:func:`night_spec`). Never the solutions:
  the lessons' points and answer names stay on the grading machine.
- Out: the :class:`~ccdlab.classroom.grading.run.RunRecord` as JSON (and the executed notebook's
  bytes with ``--executed``).
- The night: a worker uses the night at the same path when it is there with the same manifest
  (a shared filesystem, or a copy), else makes it itself when it is a synthetic night (the
  course's nights are: the same size and seed give the same bytes, checked against the manifest's
  SHA-256), once per batch and worker machine. A night that is neither (real data) must be copied
  to the same path on every worker. With ``--student-nights`` each worker makes the nights of the
  students it grades, like a local run does.

A worker machine needs: ccdlab with the ``cluster`` extra (the same version as the grading machine:
checked), its instructor tools (``nbclient``...), bubblewrap, and room for the nights in its
temporary folder (or ``CCDLAB_CLUSTER_CACHE``). Start the scheduler with ``dask scheduler`` and
workers with ``dask worker tcp://HOST:8786 --nthreads N`` (one thread per notebook at a time).

Nothing waits for ever: connecting, the workers' facts and making the nights have timeouts, and a
task that does not come back within its notebook's deadline plus :data:`RETURN_SLACK` seconds is
reported as a ``grader error`` for that notebook only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
import uuid
from pathlib import Path

from ccdlab.classroom.grading.process import run_worker, stop_workers
from ccdlab.classroom.grading.run import RunRecord
from ccdlab.classroom.grading.sandbox import status
from ccdlab.errors import CcdlabError, GradingError

__all__ = ["CONNECT_SECONDS", "RETURN_SLACK", "package_digest", "worker_facts", "night_spec", "cache_root",
           "local_night", "run_remote", "ClusterRunner", "connect"]

#: Seconds to reach the scheduler, and to wait for a first worker.
CONNECT_SECONDS = 30

#: Seconds every worker has to report its facts (version, sandbox).
FACTS_SECONDS = 120

#: Seconds every worker has to find or make the shared night before grading starts.
NIGHT_SECONDS = 1800

#: Seconds a task may take beyond its notebook's deadline (sending, queueing, a night to make).
RETURN_SLACK = 300

#: The instructor's tools a worker needs to run notebooks.
_NEEDED = ("nbformat", "nbclient", "ipykernel")


def package_digest() -> str:
    """SHA-256 over the installed ccdlab package's files (names and contents), to tell two installs apart.

    Examples
    --------
    >>> len(package_digest())
    64
    """
    import ccdlab
    from ccdlab.files import file_hash

    package = Path(ccdlab.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(f"{path.relative_to(package).as_posix()}\0{file_hash(path)}\n".encode())
    return digest.hexdigest()


def worker_facts() -> dict:
    """What a worker machine can do: its host, ccdlab version and digest, the sandbox, missing tools.

    Examples
    --------
    >>> sorted(worker_facts())
    ['ccdlab', 'host', 'missing', 'package', 'python', 'sandbox']
    """
    import importlib.util
    import platform

    from ccdlab import __version__

    return {"host": socket.gethostname(), "ccdlab": __version__, "package": package_digest(),
            "python": platform.python_version(), "sandbox": status(),
            "missing": [name for name in _NEEDED if importlib.util.find_spec(name) is None]}


def _sha256(path: Path) -> str:
    from ccdlab.files import file_hash

    return file_hash(path)


def night_spec(data_dir) -> dict:
    """How a worker finds, or makes, the night a notebook is graded on.

    Parameters
    ----------
    data_dir : path-like
        The night on the grading machine (a data folder with ``manifest.json``), or an empty folder.

    Returns
    -------
    dict
        ``path`` (as on the grading machine), ``manifest`` (SHA-256 of its ``manifest.json``, or
        ``""``), ``recipe`` (``size, seed, camera, student, truth`` of a synthetic night, or None)
        and ``empty`` (True for a folder without any frames).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     night_spec(tmp)["empty"]
    True
    """
    folder = Path(data_dir).resolve()
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        empty = not any(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else True
        return {"path": str(folder), "manifest": "", "recipe": None, "empty": empty}
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GradingError(f"The night's manifest {manifest} could not be read ({exc}): make the night again "
                           "(python data_fetch.py --force).") from None
    meta, files = content.get("meta", {}), content.get("files", {})
    recipe = None
    if meta.get("kind") == "synthetic" and {"size", "seed"} <= set(meta):
        recipe = {"size": meta["size"], "seed": int(meta["seed"]), "camera": meta.get("camera", "cool"),
                  "student": meta.get("student", ""), "truth": any(str(name).startswith("truth/") for name in files)}
    return {"path": str(folder), "manifest": _sha256(manifest), "recipe": recipe, "empty": False}


def cache_root() -> Path:
    """Where a worker keeps the nights it makes and its references: ``CCDLAB_CLUSTER_CACHE``, else the temporary folder.

    Examples
    --------
    >>> cache_root().name.startswith("ccdlab-cluster")
    True
    """
    chosen = os.environ.get("CCDLAB_CLUSTER_CACHE")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(chosen) if chosen else Path(tempfile.gettempdir()) / f"ccdlab-cluster-{uid}"


def _batch_folder(batch: str) -> Path:
    name = "".join(c for c in str(batch) if c.isalnum())[:40] or "batch"
    return cache_root() / name


def local_night(spec: dict, batch: str = "") -> Path:
    """On a worker: the folder of the night described by ``spec`` (:func:`night_spec`), made here when needed.

    The night at ``spec["path"]`` is used when this machine has it with the same manifest;
    otherwise a synthetic night is made from its recipe into this batch's folder (once per machine:
    several worker processes share it) and its manifest checked.

    Raises
    ------
    ccdlab.errors.GradingError
        The night is not here and cannot be made here, or the night made here differs.

    Examples
    --------
    >>> local_night({"path": "/nowhere", "manifest": "", "recipe": None, "empty": True}).name
    'empty-data'
    """
    folder = _batch_folder(batch)
    if spec.get("empty"):
        empty = folder / "empty-data"
        empty.mkdir(parents=True, exist_ok=True)
        return empty
    path, digest, recipe = Path(spec.get("path") or "/nonexistent"), spec.get("manifest", ""), spec.get("recipe")
    if digest and (path / "manifest.json").is_file() and _sha256(path / "manifest.json") == digest:
        return path
    if not recipe:
        raise GradingError(
            f"The night {path} is not on the worker machine {socket.gethostname()} (or differs there), and it is not "
            "a synthetic night a worker can make: copy it to the same path on every worker (or use a shared "
            "filesystem), then grade again.")
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    night = folder / "nights" / key
    if not (night / "manifest.json").is_file():
        from ccdlab.data.simulate import make_night

        night.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=night.parent))
        try:
            make_night(stage, size=recipe["size"], seed=int(recipe["seed"]), camera=recipe.get("camera", "cool"),
                       student=recipe.get("student", ""), truth=bool(recipe.get("truth", True)), progress=False,
                       overwrite=True)
            os.rename(stage, night)  # atomic; another process that made it first wins
        except OSError:
            if not (night / "manifest.json").is_file():
                raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    if digest and _sha256(night / "manifest.json") != digest:
        raise GradingError(
            f"The night made on {socket.gethostname()} from {path}'s recipe differs from the grading machine's: "
            "install the same ccdlab on every worker (or copy the night to the same path there), then grade again.")
    return night


def run_remote(payload: dict) -> dict:
    """The Dask task: one notebook's grading on a worker, from data to data.

    Parameters
    ----------
    payload : dict
        ``notebook`` (bytes), ``job`` (the job without its paths), ``night`` (:func:`night_spec`
        or a student night's recipe as ``{"recipe": ...}``), ``deadline`` (seconds), ``executed``
        (bring back the executed notebook), ``batch`` (the batch's id).

    Returns
    -------
    dict
        ``record`` (the RunRecord's JSON), ``executed`` (bytes or None), ``host``.

    Examples
    --------
    >>> run_remote({"notebook": b"not json", "job": {"lesson": "01_fits_files"}, "deadline": 60,
    ...             "night": {"empty": True}, "batch": "doc"})["host"] == socket.gethostname()  # doctest: +SKIP
    True
    """
    batch = str(payload.get("batch", ""))
    # in the system's temporary folder, like a local run's: the kernel's sockets live there, and a
    # socket's path must stay short (108 bytes), wherever CCDLAB_CLUSTER_CACHE is
    folder = Path(tempfile.mkdtemp(prefix="ccdlab-job-"))
    try:
        night = local_night(payload["night"], batch)
        notebook = folder / "submission.ipynb"
        notebook.write_bytes(payload["notebook"])
        job = {key: value for key, value in payload["job"].items() if key != "night"}
        key = hashlib.sha256(str(night).encode()).hexdigest()[:16]
        executed = folder / "executed.ipynb" if payload.get("executed") else None
        job.update(notebook=str(notebook), folder=str(folder / "run"), data=str(night),
                   cache=str(_batch_folder(batch) / "references" / key), executed=str(executed) if executed else None)
        record = run_worker(job, folder / "job.json", float(payload["deadline"]))
        saved = executed.read_bytes() if executed is not None and executed.is_file() else None
        return {"record": record.to_json(), "executed": saved, "host": socket.gethostname()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _forget_batch(batch: str) -> None:
    """On a worker: remove this batch's nights and references."""
    shutil.rmtree(_batch_folder(batch), ignore_errors=True)


def _bounded(call, seconds: float, what: str):
    """Run ``call()`` in a thread; its result, or GradingError naming ``what`` after ``seconds``."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise GradingError(f"{what} did not answer within {seconds:g} s: check the scheduler and its workers "
                           "(dask's dashboard lists them), then grade again.")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class ClusterRunner:
    """Run grading jobs on a Dask cluster's workers (see the module's description); made by :func:`connect`.

    Parameters
    ----------
    client : distributed.Client
        Connected, with at least one worker.
    address : str
        The scheduler's address, for messages.
    facts : dict
        ``{worker address: worker_facts()}``.
    slots : int
        Jobs at the same time (the workers' threads, or fewer with ``--jobs``).

    Examples
    --------
    >>> runner = connect("tcp://grader.example.org:8786")  # doctest: +SKIP
    >>> runner.slots  # doctest: +SKIP
    16
    """

    remote = True

    def __init__(self, client, address: str, facts: dict, slots: int):
        self.client, self.address, self.facts, self.slots = client, address, facts, max(1, int(slots))
        self.batch = uuid.uuid4().hex
        self.where = f"the Dask cluster at {address} ({len(facts)} worker(s))"
        self._specs: dict = {}
        self._lock = threading.Lock()
        self._futures: set = set()

    def sandbox_status(self) -> str:
        """Why the sandbox cannot run on some workers (naming them), or ``""`` when it runs on all.

        Examples
        --------
        >>> ClusterRunner(None, "tcp://x:1", {"tcp://w:2": {"host": "w", "sandbox": ""}}, 1).sandbox_status()
        ''
        """
        return "; ".join(f"on worker {address} ({facts.get('host', '?')}): {facts['sandbox']}"
                         for address, facts in sorted(self.facts.items()) if facts.get("sandbox"))

    def _spec(self, data) -> dict:
        with self._lock:
            if str(data) not in self._specs:
                self._specs[str(data)] = night_spec(data)
            return self._specs[str(data)]

    def prepare(self, data_dir) -> None:
        """Have every worker find or make the shared night now, so that a missing one stops the batch at once.

        Raises
        ------
        ccdlab.errors.GradingError
            A worker cannot have the night (named, with what to do), or takes too long.
        """
        import time

        spec = self._spec(data_dir)
        futures = {address: self.client.submit(local_night, spec, self.batch, workers=[address], pure=False)
                   for address in self.facts}
        end = time.monotonic() + NIGHT_SECONDS
        for address, future in sorted(futures.items()):
            try:
                future.result(timeout=max(1.0, end - time.monotonic()))
            except TimeoutError:
                raise GradingError(f"Worker {address} of {self.address} did not have the night {data_dir} ready within "
                                   f"{NIGHT_SECONDS} s: check it (dask's dashboard), then grade again.") from None
            except CcdlabError as exc:
                raise GradingError(f"Worker {address}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - named, with the worker
                raise GradingError(f"Worker {address} could not get the night {data_dir} ready "
                                   f"({type(exc).__name__}: {exc}).") from None

    def __call__(self, job: dict, folder: Path, deadline: float) -> RunRecord:
        """Run one job on the cluster; the record (and executed notebook) come back as data.

        A task that fails or does not return in time costs only its notebook (``kernel failed``,
        reported as a grader error naming the cluster).
        """
        night = {"recipe": job["night"], "manifest": "", "empty": False} if job.get("night") else self._spec(job["data"])
        payload = {"notebook": Path(job["notebook"]).read_bytes(), "deadline": float(deadline), "night": night,
                   "executed": bool(job.get("executed")), "batch": self.batch,
                   "job": {k: v for k, v in job.items() if k not in ("notebook", "folder", "data", "cache", "executed")}}
        future = self.client.submit(run_remote, payload, pure=False)
        with self._lock:
            self._futures.add(future)
        wait = deadline + RETURN_SLACK + (NIGHT_SECONDS if job.get("night") else 0)  # a student's night to make first
        try:
            result = future.result(timeout=wait)
        except TimeoutError:
            future.cancel()
            return RunRecord("kernel failed", message=f"The cluster at {self.address} did not return this notebook "
                             f"within {wait:g} s (a worker lost?): grade it again.")
        except CcdlabError as exc:
            return RunRecord("kernel failed", message=str(exc))
        except Exception as exc:  # noqa: BLE001 - a lost worker or scheduler costs this notebook only
            return RunRecord("kernel failed", message=f"The cluster at {self.address} could not grade this notebook "
                             f"({type(exc).__name__}: {exc}): grade it again.")
        finally:
            with self._lock:
                self._futures.discard(future)
        if result.get("executed") and job.get("executed"):
            Path(job["executed"]).write_bytes(result["executed"])
        return RunRecord.from_dict(json.loads(result["record"]))

    def stop(self) -> None:
        """Cancel every task and kill the notebooks running on the workers now (Ctrl-C)."""
        with self._lock:
            running = list(self._futures)
        try:
            _bounded(lambda: self.client.cancel(running), 15, f"The scheduler at {self.address}")
            _bounded(lambda: self.client.run(stop_workers, on_error="ignore"), 15, f"The workers of {self.address}")
        except CcdlabError:
            pass

    def close(self) -> None:
        """Remove this batch's folders on the workers, then disconnect."""
        try:
            _bounded(lambda: self.client.run(_forget_batch, self.batch, on_error="ignore"), 60,
                     f"The workers of {self.address}")
        except CcdlabError:
            pass
        try:
            _bounded(lambda: self.client.close(timeout=10), 20, f"The scheduler at {self.address}")
        except CcdlabError:
            pass


def connect(address: str, jobs: int | None = None, timeout: float | None = None) -> ClusterRunner:
    """Connect to a Dask scheduler and check its workers can grade: same ccdlab, the tools, the sandbox.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` (what ``dask scheduler`` prints).
    jobs : int, optional
        At most this many notebooks at a time (default: every worker thread).
    timeout : float, optional
        Seconds to reach the scheduler, and to wait for a first worker (default :data:`CONNECT_SECONDS`).

    Returns
    -------
    ClusterRunner

    Raises
    ------
    ccdlab.errors.GradingError
        dask's distributed is not installed; the scheduler cannot be reached or has no worker; a
        worker runs another ccdlab or lacks the instructor's tools. Each names the address and
        what to do.

    Examples
    --------
    >>> connect("tcp://127.0.0.1:9", timeout=1)  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    ccdlab.errors.GradingError: Could not reach the Dask scheduler at tcp://127.0.0.1:9 ...
    """
    try:
        import distributed
    except ImportError:
        raise GradingError("Grading on a cluster (--scheduler) needs dask's distributed scheduler, which is not "
                           "installed: pip install 'ccdlab[cluster]' (here and on every worker), or grade here "
                           "without --scheduler.") from None
    timeout = float(CONNECT_SECONDS if timeout is None else timeout)
    address = str(address or "").strip()
    if not address:
        raise GradingError("--scheduler needs the scheduler's address, e.g. --scheduler tcp://grader.example.org:8786.")
    try:
        client = _bounded(lambda: distributed.Client(address, timeout=timeout, set_as_default=False),
                          timeout + 30, f"The Dask scheduler at {address}")
    except CcdlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the same advice
        raise GradingError(
            f"Could not reach the Dask scheduler at {address} within {timeout:g} s ({type(exc).__name__}: {exc}). "
            "Start one on that machine with 'dask scheduler' (it prints its tcp:// address) and workers with "
            f"'dask worker {address}'; check the address and that the port is open, then grade again.") from None
    try:
        try:
            _bounded(lambda: client.wait_for_workers(1, timeout=timeout), timeout + 30, f"The Dask scheduler at {address}")
        except (TimeoutError, distributed.TimeoutError):
            raise GradingError(
                f"The Dask scheduler at {address} has no worker: start them with 'dask worker {address}' on the "
                "grading machines (each needs ccdlab with its cluster extra, and bubblewrap), then grade again.") from None
        facts = _bounded(lambda: client.run(worker_facts, on_error="return"), FACTS_SECONDS,
                         f"The workers of {address}")
        mine = package_digest()
        from ccdlab import __version__

        for worker, found in sorted(facts.items()):
            if isinstance(found, BaseException):
                raise GradingError(f"Worker {worker} of {address} could not say what it can do ({type(found).__name__}: "
                                   f"{found}): install ccdlab with its cluster extra there, then grade again.")
            if found["missing"]:
                raise GradingError(f"Worker {worker} ({found['host']}) lacks {', '.join(found['missing'])}: install "
                                   "pip install 'ccdlab[instructor,cluster]' there and restart it, then grade again.")
            if found["package"] != mine:
                raise GradingError(
                    f"Worker {worker} ({found['host']}) runs another ccdlab than this grader (ccdlab {found['ccdlab']} "
                    f"there, {__version__} here, or changed files): install this same ccdlab on every worker and restart "
                    "them, so that every notebook is judged by the same checks.")
        info = client.scheduler_info(n_workers=-1)
        threads = sum(int(w.get("nthreads", 1)) for address_, w in info.get("workers", {}).items() if address_ in facts)
        slots = min(int(jobs), threads) if jobs else threads
        return ClusterRunner(client, address, facts, max(1, slots))
    except BaseException:
        try:
            client.close(timeout=10)
        except Exception:  # noqa: BLE001 - already failing
            pass
        raise

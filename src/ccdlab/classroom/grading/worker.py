"""One notebook's grading in a process of its own: ``python -m ccdlab.classroom.grading.worker JOB.json``.

The batch (and a cluster worker) hands each submission to a fresh grader process, so that nothing
one notebook's grading does (a crash, memory) reaches another's, and no two gradings share an
interpreter. The job file lives in the grader's own folder for the submission, which the sandbox
never sees; the record comes back on this process's standard output as one JSON line.

Examples
--------
>>> job = {"notebook": "a.ipynb", "folder": "/tmp/sub1", "data": None, "lesson": "01_fits_files"}
>>> sorted(job)
['data', 'folder', 'lesson', 'notebook']
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["run_job", "main"]


def run_job(job: dict):
    """Run one job: read the notebook, execute it (sandboxed), return the :class:`RunRecord`.

    Parameters
    ----------
    job : dict
        ``notebook`` (path), ``folder`` (the grader's empty folder for it), ``data`` (the night or
        None), ``lesson``, and optionally ``expected`` (``{exercise: [answer names]}``),
        ``cell_timeout``, ``timeout``, ``sandbox`` (bool), ``memory`` (bytes), ``cache`` (a folder
        where the grader's references are kept between notebooks of the same night) and
        ``executed`` (where to save the executed notebook).

    Examples
    --------
    >>> run_job({"notebook": "missing.ipynb", "folder": "/tmp/x", "data": None, "lesson": "l"}).status
    'invalid notebook'
    """
    import nbformat

    from ccdlab.classroom.grading.run import RunRecord, execute_notebook
    from ccdlab.classroom.grading.sandbox import Limits
    from ccdlab.course.checks.nights import Night

    try:
        notebook = nbformat.read(job["notebook"], as_version=4)
    except Exception as exc:  # noqa: BLE001 - reported as a status
        return RunRecord("invalid notebook", message=f"The notebook could not be read ({exc}).")
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    data = job.get("data")
    night = Night(data, trust_outputs=False, cache_dir=job.get("cache")) if data else None
    limits = Limits(memory=int(job["memory"])) if job.get("memory") else Limits()
    expected = {key: frozenset(names) for key, names in (job.get("expected") or {}).items()}
    record = execute_notebook(
        notebook, job["folder"], data, night, job["lesson"], cell_timeout=float(job.get("cell_timeout", 180)),
        timeout=float(job.get("timeout", 600)), sandbox=bool(job.get("sandbox", True)), limits=limits,
        expected=expected)
    if job.get("executed"):
        try:
            nbformat.write(notebook, job["executed"])
        except Exception:  # noqa: BLE001 - the executed copy is a convenience
            pass
    return record


def main(argv: list | None = None) -> int:
    """Entry point: run the job in ``argv[0]``, print the record as one JSON line.

    Examples
    --------
    >>> main([])  # doctest: +SKIP
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        print("usage: python -m ccdlab.classroom.grading.worker JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        record = run_job(job)
    except Exception as exc:  # noqa: BLE001 - reported for this notebook only
        from ccdlab.classroom.grading.run import RunRecord

        record = RunRecord("kernel failed", message=f"The grader could not run this notebook ({type(exc).__name__}: {exc}).")
    sys.stdout.write(record.to_json() + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

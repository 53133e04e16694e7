"""Calling a function a student submitted (``median_combine``, ``star_snr``) without trusting it.

The grader never unpickles a student's function in its own process. A :class:`SandboxedFunction`
looks like the function to a check, but each call runs it in a fresh sandboxed Python
(:mod:`ccdlab.classroom.grading.sandbox`), on the inputs the check chose, and brings back its
result as data (:mod:`ccdlab.course.answers`: arrays and numbers, never code). An exception in the
student's code comes back as an exception of the same name (:class:`ccdlab.errors.StudentCodeError`), so a
check's hint can say "raised TypeError: ...".

Examples
--------
>>> SandboxedFunction(PickledFunction("median_combine", b"")).__name__
'median_combine'
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ccdlab.classroom.grading.sandbox import (
    MOUNT,
    Limits,
    Mounts,
    make_cgroup,
    remove_cgroup,
    sandbox_argv,
)
from ccdlab.course.answers import AnswerWriter, PickledFunction, decode, encode
from ccdlab.errors import StudentCodeError

__all__ = ["StudentCodeError", "SandboxedFunction", "CALL_SCRIPT"]

#: What runs inside the sandbox: load the function, decode the arguments, call, encode the result.
CALL_SCRIPT = """
import json, sys, traceback
from pathlib import Path
import cloudpickle
from ccdlab.course.answers import AnswerWriter, decode, encode
box = Path(sys.argv[1])
call = json.loads((box / "call.json").read_text())
function = cloudpickle.loads((box / "function.pkl").read_bytes())
args = decode(call["args"], box)
kwargs = decode(call["kwargs"], box)
out = box / "out"
try:
    result = function(*args, **kwargs)
    (out / "result.json").write_text(json.dumps(encode(result, AnswerWriter(out))))
except BaseException as exc:
    (out / "error.json").write_text(json.dumps({"ename": type(exc).__name__, "evalue": str(exc)[:500]}))
"""


class SandboxedFunction:
    """A submitted function, called in a fresh sandbox for every call.

    Parameters
    ----------
    function : ccdlab.course.answers.PickledFunction
        The function as the kernel submitted it.
    timeout : float
        Seconds one call may take.
    limits : Limits, optional

    Examples
    --------
    >>> f = SandboxedFunction(PickledFunction("median_combine", b""))
    >>> f.__name__
    'median_combine'
    """

    def __init__(self, function: PickledFunction, timeout: float = 60.0, limits: Limits | None = None):
        self.function = function
        self.timeout = float(timeout)
        self.limits = limits or Limits(memory=2 * 2**30, processes=64)
        self.__name__ = function.name

    def __repr__(self) -> str:
        return f"<student function {self.function.name}>"

    def __call__(self, *args, **kwargs):
        root = Path(tempfile.mkdtemp(prefix="ccdlab-call-"))
        group = ""
        try:
            box, work = root / "box", root / "work"
            (box / "out").mkdir(parents=True)
            work.mkdir()
            writer = AnswerWriter(box)
            call = {"args": encode(list(args), writer), "kwargs": encode(dict(kwargs), writer)}
            (box / "call.json").write_text(json.dumps(call))
            (box / "function.pkl").write_bytes(self.function.data)
            os.chmod(box / "out", 0o777)
            group = make_cgroup(self.limits.processes)
            inside = MOUNT / "call"
            mounts = Mounts(work=work, extra_read=[])
            env = {"HOME": str(MOUNT / "work"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
                   "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "PYTHONDONTWRITEBYTECODE": "1"}
            import sys

            argv = sandbox_argv(mounts, [sys.executable, "-c", CALL_SCRIPT, str(inside)], env, self.limits, group)
            split = argv.index("--remount-ro")
            argv[split:split] = ["--ro-bind", str(box), str(inside), "--bind", str(box / "out"), str(inside / "out")]
            try:
                done = subprocess.run(argv, capture_output=True, timeout=self.timeout, start_new_session=True)
            except subprocess.TimeoutExpired:
                raise StudentCodeError.named("TimeoutError", f"{self.function.name} did not finish within "
                                             f"{self.timeout:g} s") from None
            out = box / "out"
            if (out / "error.json").is_file():
                error = json.loads((out / "error.json").read_text())
                raise StudentCodeError.named(str(error.get("ename", "Error")), str(error.get("evalue", "")))
            if not (out / "result.json").is_file():
                reason = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["it stopped"])[-1]
                raise StudentCodeError.named("RuntimeError", f"{self.function.name} could not run ({reason[:200]})")
            return decode(json.loads((out / "result.json").read_text()), out)
        finally:
            remove_cgroup(group)
            shutil.rmtree(root, ignore_errors=True)

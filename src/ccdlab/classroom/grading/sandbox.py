"""The grading sandbox: every notebook's kernel (and every student function the grader calls) runs
inside bubblewrap (``bwrap``, Debian's ``bubblewrap``), with limits.

What a sandboxed process gets (see ``docs/grading.md`` for the threat model):

- its own PID namespace: it sees none of the grader's processes, and every process it starts dies
  when the sandbox ends (setsid or not);
- no network (a network namespace with only a loopback);
- a filesystem with only the operating system's ``/usr``, the Python environment and the ccdlab
  package (read-only; its ``course/checks`` and ``classroom`` parts hidden), the night's raw
  frames (read-only), and folders of its own: ``/sandbox/work`` (its current folder),
  ``/sandbox/data/reduced``, ``/sandbox/outbox`` (answers it submits) and ``/sandbox/inbox`` (the
  grader's replies, read-only). No solutions, no other submission, no home folder, no grades;
- limits on memory (address space), file size and, where cgroups can be used (as root) or
  through RLIMIT_NPROC (as a user), the number of processes.

:func:`status` says whether the sandbox can run here, and why not; :func:`sandbox_argv` builds the
command line; :mod:`ccdlab.classroom.grading.confine` applies the limits and starts it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ccdlab.errors import SandboxError

__all__ = ["MOUNT", "Limits", "status", "require", "sandbox_argv", "package_paths", "make_cgroup", "remove_cgroup"]

#: Where the sandbox's own folders appear inside it.
MOUNT = Path("/sandbox")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox.

    Parameters
    ----------
    memory : int
        Address space, bytes (default 4 GiB).
    processes : int
        Processes and threads at once.
    file_size : int
        Largest file it may write, bytes.
    output_chars : int
        Text it may print per cell, and its raw standard output in all, that the grader keeps.
    display_bytes : int
        Largest display output (an image, HTML) the grader keeps, and the most of all of one cell's
        displays together, bytes.

    Examples
    --------
    >>> Limits().memory // 2**30
    4
    """

    memory: int = 4 * 2**30
    processes: int = 256
    file_size: int = 4 * 2**30
    output_chars: int = 100_000
    display_bytes: int = 5_000_000


@functools.lru_cache(maxsize=1)
def _probe() -> str:
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return ("bubblewrap (bwrap) is not installed: on Debian or Ubuntu run 'sudo apt-get install bubblewrap' "
                "('make test' installs it as root)")
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (user namespaces); this is {sys.platform}"
    try:
        probe = subprocess.run([bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
                                "--dev", "/dev", "true"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not run ({exc})"
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        return (f"bwrap cannot create a sandbox here ({reason}): the kernel must allow unprivileged user namespaces "
                "(e.g. sysctl kernel.unprivileged_userns_clone=1)")
    return ""


def status() -> str:
    """Why the sandbox cannot run on this machine, or ``""`` when it can.

    Examples
    --------
    >>> isinstance(status(), str)
    True
    """
    return _probe()


def require() -> None:
    """Raise :class:`ccdlab.errors.SandboxError` when the sandbox cannot run here.

    Examples
    --------
    >>> require()  # doctest: +SKIP
    """
    reason = status()
    if reason:
        raise SandboxError(f"The grading sandbox cannot run on this machine: {reason}.")


def package_paths() -> dict:
    """The host paths the sandbox needs from this Python: interpreter, environment, package, and the parts hidden.

    Examples
    --------
    >>> sorted(package_paths())
    ['hide', 'read']
    """
    import ccdlab

    package = Path(ccdlab.__file__).resolve().parent
    read = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), package.parent}
    executable = Path(sys.executable)
    if executable.is_symlink():
        read.add(executable.resolve().parent.parent)
    # keep the most general paths only
    kept = sorted(read, key=lambda p: len(p.parts))
    reduced = []
    for path in kept:
        if not any(path == other or other in path.parents for other in reduced):
            reduced.append(path)
    return {"read": reduced, "hide": [package / "course" / "checks", package / "classroom"]}


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf"):
        if Path(name).exists():
            args += ["--ro-bind", name, name]
    return args


@dataclass
class Mounts:
    """The folders one sandbox gets, by their host paths.

    Examples
    --------
    >>> Mounts(work=Path("/tmp/w")).work.name
    'w'
    """

    work: Path
    raw: dict = field(default_factory=dict)      # raw folder name -> host folder (read-only)
    reduced: Path | None = None                  # host folder shown as /sandbox/data/reduced (writable)
    outbox: Path | None = None
    inbox: Path | None = None
    shared: list = field(default_factory=list)   # host folders shown at the same path, writable (kernel sockets)
    extra_read: list = field(default_factory=list)  # (host, inside) read-only


def sandbox_argv(mounts: Mounts, command: list, env: dict | None = None, limits: Limits | None = None,
                 cgroup: str = "") -> list:
    """The full command line that runs ``command`` confined: limits, then bwrap, then the command.

    Parameters
    ----------
    mounts : Mounts
        What the sandbox sees besides the operating system and the Python environment.
    command : list of str
        The command run inside (paths as seen inside).
    env : dict, optional
        Its whole environment (nothing else is passed in).
    limits : Limits, optional
    cgroup : str, optional
        A process cgroup (from :func:`make_cgroup`) the sandbox joins.

    Examples
    --------
    >>> argv = sandbox_argv(Mounts(work=Path("/tmp/w")), ["python", "-c", "pass"])
    >>> "--unshare-all" in argv and argv[-3:] == ["python", "-c", "pass"]
    True
    """
    limits = limits or Limits()
    bwrap = shutil.which("bwrap") or "bwrap"
    paths = package_paths()
    args = [bwrap, "--die-with-parent", "--unshare-all", "--new-session", "--cap-drop", "ALL",
            "--uid", "1000", "--gid", "1000", "--hostname", "sandbox"]
    args += _system_binds()
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", str(MOUNT)]
    for path in paths["read"]:
        if path == MOUNT or MOUNT in path.parents:
            raise SandboxError(f"The Python environment lives under {MOUNT}, which the sandbox uses: install it elsewhere.")
        args += ["--ro-bind", str(path), str(path)]
    for path in paths["hide"]:
        if path.is_dir():
            args += ["--tmpfs", str(path)]
    args += ["--bind", str(mounts.work), str(MOUNT / "work")]
    if mounts.raw or mounts.reduced:
        args += ["--dir", str(MOUNT / "data")]
    for name, host in sorted(mounts.raw.items()):
        args += ["--ro-bind", str(host), str(MOUNT / "data" / name)]
    if mounts.reduced is not None:
        args += ["--bind", str(mounts.reduced), str(MOUNT / "data" / "reduced")]
    if mounts.outbox is not None:
        args += ["--bind", str(mounts.outbox), str(MOUNT / "outbox")]
    if mounts.inbox is not None:
        args += ["--ro-bind", str(mounts.inbox), str(MOUNT / "inbox")]
    for host in mounts.shared:
        args += ["--bind", str(host), str(host)]
    for host, inside in mounts.extra_read:
        args += ["--ro-bind", str(host), str(inside)]
    args += ["--remount-ro", "/", "--chdir", str(MOUNT / "work"), "--clearenv"]
    for key, value in sorted((env or {}).items()):
        args += ["--setenv", key, str(value)]
    confine = [sys.executable, "-m", "ccdlab.classroom.grading.confine", "--memory", str(limits.memory),
               "--processes", str(limits.processes), "--file-size", str(limits.file_size)]
    if cgroup:
        confine += ["--cgroup", cgroup]
    return [*confine, "--", *args, "--", *command]


def _pids_root() -> Path | None:
    """A cgroup (v1 pids controller, or a v2 hierarchy offering pids) we may create children in."""
    for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if root.is_dir() and os.access(root, os.W_OK):
            controllers = root / "cgroup.controllers"
            if root.name == "pids" or (controllers.is_file() and "pids" in controllers.read_text()):
                return root
    return None


def make_cgroup(processes: int) -> str:
    """A fresh process cgroup limited to ``processes`` (as root, where cgroups can be written), or ``""``.

    Examples
    --------
    >>> group = make_cgroup(64); remove_cgroup(group)
    """
    root = _pids_root()
    if root is None:
        return ""
    path = root / f"ccdlab-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(int(processes)))
    except OSError:
        remove_cgroup(str(path))
        return ""
    return str(path)


def remove_cgroup(path: str) -> None:
    """Kill whatever is left in a cgroup from :func:`make_cgroup`, then remove it.

    Examples
    --------
    >>> remove_cgroup("")
    """
    if not path:
        return
    folder = Path(path)
    for _ in range(50):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            pids = []
        for pid in pids:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            import time

            time.sleep(0.05)

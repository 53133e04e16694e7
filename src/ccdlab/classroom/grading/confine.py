"""Apply a sandbox's limits, then become bubblewrap: ``python -m ccdlab.classroom.grading.confine ... -- bwrap ...``.

Runs outside the sandbox (it is the grader's code): sets the resource limits every process of
the sandbox inherits (address space, file size, no core dumps, processes), joins a process cgroup
when one was made, and replaces itself with the ``bwrap`` command line that follows ``--``.

Examples
--------
>>> parse(["--memory", "1000", "--", "bwrap", "true"]).command
['bwrap', 'true']
"""

from __future__ import annotations

import argparse
import os
import resource
import sys

__all__ = ["parse", "apply_limits", "main"]


def parse(argv: list) -> argparse.Namespace:
    """The launcher's options; everything after ``--`` is the command.

    Examples
    --------
    >>> parse(["--processes", "9", "--", "x"]).processes
    9
    """
    if "--" not in argv:
        raise SystemExit("usage: python -m ccdlab.classroom.grading.confine [options] -- COMMAND...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="confine")
    parser.add_argument("--memory", type=int, default=4 * 2**30)
    parser.add_argument("--processes", type=int, default=256)
    parser.add_argument("--file-size", type=int, default=4 * 2**30)
    parser.add_argument("--cgroup", default="")
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1:]
    return args


def apply_limits(args: argparse.Namespace) -> None:
    """Set the limits on this process (inherited by the sandbox); join the cgroup when given.

    Examples
    --------
    >>> apply_limits(parse(["--memory", str(64 * 2**30), "--", "true"]))  # doctest: +SKIP
    """
    resource.setrlimit(resource.RLIMIT_AS, (args.memory, args.memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.file_size, args.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:  # RLIMIT_NPROC counts every process of this user, and never binds root
        running = sum(1 for entry in os.listdir("/proc") if entry.isdigit())
        resource.setrlimit(resource.RLIMIT_NPROC, (running + args.processes, running + args.processes))
    if args.cgroup:
        with open(os.path.join(args.cgroup, "cgroup.procs"), "w") as handle:
            handle.write(str(os.getpid()))


def main(argv: list | None = None) -> int:  # pragma: no cover - replaces itself with bwrap
    """Set the limits and exec the command.

    Examples
    --------
    >>> main(["--", "true"])  # doctest: +SKIP
    """
    args = parse(list(sys.argv[1:] if argv is None else argv))
    apply_limits(args)
    os.execv(args.command[0], args.command)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""What the benchmarks share: peak memory of this process, and running one case in a fresh one."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    On Linux, ``VmHWM`` from /proc/self/status: unlike ``ru_maxrss`` it starts afresh at exec, so a
    child does not inherit the peak of the process that started it. Memory-mapped file pages count.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def run_child(script: str, *args: str) -> dict | None:
    """Run ``script`` with ``args`` in a fresh Python; return the JSON its last line prints.

    A failing case prints the end of its error output and returns None, so the table goes on.
    """
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, env=dict(os.environ))
    if done.returncode != 0:
        print(f"  {' '.join(args)}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def case_result(folder, case: str, result, wall: float, import_rss_mb: float) -> dict:
    """Save a case's image for comparison and return its row: wall time, peak and import memory."""
    import numpy as np

    peak = peak_rss_mb()
    out = folder / f"result_{case}.npy"
    np.save(out, np.asarray(result, dtype=np.float32))
    return {"case": case, "wall_s": wall, "peak_rss_mb": peak, "import_rss_mb": import_rss_mb, "result": str(out)}

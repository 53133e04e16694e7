"""A JupyterLab server for the browser tests: 127.0.0.1, a random free port, a token, its own dirs.

It serves a copy of the student notebooks (the repository's ``notebooks/`` is never written to),
started with the same command line as ``ccdlab lab`` (:func:`ccdlab.commands.lab.lab_command`),
with ``CCDLAB_DATA`` pointing at the night the test made.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ccdlab.commands.lab import lab_command


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1 (the server moves on if it was taken since)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab: its URL, token, folders and process."""

    root: Path
    """The folder JupyterLab serves (a copy of the student notebooks)."""
    home: Path
    """Its own config, data, runtime, settings and workspaces folders live here."""
    data: Path
    """The night the kernels read (``CCDLAB_DATA``)."""
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen | None = None
    port: int = 0
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab", reset: bool = True) -> str:
        """The URL of ``path`` (e.g. ``lab/tree/02_statistics_display.ipynb``), token included; with ``reset``,
        JupyterLab starts from an empty workspace instead of reopening the tabs of an earlier page."""
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}{'&reset' if reset else ''}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "CCDLAB_", "IPYTHON")) and k not in ("MPLBACKEND", "PYTHONSTARTUP")}
        folders = {
            "JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings", "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
            "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "matplotlib",
        }
        for name, sub in folders.items():
            (self.home / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(self.home / sub)
        # No "official Jupyter news?" toast over the notebook, no update check (no internet here).
        notification = self.home / "lab-settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True, exist_ok=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env["CCDLAB_DATA"] = str(self.data)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout: float = 180.0) -> "LabServer":
        """Start JupyterLab and wait until its REST API answers (the real port is read from its runtime file)."""
        command = lab_command(self.root, port=free_port()) + [
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.port_retries=50",
            "--ServerApp.open_browser=False",
        ]
        env = self.environment()
        self.log_path = self.home / "jupyterlab.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        runtime = Path(env["JUPYTER_RUNTIME_DIR"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}; its log:\n{self.log()}")
            info = sorted(runtime.glob(f"jpserver-{self.process.pid}.json"))
            if info and not self.port:
                try:
                    self.port = int(json.loads(info[0].read_text())["port"])
                except (ValueError, KeyError):
                    pass  # written but not complete yet
            if self.port and self._answers():
                return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; its log:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/api/status?token={self.token}", timeout=5) as reply:
                return reply.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base_url}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """End every notebook session and its kernel (between tests: two cores, other work running)."""
        for session in self._api("sessions") or []:
            try:
                self._api(f"sessions/{session['id']}", method="DELETE")
            except (urllib.error.URLError, OSError):
                pass  # already gone

    def kernel_state(self, notebook: str) -> str | None:
        """The execution state the server reports for the kernel of ``notebook``'s session (None: no session)."""
        try:
            sessions = self._api("sessions")
        except (urllib.error.URLError, OSError, ValueError):
            return None
        for session in sessions or []:
            if session.get("path") == notebook and session.get("kernel"):
                return session["kernel"].get("execution_state")
        return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server (and its kernels): SIGTERM to its own process group, then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        import signal

        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass


def copy_notebooks(source: Path, dest: Path) -> Path:
    """Copy the student notebooks (``*.ipynb`` only) into ``dest``; return ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for notebook in sorted(source.glob("*.ipynb")):
        shutil.copy2(notebook, dest / notebook.name)
    return dest

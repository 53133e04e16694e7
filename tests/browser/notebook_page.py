"""Driving one notebook in JupyterLab through the page, as a student would: menus, clicks, keys.

Every wait is on the state of the page (the notebook's kernel indicator, the cells' execution
prompts, an output appearing), never a fixed sleep. Selectors are JupyterLab 4's (the same ones
JupyterLab's own UI tests, galata, rely on).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

#: How long a notebook may take to run from the top on a busy two-core machine (milliseconds).
RUN_TIMEOUT = 600_000
#: How long one cell, a page load or a widget redraw may take (milliseconds).
STEP_TIMEOUT = 180_000

#: The active notebook panel (one notebook is open per browser page in these tests).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

_RUN_STATE = """(panel) => {
  const root = document.querySelector(panel);
  if (!root) return null;
  const indicator = root.querySelector('.jp-Notebook-ExecutionIndicator');
  const prompts = [...root.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim());
  return {status: indicator ? indicator.dataset.status : null, prompts};
}"""

_READY = """([panel, cells]) => {
  const root = document.querySelector(panel);
  if (!root) return false;
  const kernel = root.querySelector('.jp-KernelName');
  const indicator = root.querySelector('.jp-Notebook-ExecutionIndicator');
  return !!kernel && kernel.textContent.trim() !== '' && kernel.textContent.trim() !== 'No Kernel'
    && !!indicator && indicator.dataset.status === 'idle'
    && root.querySelectorAll('.jp-Notebook-cell').length === cells;
}"""

_STARTED = """(panel) => {
  const root = document.querySelector(panel);
  return [...root.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].some(e => e.textContent.trim() !== '[ ]:');
}"""

_ALL_RAN = """(panel) => {
  const root = document.querySelector(panel);
  if (!root) return false;
  const indicator = root.querySelector('.jp-Notebook-ExecutionIndicator');
  const prompts = [...root.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim());
  return indicator && indicator.dataset.status === 'idle' && prompts.length > 0
    && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""

_CELL_RAN = """([panel, index, before]) => {
  const root = document.querySelector(panel);
  const cell = root && root.querySelectorAll('.jp-Notebook-cell')[index];
  if (!cell) return false;
  const indicator = root.querySelector('.jp-Notebook-ExecutionIndicator');
  const prompt = cell.querySelector('.jp-InputArea-prompt').textContent.trim();
  return indicator.dataset.status === 'idle' && /^\\[\\d+\\]:$/.test(prompt) && prompt !== before;
}"""

_IMAGE_DIGEST = """async (img) => {
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [bytes.length, [...digest].map(b => b.toString(16).padStart(2, '0')).join('')];
}"""


class NotebookPage:
    """One student notebook open in JupyterLab in a browser page.

    Parameters
    ----------
    page : playwright.sync_api.Page
    server : labserver.LabServer
    name : str
        The notebook's file name, e.g. ``"02_statistics_display.ipynb"``.
    artifacts : Path
        Where screenshots go.
    """

    def __init__(self, page, server, name: str, artifacts: Path):
        self.page, self.server, self.name, self.artifacts = page, server, name, artifacts
        self.panel = page.locator(PANEL)
        self.screenshots: list[Path] = []

    # -- opening and running ---------------------------------------------------------------------

    def open(self) -> "NotebookPage":
        """Load JupyterLab on the notebook; wait until every cell is shown and its kernel is started and idle.

        The toolbar's execution indicator says "idle" before a kernel exists (the kernel name then reads
        "No Kernel"), so readiness is: a kernel name, the indicator idle, all cells on the page, and the
        server's session for this notebook idle.
        """
        cells = len(json.loads((self.server.root / self.name).read_text())["cells"])
        self.page.goto(self.server.url(f"lab/tree/{self.name}"), timeout=STEP_TIMEOUT)
        try:
            self.page.wait_for_function(_READY, arg=[PANEL, cells], timeout=STEP_TIMEOUT, polling=250)
            waited = 0
            while self.server.kernel_state(self.name) != "idle":
                assert waited < STEP_TIMEOUT, f"the server's kernel for {self.name} is not idle"
                self.page.wait_for_timeout(250)
                waited += 250
            self.page.wait_for_function(_READY, arg=[PANEL, cells], timeout=STEP_TIMEOUT, polling=250)
        except Exception as error:
            raise AssertionError(f"{self.name}: JupyterLab did not show the notebook with an idle kernel within "
                                 f"{STEP_TIMEOUT // 1000} s; state: {self.run_state()}") from error
        return self

    def run_state(self) -> dict:
        """The kernel indicator's status and every code cell's prompt (``[ ]:``, ``[*]:``, ``[3]:``)."""
        return self.page.evaluate(_RUN_STATE, PANEL)

    def run_all(self) -> None:
        """Run > Run All Cells from JupyterLab's menu bar; wait until every code cell has run."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells")).click()
        try:
            self.page.wait_for_function(_STARTED, arg=PANEL, timeout=STEP_TIMEOUT, polling=250)
        except Exception as error:
            raise AssertionError(f"{self.name}: Run All Cells started nothing; state: {self.run_state()}") from error
        try:
            self.page.wait_for_function(_ALL_RAN, arg=PANEL, timeout=RUN_TIMEOUT, polling=500)
        except Exception as error:
            raise AssertionError(f"{self.name}: not every cell ran within {RUN_TIMEOUT // 1000} s; "
                                 f"state: {self.run_state()}") from error

    # -- cells -----------------------------------------------------------------------------------

    def cells(self):
        return self.panel.locator(".jp-Notebook-cell")

    def cell_index(self, marker: str) -> int:
        """The index of the code cell whose source contains ``marker`` (exactly one must)."""
        sources = self.page.evaluate(
            """(panel) => [...document.querySelector(panel).querySelectorAll('.jp-Notebook-cell')].map(
                 c => c.classList.contains('jp-CodeCell') ? [...c.querySelectorAll('.cm-content .cm-line')]
                      .map(l => l.textContent).join('\\n') : '')""", PANEL)
        found = [i for i, source in enumerate(sources) if marker in source]
        assert len(found) == 1, f"{self.name}: expected one code cell containing {marker!r}, found {len(found)}"
        return found[0]

    def cell(self, index: int):
        return self.cells().nth(index)

    def editor_lines(self, index: int) -> list[str]:
        return self.cell(index).locator(".cm-content .cm-line").all_text_contents()

    def type_into_cell(self, index: int, text: str) -> None:
        """Select the cell, select its whole text with the keyboard and type ``text`` over it.

        The editor indents a line that continues an open bracket by itself; Python ignores that
        indentation, so the typed cell is checked line by line, stripped, and for the lines that
        must start a statement (no indentation in ``text``), unindented.
        """
        cell = self.cell(index)
        cell.scroll_into_view_if_needed(timeout=STEP_TIMEOUT)
        cell.locator(".cm-content").click(timeout=STEP_TIMEOUT)
        cell.locator(".jp-InputArea-editor.jp-mod-focused").wait_for(timeout=STEP_TIMEOUT)
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.type(text)
        typed = self.editor_lines(index)
        wanted = text.split("\n")
        same = (len(typed) == len(wanted)
                and all(a.strip() == b.strip() for a, b in zip(typed, wanted))
                and all(a == a.lstrip() for a, b in zip(typed, wanted) if b == b.lstrip()))
        assert same, f"{self.name}: the cell's editor holds\n{chr(10).join(typed)}\ninstead of\n{text}"

    def run_cell_from_editor(self, index: int) -> None:
        """Shift+Enter in the cell being edited; wait until it has run (a new execution count, kernel idle)."""
        before = self.cell(index).locator(".jp-InputArea-prompt").text_content().strip()
        self.page.keyboard.press("Shift+Enter")
        try:
            self.page.wait_for_function(_CELL_RAN, arg=[PANEL, index, before], timeout=STEP_TIMEOUT, polling=250)
        except Exception as error:
            raise AssertionError(f"{self.name}: cell {index} did not finish within {STEP_TIMEOUT // 1000} s; "
                                 f"state: {self.run_state()}") from error

    # -- outputs ---------------------------------------------------------------------------------

    def feedback(self, index: int):
        """The ccdlab feedback block(s) rendered as HTML in the cell's output."""
        return self.cell(index).locator(
            ".jp-OutputArea-output[data-mime-type='text/html'] .ccdlab-feedback")

    def error_outputs(self) -> list[str]:
        """The text of every output on the page that shows an error (a traceback or an exception line)."""
        texts = self.panel.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_text_contents()
        texts += [t for t in self.panel.locator(".jp-RenderedText").all_text_contents() if "Traceback" in t]
        return [t for t in texts if re.search(r"Traceback|Error\b|Exception\b", t)]

    def save(self) -> dict:
        """Save with Ctrl+S (command mode) and return the notebook as JupyterLab wrote it to disk."""
        path = self.server.root / self.name
        before = path.stat().st_mtime_ns
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            """(panel) => !document.querySelector(panel + ' .jp-mod-dirty') &&
                          !document.querySelector('.lm-TabBar-tab.lm-mod-current.jp-mod-dirty')""",
            arg=PANEL, timeout=STEP_TIMEOUT, polling=250)
        assert path.stat().st_mtime_ns != before, f"{self.name} was not saved"
        return json.loads(path.read_text())

    def image_digest(self, image) -> tuple[int, str]:
        """(size in bytes, SHA-256) of the picture an ``<img>`` element shows, fetched by the page itself."""
        length, digest = image.evaluate(_IMAGE_DIGEST)
        return int(length), digest

    # -- artifacts -------------------------------------------------------------------------------

    def screenshot(self, label: str, target=None) -> Path:
        """Save a PNG of the page (or of one element) as ``<artifacts>/<notebook>-<label>.png``."""
        path = self.artifacts / f"{Path(self.name).stem}-{label}.png"
        if target is None:
            self.page.screenshot(path=path)
        else:
            target.scroll_into_view_if_needed(timeout=STEP_TIMEOUT)
            target.screenshot(path=path, timeout=STEP_TIMEOUT)
        self.screenshots.append(path)
        print(f"screenshot: {path}")
        return path


def solution_answer(solution: Path, exercise: str) -> str:
    """The exercise cell of a solution notebook as a student who got it right would have it: the solution's
    own lines, without the ``### BEGIN/END SOLUTION`` markers.

    The right answers come from ``solutions/``, the course's single source of truth, so this test
    follows the course when an exercise changes.
    """
    notebook = json.loads(solution.read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"# EXERCISE {exercise} "):
            return "\n".join(line for line in source.splitlines()
                             if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    raise AssertionError(f"{solution.name} has no cell '# EXERCISE {exercise} ...'")

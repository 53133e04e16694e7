"""The browser test's set-up: Chromium through Playwright, and a JupyterLab on a copy of the student notebooks.

These tests run only when the command line names this folder (or a file in it), as
``make test-browser`` does: a plain ``pytest`` (``make test``, ``make test-fast``) does not even
collect them, so it needs neither Playwright nor a browser. When they run and something they need
is missing, they fail with one sentence saying what and how to get it; they never skip.

The browser is Debian's ``chromium`` (``make test-browser`` installs it with apt-get when it can),
or the executable named by ``CCDLAB_CHROMIUM``; Playwright drives it through
``executable_path``, so no browser is downloaded. Screenshots go to ``artifacts/browser/`` (or
``CCDLAB_BROWSER_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

#: Executables tried, in order, when CCDLAB_CHROMIUM is not set.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

HOW_TO_GET_CHROMIUM = ("run 'make test-browser' as root on Debian or Ubuntu (it installs the chromium "
                       "package with apt-get), or 'sudo apt-get install chromium', or set CCDLAB_CHROMIUM "
                       "to a Chromium or Chrome executable")


def _named_on_command_line(config) -> bool:
    for arg in config.invocation_params.args:
        if arg.startswith("-"):
            continue
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    """Leave this folder out of every run that does not name it (``make test`` runs plain ``pytest``)."""
    if not _named_on_command_line(config):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def chromium_executable() -> str:
    """The Chromium to drive: CCDLAB_CHROMIUM, else the first of CHROMIUM_NAMES on PATH; fails with a sentence."""
    given = os.environ.get("CCDLAB_CHROMIUM")
    if given:
        found = shutil.which(given)
        if not found:
            pytest.fail(f"CCDLAB_CHROMIUM={given} is not an executable: {HOW_TO_GET_CHROMIUM}.", pytrace=False)
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"The browser test needs Chromium and none is installed ({', '.join(CHROMIUM_NAMES)} are not on "
                f"PATH): {HOW_TO_GET_CHROMIUM}.", pytrace=False)


#: The screenshot folder, once this run has emptied it (for the terminal summary).
_USED_ARTIFACTS: list[Path] = []


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (emptied of the last run's PNGs first)."""
    folder = Path(os.environ.get("CCDLAB_BROWSER_ARTIFACTS", ROOT / "artifacts" / "browser")).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    _USED_ARTIFACTS.append(folder)
    return folder


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, launched by Playwright from the system's executable (nothing downloaded)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None:
        pytest.fail("The browser test needs Playwright's Python API, which is not installed: run "
                    "'make test-browser' (it installs it), or pip install -e '.[browser]'.", pytrace=False)
    executable = chromium_executable()
    with sync_playwright() as playwright:
        problem = None
        try:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, timeout=180_000)
        except PlaywrightError as error:
            problem = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if problem:
            pytest.fail(f"Playwright could not start {executable} ({problem}): {HOW_TO_GET_CHROMIUM}.", pytrace=False)
        print(f"\nbrowser: {executable} (Chromium {chromium.version}), Playwright driving it headless")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def night(tmp_path_factory) -> Path:
    """A tiny synthetic night of the browser test's own (the kernels may write reduced/ into it)."""
    from ccdlab.data.fetch import fetch_default

    dest = tmp_path_factory.mktemp("browser") / "night"
    fetch_default(dest=dest, size="tiny", progress=False)
    return dest


@pytest.fixture(scope="session")
def lab(tmp_path_factory, night):
    """JupyterLab on 127.0.0.1 (random port, a token, its own dirs) serving a copy of notebooks/."""
    from labserver import LabServer, copy_notebooks

    base = tmp_path_factory.mktemp("lab")
    server = LabServer(root=copy_notebooks(ROOT / "notebooks", base / "notebooks"), home=base / "home",
                       data=night)
    server.start()
    print(f"\nJupyterLab: {server.base_url} serving {server.root}, CCDLAB_DATA={night}, log {server.log_path}")
    yield server
    server.stop()


@pytest.fixture
def page(browser, lab, request):
    """A fresh browser page (1400 x 1400: the stretch explorer fits); the page's uncaught errors are printed when the
    test ends, and its notebooks' kernels shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.set_default_timeout(180_000)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    yield page
    for message in page_errors:
        print(f"page error in {request.node.name}: {message}")
    context.close()
    lab.shutdown_sessions()


def pytest_terminal_summary(terminalreporter, config):
    """List the screenshots this run saved."""
    shots = sorted(shot for folder in _USED_ARTIFACTS for shot in folder.glob("*.png"))
    if shots:
        terminalreporter.section("browser test screenshots")
        for shot in shots:
            terminalreporter.write_line(str(shot))

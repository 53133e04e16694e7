"""Student notebooks in a real browser: JupyterLab, Chromium, the tiny night, run through the page.

What a student sees is checked where a student sees it: the ✔/✘ feedback renders as HTML (its
``ccdlab-feedback`` block, its hints as a list, wrapped as text), for answers typed into the cell
through the page's editor; the stretch explorer's widgets render and moving them redraws the
picture; and no cell shows an error, neither on the page nor in the notebook JupyterLab saves.

Run with ``make test-browser`` (``pytest tests/browser``); see ``conftest.py`` here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from notebook_page import STEP_TIMEOUT, NotebookPage, solution_answer

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"

#: True once an <img> shows a picture whose SHA-256 differs from the one given.
PICTURE_CHANGED = """async ([img, before]) => {
  if (!img.src || !img.complete) return false;
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map(b => b.toString(16).padStart(2, '0')).join('') !== before;
}"""


def assert_no_errors(notebook: NotebookPage) -> None:
    """No output on the page shows an error, and the saved notebook has no error output."""
    shown = notebook.error_outputs()
    assert not shown, f"{notebook.name} shows errors in the browser:\n" + "\n---\n".join(shown)
    saved = notebook.save()
    errors = [(cell.get("execution_count"), output.get("ename"), output.get("evalue"))
              for cell in saved["cells"] for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, f"{notebook.name}, as JupyterLab saved it, has error outputs: {errors}"


def assert_feedback(notebook: NotebookPage, index: int, status, exercise: str):
    """The cell's output is ccdlab's HTML feedback with ``status`` (``correct``, ``incorrect``..., or a tuple of
    those: any of them); return it."""
    statuses = (status,) if isinstance(status, str) else tuple(status)
    feedback = notebook.feedback(index)
    feedback.first.wait_for(timeout=STEP_TIMEOUT)
    assert feedback.count() == 1, f"{notebook.name}: cell {index} shows {feedback.count()} feedback blocks"
    block = feedback.first
    classes = block.get_attribute("class").split()
    shown = [s for s in statuses if f"ccdlab-{s}" in classes]
    assert shown, (f"{notebook.name}: Exercise {exercise} shows {classes} instead of "
                   f"{' or '.join('ccdlab-' + s for s in statuses)}: {block.inner_text()!r}")
    text = block.inner_text()
    assert f"Exercise {exercise}" in text, text
    mark = {"correct": "✔", "incorrect": "✘", "partial": "✘", "not-attempted": "…"}[shown[0]]
    assert text.lstrip().startswith(mark), f"{notebook.name}: Exercise {exercise}'s feedback starts {text[:20]!r}"
    # HTML, not the plain-text form: no <pre> rendering of the same verdict beside it.
    plain = notebook.cell(index).locator(".jp-OutputArea-output[data-mime-type='text/plain']")
    assert not [t for t in plain.all_text_contents() if f"Exercise {exercise}" in t], \
        f"{notebook.name}: Exercise {exercise}'s feedback is shown as plain text"
    # The hint wraps at word boundaries like prose (the text form in a <pre> would not).
    assert block.evaluate("e => getComputedStyle(e).whiteSpace") == "normal"
    return block


def open_and_run(page, lab, artifacts, name: str) -> NotebookPage:
    notebook = NotebookPage(page, lab, name, artifacts).open()
    notebook.run_all()
    return notebook


def test_lesson00_runs_and_a_right_answer_gets_a_tick(page, lab, artifacts):
    """Lesson 00 runs from the top without an error; the blank exercise says 'not attempted' and a right
    answer typed into its cell gets ✔ as HTML."""
    notebook = open_and_run(page, lab, artifacts, "00_getting_started.ipynb")
    notebook.screenshot("after-run-all")
    index = notebook.cell_index("# EXERCISE 0.1 ")
    assert_feedback(notebook, index, "not-attempted", "0.1")
    assert_no_errors(notebook)

    notebook.type_into_cell(index, solution_answer(SOLUTIONS / "00_getting_started.ipynb", "0.1"))
    notebook.run_cell_from_editor(index)
    block = assert_feedback(notebook, index, "correct", "0.1")
    notebook.screenshot("0.1-right", block)
    notebook.screenshot("0.1-right-page")
    assert_no_errors(notebook)


def test_lesson01_a_wrong_answer_gets_a_cross_with_a_hint_then_a_right_one_a_tick(page, lab, artifacts):
    """Lesson 01: x and y swapped (NAXIS2 for x) typed into Exercise 1.1 gets ✘ with a hint as HTML; the
    right answer then gets ✔; no cell shows an error."""
    notebook = open_and_run(page, lab, artifacts, "01_fits_files.ipynb")
    index = notebook.cell_index("# EXERCISE 1.1 ")
    assert_feedback(notebook, index, "not-attempted", "1.1")
    assert_no_errors(notebook)

    right = solution_answer(SOLUTIONS / "01_fits_files.ipynb", "1.1")
    wrong = right.replace('"NAXIS1"', '"@X@"').replace('"NAXIS2"', '"NAXIS1"').replace('"@X@"', '"NAXIS2"')
    assert wrong != right, "the solution of 1.1 no longer reads NAXIS1/NAXIS2: update this test's wrong answer"
    notebook.type_into_cell(index, wrong)
    notebook.run_cell_from_editor(index)
    block = assert_feedback(notebook, index, "incorrect", "1.1")
    hints = block.locator("li").all_inner_texts()
    assert hints, f"Exercise 1.1's ✘ has no hint: {block.inner_text()!r}"
    assert any(re.search(r"\bx\b|\by\b|NAXIS|swap", hint) for hint in hints), hints
    notebook.screenshot("1.1-wrong", block)
    notebook.screenshot("1.1-wrong-page")

    notebook.type_into_cell(index, right)
    notebook.run_cell_from_editor(index)
    block = assert_feedback(notebook, index, "correct", "1.1")
    notebook.screenshot("1.1-right", block)
    assert_no_errors(notebook)


def test_lesson02_feedback_and_the_stretch_explorer(page, lab, artifacts):
    """Lesson 02 runs without an error; a wrong then a right Exercise 2.1 get ✘ then ✔; the stretch explorer's
    widgets render, and clicking a stretch, moving the percentile slider and choosing a mode redraw the picture."""
    notebook = open_and_run(page, lab, artifacts, "02_statistics_display.ipynb")
    assert_no_errors(notebook)

    # The stretch explorer: its controls and its picture, rendered by ipywidgets in the page.
    index = notebook.cell_index("stretch_explorer(")
    output = notebook.cell(index).locator(".jp-OutputArea-output")
    explorer = output.locator(".widget-vbox").first
    explorer.wait_for(timeout=STEP_TIMEOUT)
    picture = explorer.locator("img.widget-image")
    picture.wait_for(timeout=STEP_TIMEOUT)
    for label in ("zscale", "percentile", "vmin / vmax", "linear", "sqrt", "log", "asinh"):
        assert explorer.locator(".widget-toggle-button", has_text=re.compile(f"^{re.escape(label)}$")).count() == 1, label
    sliders = explorer.locator(".widget-slider")
    assert sliders.count() == 2, f"expected the percentile and the vmin/vmax sliders, found {sliders.count()}"
    status = explorer.locator(".widget-html")
    notebook.screenshot("explorer-start", explorer)

    def redrawn_after(action, description):
        """Do ``action`` through the page; wait until the readout and then the picture's bytes change."""
        before_picture, before_status = notebook.image_digest(picture), status.inner_text()
        action()
        try:
            page.wait_for_function("([element, text]) => element.innerText !== text",
                                   arg=[status.element_handle(), before_status], timeout=STEP_TIMEOUT, polling=250)
            page.wait_for_function(PICTURE_CHANGED, arg=[picture.element_handle(), before_picture[1]],
                                   timeout=STEP_TIMEOUT, polling=500)
        except Exception as error:
            raise AssertionError(f"the explorer did not redraw after {description}: readout "
                                 f"{status.inner_text()!r} (was {before_status!r})") from error
        return status.inner_text()

    text = redrawn_after(lambda: explorer.locator(".widget-toggle-button", has_text=re.compile("^log$")).click(),
                         "clicking the 'log' stretch")
    assert "log stretch" in text, text
    notebook.screenshot("explorer-log", explorer)

    percentile = sliders.filter(has_text="percentile")
    handle = percentile.locator(".noUi-handle")
    start = float(handle.get_attribute("aria-valuenow"))

    def drag_percentile_left():
        handle.scroll_into_view_if_needed(timeout=STEP_TIMEOUT)
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 100, y, steps=10)
        page.mouse.up()

    text = redrawn_after(drag_percentile_left, "dragging the percentile slider")
    assert "percentile" in text, text
    moved = float(handle.get_attribute("aria-valuenow"))
    assert moved < start, f"the percentile slider reads {moved} after dragging it left from {start}"
    assert float(percentile.locator(".widget-readout").inner_text()) == pytest.approx(moved)
    notebook.screenshot("explorer-percentile", explorer)

    text = redrawn_after(lambda: explorer.locator(".widget-toggle-button", has_text=re.compile("^zscale$")).click(),
                         "clicking the 'zscale' mode")
    assert "zscale" in text, text
    notebook.screenshot("explorer-zscale", explorer)

    # Exercise 2.1: a wrong answer (the median for the mean), then the right one, typed through the page.
    index = notebook.cell_index("# EXERCISE 2.1 ")
    right = solution_answer(SOLUTIONS / "02_statistics_display.ipynb", "2.1")
    wrong = re.sub(r"^mean = .*$", "mean = np.median(bias_data)", right, count=1, flags=re.M)
    assert wrong != right, "the solution of 2.1 no longer has a 'mean = ...' line: update this test's wrong answer"
    notebook.type_into_cell(index, wrong)
    notebook.run_cell_from_editor(index)
    block = assert_feedback(notebook, index, ("incorrect", "partial"), "2.1")
    notebook.screenshot("2.1-wrong", block)
    notebook.type_into_cell(index, right)
    notebook.run_cell_from_editor(index)
    block = assert_feedback(notebook, index, "correct", "2.1")
    notebook.screenshot("2.1-right", block)
    assert_no_errors(notebook)

"""How a verdict reads: compact HTML in Jupyter, plain text in a terminal or a grading log.

The ✔/✘ line, then each hint (wrapped at word boundaries), then, when a reference is handed back,
a line that labels it clearly as the reference, which earns no points. Both forms are sent
together (``text/html`` and ``text/plain``), so every front end shows the best one it can.

Examples
--------
>>> from ccdlab.course.judge import Verdict
>>> print(feedback_text(Verdict("1.1", "01_fits_files", "correct", 1.0)))
✔ Exercise 1.1: correct. Well done!
"""

from __future__ import annotations

import html
import sys

__all__ = ["MARKS", "feedback_text", "feedback_html", "show"]

#: The mark of each status.
MARKS = {"correct": "✔", "partial": "✘", "incorrect": "✘", "not attempted": "…", "error": "⚠"}

_COLOURS = {"correct": "#1a7f37", "partial": "#b35900", "incorrect": "#cf222e", "not attempted": "#57606a",
            "error": "#9a6700"}


def _headline(verdict) -> str:
    if verdict.status == "correct":
        return f"Exercise {verdict.exercise}: correct. Well done!"
    if verdict.status == "not attempted":
        return (f"Exercise {verdict.exercise}: not attempted yet. Replace each `...` with your answer and run "
                "the cell again.")
    if verdict.status == "error":
        return verdict.message or f"Exercise {verdict.exercise} could not be checked."
    counted = sum(1 for v in verdict.parts.values() if v == "right")
    total = len(verdict.parts)
    return f"Exercise {verdict.exercise}: not yet{f' ({counted} of {total} right)' if total > 1 else ''}."


def _reference_note(verdict) -> str:
    if not verdict.references:
        return ""
    listed = ", ".join(verdict.references)
    return (f"Using the reference value for {listed} so the rest of the notebook can run "
            "(a reference earns no points).")


def feedback_text(verdict, note: str = "") -> str:
    """The feedback as plain text: one line per hint (a terminal wraps them; logs and searches keep them whole).

    Parameters
    ----------
    verdict : ccdlab.course.judge.Verdict
    note : str
        An extra line (e.g. from the grader: "not counted: ...").

    Examples
    --------
    >>> from ccdlab.course.judge import Verdict
    >>> v = Verdict("3.2", "03_master_bias", "incorrect", 0.0, parts={"master_bias": "wrong"},
    ...             hints=["That is the mean: take the median."], references=["master_bias"])
    >>> print(feedback_text(v))
    ✘ Exercise 3.2: not yet.
       - That is the mean: take the median.
       → Using the reference value for master_bias so the rest of the notebook can run (a reference earns no points).
    """
    lines = [f"{MARKS[verdict.status]} {_headline(verdict)}"]
    lines += [f"   - {hint}" for hint in verdict.hints]
    lines += [f"   → {extra}" for extra in (_reference_note(verdict), note) if extra]
    return "\n".join(lines)


def feedback_html(verdict, note: str = "") -> str:
    """The feedback as a compact HTML block (colour by status, hints as a list, the reference labelled).

    Examples
    --------
    >>> from ccdlab.course.judge import Verdict
    >>> "Well done" in feedback_html(Verdict("1.1", "01_fits_files", "correct", 1.0))
    True
    """
    colour = _COLOURS[verdict.status]
    head = html.escape(_headline(verdict))
    body = "".join(f"<li>{html.escape(h)}</li>" for h in verdict.hints)
    parts = [f'<div class="ccdlab-feedback ccdlab-{verdict.status.replace(" ", "-")}" style="border-left:4px solid {colour};'
             'padding:4px 10px;margin:4px 0;line-height:1.4;white-space:normal;overflow-wrap:break-word;max-width:60em">',
             f'<div><span style="color:{colour};font-weight:bold">{MARKS[verdict.status]}</span> {head}</div>']
    if body:
        parts.append(f'<ul style="margin:2px 0 2px 1.2em;padding:0">{body}</ul>')
    reference = _reference_note(verdict)
    if reference:
        parts.append(f'<div style="color:#57606a"><b>Reference:</b> {html.escape(reference)}</div>')
    if note:
        parts.append(f'<div style="color:#57606a">{html.escape(note)}</div>')
    parts.append("</div>")
    return "".join(parts)


def show(verdict, note: str = "") -> None:
    """Show the feedback: HTML and text together in IPython, the text alone elsewhere.

    Examples
    --------
    >>> from ccdlab.course.judge import Verdict
    >>> show(Verdict("0.1", "00_getting_started", "not attempted", 0.0))
    … Exercise 0.1: not attempted yet. Replace each `...` with your answer and run the cell again.
    """
    text = feedback_text(verdict, note)
    shell = None
    if "IPython" in sys.modules:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display({"text/plain": text, "text/html": feedback_html(verdict, note)}, raw=True)
    else:
        print(text)
        sys.stdout.flush()

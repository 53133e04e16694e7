"""A feedback page for each student (``ccdlab grade ... --feedback DIR``), safe to e-mail.

For every student of the batch, ``DIR/NAME.html`` and its markdown twin ``DIR/NAME.md``: their
course total out of the whole course (a lesson not handed in is a visible 0), then lesson by lesson
each exercise with its points, its status and the hint the check gave them; their written answers
with the points and comment the instructor gave (or "waiting for the instructor's points"); and,
with ``--feedback-solutions``, the solution of each exercise not fully right (the solution notebook's
code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and the model answer of each written
answer that did not get full points.

Safe to send as it is:

- only that student's grades: no other student's name, grade or answer (the report's notes, which
  may name classmates, e.g. numbers copied from another's night, stay in the instructor's report);
- no path of the instructor's machine: the file names of the hand-in only, and any other absolute
  path in a message is shortened to its last part (paths inside the sandbox, ``/sandbox/...``, are
  what the notebook itself saw and stay);
- everything a student wrote (answers, names, the text of their exceptions) is escaped: in the HTML
  with :func:`html.escape`, in the markdown as fenced code or escaped text, so a ``<script>`` in an
  answer is shown, never run. Only the course's own text (the questions and model answers of the
  solutions) is quoted as markdown.
"""

from __future__ import annotations

import html
import os
import re
from collections import defaultdict
from pathlib import Path

from ccdlab.classroom.grading.identify import safe_name
from ccdlab.classroom.grading.report import course_lessons, course_totals
from ccdlab.files import atomic_write_text

__all__ = ["feedback_for", "page_markdown", "page_html", "write_feedback", "scrub_paths"]

_PATH = re.compile(r"(?<![\w.~/…])(?:~/|/)(?:[^\s'\"<>()\[\],;:|/]+/)+[^\s'\"<>()\[\],;:|/]*")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#!])")


def _number(value: float) -> str:
    return f"{float(value):.4g}"


def scrub_paths(text: str, known=()) -> str:
    """Shorten every absolute path of the grader's machine in a message to its last part.

    Parameters
    ----------
    text : str
    known : iterable of path-like
        Folders to remove first (e.g. the solutions and data folders, even with spaces in them).

    Examples
    --------
    >>> scrub_paths("No such file: '/home/prof/course/data/bias/b1.fits' (see /sandbox/data/bias/b1.fits), 1/0")
    "No such file: '…/b1.fits' (see /sandbox/data/bias/b1.fits), 1/0"
    """
    text = str(text)
    for folder in sorted({str(f) for f in known if f}, key=len, reverse=True):
        text = text.replace(folder.rstrip(os.sep) + os.sep, "…/").replace(folder, "…")

    def shorten(match):
        path = match.group(0)
        if path.startswith("/sandbox/") or path == "/sandbox":
            return path
        return "…/" + path.rstrip("/").rsplit("/", 1)[-1]

    return _PATH.sub(shorten, text)


def _md_text(text) -> str:
    """Text for a markdown line or table cell: one line, HTML escaped, markdown punctuation escaped."""
    one_line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def _md_block(text: str, language: str = "") -> list:
    """A fenced block (longer than any run of backticks inside): shown as written, never interpreted."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text, fence]


def _md_quote(text: str) -> list:
    """The course's own text (a question, a model answer, from the solutions) as a markdown quote."""
    return [f"> {line}".rstrip() for line in text.split("\n")]


def feedback_for(book, student: str, solutions: bool = False) -> dict:
    """What one student's page says, as data (no other student's, no instructor path).

    Returns
    -------
    dict
        ``student``, ``total`` (from :func:`~ccdlab.classroom.grading.report.course_totals`) and
        ``lessons``: for each course lesson, ``{"name", "handed_in", "points", "max_points", "file",
        "status", "exercises": [...], "written": [...]}``.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> feedback_for(GradeBook(), "ada")["lessons"]
    []
    """
    settings = book.settings or {}
    known = [settings.get("data"), settings.get("solutions")]
    for sub in book.submissions:
        known += [Path(sub.path).parent, Path(sub.path).resolve().parent]
    total = next((t for t in course_totals(book) if t["student"] == student), None)
    subs = defaultdict(list)
    for sub in book.submissions:
        if sub.student == student:
            subs[sub.lesson].append(sub)
    lessons = []
    for lesson in course_lessons(book):
        handed = sorted(subs.get(lesson.name, []), key=lambda s: -s.points)
        entry = {"name": lesson.name, "handed_in": bool(handed), "points": 0.0, "max_points": lesson.total_points,
                 "file": "", "status": "", "exercises": [], "written": []}
        if handed:
            sub = handed[0]  # the notebook that counts (the better one, as in the report)
            entry.update(points=sub.points, file=Path(sub.path).name)
            if sub.status not in ("completed", ""):
                entry["status"] = scrub_paths(f"{sub.status}: {sub.message}".strip().rstrip(":"), known)
            for row in sub.rows:
                if row.written:
                    question = next((q for q in lesson.written if q.id == row.exercise), None)
                    full = row.status == "graded" and row.points >= row.max_points
                    missed = (row.status == "graded" and not full) or row.status == "not attempted"
                    entry["written"].append({
                        "id": row.exercise, "title": row.title, "points": row.points, "max_points": row.max_points,
                        "status": row.status, "prompt": question.prompt if question else "", "answer": row.answer,
                        "comment": scrub_paths(row.hint, known),
                        "model_answer": question.model_answer if (solutions and question and missed) else ""})
                else:
                    missed = row.status != "correct" or row.points < row.max_points
                    entry["exercises"].append({
                        "id": row.exercise, "title": row.title, "points": row.points, "max_points": row.max_points,
                        "status": row.status, "hint": scrub_paths(" ".join(str(row.hint).split()), known),
                        "solution": lesson.solutions.get(row.exercise, "") if (solutions and missed) else ""})
        lessons.append(entry)
    return {"student": student, "total": total, "lessons": lessons}


def _written_state(item: dict) -> str:
    if item["status"] == "ungraded":
        return f"waiting for the instructor's points (out of {_number(item['max_points'])})"
    return f"{_number(item['points'])}/{_number(item['max_points'])}"


def page_markdown(page: dict) -> str:
    """One student's feedback as markdown (everything the student wrote in fenced blocks or escaped).

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> page_markdown(feedback_for(GradeBook(), "ada")).splitlines()[0]
    '# Feedback for ada'
    """
    total = page["total"]
    out = [f"# Feedback for {_md_text(page['student'])}", ""]
    if total:
        out += [f"Course total so far: **{_number(total['points'])} of {_number(total['max_points'])} points** "
                f"({total['percent']:.0f}%)" + (f", with {_number(total['ungraded'])} points of written answers still "
                                                  "to be graded." if total["ungraded"] else "."), ""]
    out += ["| lesson | points | notebook |", "| --- | --- | --- |"]
    for lesson in page["lessons"]:
        notebook = _md_text(lesson["file"]) if lesson["handed_in"] else "not handed in"
        out.append(f"| {_md_text(lesson['name'])} | {_number(lesson['points'])}/{_number(lesson['max_points'])} | {notebook} |")
    for lesson in page["lessons"]:
        if not lesson["handed_in"]:
            continue
        out += ["", f"## {_md_text(lesson['name'])}: {_number(lesson['points'])} of {_number(lesson['max_points'])} points", ""]
        if lesson["status"]:
            out += [f"The notebook did not run to its end: {_md_text(lesson['status'])}", ""]
        if lesson["exercises"]:
            out += ["| exercise | points | result | hint |", "| --- | --- | --- | --- |"]
            out += [f"| {_md_text(e['id'])} {_md_text(e['title'])} | {_number(e['points'])}/{_number(e['max_points'])} | "
                    f"{_md_text(e['status'])} | {_md_text(e['hint'])} |" for e in lesson["exercises"]]
        for item in lesson["written"]:
            out += ["", f"### Written answer {_md_text(item['id'])} {_md_text(item['title'])}: {_md_text(_written_state(item))}", ""]
            if item["prompt"]:
                out += _md_quote(item["prompt"]) + [""]
            out += ["Your answer:", ""] + _md_block(item["answer"] or "(no answer)")
            if item["comment"]:
                out += ["", f"{'Comment: ' if item['status'] == 'graded' else ''}{_md_text(item['comment'])}"]
            if item["model_answer"]:
                out += ["", "A model answer:", ""] + _md_quote(item["model_answer"])
        solved = [e for e in lesson["exercises"] if e["solution"]]
        if solved:
            out += ["", "### Solutions of the exercises not fully right", ""]
            for e in solved:
                out += [f"Exercise {_md_text(e['id'])} {_md_text(e['title'])}:", ""] + _md_block(e["solution"], "python") + [""]
    return "\n".join(out).rstrip() + "\n"


def page_html(page: dict) -> str:
    """One student's feedback as a standalone HTML page (everything escaped).

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> "<h1>Feedback for &lt;b&gt;</h1>" in page_html(feedback_for(GradeBook(), "<b>"))
    True
    """
    e = html.escape
    total = page["total"]
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
             "vertical-align:top}th{background:#f0f0f0}pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}"
             ".correct{color:#070}.missing{color:#a00}")
    out = ["<!DOCTYPE html>", f"<html><head><meta charset='utf-8'><title>Feedback for {e(page['student'])}</title>",
           f"<style>{style}</style></head><body>", f"<h1>Feedback for {e(page['student'])}</h1>"]
    if total:
        pending = (f", with {e(_number(total['ungraded']))} points of written answers still to be graded"
                   if total["ungraded"] else "")
        out.append(f"<p>Course total so far: <strong>{e(_number(total['points']))} of {e(_number(total['max_points']))} "
                   f"points</strong> ({total['percent']:.0f}%){pending}.</p>")
    rows = "".join(
        f"<tr><td>{e(lesson['name'])}</td><td>{e(_number(lesson['points']))}/{e(_number(lesson['max_points']))}</td>"
        f"<td>{e(lesson['file']) if lesson['handed_in'] else '<span class=missing>not handed in</span>'}</td></tr>"
        for lesson in page["lessons"])
    out.append(f"<table><thead><tr><th>lesson</th><th>points</th><th>notebook</th></tr></thead><tbody>{rows}</tbody></table>")
    for lesson in page["lessons"]:
        if not lesson["handed_in"]:
            continue
        out.append(f"<h2>{e(lesson['name'])}: {e(_number(lesson['points']))} of {e(_number(lesson['max_points']))} points</h2>")
        if lesson["status"]:
            out.append(f"<p class=missing>The notebook did not run to its end: {e(lesson['status'])}</p>")
        if lesson["exercises"]:
            body = "".join(
                f"<tr><td>{e(x['id'])} {e(x['title'])}</td><td>{e(_number(x['points']))}/{e(_number(x['max_points']))}</td>"
                f"<td class={'correct' if x['status'] == 'correct' else 'missing'}>{e(x['status'])}</td><td>{e(x['hint'])}</td></tr>"
                for x in lesson["exercises"])
            out.append("<table><thead><tr><th>exercise</th><th>points</th><th>result</th><th>hint</th></tr></thead>"
                       f"<tbody>{body}</tbody></table>")
        for item in lesson["written"]:
            out.append(f"<h3>Written answer {e(item['id'])} {e(item['title'])}: {e(_written_state(item))}</h3>")
            if item["prompt"]:
                out.append(f"<blockquote><pre>{e(item['prompt'])}</pre></blockquote>")
            out.append(f"<p>Your answer:</p><pre>{e(item['answer'] or '(no answer)')}</pre>")
            if item["comment"]:
                out.append(f"<p>{'Comment: ' if item['status'] == 'graded' else ''}{e(item['comment'])}</p>")
            if item["model_answer"]:
                out.append(f"<p>A model answer:</p><pre>{e(item['model_answer'])}</pre>")
        solved = [x for x in lesson["exercises"] if x["solution"]]
        if solved:
            out.append("<h3>Solutions of the exercises not fully right</h3>")
            for x in solved:
                out.append(f"<p>Exercise {e(x['id'])} {e(x['title'])}:</p><pre>{e(x['solution'])}</pre>")
    out += ["</body></html>", ""]
    return "\n".join(out)


def write_feedback(book, folder, solutions: bool = False) -> list:
    """Write every student's feedback page (``NAME.html`` and ``NAME.md``) into a folder.

    Parameters
    ----------
    book : ccdlab.classroom.grading.GradeBook
    folder : path-like
        Created if needed.
    solutions : bool
        Add the solution of each exercise not fully right, and the model answer of each written
        answer without full points.

    Returns
    -------
    list of pathlib.Path
        The pages written, two per student.

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.classroom.grading import GradeBook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_feedback(GradeBook(), tmp)
    []
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for student in sorted({sub.student for sub in book.submissions}):
        page = feedback_for(book, student, solutions)
        stem = safe_name(student) or "student"
        written.append(atomic_write_text(folder / f"{stem}.html", page_html(page)))
        written.append(atomic_write_text(folder / f"{stem}.md", page_markdown(page)))
    return written

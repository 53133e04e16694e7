"""Writing grades: the CSV (one row per student and exercise) and a summary in markdown and HTML.

The summary answers the instructor's three questions: how did each student do, which exercises did
the class find hardest (lowest mean score first), and which notebooks need a human look (timeouts,
crashes, invalid files, answers checked from the wrong cell or twice, files changed during grading).
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from ccdlab.files import atomic_write_text

__all__ = ["CSV_COLUMNS", "safe_cell", "write_csv", "student_totals", "exercise_stats", "attention", "summary_markdown",
           "summary_html", "write_reports"]

#: Columns of the grades CSV, in order.
CSV_COLUMNS = ("student", "lesson", "exercise", "points", "max_points", "status", "hint", "submission")

#: Statuses a check decides; anything else is the grader's finding about the notebook.
_CHECK_VERDICTS = ("correct", "partial", "incorrect", "not attempted")


def _number(value: float) -> str:
    return f"{float(value):.4g}"


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text, never runs: one starting with ``= + - @`` (or a tab or
    carriage return) gets a leading apostrophe.

    Examples
    --------
    >>> safe_cell("=SUM(A1)"), safe_cell("alice"), safe_cell("-2")
    ("'=SUM(A1)", 'alice', "'-2")
    """
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(rows, path) -> Path:
    """Write grade rows to a CSV file (atomically), one row per student and exercise.

    Parameters
    ----------
    rows : list of ccdlab.classroom.grading.GradeRow
    path : path-like

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.classroom.grading import GradeRow
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = write_csv([GradeRow("alice", "01", "1.1", 2, 2, "correct")], Path(tmp) / "g.csv")
    ...     p.read_text().splitlines()[1]
    'alice,01,1.1,2,2,correct,,'
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(value) for value in (
            row.student, row.lesson, row.exercise, _number(row.points), _number(row.max_points), row.status,
            " ".join(str(row.hint).split()), row.submission)])
    return atomic_write_text(Path(path), buffer.getvalue())


def student_totals(book) -> list:
    """Per student and lesson: points, maximum, percent, number correct and the problems found.

    Returns
    -------
    list of dict
        Keys ``student, lesson, points, max_points, percent, correct, exercises, problems``,
        sorted by student then lesson.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> student_totals(GradeBook())
    []
    """
    table = []
    for sub in sorted(book.submissions, key=lambda s: (s.student, s.lesson, str(s.path))):
        statuses = Counter(row.status for row in sub.rows)
        problems = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())
                             if status not in _CHECK_VERDICTS)
        maximum = sub.max_points
        table.append({
            "student": sub.student, "lesson": sub.lesson or "?", "points": sub.points, "max_points": maximum,
            "percent": 100.0 * sub.points / maximum if maximum else 0.0,
            "correct": statuses.get("correct", 0), "exercises": len([r for r in sub.rows if r.exercise]),
            "problems": problems, "submission": str(sub.path),
        })
    return table


def exercise_stats(book) -> list:
    """Per exercise: mean score, how many got it fully right, the most common problem; hardest first.

    Returns
    -------
    list of dict
        Keys ``lesson, exercise, title, max_points, mean_score, correct, graded, common``, sorted by
        mean score (lowest first), then lesson and exercise order.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> exercise_stats(GradeBook())
    []
    """
    groups = defaultdict(list)
    for row in book.rows:
        if row.exercise:
            groups[(row.lesson, row.exercise)].append(row)
    order = {}
    for lesson in book.lessons.values():
        for position, exercise in enumerate(lesson.exercises):
            order[(lesson.name, exercise.id)] = position
    stats = []
    for (lesson, exercise), rows in groups.items():
        scores = [row.points / row.max_points if row.max_points else 0.0 for row in rows]
        not_correct = Counter(row.status for row in rows if row.status != "correct")
        common = ", ".join(f"{status} ({n})" for status, n in not_correct.most_common(2))
        stats.append({
            "lesson": lesson, "exercise": exercise, "title": rows[0].title, "max_points": rows[0].max_points,
            "mean_score": sum(scores) / len(scores), "correct": sum(row.status == "correct" for row in rows),
            "graded": len(rows), "common": common,
        })
    stats.sort(key=lambda s: (round(s["mean_score"], 9), s["lesson"], order.get((s["lesson"], s["exercise"]), 0)))
    return stats


def attention(book) -> list:
    """Sentences about the notebooks an instructor should look at, one per problem.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> attention(GradeBook())
    []
    """
    lines = []
    for sub in sorted(book.submissions, key=lambda s: (s.student, s.lesson, str(s.path))):
        who = f"{sub.student} ({Path(sub.path).name})"
        if sub.status not in ("completed", ""):
            lines.append(f"{who}: {sub.status}. {sub.message}".strip())
        relabelled = [row.exercise for row in sub.rows if row.status == "wrong check"]
        if relabelled:
            lines.append(f"{who}: the check line of {', '.join(relabelled)} was given another exercise's answers (status wrong check).")
        for note in sub.notes:
            lines.append(f"{who}: {note}.")
    return lines


def _markdown_table(headers, rows) -> str:
    def cell(value):
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _sections(book):
    totals = student_totals(book)
    students = [(t["student"], t["lesson"], _number(t["points"]), _number(t["max_points"]), f"{t['percent']:.0f}%",
                 f"{t['correct']}/{t['exercises']}", t["problems"]) for t in totals]
    if len({t["lesson"] for t in totals}) > 1:  # several lessons: one overall line per student too
        overall = defaultdict(lambda: [0.0, 0.0, 0, 0])
        for t in totals:
            for position, key in enumerate(("points", "max_points", "correct", "exercises")):
                overall[t["student"]][position] += t[key]
        students += [(student, "all lessons", _number(p), _number(m), f"{100 * p / m:.0f}%" if m else "0%", f"{c}/{n}", "")
                     for student, (p, m, c, n) in sorted(overall.items())]
    exercises = [(s["lesson"], s["exercise"], s["title"], _number(s["max_points"]), f"{100 * s['mean_score']:.0f}%",
                  f"{s['correct']}/{s['graded']}", s["common"]) for s in exercise_stats(book)]
    return (
        (("student", "lesson", "points", "max", "score", "correct", "problems"), students),
        (("lesson", "exercise", "title", "points", "mean score", "got it", "most common other status"), exercises),
    )


def _overview(book) -> str:
    students = len({sub.student for sub in book.submissions})
    settings = book.settings or {}
    sandbox = ("each in the bubblewrap sandbox" if settings.get("sandboxed", True)
               else "WITHOUT the sandbox (see the warnings)")
    return (f"{len(book.submissions)} notebook(s) from {students} student(s), graded in {book.elapsed:.0f} s, "
            f"{sandbox} (timeouts: {settings.get('timeout', '?')} s per notebook, {settings.get('cell_timeout', '?')} s "
            f"per cell; {settings.get('jobs', '?')} at a time).")


def summary_markdown(book) -> str:
    """The summary as markdown: overview, students, exercises (hardest first), what needs a look.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> summary_markdown(GradeBook()).splitlines()[0]
    '# Grades'
    """
    (student_head, student_rows), (exercise_head, exercise_rows) = _sections(book)
    parts = ["# Grades", "", _overview(book), ""]
    if book.warnings:
        parts += ["## Warnings", ""] + [f"- **{w}**" for w in book.warnings] + [""]
    parts += ["## Students", "", _markdown_table(student_head, student_rows), ""]
    parts += ["## Exercises, hardest first", "", _markdown_table(exercise_head, exercise_rows), ""]
    notes = attention(book)
    parts += ["## Notebooks to look at", ""] + ([f"- {line}" for line in notes] or ["Nothing unusual."]) + [""]
    return "\n".join(parts)


def _html_table(headers, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary_html(book) -> str:
    """The summary as a standalone HTML page (same content as :func:`summary_markdown`).

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> "<h1>Grades</h1>" in summary_html(GradeBook())
    True
    """
    (student_head, student_rows), (exercise_head, exercise_rows) = _sections(book)
    notes = attention(book)
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
             "th{background:#f0f0f0}.warn{color:#a00;font-weight:bold}")
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'><title>Grades</title>",
             f"<style>{style}</style></head><body>", "<h1>Grades</h1>", f"<p>{html.escape(_overview(book))}</p>"]
    if book.warnings:
        parts += ["<h2>Warnings</h2><ul>"] + [f"<li class='warn'>{html.escape(w)}</li>" for w in book.warnings] + ["</ul>"]
    parts += ["<h2>Students</h2>", _html_table(student_head, student_rows)]
    parts += ["<h2>Exercises, hardest first</h2>", _html_table(exercise_head, exercise_rows)]
    parts += ["<h2>Notebooks to look at</h2>"]
    parts += (["<ul>"] + [f"<li>{html.escape(line)}</li>" for line in notes] + ["</ul>"]) if notes else ["<p>Nothing unusual.</p>"]
    parts += ["</body></html>", ""]
    return "\n".join(parts)


def write_reports(book, out) -> list:
    """Write the CSV and, beside it, the summary as ``.md`` and ``.html``.

    Parameters
    ----------
    book : ccdlab.classroom.grading.GradeBook
    out : path-like
        The CSV path, e.g. ``grades.csv`` (then ``grades.md`` and ``grades.html``).

    Returns
    -------
    list of pathlib.Path
        The three files written.

    Examples
    --------
    >>> import tempfile
    >>> from ccdlab.classroom.grading import GradeBook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.suffix for p in write_reports(GradeBook(), Path(tmp) / "grades.csv")]
    ['.csv', '.md', '.html']
    """
    out = Path(out)
    return [
        write_csv(book.rows, out),
        atomic_write_text(out.with_suffix(".md"), summary_markdown(book)),
        atomic_write_text(out.with_suffix(".html"), summary_html(book)),
    ]

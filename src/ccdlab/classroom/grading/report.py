"""Writing grades: the CSV (one row per student and exercise or written answer) and a summary in
markdown and HTML.

The summary answers the instructor's questions: how did each student do over the whole course (every
lesson with a solution notebook; a lesson not handed in is a visible 0), how did each notebook do
(errors counted once per root cause, see :mod:`.cascade`), which exercises did the class find hardest
(lowest mean score first), and which notebooks need a human look (timeouts, crashes, invalid files,
answers checked from the wrong cell or twice, files changed during grading). The HTML adds, for each
student, every exercise with the hint they were given.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from ccdlab.classroom.grading.score import WRITTEN_STATUSES
from ccdlab.files import atomic_write_text

__all__ = ["CSV_COLUMNS", "safe_cell", "write_csv", "course_lessons", "course_totals", "student_totals", "exercise_stats",
           "attention", "summary_markdown", "summary_html", "write_reports"]

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


def course_lessons(book) -> list:
    """The lessons of the course, in teaching order: every lesson with a solution notebook.

    Lessons of :data:`ccdlab.course.lessons.LESSONS` come first, in that order; any other lesson
    with a solution notebook (a course of your own) follows, by name.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook, Lesson
    >>> [l.name for l in course_lessons(GradeBook(lessons={"zz": Lesson("zz"), "01_fits_files": Lesson("01_fits_files")}))]
    ['01_fits_files', 'zz']
    """
    from ccdlab.course.lessons import LESSONS

    rank = {name: position for position, name in enumerate(LESSONS)}
    return sorted(book.lessons.values(), key=lambda lesson: (rank.get(lesson.name, len(rank)), lesson.name))


def _counted_submissions(book) -> dict:
    """``{(student, lesson): submission}``: the one that counts when a student handed in a lesson twice (the best)."""
    chosen = {}
    for sub in sorted(book.submissions, key=lambda s: (s.student, s.lesson, str(s.path))):
        if not sub.lesson:
            continue
        key = (sub.student, sub.lesson)
        if key not in chosen or sub.points > chosen[key].points:
            chosen[key] = sub
    return chosen


def course_totals(book) -> list:
    """Per student: points out of the WHOLE course (every lesson with a solution), lesson by lesson.

    A lesson not handed in counts 0 of its points; written answers waiting for the instructor's points
    count 0 until they are merged (``--manual``), and are counted in ``ungraded``. When a student
    handed in a lesson twice, the better notebook counts (both are listed under "Notebooks to look at").

    Returns
    -------
    list of dict
        Keys ``student``, ``lessons`` (``{lesson: {"points", "max_points", "handed_in", "ungraded"}}``),
        ``points``, ``max_points`` (the course's), ``percent``, ``ungraded`` (written points still to
        give), sorted by student.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> course_totals(GradeBook())
    []
    """
    lessons = course_lessons(book)
    chosen = _counted_submissions(book)
    students = sorted({sub.student for sub in book.submissions})
    table = []
    for student in students:
        per_lesson, points, ungraded = {}, 0.0, 0.0
        for lesson in lessons:
            sub = chosen.get((student, lesson.name))
            waiting = sum(r.max_points for r in sub.rows if r.written and r.status == "ungraded") if sub else 0.0
            earned = sub.points if sub else 0.0
            per_lesson[lesson.name] = {"points": earned, "max_points": lesson.total_points, "handed_in": sub is not None,
                                       "ungraded": waiting}
            points += earned
            ungraded += waiting
        maximum = float(sum(lesson.total_points for lesson in lessons))
        table.append({"student": student, "lessons": per_lesson, "points": points, "max_points": maximum,
                      "percent": 100.0 * points / maximum if maximum else 0.0, "ungraded": ungraded})
    return table


def _problems(sub) -> str:
    """The grader's findings about one notebook, errors counted once per root cause."""
    statuses = Counter(row.status for row in sub.rows)
    parts = [f"{n} {status}" for status, n in sorted(statuses.items())
             if status not in _CHECK_VERDICTS + WRITTEN_STATUSES + ("error",)]
    roots = [error for error in sub.cell_errors if not error.follows]
    if roots:
        followers = sum(error.follows for error in sub.cell_errors)
        named = "; ".join(f"code cell {e.number} raised {e.ename}" for e in roots[:3])
        more = f" and {len(roots) - 3} more" if len(roots) > 3 else ""
        then = f" ({followers} later cell{'s' if followers != 1 else ''} failed because of it)" if followers else ""
        parts.append(f"{named}{more}{then}")
    elif statuses.get("error"):
        parts.append(f"{statuses['error']} error")
    return ", ".join(parts)


def student_totals(book) -> list:
    """Per notebook handed in: student, lesson, points, maximum, percent, number correct and the problems found.

    The maximum includes the lesson's written answers; ``problems`` counts each cascade of errors
    once, by its root cause (:mod:`.cascade`).

    Returns
    -------
    list of dict
        Keys ``student, lesson, points, max_points, percent, correct, exercises, ungraded, problems,
        submission``, sorted by student then lesson.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> student_totals(GradeBook())
    []
    """
    table = []
    for sub in sorted(book.submissions, key=lambda s: (s.student, s.lesson, str(s.path))):
        statuses = Counter(row.status for row in sub.rows if not row.written)
        maximum = sub.max_points
        table.append({
            "student": sub.student, "lesson": sub.lesson or "?", "points": sub.points, "max_points": maximum,
            "percent": 100.0 * sub.points / maximum if maximum else 0.0,
            "correct": statuses.get("correct", 0), "exercises": len([r for r in sub.rows if r.exercise and not r.written]),
            "ungraded": sum(r.max_points for r in sub.rows if r.written and r.status == "ungraded"),
            "problems": _problems(sub), "submission": str(sub.path),
        })
    return table


def exercise_stats(book) -> list:
    """Per exercise: mean score, how many got it fully right, the most common problem; hardest first.

    A written question counts once the instructor's points are in for every answer to it (until
    then, it is left out).

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
    pending = {(row.lesson, row.exercise) for row in book.rows if row.status == "ungraded"}
    groups = defaultdict(list)
    for row in book.rows:
        if row.exercise and (row.lesson, row.exercise) not in pending:
            groups[(row.lesson, row.exercise)].append(row)
    order = {}
    for lesson in book.lessons.values():
        for position, exercise in enumerate(list(lesson.exercises) + list(lesson.written)):
            order[(lesson.name, exercise.id)] = position
    stats = []
    for (lesson, exercise), rows in groups.items():
        scores = [row.points / row.max_points if row.max_points else 0.0 for row in rows]
        full = [row.status == "correct" or (row.written and row.max_points and row.points >= row.max_points)
                for row in rows]
        not_correct = Counter(row.status for row, ok in zip(rows, full) if not ok and row.status != "graded")
        common = ", ".join(f"{status} ({n})" for status, n in not_correct.most_common(2))
        stats.append({
            "lesson": lesson, "exercise": exercise, "title": rows[0].title, "max_points": rows[0].max_points,
            "mean_score": sum(scores) / len(scores), "correct": sum(full), "graded": len(rows), "common": common,
        })
    stats.sort(key=lambda s: (round(s["mean_score"], 9), s["lesson"], order.get((s["lesson"], s["exercise"]), 0)))
    return stats


#: How many of the lines two notebooks share the report shows for each pair.
SHARED_LINES_SHOWN = 12
COPIES_NOTE = ("Pairs of notebooks whose own answers (the hand-out's lines and the solution's set aside, "
               "variables renamed and layout ignored) mostly coincide, with the lines they share. A reason to look, "
               "not a verdict: the same idea written the obvious way can coincide too.")


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
    for copy_ in getattr(book, "copies", []):
        lines.append(f"{copy_.describe()} (the lines they share: under 'Answers that coincide').")
    return lines


def _markdown_table(headers, rows) -> str:
    def cell(value):
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _lesson_cell(entry: dict) -> str:
    text = f"{_number(entry['points'])}/{_number(entry['max_points'])}"
    if not entry["handed_in"]:
        return f"{text} not handed in"
    if entry["ungraded"]:
        return f"{text} (+{_number(entry['ungraded'])} to grade)"
    return text


def _sections(book):
    lessons = course_lessons(book)
    course = [(t["student"], *[_lesson_cell(t["lessons"][lesson.name]) for lesson in lessons],
               f"{_number(t['points'])}/{_number(t['max_points'])}", f"{t['percent']:.0f}%",
               _number(t["ungraded"]) if t["ungraded"] else "") for t in course_totals(book)]
    notebooks = [(t["student"], t["lesson"], _number(t["points"]), _number(t["max_points"]), f"{t['percent']:.0f}%",
                  f"{t['correct']}/{t['exercises']}", _number(t["ungraded"]) if t["ungraded"] else "", t["problems"])
                 for t in student_totals(book)]
    exercises = [(s["lesson"], s["exercise"], s["title"], _number(s["max_points"]), f"{100 * s['mean_score']:.0f}%",
                  f"{s['correct']}/{s['graded']}", s["common"]) for s in exercise_stats(book)]
    return (
        (("student", *[lesson.name for lesson in lessons], "course total", "score", "written to grade"), course),
        (("student", "lesson", "points", "max", "score", "correct", "written to grade", "problems"), notebooks),
        (("lesson", "exercise", "title", "points", "mean score", "got it", "most common other status"), exercises),
    )


def _course_line(book) -> str:
    lessons = course_lessons(book)
    total = sum(lesson.total_points for lesson in lessons)
    written = sum(lesson.written_points for lesson in lessons)
    written_part = f", of which {_number(written)} for written answers" if written else ""
    return (f"Out of the whole course: {_number(total)} points over {len(lessons)} lesson(s){written_part}; "
            "a lesson not handed in counts 0.")


def _overview(book) -> str:
    students = len({sub.student for sub in book.submissions})
    settings = book.settings or {}
    sandbox = ("each in the bubblewrap sandbox" if settings.get("sandboxed", True)
               else "WITHOUT the sandbox (see the warnings)")
    return (f"{len(book.submissions)} notebook(s) from {students} student(s), graded in {book.elapsed:.0f} s, "
            f"{sandbox} (timeouts: {settings.get('timeout', '?')} s per notebook, {settings.get('cell_timeout', '?')} s "
            f"per cell; {settings.get('jobs', '?')} at a time).")


def summary_markdown(book) -> str:
    """The summary as markdown: overview, course totals, notebooks, exercises (hardest first), what needs a look.

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> summary_markdown(GradeBook()).splitlines()[0]
    '# Grades'
    """
    (course_head, course_rows), (notebook_head, notebook_rows), (exercise_head, exercise_rows) = _sections(book)
    parts = ["# Grades", "", _overview(book), ""]
    if book.warnings:
        parts += ["## Warnings", ""] + [f"- **{w}**" for w in book.warnings] + [""]
    parts += ["## Course totals", "", _course_line(book), "", _markdown_table(course_head, course_rows), ""]
    parts += ["## Notebooks", "", "One row per notebook handed in; errors are counted once per root cause.", "",
              _markdown_table(notebook_head, notebook_rows), ""]
    parts += ["## Exercises, hardest first", "", _markdown_table(exercise_head, exercise_rows), ""]
    notes = attention(book)
    parts += ["## Notebooks to look at", ""] + ([f"- {line}" for line in notes] or ["Nothing unusual."]) + [""]
    if getattr(book, "copies", None):
        parts += ["## Answers that coincide", "", COPIES_NOTE, ""]
        for copy_ in book.copies:
            parts += [f"- {copy_.describe()}"]
            if copy_.shared:
                shown = copy_.shared[:SHARED_LINES_SHOWN]
                more = len(copy_.shared) - len(shown)
                parts += ["", "  ```", *[f"  {line}" for line in shown]]
                parts += [f"  ... and {more} more line(s)"] if more > 0 else []
                parts += ["  ```"]
        parts += [""]
    parts += ["The hints each student was given are in the grades CSV and in the HTML summary.", ""]
    return "\n".join(parts)


def _html_table(headers, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _hints_html(book) -> list:
    """Per student and notebook, every exercise with its status and the hint the student was given."""
    parts = []
    by_student = defaultdict(list)
    for sub in sorted(book.submissions, key=lambda s: (s.student, s.lesson, str(s.path))):
        by_student[sub.student].append(sub)
    for student, subs in by_student.items():
        points = sum(sub.points for sub in subs)
        parts.append(f"<details><summary>{html.escape(student)}: {html.escape(_number(points))} points in "
                     f"{len(subs)} notebook(s)</summary>")
        for sub in subs:
            rows = [(row.exercise, row.title, f"{_number(row.points)}/{_number(row.max_points)}", row.status,
                     " ".join(str(row.hint).split())) for row in sub.rows]
            parts.append(f"<h4>{html.escape(sub.lesson or '?')} ({html.escape(Path(sub.path).name)})</h4>")
            parts.append(_html_table(("exercise", "title", "points", "status", "hint"), rows))
        parts.append("</details>")
    return parts


def summary_html(book) -> str:
    """The summary as a standalone HTML page: the content of :func:`summary_markdown`, and each
    student's exercises with the hints they were given (folded, one student at a time).

    Examples
    --------
    >>> from ccdlab.classroom.grading import GradeBook
    >>> "<h1>Grades</h1>" in summary_html(GradeBook())
    True
    """
    (course_head, course_rows), (notebook_head, notebook_rows), (exercise_head, exercise_rows) = _sections(book)
    notes = attention(book)
    style = ("body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
             "vertical-align:top}th{background:#f0f0f0}.warn{color:#a00;font-weight:bold}summary{cursor:pointer;margin:.3em 0}")
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'><title>Grades</title>",
             f"<style>{style}</style></head><body>", "<h1>Grades</h1>", f"<p>{html.escape(_overview(book))}</p>"]
    if book.warnings:
        parts += ["<h2>Warnings</h2><ul>"] + [f"<li class='warn'>{html.escape(w)}</li>" for w in book.warnings] + ["</ul>"]
    parts += ["<h2>Course totals</h2>", f"<p>{html.escape(_course_line(book))}</p>", _html_table(course_head, course_rows)]
    parts += ["<h2>Notebooks</h2>", "<p>One row per notebook handed in; errors are counted once per root cause.</p>",
              _html_table(notebook_head, notebook_rows)]
    parts += ["<h2>Exercises, hardest first</h2>", _html_table(exercise_head, exercise_rows)]
    parts += ["<h2>Notebooks to look at</h2>"]
    parts += (["<ul>"] + [f"<li>{html.escape(line)}</li>" for line in notes] + ["</ul>"]) if notes else ["<p>Nothing unusual.</p>"]
    if getattr(book, "copies", None):
        parts += ["<h2>Answers that coincide</h2>", f"<p>{html.escape(COPIES_NOTE)}</p>", "<ul>"]
        for copy_ in book.copies:
            shared = "\n".join(copy_.shared[:SHARED_LINES_SHOWN])
            more = len(copy_.shared) - min(len(copy_.shared), SHARED_LINES_SHOWN)
            block = f"<pre>{html.escape(shared)}{html.escape(f'{chr(10)}... and {more} more line(s)') if more > 0 else ''}</pre>" \
                if shared else ""
            parts += [f"<li>{html.escape(copy_.describe())}{block}</li>"]
        parts += ["</ul>"]
    parts += ["<h2>Hints, student by student</h2>", "<p>What each student was told about each exercise.</p>"]
    parts += _hints_html(book)
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

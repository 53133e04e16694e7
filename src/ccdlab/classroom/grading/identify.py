"""Whose notebook is this, and of which lesson? Finding and reading the returned notebooks.

A returned notebook's lesson comes from its metadata ``ccdlab.lesson`` (written by the
student-notebook generator, kept when the file is renamed), else its file name, else the exercise
IDs it declares; its student from the file name without the lesson (and without what browsers,
Colab and students add: "Copy of", " (1)", "_solved"), else the student's folder, else metadata.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ccdlab.course.markers import exercises_in
from ccdlab.errors import GradingError, InputError

__all__ = ["find_submissions", "read_submission", "identify_lesson", "identify_student", "safe_name"]


def find_submissions(paths, skipped: list | None = None) -> list:
    """Expand files and folders into the list of notebooks to grade.

    Folders are searched recursively for ``*.ipynb`` (checkpoint folders skipped); files are taken
    as given, whatever their name, so a broken upload is graded as an invalid notebook rather than
    silently left out. Symbolic links inside a folder are never followed (a link to a solution
    notebook must not be graded as a student's); each is named in ``skipped``. Each item is
    ``(file, root)`` where ``root`` is the folder argument it was found in (None for a file given
    directly).

    Raises
    ------
    GradingError
        A path does not exist, or nothing was found.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "alice.ipynb").write_text("{}")
    ...     (Path(tmp) / "bob.ipynb").symlink_to(Path(tmp) / "alice.ipynb")
    ...     skipped = []
    ...     [p.name for p, _ in find_submissions([tmp], skipped)], [p.name for p in skipped]
    (['alice.ipynb'], ['bob.ipynb'])
    """
    import os

    found, seen = [], set()
    skipped = [] if skipped is None else skipped
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                here = Path(root)
                skipped.extend(here / d for d in dirs if (here / d).is_symlink())
                dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints" and not (here / d).is_symlink())
                for name in sorted(files):
                    nb = here / name
                    if not name.endswith(".ipynb"):
                        continue
                    if nb.is_symlink() or not nb.is_file():
                        skipped.append(nb)
                        continue
                    if nb.resolve() not in seen:
                        seen.add(nb.resolve())
                        found.append((nb, path))
        elif path.is_file():
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.append((path, None))
        else:
            raise GradingError(f"{path}: no such file or folder. Check the path of the returned notebooks.")
    if not found:
        raise GradingError(f"No notebooks (*.ipynb) found in {', '.join(map(str, paths))}: point at the returned files.")
    found.sort(key=lambda item: str(item[0]))
    return found


def read_submission(path):
    """Read a returned notebook, or say why it is not one.

    Returns
    -------
    (notebook or None, str)
        The notebook (nbformat version 4) and an empty message, or None and a sentence.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "bad.ipynb").write_text("{not json")
    ...     read_submission(Path(tmp) / "bad.ipynb")[0] is None
    True
    """
    import nbformat

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path.name} is not valid notebook JSON ({exc.__class__.__name__}): the file is damaged; ask the student to download it again from Jupyter (File > Download)."
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) and "worksheets" not in data:
        return None, f"{path.name} is JSON but not a notebook (no cells): ask the student for the .ipynb file itself."
    try:
        notebook = nbformat.reads(text, as_version=4)
        for cell in notebook.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                raise InputError("a cell has no type or no source")
    except Exception as exc:  # noqa: BLE001 - any failure makes it invalid
        return None, f"{path.name} is not a valid notebook ({exc}): ask the student to save and download it again."
    return notebook, ""


def _ids_in(notebook) -> set:
    try:
        return {e.id for e in exercises_in(notebook)}
    except ValueError:
        return set()


def _lesson_from_name(stem: str, lessons: dict) -> str:
    stem = stem.lower()
    matches = [name for name in lessons if name.lower() in stem]
    return max(matches, key=len) if matches else ""


def identify_lesson(notebook, path, lessons: dict) -> tuple:
    """Tell which lesson a returned notebook belongs to.

    In order: the notebook metadata ``ccdlab.lesson`` (written by the student-notebook generator,
    kept when the file is renamed), the file name containing a lesson name, then the lesson whose
    exercise IDs the notebook's markers share most.

    Parameters
    ----------
    notebook : NotebookNode or None
        The notebook, or None when it could not be read (then only the file name is used).
    path : path-like
        The submitted file.
    lessons : dict
        From :func:`load_solutions`.

    Returns
    -------
    (str, str)
        The lesson name (empty when unknown) and how it was recognised (a short note).

    Examples
    --------
    >>> from ccdlab.classroom.grading.solutions import Lesson
    >>> from ccdlab.course.markers import Exercise
    >>> lessons = {"01_fits_files": Lesson("01_fits_files", (Exercise("1.1", 1.0),))}
    >>> identify_lesson(None, "alice_01_fits_files.ipynb", lessons)
    ('01_fits_files', 'file name')
    """
    by_name = _lesson_from_name(Path(path).stem, lessons)
    if notebook is not None:
        meta = notebook.get("metadata", {}).get("ccdlab", {}) or {}
        declared = str(meta.get("lesson", "") or "") if isinstance(meta, dict) else ""
        if declared in lessons:
            note = "notebook metadata"
            if by_name and by_name != declared:
                note += f"; the file name suggests {by_name}"
            return declared, note
        if declared and not by_name:
            return "", f"the notebook says it is lesson {declared!r}, which has no solution notebook"
    if by_name:
        return by_name, "file name"
    if notebook is not None:
        ids = _ids_in(notebook)
        scored = sorted(((len(ids & set(lesson.ids)), name) for name, lesson in lessons.items()), reverse=True)
        if scored and scored[0][0] > 0:
            return scored[0][1], "exercise IDs"
    return "", "no lesson name in the notebook metadata or the file name, and no known exercise IDs"


def safe_name(text: str) -> str:
    """A name with only letters, digits, '@', '.', '+', '-' and '_' (others become '_').

    Examples
    --------
    >>> safe_name("Ada Lovelace (1)")
    'Ada_Lovelace_1'
    """
    text = re.sub(r"[^\w@.+-]+", "_", text).strip("_.- ")
    return text


_NAME_NOISE = re.compile(
    r"(?<![^\W_])(copy\s+of|copy|checkpoint|solved|solutions?|answers?|done|final|finished|completed?"
    r"|submission|submitted|homework|assignment|notebook|v\d+)(?![^\W_])",
    re.IGNORECASE,
)


def _name_from_stem(stem: str, lesson: str) -> str:
    if lesson:
        stem = re.sub(re.escape(lesson), " ", stem, flags=re.IGNORECASE)
    stem = re.sub(r"\(\d+\)", " ", stem)
    return safe_name(_NAME_NOISE.sub(" ", stem.replace("_", " ")))


def identify_student(path, lesson: str = "", notebook=None, root=None) -> str:
    """Tell whose notebook this is: the file name without the lesson name, else the folder, else metadata.

    Parameters
    ----------
    path : path-like
        The submitted file, e.g. ``returned/alice_01_fits_files.ipynb`` or
        ``returned/alice/01_fits_files.ipynb``.
    lesson : str
        The lesson name (removed from the file name).
    notebook : NotebookNode, optional
        Metadata ``ccdlab.student`` or the first of ``authors`` is used when the path says nothing.
    root : path-like, optional
        The folder the file was found in; a subfolder below it names the student.

    Examples
    --------
    >>> identify_student("returned/alice_01_fits_files.ipynb", "01_fits_files")
    'alice'
    >>> identify_student("returned/bob/01_fits_files.ipynb", "01_fits_files", root="returned")
    'bob'
    """
    path = Path(path)
    name = _name_from_stem(path.stem, lesson)
    if name:
        return name
    if root is not None:
        try:
            relative = path.parent.resolve().relative_to(Path(root).resolve())
        except ValueError:
            relative = Path()
        if relative.parts:
            return safe_name("_".join(relative.parts))
    if notebook is not None:
        meta = notebook.get("metadata", {})
        who = (meta.get("ccdlab", {}) or {}).get("student") if isinstance(meta.get("ccdlab"), dict) else None
        authors = meta.get("authors") or []
        if not who and authors and isinstance(authors, list) and isinstance(authors[0], dict):
            who = authors[0].get("name")
        if who:
            return safe_name(str(who))
    if root is None and path.parent.name:
        return safe_name(path.parent.name) or path.stem
    return path.stem


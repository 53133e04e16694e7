"""Copied work across a class (ccdlab.classroom.grading.similarity): a copied cell is found behind
renamed variables, comments and layout; the solution's own way, a class idiom, independent work and
a one-liner are not; the same file under two names, and the same cells with other outputs, are."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest

from ccdlab.classroom.authoring import make_student
from ccdlab.classroom.grading.similarity import (
    Copy,
    code_tokens,
    copies_in_book,
    find_copies,
    regions_of,
    text_tokens,
)
from ccdlab.course.markers import EXERCISE_RE

ROOT = Path(__file__).resolve().parents[1]
LESSON = "03_master_bias"

ADA_31 = '''def median_combine(frames):
    """Return the pixel-by-pixel median of a list of 2-D frames (all of the same shape)."""
    count = len(frames)
    ordered = np.sort(np.array(frames, dtype=float), axis=0)
    middle = count // 2
    if count % 2 == 1:
        return ordered[middle]
    return 0.5 * (ordered[middle - 1] + ordered[middle])
'''
# bob renamed every variable, added comments, blank lines and other spacing
BOB_31 = '''def median_combine(frames):
    """Return the pixel-by-pixel median of a list of 2-D frames (all of the same shape)."""
    # how many frames
    n_frames=len( frames )

    srt = np.sort(np.array(frames,dtype=float),axis=0)   # sort each pixel
    half = n_frames//2
    if n_frames % 2 == 1:
        return srt[ half ]
    return 0.5*(srt[half-1]+srt[half])
'''
# dee worked it out another way
DEE_31 = '''def median_combine(frames):
    """Return the pixel-by-pixel median of a list of 2-D frames (all of the same shape)."""
    result = np.empty_like(frames[0], dtype=float)
    for row in range(frames[0].shape[0]):
        for column in range(frames[0].shape[1]):
            result[row, column] = sorted(f[row, column] for f in frames)[len(frames) // 2]
    return result
'''
SOLUTION_31 = '''def median_combine(frames):
    """Return the pixel-by-pixel median of a list of 2-D frames (all of the same shape)."""
    cube = np.stack(frames)
    return np.median(cube, axis=0)
'''
IDIOM_31 = '''def median_combine(frames):
    """Return the pixel-by-pixel median of a list of 2-D frames (all of the same shape)."""
    cube = np.asarray(frames, dtype=np.float64)
    cube[~np.isfinite(cube)] = np.nan
    result = np.nanmedian(cube, axis=0)
    return result.astype(np.float32)
'''
WRITTEN = ("The median throws away what only one frame has, a cosmic ray hit or a spike, but it keeps "
           "the hot pixels because every bias frame has them; a few of them are so bright that they set "
           "the colour range and the pattern of the bias disappears into one grey.")
OWN_WRITTEN = ("Hot pixels are bright in all frames so the median keeps them. The stretch is set by them, "
               "so I would always choose limits from percentiles for a master bias.")

PLACEHOLDER = re.compile(r"\*Write your answer here[^*\n]*\*")


@pytest.fixture(scope="module")
def lesson():
    solution = nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4)
    return solution, make_student(solution, LESSON)


def returned(template, answer_31: str | None = None, written: str | None = None):
    notebook = copy.deepcopy(template)
    for cell in notebook.cells:
        marker = EXERCISE_RE.search(cell.source) if cell.cell_type == "code" else None
        if marker and marker.group("id") == "3.1" and answer_31 is not None:
            cell.source = f"{marker.group(0)}\n{answer_31}\n\nmedian_combine = check(\"3.1\", median_combine=median_combine)"
        if cell.cell_type == "markdown" and PLACEHOLDER.search(cell.source) and written is not None:
            cell.source = PLACEHOLDER.sub(written, cell.source)
            written = None  # the first written answer only
    return notebook


def as_class(*students):
    return [(name, nb, nbformat.writes(nb).encode() if data is None else data) for name, nb, data in students]


def pairs(copies):
    return {copy_.students: copy_ for copy_ in copies}


def test_tokens_see_through_names_comments_and_layout():
    assert code_tokens(ADA_31) == code_tokens(BOB_31)
    assert code_tokens(ADA_31) != code_tokens(DEE_31)
    assert code_tokens("x = 1  # one") == code_tokens("y=1")
    assert code_tokens("x.mean(axis=0)") != code_tokens("x.sum(axis=0)")  # what is called stays
    assert text_tokens("The MEDIAN, not the mean!") == ["the", "median", "not", "the", "mean"]


def test_regions_are_what_the_student_wrote(lesson):
    _, template = lesson
    regions = {r.name: r for r in regions_of(returned(template, ADA_31, OWN_WRITTEN), template)}
    assert set(regions) == {"exercise 3.1", "written answers"}
    assert "return ordered[middle]" in [line.strip() for line in regions["exercise 3.1"].lines]
    assert all("check(" not in line for line in regions["exercise 3.1"].lines)
    assert regions_of(template, template) == []


def test_a_renamed_and_reformatted_copy_is_found_and_others_are_not(lesson):
    solution, template = lesson
    class_ = as_class(
        ("ada", returned(template, ADA_31, OWN_WRITTEN), None),
        ("bob", returned(template, BOB_31), None),
        ("cy", returned(template, SOLUTION_31), None),
        ("dee", returned(template, DEE_31), None),
        ("eli", returned(template, SOLUTION_31.replace("cube", "stack")), None),
    )
    found = pairs(find_copies(class_, template, solution, LESSON))
    assert set(found) == {("ada", "bob")}, [c.describe() for c in found.values()]
    bob = found[("ada", "bob")]
    assert bob.how == "similar answers" and bob.regions == ["exercise 3.1"] and bob.score >= 0.9
    assert "middle = count // 2" in bob.shared and "ada and bob" in bob.describe()


def test_the_class_idiom_is_not_a_copy(lesson):
    solution, template = lesson
    class_ = as_class(*[(name, returned(template, IDIOM_31, f"{name} thinks for {name}self."), None)
                        for name in ("a", "b", "c", "d", "e", "f")])
    assert find_copies(class_, template, solution, LESSON) == []


def test_a_copied_written_answer_is_found(lesson):
    solution, template = lesson
    class_ = as_class(
        ("gus", returned(template, DEE_31, WRITTEN), None),
        ("hal", returned(template, ADA_31, WRITTEN.replace("The median", "Well, the median").upper()), None),
        ("ida", returned(template, BOB_31.replace("srt", "s2"), OWN_WRITTEN), None),
    )
    found = pairs(find_copies(class_, template, solution, LESSON))
    assert found[("gus", "hal")].regions == ["written answers"]
    assert ("gus", "ida") not in found and ("hal", "ida") in found  # ida's code is bob's, i.e. ada's (hal's)
    assert found[("hal", "ida")].regions == ["exercise 3.1"]


def test_the_same_file_and_the_same_cells_are_flagged(lesson):
    solution, template = lesson
    ada = returned(template, ADA_31, OWN_WRITTEN)
    data = nbformat.writes(ada).encode()
    executed = copy.deepcopy(ada)
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", text="ran\n")]
    executed.metadata["authors"] = [{"name": "fay"}]
    found = pairs(find_copies(as_class(("ada", ada, data), ("eve", ada, data), ("fay", executed, None)),
                              template, solution, LESSON))
    assert found[("ada", "eve")].how == "same file"
    assert found[("ada", "fay")].how == "same cells" and found[("eve", "fay")].how == "same cells"
    assert found[("ada", "eve")].describe() == f"ada and eve handed in the same file for {LESSON}"


def test_copies_in_a_graded_book(lesson, tmp_path):
    from ccdlab.classroom.grading import GradeBook
    from ccdlab.classroom.grading.batch import Submission

    _, template = lesson
    book = GradeBook(settings={"solutions": str(ROOT / "solutions")})
    for name, code in (("ada", ADA_31), ("bob", BOB_31), ("dee", DEE_31)):
        path = tmp_path / f"{name}_{LESSON}.ipynb"
        nbformat.write(returned(template, code), path)
        book.submissions.append(Submission(path, name, LESSON))
    (tmp_path / "zed.ipynb").write_text("not a notebook")
    book.submissions.append(Submission(tmp_path / "zed.ipynb", "zed", LESSON))
    found = copies_in_book(book)
    assert [(c.students, c.how) for c in found] == [(("ada", "bob"), "similar answers")]
    assert isinstance(found[0], Copy)
    book.copies = found
    from ccdlab.classroom.grading.report import summary_html, summary_markdown

    md, page = summary_markdown(book), summary_html(book)
    shared = found[0].shared
    assert shared  # the lines ada's notebook shares with bob's
    section = md.split("## Answers that coincide")[1]
    assert found[0].describe() in section and all(line in section for line in shared[:12])
    assert "ada and bob" in md.split("## Notebooks to look at")[1].split("## Answers that coincide")[0]
    assert "<h2>Answers that coincide</h2>" in page and "<pre>" in page


def test_without_the_hand_out_only_identical_notebooks_are_listed(lesson, tmp_path):
    from ccdlab.classroom.grading import GradeBook
    from ccdlab.classroom.grading.batch import Submission

    _, template = lesson
    book = GradeBook(settings={"solutions": str(tmp_path / "none")})  # graded against given lessons: no hand-out here
    for name, code in (("ada", ADA_31), ("bob", BOB_31), ("dee", DEE_31), ("eve", DEE_31)):
        path = tmp_path / f"{name}_{LESSON}.ipynb"
        nbformat.write(returned(template, code), path)
        book.submissions.append(Submission(path, name, LESSON))
    assert [(c.students, c.how) for c in copies_in_book(book)] == [(("dee", "eve"), "same file")]

"""Tests for ccdlab.classroom.authoring: solution notebooks -> student notebooks, and `ccdlab student`."""

import argparse
import ast

import nbformat
import pytest

from ccdlab import cli
from ccdlab.classroom import authoring
from ccdlab.commands import student as student_command
from ccdlab.classroom.authoring import (
    BLANK,
    MARKDOWN_BLANK,
    AuthoringError,
    blank_code_solutions,
    blank_markdown_solutions,
    clear_outputs,
    generate,
    make_student,
    set_metadata,
    student_text,
    validate_solution,
)
from ccdlab.course.markers import exercises_in


def code(source, **kwargs):
    return nbformat.v4.new_code_cell(source, **kwargs)


def markdown(source):
    return nbformat.v4.new_markdown_cell(source)


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


EXERCISE_CELL = """\
# EXERCISE 1.1 (2 points): Image size
### BEGIN SOLUTION
x_len = header["NAXIS1"]
y_len = header["NAXIS2"]
### END SOLUTION
x_len, y_len = check("1.1", x_len=x_len, y_len=y_len)"""


def test_blank_keeps_marker_and_check_and_blanks_answers():
    student = blank_code_solutions(notebook(code(EXERCISE_CELL)))
    assert student.cells[0].source == (
        "# EXERCISE 1.1 (2 points): Image size\n"
        f"x_len = {BLANK}\n"
        f"y_len = {BLANK}\n"
        'x_len, y_len = check("1.1", x_len=x_len, y_len=y_len)'
    )


def test_blank_only_names_used_later():
    source = "### BEGIN SOLUTION\ncube = np.stack(frames)\nmaster = np.median(cube, axis=0)\n### END SOLUTION\nprint(master)"
    out = blank_code_solutions(notebook(code(source))).cells[0].source
    assert out == f"master = {BLANK}\nprint(master)"


def test_blank_names_used_in_later_cells():
    first = code("# EXERCISE 2.1 (1 point): mask\n### BEGIN SOLUTION\nmask = flat < 0.8\nflat[mask] = 0\n### END SOLUTION")
    later = code("show(mask)")
    out = blank_code_solutions(notebook(first, later)).cells[0].source
    assert out == f"# EXERCISE 2.1 (1 point): mask\nmask = {BLANK}"


def test_blank_tuple_target_stays_one_unpacking_line():
    # one call whose results are unpacked: the blank keeps the shape of the answer, and runs
    source = "### BEGIN SOLUTION\nmean, median, std = stats(data)\n### END SOLUTION\ncheck('2.2', mean=mean, median=median, std=std)"
    out = blank_code_solutions(notebook(code(source))).cells[0].source.splitlines()
    assert out[0] == "mean, median, std = ..., ..., ...  # your code here"
    namespace = {}
    exec(out[0], namespace)
    assert namespace["mean"] is namespace["std"] is Ellipsis


def test_blank_tuple_target_with_unused_names_reveals_only_the_used_ones():
    source = "### BEGIN SOLUTION\nmean, median, std = stats(data)\n### END SOLUTION\ncheck('2.2', median=median)"
    out = blank_code_solutions(notebook(code(source))).cells[0].source.splitlines()
    assert out[0] == f"median = {BLANK}"
    nested = "### BEGIN SOLUTION\n(a, b), c = f()\n### END SOLUTION\ncheck('2.2', a=a, b=b, c=c)"
    out = blank_code_solutions(notebook(code(nested))).cells[0].source.splitlines()
    assert out[:3] == [f"a = {BLANK}", f"b = {BLANK}", f"c = {BLANK}"]


def test_blank_inside_function_keeps_indentation_and_return():
    source = (
        "# EXERCISE 3.1 (3 points): median by hand\n"
        "def median_combine(frames):\n"
        '    """Median of frames."""\n'
        "    ### BEGIN SOLUTION\n"
        "    cube = np.stack(frames)\n"
        "    return np.median(cube, axis=0)\n"
        "    ### END SOLUTION\n"
        "median_combine = check('3.1', median_combine=median_combine)"
    )
    out = blank_code_solutions(notebook(code(source))).cells[0].source
    assert f"    return {BLANK}" in out
    assert "np.stack" not in out and "cube" not in out
    namespace = {"check": lambda _id, median_combine: median_combine}
    exec(compile(out, "cell", "exec"), namespace)
    assert namespace["median_combine"]([1, 2]) is Ellipsis


def test_blank_function_defined_in_region_keeps_signature_and_docstring():
    source = (
        "# EXERCISE 3.1 (3 points): f\n"
        "### BEGIN SOLUTION\n"
        "def combine(frames, method='median'):\n"
        '    """Combine the frames."""\n'
        "    return sum(frames)\n"
        "### END SOLUTION\n"
        "combine = check('3.1', combine=combine)"
    )
    out = blank_code_solutions(notebook(code(source))).cells[0].source
    assert "def combine(frames, method='median'):" in out
    assert '"""Combine the frames."""' in out
    assert f"    return {BLANK}" in out
    assert "sum(frames)" not in out
    ast.parse(out)


def test_blank_region_without_answers_leaves_a_comment_or_pass():
    top = blank_code_solutions(notebook(code("# EXERCISE 2.3 (1 point): plot\n### BEGIN SOLUTION\nplt.plot(x)\n### END SOLUTION"))).cells[0].source
    assert top == "# EXERCISE 2.3 (1 point): plot\n# your code here"
    nested = blank_code_solutions(notebook(code("for f in files:\n    ### BEGIN SOLUTION\n    print(f)\n    ### END SOLUTION"))).cells[0].source
    assert nested == "for f in files:\n    pass  # your code here"
    ast.parse(nested)


def test_solution_only_cell_is_left_out_but_exercise_cell_stays():
    nb = notebook(code("x = 1"), code("### BEGIN SOLUTION\nassert x == 1\n### END SOLUTION"), code("y = x"))
    student = blank_code_solutions(nb)
    assert [c.source for c in student.cells] == ["x = 1", "y = x"]


def test_several_regions_in_one_cell():
    source = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nprint(a)\n### BEGIN SOLUTION\nb = a + 1\n### END SOLUTION\nprint(b)"
    out = blank_code_solutions(notebook(code(source))).cells[0].source
    assert out == f"a = {BLANK}\nprint(a)\nb = {BLANK}\nprint(b)"


def test_region_that_is_not_python_is_an_error_naming_the_cell():
    nb = notebook(code("x = 1"), code("values = {\n### BEGIN SOLUTION\n'a': 1,\n### END SOLUTION\n}"))
    with pytest.raises(AuthoringError, match=r"demo\.ipynb, cell 2: the solution region is not valid Python"):
        blank_code_solutions(nb, "demo.ipynb")


def test_markdown_answer_is_replaced():
    nb = notebook(markdown("Why the corners?\n<!-- BEGIN SOLUTION -->\nVignetting.\n<!-- END SOLUTION -->\nNext."))
    out = blank_markdown_solutions(nb).cells[0].source
    assert out == f"Why the corners?\n{MARKDOWN_BLANK}\nNext."


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1", "is never closed"),
        ("x = 1\n### END SOLUTION", "closes no region"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "inside another one"),
        ("### BEGIN SOLUTION\n# EXERCISE 1.1 (1 point): t\nx = 1\n### END SOLUTION", "inside a solution region"),
    ],
)
def test_validate_rejects_malformed_markers(source, message):
    with pytest.raises(AuthoringError, match=message):
        validate_solution(notebook(code(source)), "bad.ipynb")


def test_validate_rejects_unclosed_markdown_region():
    with pytest.raises(AuthoringError, match="never closed"):
        validate_solution(notebook(markdown("<!-- BEGIN SOLUTION -->\nanswer")), "bad.ipynb")


def test_validate_rejects_exercise_declared_twice():
    nb = notebook(code("# EXERCISE 1.1 (1 point): a\nx = 1"), code("# EXERCISE 1.1 (1 point): a again\ny = 1"))
    with pytest.raises(AuthoringError, match="declared again"):
        validate_solution(nb, "twice.ipynb")


def test_validate_accepts_a_good_notebook():
    validate_solution(notebook(code(EXERCISE_CELL), markdown("text")), "good.ipynb")


def test_clear_outputs_keeps_only_tags():
    cell = code("1 + 1", execution_count=4, metadata={"tags": ["keep"], "collapsed": True})
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=4)]
    out = clear_outputs(notebook(cell)).cells[0]
    assert out.outputs == [] and out.execution_count is None
    assert dict(out.metadata) == {"tags": ["keep"]}


def test_set_metadata_writes_lesson_and_drops_the_rest():
    nb = notebook()
    nb.metadata["widgets"] = {"big": "state"}
    out = set_metadata(nb, "03_master_bias")
    assert out.metadata["ccdlab"] == {"lesson": "03_master_bias"}
    assert "widgets" not in out.metadata


def test_make_student_keeps_exercises_and_does_not_touch_the_solution():
    nb = notebook(code(EXERCISE_CELL), markdown("A\n<!-- BEGIN SOLUTION -->\nB\n<!-- END SOLUTION -->"))
    before = nbformat.writes(nb)
    student = make_student(nb, "01_fits_files")
    assert nbformat.writes(nb) == before
    assert exercises_in(student) == exercises_in(nb)
    text = nbformat.writes(student)
    assert "NAXIS1" not in text and "BEGIN SOLUTION" not in text


def test_make_student_is_deterministic():
    nb = notebook(code(EXERCISE_CELL))
    assert nbformat.writes(make_student(nb, "x")) == nbformat.writes(make_student(nb, "x"))


def write_solutions(folder, n=2):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        nb = notebook(code(EXERCISE_CELL.replace("1.1", f"{i}.1")))
        nbformat.write(nb, folder / f"0{i}_lesson.ipynb")
    return folder


def test_student_text_names_a_damaged_file(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    with pytest.raises(AuthoringError, match="broken.ipynb is not a readable notebook"):
        student_text(bad)


def test_generate_writes_then_is_in_sync_and_rewrites_nothing(tmp_path):
    solutions = write_solutions(tmp_path / "solutions")
    out = tmp_path / "notebooks"
    first = generate(solutions, out)
    assert first["written"] == ["00_lesson.ipynb", "01_lesson.ipynb"]
    stamp = (out / "00_lesson.ipynb").stat().st_mtime_ns
    second = generate(solutions, out)
    assert second["written"] == [] and len(second["unchanged"]) == 2
    assert (out / "00_lesson.ipynb").stat().st_mtime_ns == stamp
    assert generate(solutions, out, check=True)["stale"] == []


def test_generate_check_finds_stale_and_extra_and_writes_nothing(tmp_path):
    solutions = write_solutions(tmp_path / "solutions")
    out = tmp_path / "notebooks"
    generate(solutions, out)
    (out / "00_lesson.ipynb").write_text("edited by hand")
    (out / "99_orphan.ipynb").write_text("{}")
    report = generate(solutions, out, check=True)
    assert report["stale"] == ["00_lesson.ipynb"] and report["extra"] == ["99_orphan.ipynb"]
    assert (out / "00_lesson.ipynb").read_text() == "edited by hand"


def test_generate_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        generate(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no notebooks"):
        generate(tmp_path / "empty", tmp_path / "out")
    solutions = write_solutions(tmp_path / "solutions")
    with pytest.raises(ValueError, match="is the solutions folder"):
        generate(solutions, solutions)


def parse(argv):
    parser = argparse.ArgumentParser(prog="ccdlab student")
    student_command.add_arguments(parser)
    return parser.parse_args(argv)


def test_add_arguments_defaults():
    args = parse(["solutions"])
    assert args.solutions == "solutions" and args.out == "notebooks" and args.check is False


def test_run_writes_then_check_passes(tmp_path, capsys):
    solutions = write_solutions(tmp_path / "solutions")
    out = tmp_path / "notebooks"
    assert cli.run_command("student", parse([str(solutions), "--out", str(out)])) == 0
    assert "2 written" in capsys.readouterr().out
    assert cli.run_command("student", parse([str(solutions), "--out", str(out), "--check"])) == 0
    assert "in sync" in capsys.readouterr().out


def test_run_check_fails_when_out_of_sync(tmp_path, capsys):
    solutions = write_solutions(tmp_path / "solutions")
    out = tmp_path / "notebooks"
    assert cli.run_command("student", parse([str(solutions), "--out", str(out), "--check"])) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "make notebooks" in err
    assert not out.exists()


def test_run_bad_input_is_one_sentence_not_a_traceback(tmp_path, capsys):
    assert cli.run_command("student", parse([str(tmp_path / "nope")])) == 1
    err = capsys.readouterr().err
    assert err.startswith("ccdlab student:") and "Traceback" not in err
    bad = tmp_path / "bad"
    bad.mkdir()
    nbformat.write(notebook(code("### BEGIN SOLUTION\nx = 1")), bad / "01_bad.ipynb")
    assert cli.run_command("student", parse([str(bad), "--out", str(tmp_path / "out")])) == 1
    assert "01_bad.ipynb, cell 1" in capsys.readouterr().err


def test_refresh_outputs_keeps_small_jpeg_figures_and_scrubs_the_data_path(tmp_path):
    data = tmp_path / "night"
    data.mkdir()
    nb = notebook(
        code("import os\nprint(os.environ['CCDLAB_DATA'])"),
        code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]);"),
    )
    nb.metadata["widgets"] = {"state": {}}
    path = tmp_path / "05_demo.ipynb"
    nbformat.write(nb, path)
    elapsed = authoring.refresh_outputs(path, data, timeout=120)
    assert elapsed > 0
    done = nbformat.read(path, as_version=4)
    assert len(done.cells) == 2  # the hidden preamble is gone
    assert done.cells[0].outputs[0]["text"].strip() == "data"
    figure = done.cells[1].outputs[0]
    assert "image/jpeg" in figure["data"] and "image/png" not in figure["data"]
    assert done.metadata["ccdlab"] == {"lesson": "05_demo"} and "widgets" not in done.metadata


def test_refresh_outputs_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        authoring.refresh_outputs(tmp_path / "none.ipynb", tmp_path)
    path = tmp_path / "a.ipynb"
    nbformat.write(notebook(code("1")), path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        authoring.refresh_outputs(path, tmp_path / "missing")


def test_refresh_outputs_leaves_the_notebook_alone_when_a_cell_fails(tmp_path):
    from nbclient.exceptions import CellExecutionError

    path = tmp_path / "b.ipynb"
    nbformat.write(notebook(code("raise ValueError('boom')")), path)
    before = path.read_text()
    with pytest.raises(CellExecutionError):
        authoring.refresh_outputs(path, tmp_path, timeout=120)
    assert path.read_text() == before


def test_words_in_strings_and_comments_do_not_count_as_uses():
    first = code("### BEGIN SOLUTION\nscratch = 1\nanswer = scratch + 1\n### END SOLUTION\ncheck('1.1', answer=answer)")
    later = code("print('the scratch value')  # scratch is only mentioned here")
    out = blank_code_solutions(notebook(first, later)).cells[0].source
    assert out == f"answer = {BLANK}\ncheck('1.1', answer=answer)"


def test_run_refresh_setup_rewrites_the_solutions_setup_cells_then_generates(tmp_path, monkeypatch, capsys):
    from ccdlab.course import setup as setup_cell

    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(notebook(markdown("# 01"), code(setup_cell.cell_source("01_demo")), code("x = 1")),
                   solutions / "01_demo.ipynb")
    monkeypatch.setattr(setup_cell, "COURSE_REPOSITORY", "git+https://example.org/course")
    out = tmp_path / "notebooks"
    assert cli.run_command("student", parse([str(solutions), "--out", str(out), "--refresh-setup"])) == 0
    assert "refreshed the setup cell" in capsys.readouterr().out
    for folder in (solutions, out):
        cells = nbformat.read(folder / "01_demo.ipynb", as_version=4).cells
        assert "git+https://example.org/course" in cells[1].source and cells[2].source == "x = 1"
    # a second run has nothing left to refresh
    assert cli.run_command("student", parse([str(solutions), "--out", str(out), "--refresh-setup"])) == 0
    assert "refreshed" not in capsys.readouterr().out

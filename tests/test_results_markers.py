import json

import nbformat
import pytest

from ccdlab.course import markers
from ccdlab.course import results


def test_record_appends_json_lines(tmp_path, monkeypatch):
    target = tmp_path / "results.jsonl"
    monkeypatch.setenv(results.RESULTS_ENV, str(target))
    results.clear()
    results.record(results.ExerciseResult("1.1", "incorrect", 0.0, "Look at NAXIS1.", "01_fits_files"))
    results.record(results.ExerciseResult("1.1", "correct", 1.0, "", "01_fits_files"))
    lines = target.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["hint"] == "Look at NAXIS1."
    assert [r.status for r in results.recorded()] == ["incorrect", "correct"]
    read = results.read_results(target)
    assert read["1.1"].status == "correct" and read["1.1"].lesson == "01_fits_files"


def test_record_without_file_keeps_memory_only(monkeypatch):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    results.clear()
    results.record(results.ExerciseResult("2.1", "not attempted", 0.0))
    assert len(results.recorded()) == 1
    results.clear()
    assert results.recorded() == []


def test_read_results_skips_junk(tmp_path):
    target = tmp_path / "r.jsonl"
    target.write_text('{"exercise": "1", "status": "correct", "score": 1}\nnot json\n'
                      '{"exercise": "2", "status": "hacked", "score": 1}\n{"exercise": "3", "status": "correct", "score": 5}\n{"exercise": "4"')
    assert list(results.read_results(target)) == ["1"]


@pytest.mark.parametrize("status,score", [("great", 1.0), ("correct", 1.5), ("correct", -0.1)])
def test_result_validation(status, score):
    with pytest.raises(ValueError):
        results.ExerciseResult("1", status, score)


def test_exercises_in_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# EXERCISE 9.9 (5 points) in markdown does not count"),
        nbformat.v4.new_code_cell("# EXERCISE 1.1 (2 points): Image size\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
        nbformat.v4.new_code_cell("#EXERCISE 1.2 (1 point)\ny = 2"),
        nbformat.v4.new_code_cell("# Exercise 1.3 (0.5 points): half\nz = 3"),
    ]
    found = markers.exercises_in(nb)
    assert [(e.id, e.points, e.title) for e in found] == [("1.1", 2.0, "Image size"), ("1.2", 1.0, ""), ("1.3", 0.5, "half")]


def test_conflicting_points_are_an_error():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# EXERCISE 1.1 (2 points)"), nbformat.v4.new_code_cell("# EXERCISE 1.1 (3 points)")]
    with pytest.raises(ValueError, match="declared twice"):
        markers.exercises_in(nb)


def test_cell_source_joins_lists():
    assert markers.cell_source({"source": ["a\n", "b"]}) == "a\nb"

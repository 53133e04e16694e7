"""``ccdlab grade``'s options for what follows grading are checked before any notebook runs."""

from __future__ import annotations

import pytest

from ccdlab import cli


@pytest.mark.parametrize("extra, message", [
    (["--lms", "canvas"], "--lms canvas needs --roster FILE"),
    (["--feedback-solutions"], "--feedback-solutions adds to the feedback pages: pass --feedback DIR too"),
    (["--manual", "no-such-sheet.csv"], "--manual no-such-sheet.csv: no such file"),
    (["--roster", "no-such-roster.csv"], "The roster no-such-roster.csv could not be read"),
    (["--feedback", "a-file.txt"], "--feedback a-file.txt is a file: give a folder"),
])
def test_bad_options_fail_before_grading(tmp_path, monkeypatch, capsys, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    code = cli.main(["grade", "empty", "--out", "grades.csv", "--no-data", *extra])
    assert code == 1
    err = capsys.readouterr().err
    assert message in err, err
    assert not (tmp_path / "grades.csv").exists()


def test_an_unknown_lms_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["grade", "x", "--out", "g.csv", "--lms", "blackboard"])
    assert exit_.value.code == 2

"""GitHub Classroom: ``ccdlab release OUTDIR --github-classroom`` makes a template repository whose
workflow grades the student's notebooks on each push and reports the points to GitHub Classroom's
reporter (``classroom-resources/autograding-grading-reporter``).

The workflow itself runs on GitHub; here its YAML is parsed and its grading commands are run as
written, in the hand-out's folder, on a solution (full points) and a blank notebook (zero), in the
sandbox, on the tiny night the workflow makes. No network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from ccdlab import cli
from ccdlab.classroom import github_classroom
from ccdlab.classroom.grading import autograde as autograde_module
from ccdlab.classroom.grading.autograde import encode_result, main as autograde_main, reporter_result
from ccdlab.classroom.grading.points import (
    MANIFEST_PATH,
    marker_changes,
    read_points_manifest,
    write_points_manifest,
)
from ccdlab.classroom.grading.score import GradeRow
from ccdlab.classroom.grading.solutions import load_solutions
from ccdlab.classroom.release import ReleaseError, build_release
from ccdlab.errors import GradingError

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    """The course's own hand-out for GitHub Classroom (notebooks generated from solutions/)."""
    from ccdlab.classroom.authoring import generate

    tmp = tmp_path_factory.mktemp("classroom")
    generate(SOLUTIONS, tmp / "notebooks")
    return build_release(tmp / "out", notebooks_dir=tmp / "notebooks", solutions_dir=SOLUTIONS, github_classroom=True,
                         python="3.11")


def workflow(made) -> dict:
    return yaml.safe_load((made["folder"] / github_classroom.WORKFLOW_PATH).read_text(encoding="utf-8"))


def steps_by_name(made) -> dict:
    return {step["name"]: step for step in workflow(made)["jobs"]["autograding"]["steps"]}


# ----------------------------------------------------------------------------------------------
# The hand-out


def test_the_handout_carries_the_workflow_the_points_and_the_grader_but_no_solution(handout):
    folder = handout["folder"]
    assert (folder / github_classroom.WORKFLOW_PATH).is_file() and (folder / MANIFEST_PATH).is_file()
    assert ".ccdlab-night/" in (folder / ".gitignore").read_text().splitlines()
    instructor = folder / "src" / "ccdlab" / "classroom"
    assert sorted(p.name for p in instructor.iterdir()) == ["__init__.py", "grading"]
    assert (instructor / "grading" / "autograde.py").is_file() and (instructor / "grading" / "points.py").is_file()
    assert not (folder / "solutions").exists()
    for path in folder.rglob("*.ipynb"):
        assert "BEGIN SOLUTION" not in path.read_text(encoding="utf-8"), path
    with zipfile.ZipFile(handout["zip"]) as archive:
        names = archive.namelist()
    assert "ccdlab-course/.github/workflows/classroom.yml" in names
    assert "ccdlab-course/.github/classroom/ccdlab-points.json" in names
    assert not [n for n in names if "/classroom/authoring" in n or "/classroom/release" in n or "/solutions/" in n]
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "## Autograding on GitHub" in readme and f"out of {handout['autograding']['max_score']:g}" in readme


def test_the_points_manifest_holds_every_lesson_with_the_solutions_points(handout):
    lessons = read_points_manifest(handout["autograding"]["manifest"], handout["autograding"]["sha256"])
    solutions = load_solutions(SOLUTIONS)
    assert list(lessons) == list(solutions)
    for name, lesson in solutions.items():
        assert lessons[name].exercises == lesson.exercises
        assert lessons[name].answers == {k: set(v) for k, v in lesson.answers.items()}
    assert handout["autograding"]["max_score"] == sum(lesson.max_points for lesson in solutions.values())


def test_the_workflow_parses_and_runs_the_steps_in_order(handout):
    flow = workflow(handout)
    assert flow["name"] == "ccdlab autograding"
    assert "push" in flow["on"] and "workflow_dispatch" in flow["on"]
    assert flow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    job = flow["jobs"]["autograding"]
    assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] == 60
    names = [step["name"] for step in job["steps"]]
    assert names == ["Check out the notebooks", "Set up Python", "Install the sandbox (bubblewrap)",
                     "Install the course package and its grader", "Make the tiny night", "Grade the notebooks",
                     "Report the points"]
    steps = steps_by_name(handout)
    assert steps["Check out the notebooks"]["uses"] == "actions/checkout@v4"
    assert steps["Set up Python"]["with"]["python-version"] == "3.11"
    assert "apt-get install -y -qq bubblewrap" in steps["Install the sandbox (bubblewrap)"]["run"]
    assert steps["Install the course package and its grader"]["run"] == 'python -m pip install -e ".[instructor]"'
    assert shlex.split(steps["Make the tiny night"]["run"])[:4] == ["python", "data_fetch.py", "--size", "tiny"]
    grading = steps["Grade the notebooks"]
    assert grading["id"] == "ccdlab"
    words = shlex.split(grading["run"])
    assert words[:3] == ["python", "-m", "ccdlab.classroom.grading.autograde"]
    sha = words[words.index("--manifest-sha256") + 1]
    manifest = handout["folder"] / words[words.index("--manifest") + 1]
    assert sha == hashlib.sha256(manifest.read_bytes()).hexdigest() == handout["autograding"]["sha256"]
    report = steps["Report the points"]
    assert report["uses"] == "classroom-resources/autograding-grading-reporter@v1" and report["if"] == "always()"
    assert report["with"]["runners"] == "ccdlab"
    assert report["env"] == {"CCDLAB_RESULTS": "${{ steps.ccdlab.outputs.result }}"}


def test_the_handout_package_imports_its_grader_but_not_the_authoring_tools(handout):
    """As the workflow's 'pip install -e .' would: the hand-out's src/ first on the path."""
    folder = handout["folder"]
    script = """
import ccdlab, ccdlab.classroom.grading.autograde as autograde
assert ccdlab.__file__.startswith(SRC), ccdlab.__file__
try:
    import ccdlab.classroom.authoring
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("the authoring tools should not be in the hand-out")
autograde.main(["--help"])
""".replace("SRC", repr(str(folder / "src")))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(folder / "src")
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--manifest-sha256" in done.stdout, done.stderr


def test_release_for_github_classroom_refuses_what_it_cannot_grade(tmp_path):
    from ccdlab.classroom.authoring import generate

    generate(SOLUTIONS, tmp_path / "notebooks")
    with pytest.raises(ReleaseError, match="leave out --no-package"):
        build_release(tmp_path / "a", notebooks_dir=tmp_path / "notebooks", solutions_dir=SOLUTIONS,
                      include_package=False, github_classroom=True)
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(SOLUTIONS / "00_getting_started.ipynb", partial)
    with pytest.raises(ReleaseError, match="01_fits_files.ipynb has none"):
        build_release(tmp_path / "b", notebooks_dir=tmp_path / "notebooks", solutions_dir=partial, github_classroom=True)


def test_cli_release_github_classroom(tmp_path, capsys):
    from ccdlab.classroom.authoring import generate

    generate(SOLUTIONS, tmp_path / "notebooks")
    parser = cli.build_parser("release")
    args = parser.parse_args(["release", str(tmp_path / "out"), "--notebooks", str(tmp_path / "notebooks"),
                              "--solutions", str(SOLUTIONS), "--github-classroom"])
    assert cli.run_command("release", args) == 0
    out = capsys.readouterr().out
    assert "GitHub Classroom: .github/workflows/classroom.yml grades each push" in out and "protect .github/**/*" in out


# ----------------------------------------------------------------------------------------------
# The points manifest and the reporter's result


def test_a_changed_manifest_or_marker_does_not_pay(tmp_path):
    lessons = {name: lesson for name, lesson in load_solutions(SOLUTIONS).items() if name == "01_fits_files"}
    path = tmp_path / "points.json"
    digest = write_points_manifest(path, lessons)
    assert read_points_manifest(path, digest)["01_fits_files"].max_points == 5
    path.write_text(path.read_text().replace('"points": 2.0', '"points": 200.0'))
    with pytest.raises(GradingError, match="was changed"):
        read_points_manifest(path, digest)
    path.write_text("{}")
    with pytest.raises(GradingError, match="not a ccdlab points manifest"):
        read_points_manifest(path)
    with pytest.raises(GradingError, match="could not be read"):
        read_points_manifest(tmp_path / "none.json")
    notebook = nbformat.read(SOLUTIONS / "01_fits_files.ipynb", as_version=4)
    assert marker_changes(notebook, lessons["01_fits_files"]) == []
    for cell in notebook.cells:
        cell.source = cell.source.replace("(2 points)", "(200 points)")
    assert marker_changes(notebook, lessons["01_fits_files"]) == [
        "the marker of exercise 1.1 says 200 points; it is worth 2 (the points of the course count)"]


def test_the_reporter_result_adds_up_as_the_reporter_does():
    rows = [GradeRow("", "01_fits_files", "1.1", 2.0, 2.0, "correct", submission="notebooks/01_fits_files.ipynb",
                     title="The image size"),
            GradeRow("", "01_fits_files", "1.2", 1.5, 3.0, "partial", hint="2 of 5 wrong", title="What the header says"),
            GradeRow("", "00_getting_started", "0.1", 0.0, 1.0, "missing", hint="No notebook")]
    payload = json.loads(base64.b64decode(encode_result(reporter_result(rows, 6.0))))
    # autograding-grading-reporter (src/notify-classroom.js): Points = sum of tests' score / sum of max_score
    assert payload["version"] == 1 and payload["max_score"] == 6.0 and payload["status"] == "fail"
    assert sum(test["score"] for test in payload["tests"]) == 3.5
    assert [t["status"] for t in payload["tests"]] == ["pass", "fail", "fail"]
    assert payload["tests"][0]["name"] == "01_fits_files 1.1: The image size"
    assert payload["tests"][1]["message"] == "partial: 2 of 5 wrong"
    assert payload["tests"][0]["filename"] == "notebooks/01_fits_files.ipynb"
    assert reporter_result(rows[:1], 2.0)["status"] == "pass"
    error = reporter_result([], 0.0, error="no sandbox")
    assert error["status"] == "error" and error["tests"][0]["message"] == "no sandbox"


def test_autograding_that_cannot_grade_still_reports_why(tmp_path, capsys, monkeypatch):
    lessons = {name: lesson for name, lesson in load_solutions(SOLUTIONS).items() if name == "00_getting_started"}
    write_points_manifest(tmp_path / "points.json", lessons)
    (tmp_path / "notebooks").mkdir()
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    code = autograde_main(["notebooks", "--manifest", str(tmp_path / "points.json"), "--manifest-sha256", "0" * 64,
                           "--github-output", "--result", str(tmp_path / "result.json")])
    assert code == 1 and "was changed" in capsys.readouterr().out
    key, value = output.read_text().strip().split("=", 1)
    payload = json.loads(base64.b64decode(value))
    assert key == "result" and payload["status"] == "error" and "was changed" in payload["tests"][0]["message"]
    assert json.loads((tmp_path / "result.json").read_text()) == payload
    monkeypatch.delenv("GITHUB_OUTPUT")
    assert autograde_main(["notebooks", "--manifest", str(tmp_path / "points.json"), "--github-output"]) == 2


def test_a_repository_without_notebooks_scores_zero_without_running_anything(tmp_path, monkeypatch):
    lessons = {name: lesson for name, lesson in load_solutions(SOLUTIONS).items() if name in ("00_getting_started",
                                                                                              "01_fits_files")}
    write_points_manifest(tmp_path / "points.json", lessons)
    (tmp_path / "notebooks").mkdir()
    result = autograde_module.autograde(tmp_path / "notebooks", tmp_path / "points.json")
    assert result.score == 0 and result.max_score == 6
    assert {row.status for row in result.rows} == {"missing"} and len(result.rows) == 3
    with pytest.raises(GradingError, match="does not exist"):
        autograde_module.autograde(tmp_path / "nope", tmp_path / "points.json")


# ----------------------------------------------------------------------------------------------
# The workflow's commands, run locally as written


def run_step(step: dict, folder: Path, env: dict) -> subprocess.CompletedProcess:
    """A workflow step's ``run`` line, with this test's Python for ``python``."""
    words = shlex.split(step["run"])
    assert words[0] == "python"
    return subprocess.run([sys.executable, *words[1:]], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=900)


def repository(handout, tmp_path: Path, notebooks: dict) -> Path:
    """A student's repository: the hand-out with only these lessons' notebooks (name -> notebook)."""
    repo = tmp_path / "repo"
    shutil.copytree(handout["folder"], repo, ignore=shutil.ignore_patterns("notebooks"))
    (repo / "notebooks").mkdir()
    for name, notebook in notebooks.items():
        nbformat.write(notebook, repo / "notebooks" / f"{name}.ipynb")
    return repo


def graded(repo: Path, steps: dict, tiny: Path, tmp_path: Path) -> tuple:
    """Run the workflow's night and grading steps in ``repo``; the reporter's result and the summary."""
    env = {k: v for k, v in os.environ.items() if k not in ("CCDLAB_DATA", "PYTHONPATH")}
    env.update(GITHUB_OUTPUT=str(tmp_path / "output"), GITHUB_STEP_SUMMARY=str(tmp_path / "summary"))
    if tiny is None:
        night = run_step(steps["Make the tiny night"], repo, env)
        assert night.returncode == 0, night.stderr
    else:  # the same night, made once for the module
        shutil.copytree(tiny, repo / github_classroom.NIGHT_FOLDER)
    done = run_step(steps["Grade the notebooks"], repo, env)
    assert done.returncode == 0, done.stdout + done.stderr
    key, value = (tmp_path / "output").read_text().strip().split("=", 1)
    assert key == "result"
    return json.loads(base64.b64decode(value)), done.stdout, (tmp_path / "summary").read_text()


def student(lesson: str):
    from ccdlab.classroom.authoring import make_student

    return make_student(nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4), lesson)


def solution(lesson: str):
    return nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)


def scores(payload: dict, lesson: str) -> list:
    return [(t["status"], t["score"]) for t in payload["tests"] if t["name"].startswith(lesson + " ")]


@pytest.mark.slow
@pytest.mark.notebooks
def test_the_workflow_gives_a_solution_full_points_and_a_blank_zero(handout, tmp_path):
    """The workflow's own commands, in the sandbox: lesson 01 solved (one marker edited to pay 200
    points), lesson 00 blank, every other lesson's notebook deleted. The night is made by the
    workflow's step, as on GitHub."""
    steps = steps_by_name(handout)
    edited = solution("01_fits_files")
    for cell in edited.cells:
        cell.source = cell.source.replace("(2 points)", "(200 points)")
    repo = repository(handout, tmp_path, {"01_fits_files": edited, "00_getting_started": student("00_getting_started")})
    payload, stdout, summary = graded(repo, steps, None, tmp_path)
    total = handout["autograding"]["max_score"]
    assert payload["status"] == "fail" and payload["max_score"] == total
    assert scores(payload, "01_fits_files") == [("pass", 2.0), ("pass", 3.0)]
    assert scores(payload, "00_getting_started") == [("fail", 0.0)]
    others = [t for t in payload["tests"] if not t["name"].startswith(("00_", "01_"))]
    assert others and {(t["status"], t["score"]) for t in others} == {("fail", 0.0)}
    assert all(t["message"].startswith("missing: No notebook of lesson") for t in others)
    assert sum(t["score"] for t in payload["tests"]) == 5.0  # what the reporter reports: "Points 5/65"
    assert stdout.strip().endswith(f"**Points 5/{total:g}**") and f"**Points 5/{total:g}**" in summary
    assert "the marker of exercise 1.1 says 200 points; it is worth 2" in stdout


@pytest.mark.slow
@pytest.mark.notebooks
def test_the_workflow_gives_a_blank_zero_and_a_solution_full_points(handout, tmp_path, tiny_night):
    """The other way round: lesson 00 solved, lesson 01 blank (on the module's tiny night)."""
    steps = steps_by_name(handout)
    repo = repository(handout, tmp_path, {"00_getting_started": solution("00_getting_started"),
                                          "01_fits_files": student("01_fits_files")})
    payload, stdout, _ = graded(repo, steps, tiny_night, tmp_path)
    assert scores(payload, "00_getting_started") == [("pass", 1.0)]
    assert scores(payload, "01_fits_files") == [("fail", 0.0), ("fail", 0.0)]
    assert [t["message"] for t in payload["tests"] if t["name"].startswith("01_")] == ["not attempted: not attempted yet"] * 2
    assert sum(t["score"] for t in payload["tests"]) == 1.0

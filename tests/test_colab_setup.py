"""Tests for the notebooks' setup cell, on a simulated Colab (a fake google.colab module)."""

import importlib.machinery
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from ccdlab.classroom.authoring import refresh_setup_cell

from ccdlab.data import colab
from ccdlab.course import exercises, setup as setup_cell
from ccdlab import paths
from ccdlab.course.setup import SetupError, cell_source, start

ROOT = Path(__file__).resolve().parents[1]


def make_raw(folder: Path) -> Path:
    """A stand-in night: one small file in each raw folder."""
    for kind in paths.RAW_FOLDERS:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        (folder / kind / f"{kind}_1.fits").write_bytes(b"not really FITS")
    return folder


@pytest.fixture
def fake_colab(tmp_path, monkeypatch):
    """A fake google.colab whose drive.mount makes MyDrive appear; Drive and local disk in tmp_path."""
    content = tmp_path / "content"
    state = types.SimpleNamespace(mounts=[], data_on_drive=False, mount_works=True,
                                  drive_data=content / "drive" / "MyDrive" / "ccdlab-data",
                                  local_data=content / "ccdlab-data")
    for module in (paths, colab):
        monkeypatch.setattr(module, "DRIVE_DATA", state.drive_data)
    monkeypatch.setattr(paths, "COLAB_LOCAL_DATA", state.local_data)
    monkeypatch.setattr(colab, "LOCAL_DATA", state.local_data)
    monkeypatch.setattr(colab, "DRIVE_MOUNT", content / "drive")
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    monkeypatch.delenv("CCDLAB_DATA", raising=False)

    def mount(where, **kwargs):
        state.mounts.append(where)
        if state.mount_works:
            state.drive_data.parent.mkdir(parents=True, exist_ok=True)  # MyDrive appears
            if state.data_on_drive:
                make_raw(state.drive_data)

    google = types.ModuleType("google")
    google.__path__ = []
    fake = types.ModuleType("google.colab")
    fake.__spec__ = importlib.machinery.ModuleSpec("google.colab", loader=None)
    fake.drive = types.SimpleNamespace(mount=mount)
    google.colab = fake
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", fake)
    yield state
    exercises.set_lesson(None)


@pytest.fixture
def fresh_runtime(monkeypatch):
    """ccdlab not installed yet (as on a fresh Colab machine); pip calls are recorded, not run."""
    runs = []

    def pip(command, check=False, **kw):
        runs.append(command)
        return subprocess.CompletedProcess(command, runs.returncode if hasattr(runs, "returncode") else 0,
                                           "", getattr(runs, "stderr", ""))

    runs = _Runs()
    monkeypatch.setattr(subprocess, "run", pip)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ccdlab" else real_find_spec(name, *a))
    return runs


class _Runs(list):
    """The pip commands the cell ran; set ``returncode`` and ``stderr`` to make pip fail."""


def run_cell(lesson, source=None):
    namespace = {}
    exec(compile(source or cell_source(lesson), "setup-cell", "exec"), namespace)
    return namespace


def test_cell_source_is_the_template_for_the_lesson():
    text = cell_source("03_master_bias")
    assert text.splitlines()[-1] == 'data_dir = start("03_master_bias")'
    assert str(setup_cell.DRIVE_COURSES) in text and "MyDrive/ccdlab-course, then run this cell again" in text
    assert "sys.exit" not in text and "check=True" not in text  # failures are one sentence, not SystemExit
    compile(text, "setup", "exec")


def test_cell_source_with_a_published_repository(monkeypatch):
    monkeypatch.setattr(setup_cell, "COURSE_REPOSITORY", "git+https://example.org/course")
    text = cell_source("03_master_bias")
    assert 'source = "git+https://example.org/course"' in text
    compile(text, "setup", "exec")


def test_every_notebook_starts_with_the_setup_cell():
    for folder in ("solutions", "notebooks"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
            assert first_code.source == cell_source(path.stem), f"{folder}/{path.name}: refresh its setup cell"


def test_locally_the_cell_installs_nothing_sets_the_lesson_and_prints_nothing(tmp_path, monkeypatch, capsys):
    data = make_raw(tmp_path / "data")
    monkeypatch.setenv("CCDLAB_DATA", str(data))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip must not run off Colab"))
    try:
        namespace = run_cell("02_statistics_display")
        assert namespace["data_dir"] == data.resolve()
        assert exercises.current_lesson() == "02_statistics_display"
        assert capsys.readouterr().out == ""
    finally:
        exercises.set_lesson(None)


def test_locally_missing_data_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("CCDLAB_DATA", str(tmp_path / "missing"))
    monkeypatch.setattr(paths, "project_root", lambda: tmp_path / "checkout")
    with pytest.raises(SetupError, match="No course data found") as info:
        start("01_fits_files")
    rendered = info.value._render_traceback_()
    assert len(rendered) == 1 and "data_fetch.py" in rendered[0] and "Traceback" not in rendered[0]
    exercises.set_lesson(None)


def test_a_fresh_colab_without_a_course_copy_says_what_to_do(fake_colab, fresh_runtime):
    with pytest.raises(Exception, match="Copy the course folder .* MyDrive/ccdlab-course") as info:
        run_cell("01_fits_files")
    assert type(info.value).__name__ == "SetupFailed" and len(info.value._render_traceback_()) == 1
    assert fake_colab.mounts == ["/content/drive"] and fresh_runtime == []


def test_a_fresh_colab_mounts_installs_and_works_on_a_local_copy_of_drive(fake_colab, fresh_runtime, capsys, monkeypatch):
    monkeypatch.setattr(setup_cell, "COURSE_REPOSITORY", "git+https://example.org/course")
    fake_colab.data_on_drive = True
    namespace = run_cell("01_fits_files")
    assert fake_colab.mounts == ["/content/drive"]  # by the cell, before ccdlab exists
    assert len(fresh_runtime) == 1
    assert fresh_runtime[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert fresh_runtime[0][-1] == "git+https://example.org/course"  # no course copy on this Drive
    assert namespace["data_dir"] == fake_colab.local_data
    assert (fake_colab.local_data / "bias" / "bias_1.fits").is_file()  # the working copy
    assert exercises.current_lesson() == "01_fits_files"
    out = capsys.readouterr().out
    assert "working copy" in out and "save_to_drive()" in out


def _cell_with(course, local) -> str:
    return (cell_source("01_fits_files").replace(str(setup_cell.DRIVE_COURSES), repr((str(course),)))
            .replace(setup_cell.LOCAL_COURSE, str(local)))


def _course_on_drive(folder):
    (folder / "src" / "ccdlab").mkdir(parents=True)
    (folder / "src" / "ccdlab" / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text("[project]\n")
    (folder / "README.md").write_text("# course\n")
    (folder / "notebooks").mkdir()
    (folder / "notebooks" / "00.ipynb").write_text("{}")
    (folder / "data" / "bias").mkdir(parents=True)
    return folder


@pytest.mark.parametrize("name", ["ccdlab-course", "ccdlab"])
def test_the_cell_installs_from_a_local_copy_of_the_course_on_drive(fake_colab, fresh_runtime, tmp_path, name):
    """pip writes build/ and egg-info beside the sources: it must install from the Colab disk, not Drive."""
    fake_colab.data_on_drive = True
    course = _course_on_drive(tmp_path / "MyDrive" / name)
    before = sorted(p.relative_to(course) for p in course.rglob("*"))
    local = tmp_path / "content" / "ccdlab-course"
    run_cell("01_fits_files", _cell_with(course, local))
    assert fresh_runtime[0][:5] == [sys.executable, "-m", "pip", "install", "--quiet"]
    assert fresh_runtime[0][-1] == str(local)
    assert sorted(p.name for p in local.iterdir()) == ["README.md", "pyproject.toml", "src"]
    assert sorted(p.relative_to(course) for p in course.rglob("*")) == before  # the Drive copy is untouched


def test_both_drive_folder_names_are_looked_for():
    assert setup_cell.DRIVE_COURSES == ("/content/drive/MyDrive/ccdlab-course", "/content/drive/MyDrive/ccdlab")


def test_a_failed_install_is_one_sentence(fake_colab, fresh_runtime, tmp_path):
    course = _course_on_drive(tmp_path / "MyDrive" / "ccdlab-course")
    fresh_runtime.returncode, fresh_runtime.stderr = 1, "Collecting numpy\nERROR: No space left on device\n"
    with pytest.raises(Exception, match="Installing ccdlab failed .ERROR: No space left on device.") as info:
        run_cell("01_fits_files", _cell_with(course, tmp_path / "local"))
    assert type(info.value).__name__ == "SetupFailed" and len(info.value._render_traceback_()) == 1


def test_with_ccdlab_installed_the_cell_skips_pip_and_mounts_once(fake_colab, monkeypatch):
    fake_colab.data_on_drive = True
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip must not run when ccdlab is installed"))
    run_cell("05_calibration")
    assert fake_colab.mounts == [str(colab.DRIVE_MOUNT)]  # mounted by start(), not by the install branch
    run_cell("05_calibration")
    assert len(fake_colab.mounts) == 1  # already mounted: not again


def test_on_colab_without_data_the_night_is_made_and_put_on_drive(fake_colab, monkeypatch):
    made = []

    def ensure_default(dest, size="workshop", **options):
        made.append((Path(dest), size))
        return make_raw(Path(dest))

    monkeypatch.setattr(colab, "ensure_default", ensure_default)
    found = start("00_getting_started")
    assert made == [(fake_colab.local_data, "workshop")]
    assert found == fake_colab.local_data
    assert (fake_colab.drive_data / "science" / "science_1.fits").is_file()  # kept on Drive


def test_start_passes_the_size_wanted_on_to_colab(fake_colab, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(colab, "prepare_colab_data", lambda **kw: calls.append(kw) or tmp_path)
    assert start("00_getting_started", size="tiny") == tmp_path
    assert calls == [{"size": "tiny", "progress": True, "student": None}]


def test_on_colab_a_failure_is_one_sentence(fake_colab):
    fake_colab.mount_works = False  # permission refused: MyDrive never appears
    with pytest.raises(SetupError, match="could not be prepared on Colab") as info:
        start("00_getting_started")
    assert len(info.value._render_traceback_()) == 1


def test_refresh_setup_cell(tmp_path, monkeypatch):
    path = tmp_path / "03_master_bias.ipynb"
    old = cell_source("03_master_bias")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 03"),
                                                   nbformat.v4.new_code_cell(old), nbformat.v4.new_code_cell("x = 1")]), path)
    assert refresh_setup_cell(path) is False
    monkeypatch.setattr(setup_cell, "COURSE_REPOSITORY", "git+https://example.org/course")
    assert refresh_setup_cell(path) is True
    cells = nbformat.read(path, as_version=4).cells
    assert "git+https://example.org/course" in cells[1].source and cells[2].source == "x = 1"


def test_refresh_setup_cell_refuses_a_notebook_without_one(tmp_path):
    path = tmp_path / "a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")]), path)
    with pytest.raises(ValueError, match="not a setup cell"):
        refresh_setup_cell(path)
    assert "hello" in path.read_text()

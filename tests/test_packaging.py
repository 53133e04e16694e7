"""The environments we hand out agree with each other and with the README."""

import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def conda_names():
    names = set()
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.match(r"^\s{2}- ([A-Za-z0-9_.\-]+)", line)
        if match:
            names.add(requirement_name(match.group(1)))
    return names


def test_environment_yml_names_every_runtime_and_test_dependency():
    project = pyproject()["project"]
    wanted = {requirement_name(spec) for spec in project["dependencies"]}
    wanted |= {requirement_name(spec) for spec in project["optional-dependencies"]["test"]}
    missing = wanted - conda_names()
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_environment_yml_installs_the_checkout():
    assert "-e .[test]" in (ROOT / "environment.yml").read_text()


def test_console_script_declared():
    assert pyproject()["project"]["scripts"]["ccdlab"] == "ccdlab.cli:main"


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"`make (\w+)", readme):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"README mentions make {target}, Makefile lacks it"

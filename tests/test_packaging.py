"""The environments we hand out agree with each other and with the README."""

import re
import shlex
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest

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


def extra_requirements(extra: str, seen=None) -> set:
    """The packages an extra brings, following ``ccdlab[other,extras]`` inside it."""
    seen = set() if seen is None else seen
    seen.add(extra)
    names = set()
    for spec in pyproject()["project"]["optional-dependencies"][extra]:
        if requirement_name(spec) == "ccdlab":
            for inner in re.search(r"\[([^\]]*)\]", spec).group(1).split(","):
                if inner.strip() not in seen:
                    names |= extra_requirements(inner.strip(), seen)
        else:
            names.add(requirement_name(spec))
    return names


def test_environment_yml_names_every_runtime_and_test_dependency():
    project = pyproject()["project"]
    wanted = {requirement_name(spec) for spec in project["dependencies"]} | extra_requirements("test")
    missing = wanted - conda_names()
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_the_core_install_carries_no_jupyter_server_nbval_pytest_or_ccdproc():
    core = {requirement_name(spec) for spec in pyproject()["project"]["dependencies"]}
    assert not core & {"jupyterlab", "jupyter-server", "notebook", "nbval", "pytest", "ccdproc", "nbclient", "nbformat"}
    assert {"jupyterlab", "ipykernel"} <= extra_requirements("lab")
    assert {"nbformat", "nbclient"} <= extra_requirements("instructor")
    assert {"jupyterlab", "nbclient", "pytest", "nbval", "ccdproc"} <= extra_requirements("test")


def test_environment_yml_installs_the_checkout():
    assert "-e .[test]" in (ROOT / "environment.yml").read_text()


def test_console_script_declared():
    assert pyproject()["project"]["scripts"]["ccdlab"] == "ccdlab.cli:main"


_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")"}


def shell_commands(line: str) -> list[list[str]]:
    """The commands on one shell line, as word lists: comments dropped, split at ; && || | &."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands, words = [], []
    try:
        tokens = list(lexer)
    except ValueError:  # an open quote: part of a multi-line string, not a command
        return []
    for token in tokens:
        if token in _SEPARATORS:
            commands.append(words)
            words = []
        else:
            words.append(token)
    commands.append(words)
    return [words for words in commands if words]


def runs_make_test(line: str) -> bool:
    """True when a shell line runs ``make test`` itself (not in a comment, not as an echo's text)."""
    for words in shell_commands(line):
        while words and (words[0] in ("exec", "time", "command") or re.match(r"^\w+=", words[0])):
            words = words[1:]
        targets = [word for word in words[1:] if not word.startswith("-")]
        if words and words[0] == "make" and "test" in targets:
            return True
    return False


@pytest.mark.parametrize(
    "line, runs",
    [("make test", True), ("  make -j2 test", True), ("set -e; make test", True), ("cd .. && make test", True),
     ("CI=1 make test  # the README's command", True), ("# make test", False), ("echo make test", False),
     ("make lab  # then make test", False), ("make tests", False), ("", False)],
)
def test_runs_make_test_reads_shell_lines(line, runs):
    assert runs_make_test(line) is runs


def test_ci_runs_make_test():
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert any(runs_make_test(line) for line in lines), ".ci/run has no line that runs 'make test'"


def quick_start_commands(readme: str) -> list[str]:
    """The commands of the first code block under '## Quick start', each without its # comment."""
    section = re.search(r"^## Quick start\s*$(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Quick start' section"
    block = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), re.MULTILINE | re.DOTALL)
    assert block, "README.md's Quick start has no code block"
    commands = (line.split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [" ".join(command.split()) for command in commands if command]


def test_quick_start_commands_are_parsed_from_the_code_block():
    readme = "# x\n\n## Quick start\n\nRun `make test` after.\n\n```\nmake lab   # set up\n\nmake  test\n```\n\n## Next\n```\nmake x\n```\n"
    assert quick_start_commands(readme) == ["make lab", "make test"]
    extra = readme.replace("make  test\n", "make test\npip install ccdlab\n")
    assert quick_start_commands(extra) == ["make lab", "make test", "pip install ccdlab"]
    with pytest.raises(AssertionError, match="no code block"):
        quick_start_commands("## Quick start\n\nmake lab and make test\n\n## Next\n```\nmake lab\nmake test\n```\n")


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert quick_start_commands(readme) == ["make lab", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"`make (\w+)", readme):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"README mentions make {target}, Makefile lacks it"

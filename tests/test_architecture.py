"""The package's layers, enforced: arrows point down only, no import cycles, one error base, a light core.

Layers, lowest first (see docs/design.md):

    foundation   ccdlab (the lazy __init__), _version, _compat, errors, validate, files, paths
    science      every other top-level module (io, inventory, ..., reduce, stack, photometry)
    data         ccdlab.data.*          display   ccdlab.display.*      (neither imports the other)
    course       ccdlab.course.*
    classroom    ccdlab.classroom.*
    commands     ccdlab.commands.*, ccdlab.cli

Every import counts, at the top of a module or inside a function.
"""

from __future__ import annotations

import ast
import builtins
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ccdlab"

FOUNDATION = {"ccdlab", "ccdlab._version", "ccdlab._compat", "ccdlab.errors", "ccdlab.validate", "ccdlab.files",
              "ccdlab.paths"}
RANK = {"foundation": 0, "science": 1, "data": 2, "display": 2, "course": 3, "classroom": 4, "commands": 5}

#: Packages a student's kernel (the core install) may import: no Jupyter server, notebook tools or test tools.
NOT_IN_THE_CORE = ("nbformat", "nbclient", "nbval", "jupyter_client", "jupyterlab", "jupyter_server", "pytest",
                   "ccdproc", "dask", "distributed")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(name: str) -> str:
    if name in FOUNDATION:
        return "foundation"
    parts = name.split(".")
    if name == "ccdlab.cli" or parts[1] == "commands":
        return "commands"
    if len(parts) > 2 or name in ("ccdlab.data", "ccdlab.display", "ccdlab.course", "ccdlab.classroom"):
        return parts[1]
    return "science"


def _resolve(name: str, importer: str, level: int, is_package: bool) -> str:
    if level == 0:
        return name
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(name: str, path: Path) -> set:
    """Every ccdlab module ``name`` imports (submodules named in ``from package import x`` included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", name, node.level, path.name == "__init__.py")
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("ccdlab") and target != name:
                found.add(target)
    return found


@functools.cache
def graph() -> dict:
    """Module -> the ccdlab modules it imports (parsed when a test first asks, not at collection)."""
    return {name: imports_of(name, path) for name, path in MODULES.items()}


def test_every_module_has_a_layer():
    assert {layer(name) for name in MODULES} <= set(RANK)
    assert {layer(name) for name in MODULES} == set(RANK)


def test_arrows_point_down_only():
    wrong = []
    for name, targets in graph().items():
        for target in targets:
            if name == "ccdlab" and target in FOUNDATION:
                continue
            up = RANK[layer(target)] > RANK[layer(name)]
            sideways = RANK[layer(target)] == RANK[layer(name)] and layer(target) != layer(name)
            if up or sideways:
                wrong.append(f"{name} ({layer(name)}) imports {target} ({layer(target)})")
    assert not wrong, "\n".join(wrong)


def _cycle(graph: dict) -> list | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle():
    # A package's __init__ re-exporting its submodules is not a cycle of design: leave those edges out.
    edges = {name: {t for t in targets if not (MODULES[name].name == "__init__.py" and t.startswith(name + "."))}
             for name, targets in graph().items()}
    cycle = _cycle(edges)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_errors_are_defined_in_one_place_and_share_one_base():
    """Every exception class of the package lives in ccdlab.errors, under CcdlabError (private ones may
    subclass a ccdlab error elsewhere, e.g. screening's _NotAnImage)."""
    import ccdlab.errors as errors

    outside = []
    for name, path in MODULES.items():
        if name == "ccdlab.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & {"Exception", "ValueError", "RuntimeError", "TypeError", "OSError", "UserWarning", "Warning"}:
                    outside.append(f"{name}.{node.name}")
                elif any(b.endswith(("Error", "Warning")) for b in bases):
                    assert node.name.startswith("_") or all(hasattr(errors, b) for b in bases), f"{name}.{node.name}"
    assert not outside, outside


def test_no_hand_kept_lists_of_expected_errors():
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        assert "EXPECTED_ERRORS" not in text, name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Tuple):
                caught = [getattr(e, "id", getattr(e, "attr", "")) for e in node.type.elts]
                ours = [c for c in caught if c.endswith("Error") and c not in dir(builtins)]
                assert len(ours) < 4, f"{name} catches a hand-made list of ccdlab errors: {caught}"


def test_the_core_never_imports_instructor_or_test_tools():
    """Everything below the classroom runs in a student's kernel on the core install (Colab)."""
    wrong = []
    for name, path in MODULES.items():
        if RANK[layer(name)] >= RANK["classroom"]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            wrong += [f"{name} imports {n}" for n in names if n.split(".")[0] in NOT_IN_THE_CORE]
    assert not wrong, wrong


def test_private_names_stay_in_their_module():
    """No module takes another module's private helpers (``from x import _helper``)."""
    wrong = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ccdlab"):
                wrong += [f"{name}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__") and f"{node.module}.{a.name}" not in MODULES]
    assert not wrong, wrong


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("ccdlab.course.checks.lesson")))
def test_each_lesson_check_module_stands_alone(name):
    others = {t for t in graph()[name] if t.startswith("ccdlab.course.checks.lesson")}
    assert not others, f"{name} imports {others}: share references through the Night instead"

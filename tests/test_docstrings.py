"""Every Examples section in the package runs and shows what it says.

Examples marked ``# doctest: +SKIP`` need a data folder or a display and are not run; every other
example is, so the documentation cannot drift from the code.
"""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import ccdlab

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(ccdlab.__path__, prefix="ccdlab.")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write into a temporary folder
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) in {name} failed (see the output above)"


def test_every_public_function_has_an_example():
    missing = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr, None)
            if inspect.isfunction(obj) and getattr(obj, "__module__", None) == name and ">>>" not in (obj.__doc__ or ""):
                missing.append(f"{name}.{attr}")
    assert not missing, f"public functions without an Examples section: {missing}"

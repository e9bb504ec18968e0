"""hlmkit's namespace explains itself: every module is reachable by name, no function shadows a
module, ``__all__`` lists exactly the public names, and the package has a version and type hints."""

import importlib
import pkgutil
import tomllib
import types
from importlib.metadata import version
from pathlib import Path

import pytest

import hlmkit

MODULES = sorted(m.name for m in pkgutil.iter_modules(hlmkit.__path__))

# the public functions named like a module they once lived in: they stay functions
FUNCTIONS = {
    "wald": "hypotheses",
    "mlm": "multivariate",
    "ellipse": "ellipses",
    "r2": "rsquared",
    "ols": "leastsquares",
}


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_reached_by_import_and_not_shadowed(name):
    module = importlib.import_module(f"hlmkit.{name}")
    assert isinstance(module, types.ModuleType)
    assert module.__name__ == f"hlmkit.{name}"
    # the package attribute of that name, once the module is imported, is the module itself
    assert getattr(hlmkit, name) is module, f"hlmkit.{name} is {getattr(hlmkit, name)!r}, not the module"


def test_no_public_name_is_also_a_module_name():
    assert not set(hlmkit.__all__) & set(MODULES)


@pytest.mark.parametrize(("function", "module"), sorted(FUNCTIONS.items()))
def test_functions_keep_their_public_names(function, module):
    obj = getattr(hlmkit, function)
    assert callable(obj) and not isinstance(obj, types.ModuleType)
    assert obj is getattr(importlib.import_module(f"hlmkit.{module}"), function)


def test_all_is_exact_and_explicit():
    names = hlmkit.__all__
    assert len(names) == len(set(names))
    missing = [n for n in names if not hasattr(hlmkit, n)]
    assert not missing
    # every public name of every module's __all__ is exported at the top level
    # book's helpers are imported from hlmkit.book; of formula's only FormulaError is for users;
    # the engine's modules (what lme is built of) are not part of the top-level namespace
    engine = {"book", "formula", "crossproducts", "optimizer", "refit", "derivatives"}
    for name in set(MODULES) - engine:
        module = importlib.import_module(f"hlmkit.{name}")
        for public in getattr(module, "__all__", []):
            assert public in names, f"hlmkit.{name}.{public} is not exported"
    assert "FormulaError" in names
    source = (Path(hlmkit.__file__)).read_text()
    assert "import *" not in source


def test_version_is_the_one_pyproject_declares():
    """One version, written in pyproject.toml: the package reports it, installed or in a clone."""
    declared = tomllib.loads((Path(hlmkit.__file__).parents[1] / "pyproject.toml").read_text())["project"][
        "version"
    ]
    assert hlmkit.__version__ == version("hlmkit") == declared


def test_the_package_declares_its_type_hints():
    assert (Path(hlmkit.__file__).parent / "py.typed").is_file()

"""The package's shape: every module is small and says what it does; `import codegen_ui` is light.

The import arrows themselves are checked by import-linter (`make lint`, contracts in
pyproject.toml); these are the rules it cannot express.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import codegen_ui

PACKAGE = Path(codegen_ui.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
SEAMS = {"core", "engine", "kernel", "notebooks", "web", "mtpb", "bench", "magic", "cli"}


def test_the_package_is_one_folder_per_seam() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == SEAMS
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "__main__.py", "errors.py", "settings.py", "version.py"}


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in MODULES
        if (n := len(p.read_text().splitlines())) > 300
    }
    assert long == {}


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert missing == []


def test_every_exception_the_package_defines_is_a_user_error() -> None:
    # One family: each edge (CLI, web) maps UserError to a message in one place.
    from codegen_ui.errors import UserError

    defined = []
    for info in pkgutil.walk_packages(codegen_ui.__path__, "codegen_ui."):
        if info.name != "codegen_ui.__main__":
            module = importlib.import_module(info.name)
            defined += [
                obj
                for obj in vars(module).values()
                if isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
            ]
    assert len(defined) >= 10
    assert [e.__qualname__ for e in defined if not issubclass(e, UserError)] == []

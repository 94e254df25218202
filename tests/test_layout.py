"""The package's shape: each module says what it does and is on its package's map; light imports.

The import arrows themselves are checked by import-linter (`make lint`, contracts in
pyproject.toml); these are the rules it cannot express.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import codegen_ui

PACKAGE = Path(codegen_ui.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
SEAMS = {
    "core",
    "files",
    "engine",
    "kernel",
    "notebooks",
    "web",
    "mtpb",
    "humaneval",
    "evals",
    "workspace",
    "bench",
    "magic",
    "cli",
}


def test_the_package_is_one_folder_per_seam() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == SEAMS
    loose = {p.name for p in PACKAGE.glob("*.py")}
    assert loose == {"__init__.py", "__main__.py", "errors.py", "settings.py", "version.py"}


def test_every_module_is_named_in_its_package_docstring() -> None:
    # The package docstrings are the map: each module (and, at the top, each subpackage) is
    # named there in backticks with its job. A module past ~400 lines is a prompt to look for a
    # seam, not a rule, so the length is not checked; the map is.
    unnamed = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        folder = init.parent
        names = {p.stem for p in folder.glob("*.py")} - {"__init__", "__main__"}
        names |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
        unnamed += [
            f"{folder.relative_to(PACKAGE.parent)}/{name}"
            for name in sorted(names)
            if f"`{name}`" not in doc
        ]
    assert unnamed == []


def test_every_name_on_a_package_map_is_there() -> None:
    # The other way round: a bare lower-case name in backticks on a package's map is one of its
    # modules or subpackages, a name it exports, a sibling package, or a setting, so a module
    # renamed or removed leaves no stale entry behind. Another project's names are written with
    # their module (`execution.check_correctness`), which this leaves alone.
    import dataclasses

    from codegen_ui.settings import Settings

    siblings = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    settings = {f.name for f in dataclasses.fields(Settings)}
    stale = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        folder = init.parent
        package = importlib.import_module(".".join(folder.relative_to(PACKAGE.parent).parts))
        modules = {p.stem for p in folder.glob("*.py")}
        modules |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
        stale += [
            f"{folder.relative_to(PACKAGE.parent)}: `{name}`"
            for name in sorted(set(re.findall(r"`([a-z_][a-z0-9_]*)`", doc)))
            if name not in modules | siblings | settings and not hasattr(package, name)
        ]
    assert stale == []


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    parts = parts if parts[0] == "codegen_ui" else ["codegen_ui", *parts]
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_dotted_name_a_docstring_gives_of_the_package_is_there() -> None:
    # `files.FolderFiles`, `codegen_ui.engine.load_model`: a docstring that names a thing of the
    # package by its path names one that exists, so a move leaves no pointer to where it was.
    packages = "|".join(["codegen_ui", *sorted(SEAMS)])
    dotted = re.compile(rf"`((?:{packages})(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")
    missing = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
                for name in dotted.findall(ast.get_docstring(node) or ""):
                    if not _resolves(name):
                        missing.append(f"{path.relative_to(PACKAGE)}: `{name}`")
    assert missing == []


# Pairs that still share a name, in another branch's area (the files and notebooks seams).
SHARED_NAMES_LEFT = {"folder", "names"}


def test_no_two_subpackages_have_a_module_of_one_name() -> None:
    # One name per thing: two modules of one file name in two subpackages would have to be the
    # same idea, and none are. A pair left to rename is listed above; a new pair fails here.
    homes: dict[str, list[str]] = {}
    for path in MODULES:
        if path.stem not in ("__init__", "__main__") and path.parent != PACKAGE:
            homes.setdefault(path.stem, []).append(path.parent.name)
    shared = {name: sorted(where) for name, where in homes.items() if len(where) > 1}
    assert set(shared) <= SHARED_NAMES_LEFT, shared


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if not ast.get_docstring(ast.parse(p.read_text()))
    ]
    assert missing == []


def test_every_exception_the_package_defines_is_a_user_error() -> None:
    # One family: each edge (CLI, web) maps UserError to a message in one place. A module sent
    # into the kernel as source (it has a KERNEL_NAME) imports nothing of codegen_ui, and what
    # it raises stays in the kernel.
    from codegen_ui.errors import UserError

    defined = []
    for info in pkgutil.walk_packages(codegen_ui.__path__, "codegen_ui."):
        if info.name != "codegen_ui.__main__":
            module = importlib.import_module(info.name)
            if hasattr(module, "KERNEL_NAME"):
                continue
            defined += [
                obj
                for obj in vars(module).values()
                if isinstance(obj, type)
                and issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
            ]
    assert len(defined) >= 10
    assert [e.__qualname__ for e in defined if not issubclass(e, UserError)] == []

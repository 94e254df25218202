"""Notebook files: parse and validate what a user hands in, load, serialise, save atomically.

`parse` accepts nbformat 3 and 4 and says exactly what is wrong with anything else, as a
`NotebookError`. `save` goes through `atomic.write_atomic`, so a crash leaves the old file or
the new one, whole. This module knows nothing of turns or sessions.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from codegen_ui.notebooks.atomic import write_atomic
from codegen_ui.notebooks.format import NotebookError


def parse(data: bytes | str, name: str = "the file") -> Any:
    """A validated v4 notebook from file contents, or NotebookError saying what is wrong."""
    import nbformat
    from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        raw = json.loads(text)
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not a notebook (not valid JSON: {exc})") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a notebook (JSON nested too deeply)") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookError(f"{name} is not a notebook (no nbformat version in it)")
    if raw.get("nbformat") not in (3, 4):
        raise NotebookError(f"{name} has nbformat {raw.get('nbformat')!r}; only 3 and 4 are read")
    try:
        with warnings.catch_warnings():
            # Notebooks from older Jupyter lack cell ids; nbformat adds them, which is fine.
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            warnings.simplefilter("ignore", DuplicateCellId)
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{name} is not a valid notebook ({exc.message})") from None
    except Exception as exc:  # nbformat raises assorted errors for malformed notebooks
        raise NotebookError(f"{name} is not a valid notebook ({exc})") from None
    return nb


def load(path: str | Path) -> Any:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except OSError as exc:
        raise NotebookError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse(data, str(path))


def dumps(nb: Any) -> str:
    import nbformat

    nbformat.validate(nb)
    text = str(nbformat.writes(nb)) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (a browser can send them) cannot be stored; keep everything else.
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def save(nb: Any, path: str | Path) -> None:
    write_atomic(path, dumps(nb))

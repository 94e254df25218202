"""Autosave to one notebook file: what `codegen-ui run` keeps of its session after every change.

`NotebookFile` is a session's `on_change` that writes its turns, with the run's metadata and the
model's name, to one .ipynb file (atomically, by `notebooks.save`); a failure to write is raised
to the caller, who stops. The page's and the API's sessions autosave into the store instead, by
`Shelf.autosave`, which remembers a failure and shows it. Nothing here reads a file back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codegen_ui.core import Session
from codegen_ui.notebooks import save, to_notebook


class NotebookFile:
    """A session's `on_change` that saves it to `path` as a notebook."""

    def __init__(self, path: Path, meta: Mapping[str, Any], model_name: str) -> None:
        self.path = path
        self.meta = {**meta, "model": model_name}

    def __call__(self, session: Session) -> None:
        save(to_notebook(session.turns, self.meta), self.path)

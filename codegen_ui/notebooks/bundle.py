"""A session as one .zip: its notebook and its data files, out and back in.

`export_zip` writes `<title>.zip` (the notebook as `<title>.ipynb`, the files under `files/`)
under the store's exports; `import_zip` makes a new session of such a file, every name, size
and count checked as an upload would be (`datafiles.SessionFiles.unpack`). A .zip that fails
a check makes no session. The .ipynb download is the store's own, unchanged.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from codegen_ui.errors import UserError
from codegen_ui.notebooks.atomic import write_atomic
from codegen_ui.notebooks.names import StoreError
from codegen_ui.notebooks.store import MAX_IMPORT_BYTES, SessionInfo, SessionStore


def export_zip(store: SessionStore, session_id: str) -> Path:
    """The notebook and its data files as one .zip, under the store's exports."""
    notebook = store.export_ipynb(session_id)  # named after the title, as the .ipynb download
    zipped = notebook.with_suffix(".zip")
    try:
        write_atomic(zipped, store.data.pack(session_id, notebook.stem, notebook.read_text()))
    except OSError as exc:
        raise StoreError(f"the .zip could not be written: {exc.strerror}") from None
    return zipped


def import_zip(
    store: SessionStore, data: bytes, default_title: str = "Imported notebook"
) -> SessionInfo:
    """A new session from a .zip made by `export_zip` (or by hand: one .ipynb, `files/`)."""
    if len(data) > MAX_IMPORT_BYTES + store.data.limits.session_bytes:
        raise StoreError("the .zip is larger than a session may be")
    unpacked = store.data.unpack(data, MAX_IMPORT_BYTES)
    info = store.import_notebook(unpacked.notebook, default_title=default_title)
    try:
        for name, body in unpacked.files:
            store.data.add(info.id, name, body, replace=True)
    except UserError:
        store.delete(info.id)
        raise
    return dataclasses.replace(info, notes=info.notes + unpacked.notes)

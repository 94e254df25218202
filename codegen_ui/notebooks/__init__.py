"""Notebooks: turns to and from `.ipynb` files, and the session store.

`format` maps turns to cells and back (and writes the `.py` program), `nbimport` reads any
Jupyter notebook as turns and puts re-run turns' outputs back in its cells, `io` parses and
saves files, `atomic` makes saves crash-safe, `names` checks ids and titles, `folder` and
`store` keep sessions on disk, `datafiles` keeps each session's data files beside its notebook,
`bundle` packs both as a .zip, `trash` keeps deleted ones for a week. Callers import from here;
nothing here runs code (a replay is the session's, `core.Session.replay`) or knows of the web
app.
"""

from codegen_ui.notebooks.atomic import write_atomic
from codegen_ui.notebooks.bundle import export_zip, import_zip
from codegen_ui.notebooks.datafiles import FileExists, SessionFiles
from codegen_ui.notebooks.format import (
    META_KEY,
    NotebookError,
    cell_to_turn,
    is_preamble_cell,
    is_turn_cell,
    to_notebook,
    to_script,
    turn_to_cell,
)
from codegen_ui.notebooks.io import dumps, load, parse, save
from codegen_ui.notebooks.names import DEFAULT_TITLE, MAX_TITLE, StoreError, check_id, check_title
from codegen_ui.notebooks.nbimport import (
    Conversion,
    convert,
    from_notebook,
    put_runs,
    split_instruction,
)
from codegen_ui.notebooks.store import SessionInfo, SessionStore, StaleSession

__all__ = [
    "DEFAULT_TITLE",
    "MAX_TITLE",
    "META_KEY",
    "Conversion",
    "FileExists",
    "NotebookError",
    "SessionFiles",
    "SessionInfo",
    "SessionStore",
    "StaleSession",
    "StoreError",
    "cell_to_turn",
    "check_id",
    "check_title",
    "convert",
    "dumps",
    "export_zip",
    "from_notebook",
    "import_zip",
    "is_preamble_cell",
    "is_turn_cell",
    "load",
    "parse",
    "put_runs",
    "save",
    "split_instruction",
    "to_notebook",
    "to_script",
    "turn_to_cell",
    "write_atomic",
]

"""The session store: session notebooks in one folder, each named by an id the server made.

Ids are unguessable and checked on every call, so no name from a user ever becomes a path:
titles live inside the notebook's metadata (`names`). Every write is atomic and keeps the
previous version (`folder`), so a crash loses at most the change being saved and a damaged
file can be rolled back. A file that cannot be read is never overwritten without keeping it:
`list` reports it, `load` raises `StoreError` with a message for the user. A session's data
files (`data`: `datafiles`) are copied, trashed and restored with it. This module does not run
code or models; the web app and the CLI both use it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from codegen_ui.core import Turn, now
from codegen_ui.files import FileLimits
from codegen_ui.notebooks.datafiles import SessionFiles
from codegen_ui.notebooks.folder import Key, SessionFolder
from codegen_ui.notebooks.format import (
    META_KEY,
    NotebookError,
    is_preamble_cell,
    to_notebook,
    to_script,
)
from codegen_ui.notebooks.io import dumps, parse
from codegen_ui.notebooks.names import DEFAULT_TITLE, MAX_TITLE, StoreError, check_id, check_title
from codegen_ui.notebooks.nbimport import from_notebook
from codegen_ui.notebooks.trash import Trash

__all__ = [
    "SessionInfo",
    "SessionStore",
    "StaleSession",
    "StoreError",
    "check_id",
    "check_title",
]

MAX_IMPORT_BYTES = 64 * 2**20
# Metadata the store owns: `save` keeps these from the file, whatever the caller passes.
_OWNED = ("title", "created", "updated", "version", "notes", "revision")


class StaleSession(StoreError):
    """The file was saved by someone else (another tab) since this copy was read."""


@dataclass(frozen=True)
class SessionInfo:
    id: str
    title: str
    turns: int
    created: str  # ISO 8601, UTC
    updated: str  # ISO 8601, UTC
    error: str = ""  # why the file cannot be opened; empty when it is fine
    notes: tuple[str, ...] = ()  # what an import left out or guessed, or a save set aside
    revision: int = 0  # counts the saves of the turns; a save can insist on the one it saw


def _info(session_id: str, nb: Any, notes: Sequence[str] = ()) -> SessionInfo:
    meta = nb.get("metadata", {}).get(META_KEY) or {}
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    return SessionInfo(
        id=session_id,
        title=str(meta.get("title") or DEFAULT_TITLE),
        turns=sum(not is_preamble_cell(c) for c in cells),
        created=str(meta.get("created", "")),
        updated=str(meta.get("updated", "")),
        notes=tuple(notes),
        revision=int(meta.get("revision") or 0),
    )


def _iso(key: Key) -> str:
    return datetime.fromtimestamp(key[0] / 1e9, UTC).isoformat(timespec="seconds")


def _extras(meta: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (meta or {}).items() if k not in _OWNED}


class SessionStore:
    """Sessions as `<id>.ipynb` files in one folder. Safe to share between threads."""

    def __init__(self, root: str | Path, limits: FileLimits | None = None) -> None:
        self.files = SessionFolder(root)
        self.trash = Trash(self.files)
        self.root = self.files.root
        self.data = SessionFiles(self.root, limits)  # each session's data files
        self._lock = threading.RLock()
        # What each file held when this store last wrote or read it, by the file's key.
        self._summaries: dict[str, tuple[Key, SessionInfo]] = {}

    @property
    def exports_dir(self) -> Path:
        return self.files.exports_dir

    def path(self, session_id: str) -> Path:
        return self.files.path(session_id)

    # -- create, read, write ------------------------------------------------------------------

    def create(
        self, title: str = "", turns: Sequence[Turn] = (), meta: dict[str, Any] | None = None
    ) -> SessionInfo:
        title = check_title(title) or DEFAULT_TITLE
        stamp = now()
        owned = {"title": title, "created": stamp, "updated": stamp, "revision": 1}
        nb = to_notebook(turns, {**_extras(meta), **owned})
        with self._lock:
            session_id = self.files.new_id()
            return self._write(session_id, nb)

    def load(self, session_id: str) -> tuple[list[Turn], dict[str, Any]]:
        """The turns and the notebook's `codegen_ui` metadata (`preamble` always set)."""
        return from_notebook(self._read(session_id))

    def save(
        self,
        session_id: str,
        turns: Sequence[Turn],
        meta: dict[str, Any] | None = None,
        expect: int | None = None,
    ) -> SessionInfo:
        """Replace the session's turns; `meta` adds to its metadata (title and times are kept).

        With `expect`, the file must still be at that revision (what the caller last read or
        wrote), else StaleSession: someone else saved in between and nothing is overwritten."""
        with self._lock:
            old, notes = self._meta_on_disk(session_id)
            revision = int(old.get("revision") or 0)
            if expect is not None and revision != expect:
                raise StaleSession(
                    "this session was changed in another tab or window since this page "
                    "loaded it; your change was not saved over it"
                )
            old["revision"] = revision + 1
            nb = to_notebook(turns, {**old, **_extras(meta), "updated": now()})
            return self._write(session_id, nb, notes)

    def _meta_on_disk(self, session_id: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The file's own title and creation time; a damaged file is set aside, never lost."""
        if not self.path(session_id).exists():
            raise StoreError(f"there is no session {session_id} (was it deleted?)")
        key = self.files.key(session_id)
        cached = self._summaries.get(session_id)
        if cached is not None and cached[0] == key and not cached[1].error:
            info = cached[1]
            return {"title": info.title, "created": info.created, "revision": info.revision}, ()
        try:
            # Changed since this store saw it: check it as strictly as opening would.
            meta = parse(self.files.read(session_id)).metadata.get(META_KEY, {})
            return {k: meta[k] for k in ("title", "created", "revision") if k in meta}, ()
        except NotebookError:
            kept = self.files.set_aside(session_id)
            note = f"the saved file was damaged; it was kept as {kept} and saved afresh"
            return {"title": DEFAULT_TITLE, "created": now()}, (note,)

    def _read(self, session_id: str) -> Any:
        data = self.files.read(session_id)
        try:
            return parse(data, "the session file")
        except NotebookError as exc:
            hint = ""
            if self.files.previous(session_id).exists():
                hint = "; an earlier version is kept and can be restored"
            raise StoreError(
                f"session {session_id} cannot be opened: {exc}. The file was left as it is{hint}"
            ) from None

    def _write(self, session_id: str, nb: Any, notes: Sequence[str] = ()) -> SessionInfo:
        key = self.files.write(session_id, dumps(nb))
        info = _info(session_id, nb)
        self._summaries[session_id] = (key, info)
        return dataclasses.replace(info, notes=tuple(notes))

    # -- the list -----------------------------------------------------------------------------

    def list(self) -> list[SessionInfo]:
        """Every session, newest change first; unreadable files are listed with `error` set."""
        found = []
        for session_id, key in self.files.ids():
            try:
                found.append((self._summary(session_id, key), key))
            except StoreError:
                continue  # deleted while listing
        found.sort(key=lambda item: (item[0].updated, item[1][0]), reverse=True)
        return [info for info, _ in found]

    def info(self, session_id: str) -> SessionInfo:
        """One session's list entry (with `error` set when its file cannot be read)."""
        return self._summary(session_id, self.files.key(session_id))

    def _summary(self, session_id: str, key: Key) -> SessionInfo:
        # Files are validated once per change: writes and earlier listings fill the cache.
        cached = self._summaries.get(session_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            info = _info(session_id, parse(self.files.read(session_id), "the file"))
            info = info if info.updated else dataclasses.replace(info, updated=_iso(key))
        except (NotebookError, StoreError) as exc:
            if not self.path(session_id).exists():
                raise StoreError(f"there is no session {session_id}") from None
            error = f"{exc}; the file is kept as it is"
            info = SessionInfo(session_id, "(unreadable session)", 0, "", _iso(key), error)
        self._summaries[session_id] = (key, info)
        return info

    # -- rename, duplicate, delete, restore ---------------------------------------------------

    def rename(self, session_id: str, title: str) -> SessionInfo:
        title = check_title(title)
        if not title:
            raise StoreError("a title cannot be empty")
        with self._lock:
            nb = self._read(session_id)
            nb.metadata.setdefault(META_KEY, {}).update(title=title, updated=now())
            return self._write(session_id, nb)

    def duplicate(self, session_id: str, title: str | None = None) -> SessionInfo:
        """A new session with the same turns and outputs (a teacher's session, per student)."""
        nb = self._read(session_id)
        meta = nb.metadata.setdefault(META_KEY, {})
        if title is None:
            title = f"{meta.get('title') or DEFAULT_TITLE} (copy)"[-MAX_TITLE:]
        title = check_title(title) or DEFAULT_TITLE
        stamp = now()
        meta.update(title=title, created=stamp, updated=stamp)
        with self._lock:
            info = self._write(self.files.new_id(), nb)
        self.data.copy(session_id, info.id)  # each copy has files of its own
        return info

    def delete(self, session_id: str) -> None:
        """Move the session to the trash (`self.trash`): restorable for a week."""
        with self._lock:
            self.trash.put(session_id)
            self._summaries.pop(session_id, None)

    def restore_previous(self, session_id: str) -> SessionInfo:
        """Put back the version before the last save (the current one becomes the earlier)."""
        with self._lock:
            try:
                nb = parse(self.files.read_previous(session_id), "the earlier version")
            except NotebookError as exc:
                raise StoreError(f"the earlier version cannot be used: {exc}") from None
            return self._write(session_id, nb)

    # -- import and export --------------------------------------------------------------------

    def import_notebook(
        self, data: bytes, title: str = "", default_title: str = "Imported notebook"
    ) -> SessionInfo:
        """A new session from any Jupyter notebook; `notes` say what was left out.

        The title is `title`, else the notebook's own, else `default_title` (a file name)."""
        from codegen_ui.notebooks.nbimport import convert

        if len(data) > MAX_IMPORT_BYTES:
            raise StoreError(f"the file is larger than {MAX_IMPORT_BYTES // 2**20} MiB")
        try:
            result = convert(parse(data, "the file"))
        except NotebookError as exc:
            raise StoreError(str(exc)) from None
        title = check_title(title)
        if not title:
            try:
                title = check_title(result.meta.get("title", ""))
            except StoreError:
                title = ""
        if not title:
            try:
                title = check_title(default_title) or "Imported notebook"
            except StoreError:
                title = "Imported notebook"
        info = self.create(title, result.turns, result.meta)
        return dataclasses.replace(info, notes=result.notes)

    def export_ipynb(self, session_id: str) -> Path:
        """A copy of the session notebook under `exports_dir`, named after its title."""
        nb = self._read(session_id)
        title = str(nb.metadata.get(META_KEY, {}).get("title") or "")
        return self.files.export(session_id, title, ".ipynb", dumps(nb))

    def export_py(self, session_id: str) -> Path:
        """The session as a Python script in the paper's format, runnable with `python`."""
        turns, meta = self.load(session_id)
        script = to_script(turns, meta["preamble"])
        return self.files.export(session_id, meta.get("title", ""), ".py", script)

"""The session store: one folder of session notebooks, each named by an id the server made.

Ids are unguessable (`secrets.token_urlsafe`) and checked against a strict pattern on every
call, so no name from a user ever becomes a path: titles live inside the notebook's metadata.
Every write is atomic (see `atomic.write_atomic`) and keeps the previous version as a hidden
hard link, so a crash loses at most the change being saved and a damaged file can be rolled back.
A file that cannot be read is never overwritten without keeping it: `list` reports it, `load`
raises `StoreError` with a message for the user. This module does not run code or models.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from codegen_ui.atomic import fsync_dir, write_atomic
from codegen_ui.names import (
    DEFAULT_TITLE,
    ID_PATTERN,
    MAX_TITLE,
    StoreError,
    check_id,
    check_title,
    file_stem,
    new_id,
)
from codegen_ui.notebook import (
    META_KEY,
    NotebookError,
    dumps,
    from_notebook,
    is_preamble_cell,
    parse,
    to_notebook,
    to_script,
)
from codegen_ui.session import Session, Turn, now

__all__ = ["SessionInfo", "SessionStore", "StoreError", "check_id", "check_title"]

MAX_IMPORT_BYTES = 64 * 2**20
STALE_TEMP_S = 600.0  # temporary files older than this were left by a crash
# Metadata the store owns: `save` keeps these from the file, whatever the caller passes.
_OWNED = ("title", "created", "updated", "version", "notes")


@dataclass(frozen=True)
class SessionInfo:
    id: str
    title: str
    turns: int
    created: str  # ISO 8601, UTC
    updated: str  # ISO 8601, UTC
    error: str = ""  # why the file cannot be opened; empty when it is fine
    notes: tuple[str, ...] = ()  # what an import left out or guessed


def _mtime_iso(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def _extras(meta: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (meta or {}).items() if k not in _OWNED}


class SessionStore:
    """Sessions as `<id>.ipynb` files in one folder. Safe to share between threads."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the sessions folder: {exc.strerror}") from None
        self._lock = threading.RLock()
        self._summaries: dict[str, tuple[tuple[int, int], SessionInfo]] = {}
        self._sweep_temp()

    @property
    def exports_dir(self) -> Path:
        """Where exports are written (one subfolder per session)."""
        return self.root / "exports"

    def path(self, session_id: str) -> Path:
        return self.root / f"{check_id(session_id)}.ipynb"

    def _previous(self, session_id: str) -> Path:
        return self.root / f".{session_id}.ipynb.prev"

    def _new_id(self) -> str:
        while True:
            session_id = new_id()
            if not self.path(session_id).exists():
                return session_id

    # -- create, read, write ------------------------------------------------------------------

    def create(
        self, title: str = "", turns: Sequence[Turn] = (), meta: dict[str, Any] | None = None
    ) -> SessionInfo:
        title = check_title(title) or DEFAULT_TITLE
        stamp = now()
        owned = {"title": title, "created": stamp, "updated": stamp}
        nb = to_notebook(turns, {**_extras(meta), **owned})
        with self._lock:
            session_id = self._new_id()
            self._write(session_id, nb)
        return self._info(session_id, nb)

    def load(self, session_id: str) -> tuple[list[Turn], dict[str, Any]]:
        """The turns and the notebook's `codegen_ui` metadata (`preamble` always set)."""
        return from_notebook(self._read(session_id))

    def save(
        self, session_id: str, turns: Sequence[Turn], meta: dict[str, Any] | None = None
    ) -> SessionInfo:
        """Replace the session's turns; `meta` adds to its metadata (title and times are kept)."""
        with self._lock:
            path = self.path(session_id)
            old, notes = self._meta_on_disk(session_id, path)
            nb = to_notebook(turns, {**old, **_extras(meta), "updated": now()})
            self._write(session_id, nb)
        return self._info(session_id, nb, notes)

    def autosaver(
        self,
        session_id: str,
        meta: dict[str, Any] | None = None,
        on_error: Callable[[StoreError], None] | None = None,
    ) -> Callable[[Session], None]:
        """A `Session.on_change` callback that saves the session after every change.

        A failed save raises StoreError, or with `on_error` is handed to it so the turn goes on
        (the UI can show "not saved" and the next change tries again).
        """
        check_id(session_id)

        def save(session: Session) -> None:
            try:
                self.save(session_id, session.turns, {**(meta or {}), "preamble": session.preamble})
            except StoreError as exc:
                if on_error is None:
                    raise
                on_error(exc)

        return save

    def info(self, session_id: str) -> SessionInfo:
        """One session's list entry (with `error` set when its file cannot be read)."""
        path = self.path(session_id)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise StoreError(f"there is no session {session_id}") from None
        return self._summary(path, (stat.st_mtime_ns, stat.st_size))

    def _meta_on_disk(self, session_id: str, path: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The file's own metadata; a damaged file is moved aside (kept), never overwritten."""
        cached = self._summaries.get(session_id)
        try:
            stat = path.stat()
            if cached is not None and cached[0] == (stat.st_mtime_ns, stat.st_size):
                info = cached[1]  # the file is as this store last wrote or read it
                if not info.error:
                    return {"title": info.title, "created": info.created}, ()
            # Changed since this store saw it: check it as strictly as opening would.
            meta = parse(path.read_bytes()).metadata.get(META_KEY, {})
            return {k: meta[k] for k in ("title", "created") if k in meta}, ()
        except FileNotFoundError:
            raise StoreError(f"there is no session {session_id} (was it deleted?)") from None
        except NotebookError:
            kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            path.replace(kept)
            note = f"the saved file was damaged; it was kept as {kept.name} and saved afresh"
            return {"title": DEFAULT_TITLE, "created": now()}, (note,)

    def _read(self, session_id: str) -> Any:
        path = self.path(session_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"there is no session {session_id}") from None
        except OSError as exc:
            raise StoreError(f"session {session_id} cannot be read: {exc.strerror}") from None
        try:
            return parse(data, "the session file")
        except NotebookError as exc:
            hint = (
                "; an earlier version is kept and can be restored"
                if self._previous(session_id).exists()
                else ""
            )
            raise StoreError(
                f"session {session_id} cannot be opened: {exc}. The file was left as it is{hint}"
            ) from None

    def _write(self, session_id: str, nb: Any) -> None:
        path = self.path(session_id)
        try:
            write_atomic(path, dumps(nb), keep_previous=self._previous(session_id))
            stat = path.stat()
        except OSError as exc:  # disk full, read-only folder, ...: the old file is untouched
            raise StoreError(f"session {session_id} could not be saved: {exc.strerror}") from None
        self._summaries[session_id] = ((stat.st_mtime_ns, stat.st_size), self._info(session_id, nb))

    def _info(self, session_id: str, nb: Any, notes: Sequence[str] = ()) -> SessionInfo:
        meta = nb.get("metadata", {}).get(META_KEY) or {}
        cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
        return SessionInfo(
            id=session_id,
            title=str(meta.get("title") or DEFAULT_TITLE),
            turns=sum(not is_preamble_cell(c) for c in cells),
            created=str(meta.get("created", "")),
            updated=str(meta.get("updated", "")),
            notes=tuple(notes),
        )

    # -- the list -----------------------------------------------------------------------------

    def list(self) -> list[SessionInfo]:
        """Every session, newest change first; unreadable files are listed with `error` set."""
        found: list[tuple[str, int, SessionInfo]] = []
        for path in self.root.glob("*.ipynb"):
            if not ID_PATTERN.fullmatch(path.stem):
                continue  # not a session of this store (ids are all the store names)
            try:
                stat = path.stat()
                info = self._summary(path, (stat.st_mtime_ns, stat.st_size))
            except OSError:
                continue  # deleted while listing
            found.append((info.updated or _mtime_iso(stat.st_mtime), stat.st_mtime_ns, info))
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [info for _, _, info in found]

    def _summary(self, path: Path, key: tuple[int, int]) -> SessionInfo:
        # Files are validated once per change: `_write` and earlier listings fill the cache.
        cached = self._summaries.get(path.stem)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            info = self._info(path.stem, parse(path.read_bytes(), "the file"))
            if not info.updated:
                info = dataclasses.replace(info, updated=_mtime_iso(key[0] / 1e9))
        except NotebookError as exc:
            info = SessionInfo(
                path.stem,
                "(unreadable session)",
                0,
                "",
                _mtime_iso(key[0] / 1e9),
                error=f"{exc}; the file is kept as it is",
            )
        self._summaries[path.stem] = (key, info)
        return info

    # -- rename, duplicate, delete, restore ---------------------------------------------------

    def rename(self, session_id: str, title: str) -> SessionInfo:
        title = check_title(title)
        if not title:
            raise StoreError("a title cannot be empty")
        with self._lock:
            nb = self._read(session_id)
            nb.metadata.setdefault(META_KEY, {}).update(title=title, updated=now())
            self._write(session_id, nb)
        return self._info(session_id, nb)

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
            new_id = self._new_id()
            self._write(new_id, nb)
        return self._info(new_id, nb)

    def delete(self, session_id: str) -> None:
        with self._lock:
            path = self.path(session_id)
            try:
                path.unlink()
            except FileNotFoundError:
                raise StoreError(f"there is no session {session_id}") from None
            self._previous(session_id).unlink(missing_ok=True)
            for kept in self.root.glob(f"{session_id}.ipynb.damaged-*"):
                kept.unlink(missing_ok=True)
            shutil.rmtree(self.exports_dir / session_id, ignore_errors=True)
            self._summaries.pop(session_id, None)
            fsync_dir(self.root)

    def restore_previous(self, session_id: str) -> SessionInfo:
        """Put back the version before the last save (the current one becomes the earlier)."""
        with self._lock:
            previous = self._previous(check_id(session_id))
            try:
                nb = parse(previous.read_bytes(), "the earlier version")
            except FileNotFoundError:
                raise StoreError(f"session {session_id} has no earlier version") from None
            except NotebookError as exc:
                raise StoreError(f"the earlier version cannot be used: {exc}") from None
            self._write(session_id, nb)  # the current file becomes the earlier version
        return self._info(session_id, nb)

    # -- import and export --------------------------------------------------------------------

    def import_notebook(self, data: bytes, title: str = "") -> SessionInfo:
        """A new session from any Jupyter notebook; `notes` say what was left out."""
        from codegen_ui.nbimport import convert

        if len(data) > MAX_IMPORT_BYTES:
            raise StoreError(f"the file is larger than {MAX_IMPORT_BYTES // 2**20} MiB")
        try:
            result = convert(parse(data, "the file"))
        except NotebookError as exc:
            raise StoreError(str(exc)) from None
        title = check_title(title)
        if not title:
            try:
                title = check_title(result.meta.get("title", "")) or "Imported notebook"
            except StoreError:
                title = "Imported notebook"
        info = self.create(title, result.turns, result.meta)
        return dataclasses.replace(info, notes=result.notes)

    def export_ipynb(self, session_id: str) -> Path:
        """A copy of the session notebook under `exports_dir`, named after its title."""
        nb = self._read(session_id)
        title = str(nb.metadata.get(META_KEY, {}).get("title") or "")
        return self._export(session_id, title, ".ipynb", dumps(nb))

    def export_py(self, session_id: str) -> Path:
        """The session as a Python script in the paper's format, runnable with `python`."""
        turns, meta = self.load(session_id)
        return self._export(
            session_id, meta.get("title", ""), ".py", to_script(turns, meta["preamble"])
        )

    def _export(self, session_id: str, title: str, suffix: str, text: str) -> Path:
        out = self.exports_dir / session_id / (file_stem(title) + suffix)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(out, text)
        except OSError as exc:
            raise StoreError(f"the export could not be written: {exc.strerror}") from None
        return out

    def _sweep_temp(self) -> None:
        # Temporary files of writes that a crash interrupted; young ones may be live writes.
        cutoff = time.time() - STALE_TEMP_S
        for junk in [*self.root.glob(".*.tmp"), *self.root.glob(".*.link")]:
            try:
                if junk.stat().st_mtime < cutoff:
                    junk.unlink()
            except OSError:
                pass

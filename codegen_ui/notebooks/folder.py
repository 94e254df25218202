"""The files of a session store: one `<id>.ipynb` per session, with its earlier version.

Paths are made only from checked ids. Writes are atomic and keep the version they replace as a
hidden `.<id>.ipynb.prev`; a damaged file can be set aside as `<id>.ipynb.damaged-<time>`; OS
errors become `StoreError`s. This module knows nothing about what is inside the files.
"""

from __future__ import annotations

import time
from pathlib import Path

from codegen_ui.notebooks.atomic import write_atomic
from codegen_ui.notebooks.names import ID_PATTERN, StoreError, check_id, file_stem, new_id

STALE_TEMP_S = 600.0  # temporary files older than this were left by a crash
Key = tuple[int, int]  # (mtime in ns, size): changes whenever the file does


class SessionFolder:
    """The folder of a store. Not locked: the store serialises writes."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the sessions folder: {exc.strerror}") from None
        self._sweep_temp()

    @property
    def exports_dir(self) -> Path:
        """Where exports are written (one subfolder per session)."""
        return self.root / "exports"

    def path(self, session_id: str) -> Path:
        return self.root / f"{check_id(session_id)}.ipynb"

    def previous(self, session_id: str) -> Path:
        return self.root / f".{check_id(session_id)}.ipynb.prev"

    def new_id(self) -> str:
        while True:
            session_id = new_id()
            if not self.path(session_id).exists():
                return session_id

    def ids(self) -> list[tuple[str, Key]]:
        """Every session file now: its id and key. Other files are not sessions."""
        found = []
        for path in self.root.glob("*.ipynb"):
            if ID_PATTERN.fullmatch(path.stem):
                try:
                    stat = path.stat()
                except OSError:
                    continue  # deleted while listing
                found.append((path.stem, (stat.st_mtime_ns, stat.st_size)))
        return found

    def key(self, session_id: str) -> Key:
        try:
            stat = self.path(session_id).stat()
        except FileNotFoundError:
            raise StoreError(f"there is no session {session_id}") from None
        return (stat.st_mtime_ns, stat.st_size)

    def read(self, session_id: str) -> bytes:
        try:
            return self.path(session_id).read_bytes()
        except FileNotFoundError:
            raise StoreError(f"there is no session {session_id}") from None
        except OSError as exc:
            raise StoreError(f"session {session_id} cannot be read: {exc.strerror}") from None

    def read_previous(self, session_id: str) -> bytes:
        try:
            return self.previous(session_id).read_bytes()
        except OSError:
            raise StoreError(f"session {session_id} has no earlier version") from None

    def write(self, session_id: str, text: str) -> Key:
        """Replace the session's file; the file it replaces becomes the earlier version."""
        try:
            write_atomic(self.path(session_id), text, keep_previous=self.previous(session_id))
        except OSError as exc:  # disk full, read-only folder, ...: the old file is untouched
            raise StoreError(f"session {session_id} could not be saved: {exc.strerror}") from None
        return self.key(session_id)

    def set_aside(self, session_id: str) -> str:
        """Move a damaged file out of the way, keeping it; returns its new name."""
        path = self.path(session_id)
        kept = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        path.replace(kept)
        return kept.name

    def export(self, session_id: str, title: str, suffix: str, text: str | bytes) -> Path:
        """Write a download under `exports_dir/<id>/`, named after the title."""
        out = self.exports_dir / check_id(session_id) / (file_stem(title) + suffix)
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

"""The store's trash: deleted sessions kept for a week, restorable until then.

Deleting a session moves its file (with its earlier version, damaged copies and data files) into
`<root>/.trash/`, stamped with the time it was deleted; `restore` moves it back under the same
id; files older than `KEEP_DAYS` are removed for good whenever the trash is listed. Nothing is
copied, so a delete or a restore is a rename. The list reads only each notebook's title.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from codegen_ui.notebooks.atomic import fsync_dir
from codegen_ui.notebooks.datafiles import folder_of
from codegen_ui.notebooks.folder import SessionFolder
from codegen_ui.notebooks.format import META_KEY, NotebookError
from codegen_ui.notebooks.io import parse
from codegen_ui.notebooks.names import DEFAULT_TITLE, ID_PATTERN, StoreError, check_id

KEEP_DAYS = 7.0


@dataclass(frozen=True)
class Trashed:
    id: str
    title: str
    deleted: str  # ISO 8601, UTC
    path: Path


def _title(path: Path) -> str:
    try:
        meta = parse(path.read_bytes()).metadata.get(META_KEY, {})
        return str(meta.get("title") or DEFAULT_TITLE)
    except (OSError, NotebookError):
        return "(unreadable session)"


class Trash:
    """Deleted sessions of one folder."""

    def __init__(self, files: SessionFolder, keep_days: float = KEEP_DAYS) -> None:
        self.files = files
        self.root = files.root / ".trash"
        self.keep_s = keep_days * 86400

    def _path(self, session_id: str) -> Path:
        return self.root / f"{check_id(session_id)}.ipynb"

    def put(self, session_id: str) -> None:
        """Move a session (file and earlier version) here; its exports are removed."""
        source = self.files.path(session_id)
        if not source.exists():
            raise StoreError(f"there is no session {session_id}")
        try:
            self.root.mkdir(exist_ok=True)
            target = self._path(session_id)
            source.replace(target)
            os.utime(target)  # the time it was deleted
            previous = self.files.previous(session_id)
            data = folder_of(self.files.root, session_id)  # its data files go with it
            for kept in [previous, data, *self.files.root.glob(f"{session_id}.ipynb.damaged-*")]:
                if kept.exists():
                    kept.replace(self.root / kept.name)
        except OSError as exc:
            raise StoreError(f"session {session_id} could not be deleted: {exc.strerror}") from None
        shutil.rmtree(self.files.exports_dir / session_id, ignore_errors=True)
        fsync_dir(self.files.root)
        fsync_dir(self.root)

    def list(self) -> list[Trashed]:
        """What can still be restored, the latest deleted first; expired files go for good."""
        found = []
        cutoff = time.time() - self.keep_s
        for path in self.root.glob("*.ipynb") if self.root.exists() else []:
            if not ID_PATTERN.fullmatch(path.stem):
                continue
            try:
                mtime = path.stat().st_mtime
                if mtime < cutoff:
                    for old in [path, *self.root.glob(f".{path.name}.prev"),
                                *self.root.glob(f"{path.name}.damaged-*")]:  # fmt: skip
                        old.unlink(missing_ok=True)
                    shutil.rmtree(folder_of(self.root, path.stem), ignore_errors=True)
                    continue
            except OSError:
                continue
            when = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
            found.append(Trashed(path.stem, _title(path), when, path))
        return sorted(found, key=lambda t: t.deleted, reverse=True)

    def restore(self, session_id: str) -> None:
        """Put a deleted session back under its id."""
        source = self._path(session_id)
        target = self.files.path(session_id)
        if not source.exists():
            raise StoreError("that session is not in the trash (more than a week old?)")
        if target.exists():
            raise StoreError(f"a session {session_id} exists already")
        try:
            source.replace(target)
            previous = self.root / f".{source.name}.prev"
            if previous.exists():
                previous.replace(self.files.previous(session_id))
            data = folder_of(self.root, session_id)
            if data.exists():
                data.replace(folder_of(self.files.root, session_id))
            for kept in self.root.glob(f"{source.name}.damaged-*"):
                kept.replace(self.files.root / kept.name)
        except OSError as exc:
            raise StoreError(
                f"session {session_id} could not be restored: {exc.strerror}"
            ) from None
        fsync_dir(self.files.root)

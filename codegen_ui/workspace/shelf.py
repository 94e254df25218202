"""The sessions of every door over the notebook store: autosave, list, new, open, rename, duplicate,
delete, upload and download (.ipynb, .py, or .zip with the data files), for one tab's workspace at a
time (the page's sessions panel, the session API, follow links). The session's data files are
mirrored from its kernel's folder into the store after every cell (`mirror`) and put back into the
kernel's folder when a session is opened, its kernel restarts or it is replayed (`put_back`).

Each save insists on the revision the tab last read or wrote, so two tabs on one session never
overwrite each other silently: the tab that is behind is told (`SaveState.conflict`) and may
reload the saved version or keep its own as a copy.

A tab owns the sessions it created, imported or copied. When the server is reachable by others
(`guarded`), a tab may rename or delete only what it owns, and opening someone else's session
opens a copy, so nobody's work is changed from another tab. On a server bound to this machine
alone every session is the user's own. Everything goes through `SessionStore`; this module
knows nothing of Gradio or HTML. What a door keeps of a tab beyond its session (the page's open
editor, its pending examples) is told when the notebook is replaced (`TabState`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegen_ui.core import IN_FLIGHT, PREAMBLE, Turn
from codegen_ui.errors import UserError
from codegen_ui.notebooks import (
    DEFAULT_TITLE,
    SessionInfo,
    SessionStore,
    StaleSession,
    StoreError,
    export_zip,
    import_zip,
)
from codegen_ui.workspace.tab import Workspace

AnyWorkspace = Workspace[Any]  # whatever its door keeps of it

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Shelf:
    """The store as one browser tab sees it."""

    def __init__(self, store: SessionStore, guarded: bool) -> None:
        self.store = store
        self.guarded = guarded

    def owns(self, ws: AnyWorkspace, session_id: str) -> bool:
        return not self.guarded or session_id in ws.ownership.owned

    # ---- autosave ----------------------------------------------------------------------------
    def autosave(self, ws: AnyWorkspace) -> None:
        """Save the tab's session after a change; a failure is remembered and shown, not raised."""
        if ws.saved.conflict:
            return  # refused until the user picks reload or copy
        meta = {"preamble": ws.session.preamble}
        try:
            if ws.saved.id is None:
                info = self.store.create(ws.saved.title, ws.session.turns, meta)
                ws.saved.id = info.id
                ws.ownership.owned.add(info.id)
            else:
                info = self.store.save(
                    ws.saved.id, ws.session.turns, meta, expect=ws.saved.revision
                )
            ws.saved.revision = info.revision
            ws.saved.error = ""
            if not any(t.status in IN_FLIGHT for t in ws.session.turns):
                self.mirror(ws)  # what a cell wrote is kept once it finishes
        except StaleSession as exc:
            ws.saved.conflict = f"Not saved: {exc}."
        except StoreError as exc:
            ws.saved.error = f"not saved: {exc}"

    # ---- data files: the store's copy and the kernel's folder --------------------------------
    def mirror(self, ws: AnyWorkspace) -> None:
        """Keep what the kernel's folder holds with the saved session (within the limits)."""
        if ws.saved.id is None:
            return
        try:
            ws.saved.files_note = self.store.data.mirror(ws.saved.id, ws.kernel.kernel.files)
        except UserError as exc:  # the kernel is gone, the disk is full: say so, lose nothing
            ws.saved.files_note = f"files not saved: {exc}"

    def put_back(self, ws: AnyWorkspace) -> None:
        """Make the kernel's folder hold this session's stored files, and nothing else."""
        try:
            self.store.data.put_back(ws.saved.id, ws.kernel.kernel.files)
            ws.saved.files_note = ""
        except UserError as exc:
            ws.saved.files_note = f"the session's files could not be put into the kernel: {exc}"

    def reload(self, ws: AnyWorkspace) -> str:
        """Drop this tab's unsaved changes for the saved version (the kernel is kept)."""
        if ws.saved.id is None:
            raise StoreError("this session has not been saved yet")
        turns, meta = self.store.load(ws.saved.id)
        ws.session.reset(turns, str(meta.get("preamble", PREAMBLE)))
        ws.saved.revision = self.store.info(ws.saved.id).revision
        ws.saved.conflict = ""
        ws.page.reloaded()
        return "Reloaded the saved version."

    def keep_copy(self, ws: AnyWorkspace) -> str:
        """Save this tab's version as a new session of its own; the other stays as saved."""
        title = f"{ws.saved.title} (copy)"
        info = self.store.create(title, ws.session.turns, {"preamble": ws.session.preamble})
        ws.ownership.owned.add(info.id)
        ws.saved.id, ws.saved.title, ws.saved.revision = info.id, info.title, info.revision
        ws.saved.conflict = ""
        self.mirror(ws)  # with the files this tab's kernel holds
        return f"Your version is saved as a new session, {info.title!r}."

    # ---- the list ----------------------------------------------------------------------------
    def choices(self) -> list[tuple[str, str]]:
        """(label, id) for every session, newest change first."""
        out = []
        for info in self.store.list():
            when = info.updated.replace("T", " ")[:16]
            turns = f"{info.turns} turn" + ("" if info.turns == 1 else "s")
            label = f"{info.title} · {turns} · {when}"
            out.append((f"{label} · cannot be opened" if info.error else label, info.id))
        return out

    # ---- actions (each returns a note for the user) ------------------------------------------
    def new(self, ws: AnyWorkspace) -> str:
        self._switch(ws, [], PREAMBLE, DEFAULT_TITLE, None)
        return "A new, empty session. It is saved once it has a turn."

    def open(self, ws: AnyWorkspace, session_id: str) -> str:
        note = ""
        if not self.owns(ws, session_id):
            copy = self.store.duplicate(session_id)
            ws.ownership.owned.add(copy.id)
            session_id = copy.id
            note = "You opened a copy; the original stays as it was. "
        turns, meta = self.store.load(session_id)
        info = self.store.info(session_id)
        self._switch(ws, turns, str(meta.get("preamble", PREAMBLE)), info.title, session_id)
        ws.saved.revision = info.revision
        ws.fresh_kernel = bool(turns)
        return note + self._opened(turns)

    def duplicate(self, ws: AnyWorkspace) -> str:
        if ws.saved.id is None:
            raise StoreError("there is nothing to copy yet: this session has no turns")
        copy = self.store.duplicate(ws.saved.id)
        ws.ownership.owned.add(copy.id)
        ws.saved.id = copy.id
        ws.saved.title = copy.title
        ws.saved.revision = copy.revision
        return f"You are now working on a copy, {copy.title!r}."

    def rename(self, ws: AnyWorkspace, title: str) -> str:
        if title.strip() == ws.saved.title:
            return ""  # the box lost focus without a change
        if ws.saved.id is None:
            ws.saved.title = title.strip() or ws.saved.title
            return ""
        if not self.owns(ws, ws.saved.id):
            raise StoreError("only sessions made in this tab can be renamed")
        ws.saved.title = self.store.rename(ws.saved.id, title).title
        return ""

    def delete(self, ws: AnyWorkspace, session_id: str) -> str:
        if not self.owns(ws, session_id):
            raise StoreError("only sessions made in this tab can be deleted")
        title = self.store.info(session_id).title
        self.store.delete(session_id)
        ws.ownership.owned.discard(session_id)
        ws.ownership.trashed.add(session_id)
        if ws.saved.id == session_id:
            self._switch(ws, [], PREAMBLE, DEFAULT_TITLE, None)
        return f"Moved {title!r} to the trash: Restore brings it back for a week."

    def trash_choices(self) -> list[tuple[str, str]]:
        """(label, id) for every deleted session still restorable, latest deleted first."""
        return [(f"{t.title} · deleted {t.deleted.replace('T', ' ')[:16]}", t.id)
                for t in self.store.trash.list()]  # fmt: skip

    def restore(self, ws: AnyWorkspace, session_id: str) -> str:
        if self.guarded and session_id not in ws.ownership.trashed:
            raise StoreError("only sessions deleted in this tab can be restored")
        self.store.trash.restore(session_id)
        ws.ownership.trashed.discard(session_id)
        ws.ownership.owned.add(session_id)
        title = self.store.info(session_id).title
        return f"Restored {title!r}: it is in Saved sessions again."

    def upload(self, ws: AnyWorkspace, path: str) -> str:
        # Gradio keeps the uploaded file's own name: it becomes the title.
        data = Path(path).read_bytes()
        stem = Path(path).stem
        info: SessionInfo
        if Path(path).suffix.lower() == ".zip":  # a notebook with its files
            info = import_zip(self.store, data, default_title=stem)
        else:
            info = self.store.import_notebook(data, default_title=stem)
        ws.ownership.owned.add(info.id)
        note = self.open(ws, info.id)
        return " ".join(_sentence(n) for n in [note, *info.notes] if n.strip())

    def export(self, ws: AnyWorkspace, fmt: str) -> str | None:
        """A file to download, or None while the session has never been saved."""
        if ws.saved.id is None:
            return None
        try:
            if fmt == "py":
                return str(self.store.export_py(ws.saved.id))
            if fmt == "zip":
                return str(export_zip(self.store, ws.saved.id))
            return str(self.store.export_ipynb(ws.saved.id))
        except StoreError:
            return None

    def _switch(
        self, ws: AnyWorkspace, turns: list[Turn], preamble: str, title: str, sid: str | None
    ) -> None:
        # Another session's code must not find this one's variables: start a fresh kernel.
        ws.session.reset(turns, preamble)
        ws.saved.title = title
        ws.saved.id = sid
        ws.saved.revision = None
        ws.saved.error = ws.saved.conflict = ""
        ws.page.switched()
        ws.fresh_kernel = False
        if ws.session.kernel_prepared:  # a kernel that has run nothing yet is fresh already
            ws.session.restart_kernel()
        self.put_back(ws)  # its folder holds this session's files, no other's

    @staticmethod
    def _opened(turns: list[Turn]) -> str:
        if not turns:
            return "Opened an empty session."
        n = f"{len(turns)} turn" + ("" if len(turns) == 1 else "s")
        return f"Opened {n}. Press Replay all to rebuild the kernel's variables."


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."

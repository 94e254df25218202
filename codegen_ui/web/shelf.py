"""The web app's sessions panel over the notebook store: autosave, list, new, open, rename,
duplicate, delete, upload and download, for one browser tab's workspace at a time.

A tab owns the sessions it created, imported or copied. When the server is reachable by others
(`guarded`), a tab may rename or delete only what it owns, and opening someone else's session
opens a copy, so nobody's work is changed from another tab. On a server bound to this machine
alone every session is the user's own. Everything goes through `SessionStore`; this module
knows nothing of Gradio or HTML.
"""

from __future__ import annotations

from pathlib import Path

from codegen_ui.core import PREAMBLE, Turn
from codegen_ui.notebooks import DEFAULT_TITLE, SessionInfo, SessionStore, StoreError
from codegen_ui.web.workspace import Workspace

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class Shelf:
    """The store as one browser tab sees it."""

    def __init__(self, store: SessionStore, guarded: bool) -> None:
        self.store = store
        self.guarded = guarded

    def owns(self, ws: Workspace, session_id: str) -> bool:
        return not self.guarded or session_id in ws.owned

    # ---- autosave ----------------------------------------------------------------------------
    def autosave(self, ws: Workspace) -> None:
        """Save the tab's session after a change; a failure is remembered and shown, not raised."""
        meta = {"preamble": ws.session.preamble}
        try:
            if ws.notebook_id is None:
                info = self.store.create(ws.title, ws.session.turns, meta)
                ws.notebook_id = info.id
                ws.owned.add(info.id)
            else:
                self.store.save(ws.notebook_id, ws.session.turns, meta)
            ws.save_error = ""
        except StoreError as exc:
            ws.save_error = f"not saved: {exc}"

    # ---- the list ----------------------------------------------------------------------------
    def choices(self) -> list[tuple[str, str]]:
        """(label, id) for every session, newest change first."""
        out = []
        for info in self.store.list():
            when = info.updated.replace("T", " ")[:16]
            label = f"{info.title} · {info.turns} turns · {when}"
            out.append((f"{label} · cannot be opened" if info.error else label, info.id))
        return out

    # ---- actions (each returns a note for the user) ------------------------------------------
    def new(self, ws: Workspace) -> str:
        self._switch(ws, [], PREAMBLE, DEFAULT_TITLE, None)
        return "A new, empty session. It is saved once it has a turn."

    def open(self, ws: Workspace, session_id: str) -> str:
        note = ""
        if not self.owns(ws, session_id):
            copy = self.store.duplicate(session_id)
            ws.owned.add(copy.id)
            session_id = copy.id
            note = "You opened a copy; the original stays as it was. "
        turns, meta = self.store.load(session_id)
        info = self.store.info(session_id)
        self._switch(ws, turns, str(meta.get("preamble", PREAMBLE)), info.title, session_id)
        return note + self._opened(turns)

    def duplicate(self, ws: Workspace) -> str:
        if ws.notebook_id is None:
            raise StoreError("there is nothing to copy yet: this session has no turns")
        copy = self.store.duplicate(ws.notebook_id)
        ws.owned.add(copy.id)
        ws.notebook_id = copy.id
        ws.title = copy.title
        return f"You are now working on a copy, {copy.title!r}."

    def rename(self, ws: Workspace, title: str) -> str:
        if title.strip() == ws.title:
            return ""  # the box lost focus without a change
        if ws.notebook_id is None:
            ws.title = title.strip() or ws.title
            return ""
        if not self.owns(ws, ws.notebook_id):
            raise StoreError("only sessions made in this tab can be renamed")
        ws.title = self.store.rename(ws.notebook_id, title).title
        return ""

    def delete(self, ws: Workspace, session_id: str) -> str:
        if not self.owns(ws, session_id):
            raise StoreError("only sessions made in this tab can be deleted")
        title = self.store.info(session_id).title
        self.store.delete(session_id)
        ws.owned.discard(session_id)
        if ws.notebook_id == session_id:
            self._switch(ws, [], PREAMBLE, DEFAULT_TITLE, None)
        return f"Deleted {title!r}."

    def upload(self, ws: Workspace, path: str) -> str:
        info: SessionInfo = self.store.import_notebook(Path(path).read_bytes())
        ws.owned.add(info.id)
        note = self.open(ws, info.id)
        return " ".join([note, *info.notes])

    def export(self, ws: Workspace, fmt: str) -> str | None:
        """A file to download, or None while the session has never been saved."""
        if ws.notebook_id is None:
            return None
        try:
            if fmt == "py":
                return str(self.store.export_py(ws.notebook_id))
            return str(self.store.export_ipynb(ws.notebook_id))
        except StoreError:
            return None

    def _switch(
        self, ws: Workspace, turns: list[Turn], preamble: str, title: str, sid: str | None
    ) -> None:
        # Another session's code must not find this one's variables: start a fresh kernel.
        session = ws.session
        session.turns = list(turns)
        session.preamble = preamble
        session.last_prompt = None
        ws.pending = []
        ws.title = title
        ws.notebook_id = sid
        ws.save_error = ""
        session.restart_kernel()

    @staticmethod
    def _opened(turns: list[Turn]) -> str:
        if not turns:
            return "Opened an empty session."
        return f"Opened {len(turns)} turns. Press Replay all to rebuild the kernel's variables."

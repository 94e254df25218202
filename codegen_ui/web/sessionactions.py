"""The page's actions on the stored sessions (the sessions panel): `SessionActions`.

New, open, copy, delete, restore, rename, upload and download, each through the application
layer's `Shelf` (which owns what, autosave, the store) on the tab's workspace.
"""

from __future__ import annotations

from codegen_ui.web.actions import PageActions
from codegen_ui.web.views import View


class SessionActions(PageActions):
    """What the sessions panel does."""

    def new_session(self, key: str) -> View:
        return self.quick(key, self.shelf.new)

    def open_session(self, key: str, session_id: str | None) -> View:
        if not session_id:
            return self.error_view(key, "Pick a session to open first.")
        return self.quick(key, lambda ws: self.shelf.open(ws, session_id))

    def duplicate_session(self, key: str) -> View:
        return self.quick(key, self.shelf.duplicate)

    def delete_session(self, key: str, session_id: str | None) -> View:
        if not session_id:
            return self.error_view(key, "Pick a session to delete first.")
        return self.quick(key, lambda ws: self.shelf.delete(ws, session_id))

    def restore_session(self, key: str, session_id: str | None) -> View:
        if not session_id:
            return self.error_view(key, "Pick a deleted session to restore first.")
        return self.quick(key, lambda ws: self.shelf.restore(ws, session_id))

    def rename(self, key: str, title: str) -> View:
        return self.quick(key, lambda ws: self.shelf.rename(ws, title))

    def upload(self, key: str, path: str) -> View:
        return self.quick(key, lambda ws: self.shelf.upload(ws, path))

    def export(self, key: str, fmt: str) -> str | None:
        """The session as a .ipynb, .py or .zip file to download; None before its first save."""
        ws = self.workspaces.peek(key)
        return None if ws is None else self.shelf.export(ws, fmt)

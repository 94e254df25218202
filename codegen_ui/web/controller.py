"""The web app's actions, independent of Gradio: each takes a browser-session key and gives `View`s.

A handler in `ui.py` calls one method of `Controller` and shows the `View`s it gets. The
controller is its parts, one job each: how any action runs (`web.actions`), the turns
(`web.turnactions`), a press on a cell (`web.cellpresses`), the sessions panel
(`web.sessionactions`) and the Files panel (`web.fileactions`); here is only what a tab's
opening and closing does, where a page reload finds its session again. It does not lay out the
page, and it holds no session, kernel or store of its own: those are the application layer's
(`codegen_ui.workspace`).
"""

from __future__ import annotations

from codegen_ui.errors import UserError
from codegen_ui.notebooks import StoreError, check_id
from codegen_ui.web.cellpresses import CellPresses
from codegen_ui.web.fileactions import FileActions
from codegen_ui.web.sessionactions import SessionActions
from codegen_ui.web.views import View

__all__ = ["Controller", "View"]


class Controller(CellPresses, SessionActions, FileActions):
    """The actions of the web app over the application layer's workbench."""

    # ---- lifecycle ---------------------------------------------------------------------------
    def open_page(self, key: str, session_id: str | None = None) -> View:
        """A tab opened; with the address's `session` it shows that session again: the same
        workspace and kernel when the tab was closed less than the grace period ago."""
        note = ""
        if session_id:
            try:
                check_id(session_id)
            except StoreError:
                session_id = None
                note = "The address names no valid session; this is a new one."
        if session_id:
            ws = self.workspaces.attach(key, session_id)
            if ws is not None:
                ws.page.editing = None
                return self.view(ws, "Welcome back: your variables are still here.")
        try:
            ws = self.workspaces.get(key)
        except UserError as exc:  # the server is busy, or the kernels cannot be reached
            return self.error_view(key, str(exc))
        if session_id and ws.saved.id != session_id:
            try:
                note = self.shelf.open(ws, session_id)
            except StoreError as exc:
                note = f"Cannot open that session: {exc}"
        return self.view(ws, note)

    def close_page(self, key: str) -> None:
        self.workspaces.leave(key)

"""The web app's actions, independent of Gradio: each takes a browser-session key and gives `View`s.

A handler in `ui.py` calls one method here and shows the `View`s it gets. This is where domain
errors (model still loading, server busy, prompt too long, a bad upload) become one line for the
user, where streaming updates are paced, where a turn that fails for any reason is ended in
`error` (never left "writing code"), and where a page reload finds its session again. A press on
a cell (decoded by `web.cellevents`) acts on that cell alone: one made on a notebook that has
changed since (another cell deleted, an undo) is refused, so an action never lands on another
cell; an empty editor never wipes code; leaving the editor keeps what was typed. It does not lay
out the page.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from codegen_ui.core import SamplingParams, Turn
from codegen_ui.errors import UserError, one_line
from codegen_ui.notebooks import StoreError, check_id
from codegen_ui.web.cellaction import CellAction
from codegen_ui.web.cellevents import CellEvent, decode
from codegen_ui.web.examples import EXAMPLE_FILES, EXAMPLES
from codegen_ui.web.filedesk import FilesDesk
from codegen_ui.web.shared import ModelHolder
from codegen_ui.web.shelf import Shelf
from codegen_ui.web.views import Fetched, Pulse, View, Views
from codegen_ui.web.workspace import Workspace, Workspaces

log = logging.getLogger(__name__)

STREAM_EVERY_S = 0.08  # the most often a streaming action sends the page a new view
Action = Callable[[Workspace], Iterator[Turn]]
# Every failure a user may see (model loading, server busy, prompt too long, a bad upload, no
# such cell) is a UserError: shown as a note on the page, never as a traceback.
EXPECTED = UserError
UNFINISHED = "the action ended before this cell finished"
STALE = "The notebook changed since that was drawn; nothing was done. Look again and retry."
LOST = "This page lost its session; reload it."

__all__ = ["Controller", "View"]


class Controller:
    """The actions of the web app over the shared model and the per-session workspaces."""

    def __init__(self, holder: ModelHolder, workspaces: Workspaces, shelf: Shelf) -> None:
        self.holder = holder
        self.workspaces = workspaces
        self.shelf = shelf
        self.desk = FilesDesk(shelf)
        self.views = Views(holder, workspaces.model.gate, shelf, self.desk)

    def view(self, ws: Workspace, note: str = "", **extra: Any) -> View:
        return self.views.of(ws, note, **extra)

    def pulse(self, key: str) -> Pulse:
        """What the page's timer shows for this tab: the status line, and whether to tick on."""
        return self.views.pulse(self.workspaces.peek(key))

    def error_view(self, key: str, message: str) -> View:
        ws = self.workspaces.peek(key)
        return self.views.empty(message) if ws is None else self.view(ws, message)

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
                ws.editing = None
                return self.view(ws, "Welcome back: your variables are still here.")
        try:
            ws = self.workspaces.get(key)
        except EXPECTED as exc:  # the server is busy, or the kernels cannot be reached
            return self.error_view(key, str(exc))
        if session_id and ws.notebook_id != session_id:
            try:
                note = self.shelf.open(ws, session_id)
            except StoreError as exc:
                note = f"Cannot open that session: {exc}"
        return self.view(ws, note)

    def close_page(self, key: str) -> None:
        self.workspaces.leave(key)

    def stop(self, key: str) -> None:
        ws = self.workspaces.peek(key)
        if ws is not None:
            ws.stop()

    # ---- turns -------------------------------------------------------------------------------
    def submit(self, key: str, instruction: str, params: SamplingParams) -> Iterator[View]:
        if not instruction.strip():
            yield self.error_view(key, "Type an instruction first.")
            return

        def action(ws: Workspace) -> Iterator[Turn]:
            if ws.pending and ws.pending[0].strip() == instruction.strip():
                ws.pending.pop(0)  # the next example turn is being run
            ws.max_new_tokens = params.max_new_tokens
            return ws.session.add_turn(instruction, params)

        yield from self._stream(key, action, uses_model=True, next_box=True)

    def replay(self, key: str) -> Iterator[View]:
        def action(ws: Workspace) -> Iterator[Turn]:
            ws.fresh_kernel = False
            self.shelf.put_back(ws)  # the cells find the session's files as they were
            return ws.session.replay()

        yield from self._stream(key, action)

    def _stream(
        self, key: str, action: Action, uses_model: bool = False, next_box: bool = False
    ) -> Iterator[View]:
        """Run a streaming action on this session's workspace, one action at a time."""
        try:
            ws = self.workspaces.get(key)
            if uses_model:
                self.holder.get()  # raises ModelNotReady while loading or after a failure
            ws.acquire()
        except EXPECTED as exc:
            yield self.error_view(key, str(exc))
            return
        try:
            yield from self._paced(ws, action, next_box, uses_model)
        except Exception as exc:  # anything else: the turn ends visibly and the page goes on
            log.exception("an action failed")
            reason = one_line(exc)
            ws.session.fail_unfinished(reason)
            yield self.view(ws, f"That failed: {reason}")
        finally:
            ws.session.fail_unfinished(UNFINISHED)  # a closed page, say: never left running
            ws.release()

    def _paced(
        self, ws: Workspace, action: Action, next_box: bool, uses_model: bool
    ) -> Iterator[View]:
        ahead = self.views.ahead() if uses_model else 0
        try:
            turns = action(ws)
            first = next(turns, None)  # starts the action: the new cell exists from here on
        except EXPECTED as exc:
            yield self.view(ws, str(exc))
            return
        if next_box:
            ws.active = len(ws.session.turns) - 1  # the new cell
        # A submitted turn empties the instruction box, or offers the next example turn.
        box = (ws.pending[0] if ws.pending else "") if next_box else None
        yield self.view(ws, busy=True, instruction=box, ahead=ahead)
        last = 0.0
        try:
            for turn in turns:
                if time.monotonic() - last >= STREAM_EVERY_S or turn.status != "generating":
                    last = time.monotonic()
                    yield self.view(ws, busy=True)
        except EXPECTED as exc:
            ws.session.fail_unfinished(str(exc))
            yield self.view(ws, str(exc))
            return
        note = ""
        if first is None:
            note = "Nothing to run."
        yield self.view(ws, note)

    def add_code(self, key: str, instruction: str) -> View:
        """A new cell at the foot for the user's own code, its editor open; the instruction
        box's text (if any) becomes its comment in the prompt."""

        def action(ws: Workspace) -> str:
            ws.editing = ws.active = ws.session.add_code_cell(instruction)
            return ""

        view = self._quick(key, action)
        return dataclasses.replace(view, instruction="") if instruction.strip() else view

    def undo(self, key: str) -> View:
        return self._quick(key, lambda ws: "" if ws.session.undo() else "Nothing to undo.")

    def redo(self, key: str) -> View:
        return self._quick(key, lambda ws: "" if ws.session.redo() else "Nothing to redo.")

    def restart(self, key: str) -> View:
        def action(ws: Workspace) -> str:
            ws.session.restart_kernel()
            ws.fresh_kernel = False
            self.shelf.put_back(ws)
            return "A fresh kernel: every variable is gone; the session's files are back."

        return self._quick(key, action)

    def _quick(self, key: str, action: Callable[[Workspace], object]) -> View:
        """A short action on this tab's workspace; a string it returns is a note for the user."""
        try:
            ws = self.workspaces.get(key)
            ws.acquire()
        except EXPECTED as exc:
            return self.error_view(key, str(exc))
        try:
            result = action(ws)
            note = result if isinstance(result, str) else ""
        except EXPECTED as exc:
            note = str(exc)
        finally:
            ws.release()
        return self.view(ws, note)

    def load_example(self, key: str, title: str) -> View:
        instructions = dict(EXAMPLES).get(title)
        try:
            ws = self.workspaces.get(key)
        except EXPECTED as exc:  # the server is busy, or the kernels cannot be reached
            return self.error_view(key, str(exc))
        if instructions is None:
            return self.view(ws, f"no example named {title!r}")
        ws.pending = list(instructions)
        note = ""
        files = [str(path) for path in EXAMPLE_FILES.get(title, ())]
        if files:
            try:
                note = self.desk.upload(ws, files)
            except EXPECTED as exc:
                note = str(exc)
        return self.view(ws, note, instruction=ws.pending[0])

    # ---- one cell (what `web.cellevents` decodes) ---------------------------------------------
    def cell(self, key: str, data: object, params: SamplingParams) -> Iterator[View]:
        """A press on one cell's button or key, or on a notebook banner, as the page sends it."""
        ws = self.workspaces.peek(key)
        if ws is None:  # a tab that follows another's session is refused, and told why
            yield self.error_view(key, self.workspaces.refusal(key) or LOST)
            return
        try:
            event = decode(data)
        except EXPECTED as exc:
            yield self.view(ws, str(exc))
            return
        if event.index is None:  # a banner's: the whole notebook's
            if event.action == CellAction.REPLAY:
                yield from self.replay(key)
            elif event.action == CellAction.RELOAD:
                yield self._quick(key, self.shelf.reload)
            else:
                yield self._quick(key, self.shelf.keep_copy)
        elif event.action in (CellAction.EDIT, CellAction.LEAVE):
            yield self._edit_mode(ws, event, event.index)
        elif event.revision != ws.session.revision or event.index >= len(ws.session.turns):
            yield self.view(ws, STALE)
        else:
            yield from self._on_cell(key, ws, event, event.index, params)

    def _on_cell(
        self, key: str, ws: Workspace, event: CellEvent, index: int, params: SamplingParams
    ) -> Iterator[View]:
        """Run, fix, complete, regenerate or delete one cell that exists as the page drew it."""
        if event.action == CellAction.DELETE:
            yield self._quick(key, lambda w: _delete(w, index))
            return
        if event.action == CellAction.RUN:
            code = event.code
            if code is not None and not code.strip():
                yield self.view(
                    ws, f"Cell {index + 1}'s editor is empty: its code was left as it was."
                )
                return

            def run(w: Workspace) -> Iterator[Turn]:
                w.editing, w.active = None, index
                if code is None or code == w.session.turns[index].code:
                    return w.session.run(index)
                return w.session.edit(index, code)

            yield from self._stream(key, run)
        elif event.action == CellAction.REGENERATE:

            def regen(w: Workspace) -> Iterator[Turn]:
                w.max_new_tokens = params.max_new_tokens
                w.editing, w.active = None, index
                return w.session.regenerate(params, index, event.instruction)

            yield from self._stream(key, regen, uses_model=True)
        elif event.action == CellAction.FIX:

            def fix(w: Workspace) -> Iterator[Turn]:
                w.max_new_tokens = params.max_new_tokens
                w.editing, w.active = None, index
                return w.session.fix(index, params)

            yield from self._stream(key, fix, uses_model=True)
        else:  # COMPLETE

            def complete(w: Workspace) -> Iterator[Turn]:
                w.max_new_tokens = params.max_new_tokens
                turns = w.session.complete(index, params, event.code)
                # A refusal (no code, too long a prompt) comes first and keeps the editor open
                # with what was typed; once it starts, it streams into the cell's code view.
                first = next(turns)
                w.editing, w.active = None, index
                yield first
                yield from turns

            yield from self._stream(key, complete, uses_model=True)

    def _edit_mode(self, ws: Workspace, event: CellEvent, index: int) -> View:
        busy = ws.lock.locked()
        exists = index < len(ws.session.turns)
        if event.action == CellAction.EDIT:
            ws.editing = index if exists else None
            return self.view(ws, busy=busy)
        # Leaving keeps what was typed (never lost): changed code is kept, marked not run yet.
        code = event.code
        changed = code is not None and bool(code.strip()) and exists
        changed = changed and code != ws.session.turns[index].code
        if changed and busy:
            return self.view(ws, "Still working: your edit stays in the editor.", busy=True)
        ws.editing = None
        note = ""
        if changed and code is not None:
            ws.session.set_code(index, code)
            note = f"Kept your change to cell {index + 1}; it has not run yet."
        return self.view(ws, note, busy=busy)

    # ---- sessions (through the store) ------------------------------------------------------------
    def new_session(self, key: str) -> View:
        return self._quick(key, self.shelf.new)

    def open_session(self, key: str, session_id: str | None) -> View:
        if not session_id:
            return self.error_view(key, "Pick a session to open first.")
        return self._quick(key, lambda ws: self.shelf.open(ws, session_id))

    def duplicate_session(self, key: str) -> View:
        return self._quick(key, self.shelf.duplicate)

    def delete_session(self, key: str, session_id: str | None) -> View:
        if not session_id:
            return self.error_view(key, "Pick a session to delete first.")
        return self._quick(key, lambda ws: self.shelf.delete(ws, session_id))

    def restore_session(self, key: str, session_id: str | None) -> View:
        if not session_id:
            return self.error_view(key, "Pick a deleted session to restore first.")
        return self._quick(key, lambda ws: self.shelf.restore(ws, session_id))

    def rename(self, key: str, title: str) -> View:
        return self._quick(key, lambda ws: self.shelf.rename(ws, title))

    def upload(self, key: str, path: str) -> View:
        return self._quick(key, lambda ws: self.shelf.upload(ws, path))

    def export(self, key: str, fmt: str) -> str | None:
        """The session as a .ipynb, .py or .zip file to download; None before its first save."""
        ws = self.workspaces.peek(key)
        return None if ws is None else self.shelf.export(ws, fmt)

    # ---- data files (the Files panel) ----------------------------------------------------------
    def upload_files(self, key: str, paths: list[str]) -> View:
        return self._quick(key, lambda ws: self.desk.upload(ws, paths))

    def files_action(self, key: str, data: object) -> View:
        """A Files panel button: `{"action": "delete" | "replace" | "keep", "name": ...}`."""
        event = data if isinstance(data, dict) else {}
        action, name = event.get("action"), str(event.get("name") or "")
        if action == "delete":
            return self._quick(key, lambda ws: self.desk.delete(ws, name))
        if action in ("replace", "keep"):
            return self._quick(key, lambda ws: self.desk.answer(ws, action == "replace"))
        return self.error_view(key, f"no such file action {action!r}")

    def file_pressed(self, key: str, data: object) -> Fetched:
        """The Files panel's Download button, as the page sends it: `{"name": ...}`."""
        event = data if isinstance(data, dict) else {}
        return self.download_file(key, str(event.get("name") or ""))

    def download_file(self, key: str, name: str) -> Fetched:
        """A file of the session to download, and the Files panel drawn again: when there is
        no file by that name, no path, and the panel says why (`FilesDesk.fetch`)."""
        ws = self.workspaces.peek(key)
        if ws is None:
            return Fetched()
        path, panel = self.desk.fetch(ws, name)
        return Fetched(path, panel)


def _delete(ws: Workspace, index: int) -> str:
    turn = ws.session.delete(index)
    ws.editing = ws.active = None
    return f"Deleted cell {index + 1} ({turn.instruction[:40]!r}); Undo brings it back."

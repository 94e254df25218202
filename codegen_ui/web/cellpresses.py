"""The page's presses on one cell (decoded by `web.cellevents`): `CellPresses`.

A press acts on that cell alone: run, fix, complete, regenerate, delete, open or leave its
editor; a banner's acts on the whole notebook (replay, reload the saved version, keep a copy).
One made on a notebook that has changed since (another cell deleted, an undo) is refused, so an
action never lands on another cell; an empty editor never wipes code; leaving the editor keeps
what was typed.
"""

from __future__ import annotations

from collections.abc import Iterator

from codegen_ui.core import SamplingParams, Turn
from codegen_ui.errors import UserError
from codegen_ui.web.actions import LOST
from codegen_ui.web.cellaction import CellAction
from codegen_ui.web.cellevents import CellEvent, decode
from codegen_ui.web.pagestate import Tab
from codegen_ui.web.turnactions import TurnActions
from codegen_ui.web.views import View

STALE = "The notebook changed since that was drawn; nothing was done. Look again and retry."


class CellPresses(TurnActions):
    """What a press on a cell, or on a notebook banner, does."""

    def cell(self, key: str, data: object, params: SamplingParams) -> Iterator[View]:
        """A press on one cell's button or key, or on a notebook banner, as the page sends it."""
        ws = self.workspaces.peek(key)
        if ws is None:  # a tab that follows another's session is refused, and told why
            yield self.error_view(key, self.workspaces.refusal(key) or LOST)
            return
        try:
            event = decode(data)
        except UserError as exc:
            yield self.view(ws, str(exc))
            return
        if event.index is None:  # a banner's: the whole notebook's
            if event.action == CellAction.REPLAY:
                yield from self.replay(key)
            elif event.action == CellAction.RELOAD:
                yield self.quick(key, self.shelf.reload)
            else:
                yield self.quick(key, self.shelf.keep_copy)
        elif event.action in (CellAction.EDIT, CellAction.LEAVE):
            yield self._edit_mode(ws, event, event.index)
        elif event.revision != ws.session.revision or event.index >= len(ws.session.turns):
            yield self.view(ws, STALE)
        else:
            yield from self._on_cell(key, ws, event, event.index, params)

    def _on_cell(
        self, key: str, ws: Tab, event: CellEvent, index: int, params: SamplingParams
    ) -> Iterator[View]:
        """Run, fix, complete, regenerate or delete one cell that exists as the page drew it."""
        if event.action == CellAction.DELETE:
            yield self.quick(key, lambda w: _delete(w, index))
            return
        if event.action == CellAction.RUN:
            code = event.code
            if code is not None and not code.strip():
                yield self.view(
                    ws, f"Cell {index + 1}'s editor is empty: its code was left as it was."
                )
                return

            def run(w: Tab) -> Iterator[Turn]:
                w.page.editing, w.page.active = None, index
                if code is None or code == w.session.turns[index].code:
                    return w.session.run(index)
                return w.session.edit(index, code)

            yield from self.stream(key, run)
        elif event.action == CellAction.REGENERATE:

            def regen(w: Tab) -> Iterator[Turn]:
                w.page.max_new_tokens = params.max_new_tokens
                w.page.editing, w.page.active = None, index
                return w.session.regenerate(params, index, event.instruction)

            yield from self.stream(key, regen, uses_model=True)
        elif event.action == CellAction.FIX:

            def fix(w: Tab) -> Iterator[Turn]:
                w.page.max_new_tokens = params.max_new_tokens
                w.page.editing, w.page.active = None, index
                return w.session.fix(index, params)

            yield from self.stream(key, fix, uses_model=True)
        else:  # COMPLETE

            def complete(w: Tab) -> Iterator[Turn]:
                w.page.max_new_tokens = params.max_new_tokens
                turns = w.session.complete(index, params, event.code)
                # A refusal (no code, too long a prompt) comes first and keeps the editor open
                # with what was typed; once it starts, it streams into the cell's code view.
                first = next(turns)
                w.page.editing, w.page.active = None, index
                yield first
                yield from turns

            yield from self.stream(key, complete, uses_model=True)

    def _edit_mode(self, ws: Tab, event: CellEvent, index: int) -> View:
        busy = ws.lock.locked()
        exists = index < len(ws.session.turns)
        if event.action == CellAction.EDIT:
            ws.page.editing = index if exists else None
            return self.view(ws, busy=busy)
        # Leaving keeps what was typed (never lost): changed code is kept, marked not run yet.
        code = event.code
        changed = code is not None and bool(code.strip()) and exists
        changed = changed and code != ws.session.turns[index].code
        if changed and busy:
            return self.view(ws, "Still working: your edit stays in the editor.", busy=True)
        ws.page.editing = None
        note = ""
        if changed and code is not None:
            ws.session.set_code(index, code)
            note = f"Kept your change to cell {index + 1}; it has not run yet."
        return self.view(ws, note, busy=busy)


def _delete(ws: Tab, index: int) -> str:
    turn = ws.session.delete(index)
    ws.page.editing = ws.page.active = None
    return f"Deleted cell {index + 1} ({turn.instruction[:40]!r}); Undo brings it back."

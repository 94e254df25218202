"""Presses on a cell: its buttons and editor keys, each acting on the one cell pressed.

A `CellEvent` is what the page sends (the action, the cell's number, the notebook revision it
was drawn at, the editor's text); `CellActions` checks it and calls one session operation.
A press made on a notebook that has changed since (another cell deleted, an undo) is refused,
so an action can never land on a different cell; an empty editor never wipes code; leaving the
editor keeps what was typed. It does not render or lay out anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from codegen_ui.core import SamplingParams, Turn
from codegen_ui.web.cellaction import CellAction
from codegen_ui.web.shelf import Shelf
from codegen_ui.web.views import View
from codegen_ui.web.workspace import Workspace, Workspaces

STALE = "The notebook changed since that was drawn; nothing was done. Look again and retry."


@dataclass(frozen=True)
class CellEvent:
    """One press on a cell: what, which cell (1 for the first), at which notebook revision."""

    action: str
    cell: int = 0
    revision: int = -1
    code: str | None = None  # the editor's text, when the editor is open
    instruction: str | None = None  # the instruction field's text, when the editor is open

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> CellEvent:
        data = data or {}

        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        def number(name: str, default: int) -> int:
            value = data.get(name)
            return int(value) if isinstance(value, (int, float)) else default

        action = text("action") or ""
        return cls(action, number("cell", 0), number("revision", -1), text("code"),
                   text("instruction"))  # fmt: skip


class Host(Protocol):
    """What the cell actions use of the controller (`web.controller.Controller`)."""

    workspaces: Workspaces
    shelf: Shelf

    def view(self, ws: Workspace, note: str = "", **extra: Any) -> View: ...

    def error_view(self, key: str, message: str) -> View: ...

    def replay(self, key: str) -> Iterator[View]: ...

    def _stream(
        self,
        key: str,
        action: Callable[[Workspace], Iterator[Turn]],
        uses_model: bool = False,
        next_box: bool = False,
    ) -> Iterator[View]: ...

    def _quick(self, key: str, action: Callable[[Workspace], object]) -> View: ...


class CellActions:
    """The per-cell actions of one controller."""

    def __init__(self, controller: Host) -> None:
        self.c = controller

    def handle(self, key: str, event: CellEvent, params: SamplingParams) -> Iterator[View]:
        """A press on one cell's button or key; it acts on that cell alone."""
        ws = self.c.workspaces.peek(key)
        if ws is None:
            yield self.c.error_view(key, "This page lost its session; reload it.")
            return
        index = event.cell - 1
        if event.action in (CellAction.EDIT, CellAction.LEAVE):
            yield self._edit_mode(ws, event, index)
            return
        if event.action in (
            CellAction.RUN,
            CellAction.COMPLETE,
            CellAction.REGENERATE,
            CellAction.DELETE,
        ) and (event.revision != ws.session.revision or not 0 <= index < len(ws.session.turns)):
            yield self.c.view(ws, STALE)
            return
        if event.action == CellAction.RUN:
            yield from self._run(key, ws, event, index)
        elif event.action == CellAction.REGENERATE:

            def regen(w: Workspace) -> Iterator[Turn]:
                w.max_new_tokens = params.max_new_tokens
                w.editing, w.active = None, index
                return w.session.regenerate(params, index, event.instruction)

            yield from self.c._stream(key, regen, uses_model=True)
        elif event.action == CellAction.COMPLETE:

            def complete(w: Workspace) -> Iterator[Turn]:
                w.max_new_tokens = params.max_new_tokens
                turns = w.session.complete(index, params, event.code)
                # A refusal (no code, too long a prompt) comes first and keeps the editor open
                # with what was typed; once it starts, it streams into the cell's code view.
                first = next(turns)
                w.editing, w.active = None, index
                yield first
                yield from turns

            yield from self.c._stream(key, complete, uses_model=True)
        elif event.action == CellAction.DELETE:
            yield self.c._quick(key, lambda w: self._delete(w, index))
        elif event.action == CellAction.REPLAY:
            yield from self.c.replay(key)
        elif event.action == CellAction.RELOAD:
            yield self.c._quick(key, self.c.shelf.reload)
        elif event.action == CellAction.KEEP_COPY:
            yield self.c._quick(key, self.c.shelf.keep_copy)
        else:
            yield self.c.view(ws, f"unknown action {event.action!r}")

    def _edit_mode(self, ws: Workspace, event: CellEvent, index: int) -> View:
        if event.action == CellAction.EDIT:
            ws.editing = index if 0 <= index < len(ws.session.turns) else None
            return self.c.view(ws, busy=ws.lock.locked())
        # Leaving keeps what was typed (never lost): changed code is kept, marked not run yet.
        busy = ws.lock.locked()
        code = event.code
        changed = (
            code is not None
            and bool(code.strip())
            and 0 <= index < len(ws.session.turns)
            and code != ws.session.turns[index].code
        )
        if changed and busy:
            return self.c.view(ws, "Still working: your edit stays in the editor.", busy=True)
        ws.editing = None
        note = ""
        if changed and code is not None:
            ws.session.set_code(index, code)
            note = f"Kept your change to cell {index + 1}; it has not run yet."
        return self.c.view(ws, note, busy=busy)

    def _run(self, key: str, ws: Workspace, event: CellEvent, index: int) -> Iterator[View]:
        code = event.code
        if code is not None and not code.strip():
            yield self.c.view(
                ws, f"Cell {index + 1}'s editor is empty: its code was left as it was."
            )
            return

        def run(w: Workspace) -> Iterator[Turn]:
            w.editing, w.active = None, index
            if code is None or code == w.session.turns[index].code:
                return w.session.run(index)
            return w.session.edit(index, code)

        yield from self.c._stream(key, run)

    @staticmethod
    def _delete(ws: Workspace, index: int) -> str:
        turn = ws.session.delete(index)
        ws.editing = ws.active = None
        return f"Deleted cell {index + 1} ({turn.instruction[:40]!r}); Undo brings it back."

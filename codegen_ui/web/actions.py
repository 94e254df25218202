"""How the page's actions run on a tab's workspace, whatever they do: `PageActions`, the base.

An action takes a tab's key, finds its workspace in the application layer (`codegen_ui.workspace`)
and gives `View`s. `quick` runs a short one, `stream` a streamed one (a turn, a run, a replay):
one action at a time per tab, streamed updates paced (`STREAM_EVERY_S`), a cell an action leaves
running ended (`UNFINISHED`), and every failure a user may see, a `UserError` (model loading,
server busy, prompt too long, a bad upload, no such cell), shown as one note on the page, never
as a traceback; anything else ends the turn in `error` and the page goes on. What the actions
do lives in `turnactions`, `cellpresses`, `sessionactions` and `fileactions`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from codegen_ui.core import Turn
from codegen_ui.errors import UserError, one_line
from codegen_ui.web.filedesk import FilesDesk
from codegen_ui.web.pagestate import PageState, Tab
from codegen_ui.web.views import Pulse, View, Views
from codegen_ui.workspace import STREAM_EVERY_S, UNFINISHED, Workbench

log = logging.getLogger(__name__)

Action = Callable[[Tab], Iterator[Turn]]
LOST = "This page lost its session; reload it."


class PageActions:
    """The page's view of the application layer, and the one way its actions run."""

    def __init__(self, bench: Workbench[PageState]) -> None:
        self.bench = bench
        self.holder = bench.holder
        self.workspaces = bench.workspaces
        self.shelf = bench.shelf
        self.desk = FilesDesk(bench.shelf)
        self.views = Views(bench.holder, bench.workspaces.model.gate, bench.shelf, self.desk)

    def view(self, ws: Tab, note: str = "", **extra: Any) -> View:
        return self.views.of(ws, note, **extra)

    def pulse(self, key: str) -> Pulse:
        """What the page's timer shows for this tab: the status line, and whether to tick on."""
        return self.views.pulse(self.workspaces.peek(key))

    def error_view(self, key: str, message: str) -> View:
        ws = self.workspaces.peek(key)
        return self.views.empty(message) if ws is None else self.view(ws, message)

    def quick(self, key: str, action: Callable[[Tab], object]) -> View:
        """A short action on this tab's workspace; a string it returns is a note for the user."""
        try:
            ws = self.workspaces.get(key)
            ws.acquire()
        except UserError as exc:
            return self.error_view(key, str(exc))
        try:
            result = action(ws)
            note = result if isinstance(result, str) else ""
        except UserError as exc:
            note = str(exc)
        finally:
            ws.release()
        return self.view(ws, note)

    def stream(
        self, key: str, action: Action, uses_model: bool = False, next_box: bool = False
    ) -> Iterator[View]:
        """Run a streaming action on this session's workspace, one action at a time."""
        try:
            ws = self.workspaces.get(key)
            if uses_model:
                self.holder.get()  # raises ModelNotReady while loading or after a failure
            ws.acquire()
        except UserError as exc:
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

    def _paced(self, ws: Tab, action: Action, next_box: bool, uses_model: bool) -> Iterator[View]:
        ahead = self.views.ahead() if uses_model else 0
        try:
            turns = action(ws)
            first = next(turns, None)  # starts the action: the new cell exists from here on
        except UserError as exc:
            yield self.view(ws, str(exc))
            return
        if next_box:
            ws.page.active = len(ws.session.turns) - 1  # the new cell
        # A submitted turn empties the instruction box, or offers the next example turn.
        box = (ws.page.pending[0] if ws.page.pending else "") if next_box else None
        yield self.view(ws, busy=True, instruction=box, ahead=ahead)
        last = 0.0
        try:
            for turn in turns:
                if time.monotonic() - last >= STREAM_EVERY_S or turn.status != "generating":
                    last = time.monotonic()
                    yield self.view(ws, busy=True)
        except UserError as exc:
            ws.session.fail_unfinished(str(exc))
            yield self.view(ws, str(exc))
            return
        note = ""
        if first is None:
            note = "Nothing to run."
        yield self.view(ws, note)

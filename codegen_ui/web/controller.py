"""The web app's actions, independent of Gradio: each takes a browser-session key and gives `View`s.

A handler in `ui.py` calls one method here and shows the `View`s it gets. This is where domain
errors (model still loading, server busy, prompt too long, a bad upload) become one line for the
user, where streaming updates are paced, and where sessions are autosaved after every change.
It does not lay out the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from codegen_ui.core import Turn, TurnError
from codegen_ui.engine import SamplingParams
from codegen_ui.errors import UserError
from codegen_ui.web.examples import EXAMPLES
from codegen_ui.web.render import render_notebook
from codegen_ui.web.shared import ModelHolder
from codegen_ui.web.shelf import Shelf
from codegen_ui.web.workspace import ServerBusy, Workspace, Workspaces

STREAM_EVERY_S = 0.08  # the most often a streaming action sends the page a new view
Action = Callable[[Workspace], Iterator[Turn]]
# Every failure a user may see (model loading, server busy, prompt too long, a bad upload, no
# such cell) is a UserError: shown as a note on the page, never as a traceback.
EXPECTED = UserError


@dataclass(frozen=True)
class View:
    """What the page shows for one browser session after an action."""

    notebook: str  # the notebook HTML
    status: str  # model, kernel, sandbox, queue
    prompt: str = ""  # the exact prompt of the last turn
    prompt_info: str = ""  # its token count and trimmed turns
    cells: int = 0  # number of turns (for the cell picker)
    code: str | None = None  # new editor content, None to leave the editor alone
    instruction: str | None = None  # new instruction box content, None to leave it alone
    title: str = ""
    busy: bool = False  # an action is running (Stop is the useful button)
    sessions: tuple[tuple[str, str], ...] | None = None  # (label, id) of saved sessions
    session_id: str | None = None  # the store id of this tab's session, once saved


class Controller:
    """The actions of the web app over the shared model and the per-session workspaces."""

    def __init__(self, holder: ModelHolder, workspaces: Workspaces, shelf: Shelf) -> None:
        self.holder = holder
        self.workspaces = workspaces
        self.shelf = shelf

    # ---- views -------------------------------------------------------------------------------
    def status(self, ws: Workspace | None) -> str:
        parts = [self.holder.status()]
        if ws is None:
            parts.append("kernel: not started")
        else:
            parts += [f"kernel: {ws.kernel.describe()}", f"sandbox: {ws.kernel.sandbox()}"]
        waiting = self.workspaces.model.gate.waiting()
        if waiting:
            parts.append(f"{waiting} waiting for the model")
        return " · ".join(parts)

    def view(self, ws: Workspace, note: str = "", busy: bool = False, **extra: object) -> View:
        prompt = ws.session.last_prompt
        info = ""
        if prompt is not None:
            info = (
                f"{prompt.tokens} prompt tokens; {prompt.budget} fit "
                "(the context window minus max new tokens)"
            )
            if prompt.trimmed:
                info += f"; the oldest {prompt.trimmed} turn(s) were left out of the prompt to fit"
            else:
                info += "; every turn is in the prompt"
        return View(
            notebook=render_notebook(ws.session.turns, ws.pending, note, busy),
            status=self.status(ws) + (f" · {ws.save_error}" if ws.save_error else ""),
            prompt=prompt.text if prompt is not None else "",
            prompt_info=info,
            cells=len(ws.session.turns),
            title=ws.title,
            busy=busy,
            sessions=None if busy else tuple(self.shelf.choices()),
            session_id=ws.notebook_id,
            **extra,  # type: ignore[arg-type]
        )

    def error_view(self, key: str, message: str) -> View:
        ws = self.workspaces.peek(key)
        if ws is None:
            return View(render_notebook([], (), message), self.status(None))
        return self.view(ws, note=message)

    # ---- lifecycle ---------------------------------------------------------------------------
    def open_page(self, key: str) -> View:
        try:
            return self.view(self.workspaces.get(key))
        except ServerBusy as exc:
            return self.error_view(key, str(exc))

    def close_page(self, key: str) -> None:
        self.workspaces.close(key)

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
            return ws.session.add_turn(instruction, params)

        yield from self._stream(key, action, uses_model=True, next_box=True)

    def regenerate(self, key: str, params: SamplingParams) -> Iterator[View]:
        yield from self._stream(key, lambda ws: ws.session.regenerate(params), uses_model=True)

    def run_code(self, key: str, index: int, code: str) -> Iterator[View]:
        def action(ws: Workspace) -> Iterator[Turn]:
            if not 0 <= index < len(ws.session.turns):
                raise TurnError(f"there is no cell {index + 1} to run")
            return ws.session.edit(index, code)

        yield from self._stream(key, action)

    def replay(self, key: str) -> Iterator[View]:
        yield from self._stream(key, lambda ws: ws.session.replay())

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
            yield from self._paced(ws, action, next_box)
        finally:
            ws.release()

    def _paced(self, ws: Workspace, action: Action, next_box: bool) -> Iterator[View]:
        try:
            turns = action(ws)
        except EXPECTED as exc:
            yield self.view(ws, note=str(exc))
            return
        # A submitted turn empties the instruction box, or offers the next example turn.
        box = (ws.pending[0] if ws.pending else "") if next_box else None
        note = ""
        if self.workspaces.model.gate.busy():
            note = "Waiting for the model: other sessions are generating; yours is queued."
        yield self.view(ws, busy=True, instruction=box, note=note)
        last = 0.0
        turn: Turn | None = None
        try:
            for turn in turns:
                if time.monotonic() - last >= STREAM_EVERY_S or turn.status != "generating":
                    last = time.monotonic()
                    yield self.view(ws, busy=True)
        except EXPECTED as exc:
            yield self.view(ws, note=str(exc))
            return
        yield self.view(ws, code=turn.code if turn is not None else None)

    def undo(self, key: str) -> View:
        return self._quick(key, lambda ws: ws.session.undo())

    def restart(self, key: str) -> View:
        return self._quick(key, lambda ws: ws.session.restart_kernel())

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
        return self.view(ws, note=note, code="")

    def cell_code(self, key: str, index: int) -> str:
        ws = self.workspaces.peek(key)
        if ws is None or not 0 <= index < len(ws.session.turns):
            return ""
        return ws.session.turns[index].code

    def load_example(self, key: str, title: str) -> View:
        instructions = dict(EXAMPLES).get(title)
        try:
            ws = self.workspaces.get(key)
        except ServerBusy as exc:
            return self.error_view(key, str(exc))
        if instructions is None:
            return self.view(ws, note=f"no example named {title!r}")
        ws.pending = list(instructions)
        return self.view(ws, instruction=ws.pending[0])

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

    def rename(self, key: str, title: str) -> View:
        return self._quick(key, lambda ws: self.shelf.rename(ws, title))

    def upload(self, key: str, path: str) -> View:
        return self._quick(key, lambda ws: self.shelf.upload(ws, path))

    def export(self, key: str, fmt: str) -> str | None:
        """The session as a .ipynb or .py file to download; None before its first save."""
        ws = self.workspaces.peek(key)
        return None if ws is None else self.shelf.export(ws, fmt)

"""The page's actions on a tab's turns: submit, replay, add code, undo, redo, restart, stop, and
the examples (`TurnActions`).

A submitted turn empties the instruction box, or offers the next pending example turn; a replay
and a restart put the session's files back into the kernel first. They run through
`PageActions` (one action at a time, paced, failures as notes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from codegen_ui.core import SamplingParams, Turn
from codegen_ui.errors import UserError
from codegen_ui.web.actions import PageActions
from codegen_ui.web.examples import EXAMPLE_FILES, EXAMPLES
from codegen_ui.web.pagestate import Tab
from codegen_ui.web.views import View


class TurnActions(PageActions):
    """What the page does to a tab's turns."""

    def stop(self, key: str) -> None:
        ws = self.workspaces.peek(key)
        if ws is not None:
            ws.stop()

    def submit(self, key: str, instruction: str, params: SamplingParams) -> Iterator[View]:
        if not instruction.strip():
            yield self.error_view(key, "Type an instruction first.")
            return

        def action(ws: Tab) -> Iterator[Turn]:
            if ws.page.pending and ws.page.pending[0].strip() == instruction.strip():
                ws.page.pending.pop(0)  # the next example turn is being run
            ws.page.max_new_tokens = params.max_new_tokens
            return ws.session.add_turn(instruction, params)

        yield from self.stream(key, action, uses_model=True, next_box=True)

    def replay(self, key: str) -> Iterator[View]:
        def action(ws: Tab) -> Iterator[Turn]:
            ws.fresh_kernel = False
            self.shelf.put_back(ws)  # the cells find the session's files as they were
            return ws.session.replay()

        yield from self.stream(key, action)

    def add_code(self, key: str, instruction: str) -> View:
        """A new cell at the foot for the user's own code, its editor open; the instruction
        box's text (if any) becomes its comment in the prompt."""

        def action(ws: Tab) -> str:
            ws.page.editing = ws.page.active = ws.session.add_code_cell(instruction)
            return ""

        view = self.quick(key, action)
        return dataclasses.replace(view, instruction="") if instruction.strip() else view

    def undo(self, key: str) -> View:
        return self.quick(key, lambda ws: "" if ws.session.undo() else "Nothing to undo.")

    def redo(self, key: str) -> View:
        return self.quick(key, lambda ws: "" if ws.session.redo() else "Nothing to redo.")

    def restart(self, key: str) -> View:
        def action(ws: Tab) -> str:
            ws.session.restart_kernel()
            ws.fresh_kernel = False
            self.shelf.put_back(ws)
            return "A fresh kernel: every variable is gone; the session's files are back."

        return self.quick(key, action)

    def load_example(self, key: str, title: str) -> View:
        instructions = dict(EXAMPLES).get(title)
        try:
            ws = self.workspaces.get(key)
        except UserError as exc:  # the server is busy, or the kernels cannot be reached
            return self.error_view(key, str(exc))
        if instructions is None:
            return self.view(ws, f"no example named {title!r}")
        ws.page.pending = list(instructions)
        note = ""
        files = [str(path) for path in EXAMPLE_FILES.get(title, ())]
        if files:
            try:
                note = self.desk.upload(ws, files)
            except UserError as exc:
                note = str(exc)
        return self.view(ws, note, instruction=ws.page.pending[0])

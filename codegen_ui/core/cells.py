"""The notebook's cells as data: the list of turns, its undo history and its revision.

`Cells` holds the turns of a session and the operations that change only the list: delete a
cell, record a state before a change, undo, redo, start over with other turns, end unfinished
turns with a reason. Every change bumps `revision`, so a page can tell that a click was made on
a notebook that has changed since. `core.session.Session` adds what needs the model and the
kernel. Nothing here runs code, generates text or saves files (`on_change` is told instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codegen_ui.core.history import History
from codegen_ui.core.turns import IN_FLIGHT, OWN_CODE, Turn, TurnError, now

Notebook = tuple[Turn, ...]  # one state of the notebook, as the history keeps it


class Cells:
    """Turns in order, with undo and redo of every recorded change."""

    def __init__(
        self, turns: list[Turn] | None = None, on_change: Callable[[Any], None] | None = None
    ) -> None:
        self.turns: list[Turn] = list(turns or [])
        self.on_change = on_change
        self.history_log: History[Notebook] = History()
        self.revision = 0  # grows with every recorded change, undo and redo

    def delete(self, index: int) -> Turn:
        """Take one cell out of the notebook (and the prompt); undo brings it back."""
        self._check(index)
        self.record()
        turn = self.turns.pop(index)
        self._changed()
        return turn

    def add_code_cell(self, instruction: str) -> int:
        """A cell of the user's own code at the foot (its code is written in the editor; until
        then it is empty and in the prompt as its comment alone); returns its index."""
        self.record()
        note = "your own code: write it in the editor, then Shift+Enter runs it"
        turn = Turn(instruction.strip() or OWN_CODE, status="not-run", edited=True)
        self.turns.append(turn.replace(message=note))
        self._changed()
        return len(self.turns) - 1

    def set_code(self, index: int, code: str) -> None:
        """Keep hand-written code in a cell without running it (empty code is refused)."""
        self._check(index)
        if not code.strip():
            raise TurnError(f"cell {index + 1}'s editor is empty: its code was left as it was")
        self.record()
        turn = self.turns[index]
        message = "edited; not run since"
        self.turns[index] = turn.replace(code=code, edited=True, message=message)
        self._changed()

    def record(self) -> None:
        """Remember the notebook as it is, before a change, for undo."""
        self.history_log.record(tuple(self.turns))
        self.revision += 1

    def undo(self) -> bool:
        """Go back one change (a new turn, a regeneration, an edit, a delete); False if none."""
        return self._restore(self.history_log.undo(tuple(self.turns)))

    def redo(self) -> bool:
        """Go forward again after an undo; False when there is nothing to redo."""
        return self._restore(self.history_log.redo(tuple(self.turns)))

    def _restore(self, state: Notebook | None) -> bool:
        if state is None:
            return False
        self.turns = list(state)
        self.revision += 1
        self._changed()
        return True

    def reset(self, turns: list[Turn]) -> None:
        """Other turns altogether (another notebook): no undo history across the switch."""
        self.turns = list(turns)
        self.history_log.clear()
        self.revision += 1

    def fail_unfinished(self, reason: str) -> bool:
        """End every turn still writing or running in `error` with `reason`; True if any."""
        failed = False
        for i, turn in enumerate(self.turns):
            if turn.status in IN_FLIGHT:
                self.turns[i] = turn.replace(status="error", message=reason, finished=now())
                failed = True
        if failed:
            self._changed()
        return failed

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.turns):
            raise TurnError(f"there is no cell {index + 1}")

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)

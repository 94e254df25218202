"""Undo and redo for a notebook: bounded stacks of snapshots, nothing else.

A snapshot is whatever the caller records (the session records its turns as a tuple; turns are
frozen, so a snapshot costs one tuple). `record` is called before a change, `undo` and `redo`
swap the current state for the one before or after it. This module knows nothing of turns,
kernels or files: what a change means is the session's business.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_STEPS = 200  # how many changes back a notebook can be undone


class History(Generic[T]):
    """The states before (undo) and after (redo) the current one, newest last."""

    def __init__(self, steps: int = DEFAULT_STEPS) -> None:
        self.steps = steps
        self._back: list[T] = []
        self._forward: list[T] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._back)

    @property
    def can_redo(self) -> bool:
        return bool(self._forward)

    def record(self, state: T) -> None:
        """Remember `state` as the one before a change; a new change ends the redo line."""
        self._back.append(state)
        del self._back[: -self.steps]
        self._forward.clear()

    def undo(self, current: T) -> T | None:
        """The state before `current` (which becomes redoable), or None when there is none."""
        if not self._back:
            return None
        self._forward.append(current)
        return self._back.pop()

    def redo(self, current: T) -> T | None:
        """The state `undo` left, or None when nothing was undone since the last change."""
        if not self._forward:
            return None
        self._back.append(current)
        return self._forward.pop()

    def clear(self) -> None:
        self._back.clear()
        self._forward.clear()

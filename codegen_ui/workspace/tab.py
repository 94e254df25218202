"""One tab's workspace and its parts: what a page tab (or an API session) works on.

A `Workspace` is a tab's `Session` over the shared model and its own kernel, with its lifecycle:
the lock that runs its actions one at a time (Stop is the exception and only sets flags), when
it was last used, and the grace timer of a closed tab. Its other responsibilities are parts of
their own: `SaveState` (which stored session it autosaves to, and how the last save went),
`Ownership` (the stored sessions the tab made or deleted) and the door's own state of the tab
(`page`, any object the door gives; the web page keeps its editor and pending examples there,
told through `TabState` when the notebook under it is replaced). Nothing here knows Gradio,
the store or how a page is drawn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, cast

from codegen_ui.core import CodeModel, Session
from codegen_ui.errors import UserError
from codegen_ui.workspace.gate import SharedModel
from codegen_ui.workspace.lifecycle import SessionOptions, start_session
from codegen_ui.workspace.tracked import TrackedKernel

__all__ = [
    "Ownership",
    "ReadOnlyTab",
    "SaveState",
    "TabState",
    "Workspace",
    "WorkspaceBusy",
]


class WorkspaceBusy(UserError, RuntimeError):
    """This browser session is already running something."""


class ReadOnlyTab(UserError, PermissionError):
    """This browser tab may change nothing (it follows another's session); the message says so."""


class TabState(Protocol):
    """What a door keeps of a tab beyond its session, told when the notebook is replaced."""

    def reloaded(self) -> None:
        """The saved version replaced the tab's turns (the same session)."""

    def switched(self) -> None:
        """Another session (a new, opened or copied one) replaced the tab's."""


@dataclass
class SaveState:
    """Which stored session a workspace autosaves to, and how its last save went."""

    id: str | None = None  # the store's id; set by the first save
    title: str = "Untitled"
    revision: int | None = None  # the store revision this tab last read or wrote
    error: str = ""  # why the last autosave failed, shown until one succeeds
    conflict: str = ""  # another tab saved first: this tab's changes are not being saved
    files_note: str = ""  # what the last mirror of the kernel's files could not keep


@dataclass
class Ownership:
    """The stored sessions one tab made (created, imported or copied) or deleted."""

    owned: set[str] = field(default_factory=set)
    trashed: set[str] = field(default_factory=set)  # it may restore these


S = TypeVar("S", bound=TabState)


class Workspace(Generic[S]):
    """One browser session: a `Session` over the shared model and this tab's own kernel."""

    def __init__(
        self,
        key: str,
        kernel: TrackedKernel,
        model: SharedModel,
        options: SessionOptions,
        page: S,
        on_change: Callable[[Workspace[S]], None] | None = None,
    ) -> None:
        self.key = key
        self.kernel = kernel
        # SharedModel exposes name and context_size read-only; Session only reads them.
        shared = cast(CodeModel, model)
        self.session = start_session(shared, kernel, options, on_change=self._changed)
        self.saved = SaveState()
        self.ownership = Ownership()
        self.page = page  # the door's own state of the tab
        self.fresh_kernel = False  # the turns came back without their variables (offer replay)
        self.grace: threading.Timer | None = None  # set while the tab is closed and parked
        self.last_used = time.monotonic()
        self.lock = threading.Lock()
        self._on_change = on_change

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def _changed(self, _session: Session) -> None:
        if self._on_change is not None:
            self._on_change(self)

    def acquire(self) -> None:
        """Take this workspace for one action, or raise WorkspaceBusy."""
        if not self.lock.acquire(blocking=False):
            raise WorkspaceBusy("still working on the previous action: wait for it, or press Stop")
        self.touch()

    def release(self) -> None:
        self.touch()
        self.lock.release()

    def stop(self) -> None:
        """Stop generation and interrupt a running cell; safe to call at any time."""
        self.session.cancel.set()
        self.kernel.interrupt()

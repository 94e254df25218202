"""Per-browser-session state for the web app: one kernel and one `Session` each, and the registry.

A `Workspace` is what one browser tab works on: its session (turns), its kernel, the example
turns still pending, and which stored session it autosaves to. Actions on a workspace run one at
a time (its lock); Stop is the exception and only sets flags. `Workspaces` creates them on demand
with a kernel from the kernel pool (which holds the cap on live kernels and says "server busy"),
keeps a closed tab's workspace for a grace period (a reload of the page re-attaches it, variables
and all) before giving its kernel back, and sweeps workspaces idle past a TTL (Gradio's own
state eviction skips callbacks, so it cannot be the only cleanup). It also holds what the page
shows of a tab beyond its turns: the open editor, the cell being worked on, a save conflict. A
tab may be refused a workspace altogether (`refuse`: one that follows another's session
read-only); every action of such a tab is then one `ReadOnlyTab` error, and it holds no kernel.
Nothing here knows Gradio.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import cast

from codegen_ui.core import CodeModel, Session
from codegen_ui.errors import UserError
from codegen_ui.kernel import KernelSource, LiveKernel, ServerBusy, read_state
from codegen_ui.settings import DEFAULTS
from codegen_ui.web.shared import FairGate, ModelHolder, SharedModel
from codegen_ui.web.tracked import TrackedKernel

CLOSE_WAIT_S = 15.0  # how long closing a tab waits for its running action to stop

__all__ = [
    "ReadOnlyTab",
    "ServerBusy",
    "TrackedKernel",
    "Workspace",
    "WorkspaceBusy",
    "Workspaces",
]


class WorkspaceBusy(UserError, RuntimeError):
    """This browser session is already running something."""


class ReadOnlyTab(UserError, PermissionError):
    """This browser tab may change nothing (it follows another's session); the message says so."""


class Workspace:
    """One browser session: a `Session` over the shared model and this tab's own kernel."""

    def __init__(
        self,
        key: str,
        kernel: TrackedKernel,
        model: SharedModel,
        run_timeout: float,
        on_change: Callable[[Workspace], None] | None = None,
    ) -> None:
        self.key = key
        self.kernel = kernel
        # SharedModel exposes name and context_size read-only; Session only reads them.
        shared = cast(CodeModel, model)
        self.session = Session(
            shared,
            kernel,
            run_timeout=run_timeout,
            on_change=self._changed,
            prompt_format=model.holder.prompt_format,
        )
        self.pending: list[str] = []  # example instructions still to run, in order
        self.notebook_id: str | None = None  # the store's id; set by the first save
        self.owned: set[str] = set()  # store ids this tab created, imported or copied
        self.trashed: set[str] = set()  # store ids this tab deleted (it may restore them)
        self.title = "Untitled"
        self.save_error = ""  # why the last autosave failed, shown until one succeeds
        self.saved_revision: int | None = None  # the store revision this tab last read or wrote
        self.conflict = ""  # another tab saved first: this tab's changes are not being saved
        self.editing: int | None = None  # the cell whose editor is open
        self.active: int | None = None  # the cell the last action worked on
        self.fresh_kernel = False  # the turns came back without their variables (offer replay)
        self.files_note = ""  # what the last mirror of the kernel's files could not keep
        self.files_asking: tuple[tuple[str, str], ...] = ()  # (name, upload path) to replace?
        self.max_new_tokens = DEFAULTS.max_new_tokens  # of the last turn, for the prompt inspector
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


class Workspaces:
    """The live workspaces by browser-session key, each with a kernel from `kernels`."""

    def __init__(
        self,
        holder: ModelHolder,
        kernels: KernelSource,
        gate: FairGate | None = None,
        idle_ttl_s: float = 3600.0,
        run_timeout: float = DEFAULTS.run_timeout,
        on_change: Callable[[Workspace], None] | None = None,
        grace_s: float = 0.0,
        auto_fix: int = DEFAULTS.auto_fix,
        kernel_state: bool = DEFAULTS.kernel_state,
    ) -> None:
        self.model = SharedModel(holder, gate or FairGate(1))
        self.auto_fix = auto_fix  # each session's tries at a turn that raised
        self.kernel_state = kernel_state  # each session's prompt tells its kernel's state
        self.grace_s = grace_s  # how long a closed tab's kernel waits for the page to come back
        self._parked: dict[str, Workspace] = {}  # closed tabs in their grace, by notebook id
        self.kernels = kernels
        self.idle_ttl_s = idle_ttl_s
        self.run_timeout = run_timeout
        self.on_change = on_change
        self._items: dict[str, Workspace] = {}
        self._refused: dict[str, str] = {}  # tab key -> why it may have no workspace
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Workspace:
        """This browser session's workspace, created with a kernel on first use.

        Raises ServerBusy when no kernel can be had (the pool's cap on live kernels), and
        ReadOnlyTab for a tab refused one (`refuse`)."""
        why = self._refused.get(key)
        if why is not None:
            raise ReadOnlyTab(why)
        ws = self._items.get(key)
        if ws is not None:
            ws.touch()
            return ws
        kernel = self.kernels.acquire()  # may start a kernel: not under the registry lock
        spare: LiveKernel | None = None
        with self._lock:
            ws = self._items.get(key)
            if ws is None:
                ws = Workspace(
                    key, TrackedKernel(kernel), self.model, self.run_timeout, self.on_change
                )
                ws.session.auto_fix = self.auto_fix
                ws.session.read_state = read_state if self.kernel_state else None
                self._items[key] = ws
            else:  # the same tab asked twice at once: keep one kernel
                spare = kernel
        if spare is not None:
            self.kernels.release(spare)
        return ws

    def peek(self, key: str) -> Workspace | None:
        return self._items.get(key)

    def refuse(self, key: str, why: str) -> None:
        """From now on this tab gets no workspace (`get` raises ReadOnlyTab(why)); one it had
        is closed."""
        with self._lock:
            self._refused[key] = why
        self.close(key)

    def refusal(self, key: str) -> str | None:
        """Why this tab may have no workspace, or None when it may."""
        return self._refused.get(key)

    def allow(self, key: str) -> None:
        """This tab may have a workspace again."""
        with self._lock:
            self._refused.pop(key, None)

    def holding(self, notebook_id: str) -> Workspace | None:
        """The open tab's workspace on this stored session (the latest used), or None."""
        found = [ws for ws in list(self._items.values()) if ws.notebook_id == notebook_id]
        return max(found, key=lambda ws: ws.last_used, default=None)

    def leave(self, key: str) -> None:
        """The tab closed: keep its workspace for the grace period if it has a saved notebook
        (a reload re-attaches it, variables and all), else close it now."""
        with self._lock:
            ws = self._items.get(key)
            nid = ws.notebook_id if ws is not None else None
            if ws is None or nid is None or self.grace_s <= 0:
                ws = None
            else:
                del self._items[key]
                old = self._parked.pop(nid, None)
                self._parked[nid] = ws
                ws.grace = threading.Timer(self.grace_s, self._expire, (nid, ws))
                ws.grace.daemon = True
                ws.grace.start()
        if ws is None:
            self.close(key)
            return
        ws.stop()
        if old is not None:
            self._release(old)

    def attach(self, key: str, notebook_id: str) -> Workspace | None:
        """The parked workspace of this notebook, now this tab's; None when there is none."""
        with self._lock:
            ws = self._parked.pop(notebook_id, None)
            if ws is None or key in self._items or key in self._refused:
                if ws is not None:
                    self._parked[notebook_id] = ws
                return None
            if ws.grace is not None:
                ws.grace.cancel()
                ws.grace = None
            ws.key = key
            self._items[key] = ws
        ws.touch()
        return ws

    def _expire(self, notebook_id: str, ws: Workspace) -> None:
        with self._lock:
            if self._parked.get(notebook_id) is not ws:
                return  # re-attached meanwhile
            del self._parked[notebook_id]
        self._release(ws)

    def close(self, key: str) -> bool:
        """Give this browser session's kernel back (the tab closed); False if there was none."""
        with self._lock:
            ws = self._items.pop(key, None)
        if ws is None:
            return False
        self._release(ws)
        return True

    def _release(self, ws: Workspace) -> None:
        ws.stop()
        # Let a running action end (Stop interrupts it) before its kernel goes away under it.
        if ws.lock.acquire(timeout=CLOSE_WAIT_S):
            ws.lock.release()
        self.kernels.release(ws.kernel.kernel)

    def sweep(self, now: float | None = None) -> list[str]:
        """Close workspaces idle for longer than the TTL (not while they are working)."""
        now = time.monotonic() if now is None else now
        stale = [
            k
            for k, ws in list(self._items.items())
            if now - ws.last_used > self.idle_ttl_s and not ws.lock.locked()
        ]
        for key in stale:
            self.close(key)
        return stale

    def start_sweeper(self, interval_s: float = 60.0) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.sweep()

        thread = threading.Thread(target=loop, daemon=True, name="workspace-sweeper")
        thread.start()
        return thread

    def shutdown(self) -> None:
        self._stop.set()
        for key in list(self._items):
            self.close(key)
        with self._lock:
            parked, self._parked = list(self._parked.values()), {}
        for ws in parked:
            if ws.grace is not None:
                ws.grace.cancel()
            self._release(ws)
        self.kernels.close()

"""The live workspaces by tab key: created on demand, parked while a closed tab may come back,
swept when idle, and refused to a tab that only follows.

`Workspaces` creates a tab's workspace (`workspace.tab`) on first use with a kernel from the
kernel pool (which holds the cap on live kernels and says "server busy"), keeps a closed tab's
workspace for a grace period (a reload of the page re-attaches it, variables and all) before
giving its kernel back, and sweeps workspaces idle past a TTL (Gradio's own state eviction skips
callbacks, so it cannot be the only cleanup). A tab may be refused a workspace altogether
(`refuse`: one that follows another's session read-only); every action of such a tab is then
one `ReadOnlyTab` error, and it holds no kernel. Nothing here knows Gradio or the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic

from codegen_ui.kernel import KernelSource, LiveKernel
from codegen_ui.settings import DEFAULTS
from codegen_ui.workspace.gate import FairGate, SharedModel
from codegen_ui.workspace.holder import ModelHolder
from codegen_ui.workspace.lifecycle import SessionOptions
from codegen_ui.workspace.tab import ReadOnlyTab, S, Workspace
from codegen_ui.workspace.tracked import TrackedKernel

CLOSE_WAIT_S = 15.0  # how long closing a tab waits for its running action to stop


class Workspaces(Generic[S]):
    """The live workspaces by browser-session key, each with a kernel from `kernels`."""

    def __init__(
        self,
        holder: ModelHolder,
        kernels: KernelSource,
        page: Callable[[], S],
        gate: FairGate | None = None,
        idle_ttl_s: float = 3600.0,
        run_timeout: float = DEFAULTS.run_timeout,
        on_change: Callable[[Workspace[S]], None] | None = None,
        grace_s: float = 0.0,
        auto_fix: int = DEFAULTS.auto_fix,
        kernel_state: bool = DEFAULTS.kernel_state,
    ) -> None:
        # The queue in front of the model lets through as many turns as it writes at once.
        self.model = SharedModel(holder, gate or FairGate(holder.turns_at_once))
        # Each session's run timeout, tries at a turn that raised, kernel state in its prompt.
        self.options = SessionOptions(run_timeout, auto_fix, kernel_state, holder.prompt_format)
        self.page = page  # a new tab's door state
        self.grace_s = grace_s  # how long a closed tab's kernel waits for the page to come back
        self._parked: dict[str, Workspace[S]] = {}  # closed tabs in their grace, by notebook id
        self.kernels = kernels
        self.idle_ttl_s = idle_ttl_s
        self.on_change = on_change
        self._items: dict[str, Workspace[S]] = {}
        self._refused: dict[str, str] = {}  # tab key -> why it may have no workspace
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Workspace[S]:
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
                    key, TrackedKernel(kernel), self.model, self.options, self.page(),
                    self.on_change,
                )  # fmt: skip
                self._items[key] = ws
            else:  # the same tab asked twice at once: keep one kernel
                spare = kernel
        if spare is not None:
            self.kernels.release(spare)
        return ws

    def peek(self, key: str) -> Workspace[S] | None:
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

    def holding(self, notebook_id: str) -> Workspace[S] | None:
        """The open tab's workspace on this stored session (the latest used), or None."""
        found = [ws for ws in list(self._items.values()) if ws.saved.id == notebook_id]
        return max(found, key=lambda ws: ws.last_used, default=None)

    def leave(self, key: str) -> None:
        """The tab closed: keep its workspace for the grace period if it has a saved notebook
        (a reload re-attaches it, variables and all), else close it now."""
        with self._lock:
            ws = self._items.get(key)
            nid = ws.saved.id if ws is not None else None
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

    def attach(self, key: str, notebook_id: str) -> Workspace[S] | None:
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

    def _expire(self, notebook_id: str, ws: Workspace[S]) -> None:
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

    def _release(self, ws: Workspace[S]) -> None:
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

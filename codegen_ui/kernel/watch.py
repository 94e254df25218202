"""The folder watch of a running cell: what a kernel wrote, measured as soon as it writes.

RLIMIT_FSIZE bounds each file a kernel writes, not how many it writes. While a cell runs,
`FolderWatch` measures everything the kernel can write to that the server can see (its whole
folder: working folder, temporary folder, sockets; the working folder chosen by the caller;
and, for a kernel with a uid of its own, what that uid made in /tmp, /var/tmp and /dev/shm) and
returns one line once the total passes the quota (`files.FolderQuota`) and grew past where the
cell started. The client then interrupts the cell. `outputs.wait_idle` polls its inotify
descriptor (`fd`) together with the kernel's messages, so a write wakes the wait at once and a
cell that writes nothing costs nothing; it measures again only when one of the watched folders
changed (a write, a new entry), at most every `GAP_S`, or every `EVERY_S` where inotify is not
available. Nothing here
stops a process or talks to a kernel.

Between cells no cell is running to interrupt, but a thread or a process the code started may
still write. `FolderGuard` is a thread that waits on the same events and calls `on_over` once the
folder grew by more than the quota past where the last cell left it (the server's own writes, an
upload or the session's files put back, are within the quota, so they never count as that); the
client then kills the kernel, and the next run says why.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from codegen_ui.files import SHARED_TMP, FolderQuota, Usage, measure, owned_in

EVERY_S = 0.05  # between two measures where inotify is not available
# Between two measures of a folder that keeps changing: a cell that writes a line at a time
# costs at most 1/GAP_S walks a second, not one per write.
GAP_S = 0.005
# inotify(7): writes, new, removed and moved entries; watch folders only, never through a link.
IN_MODIFY, IN_MOVED_TO, IN_CREATE = 0x2, 0x80, 0x100
IN_ONLYDIR, IN_DONT_FOLLOW = 0x01000000, 0x02000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
EVENTS = IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW


class FolderWatch:
    """One run's watch. Call it (cheap) for the reason to stop, "" while within the quota."""

    def __init__(
        self,
        quota: FolderQuota,
        roots: Sequence[Path],
        uid: int | None = None,
        skip: Sequence[Path] = (),
    ) -> None:
        self.quota = quota
        self.roots = tuple(roots)
        self.skip = frozenset(str(p) for p in skip)
        self.uid = uid
        self.reason = ""
        self.measures = 0
        # Entries one measure walks at most: far past the entry limit (and its overshoot), so the
        # count passes that limit long before a measure stops short.
        self._look = quota.entries * 10 + 10_000
        self._libc, self._fd = _inotify()
        self._pending = False
        self.start = self.measure()
        self._next = 0.0 if self._fd is not None else time.monotonic() + EVERY_S

    def measure(self) -> Usage:
        self.measures += 1
        folders: list[str] = []
        used = measure(self.roots, self._look, folders, self.skip)
        if self.uid is not None:
            folders += SHARED_TMP
            used += owned_in(SHARED_TMP, self.uid, self._look, folders)
        self._watch(folders)
        return used

    @property
    def pending(self) -> bool:
        """Changes came that are not measured yet (measures are at least `GAP_S` apart)."""
        return self._pending

    def __call__(self) -> str:
        """The reason to stop the cell, or "" (measuring only after a change)."""
        if self.reason:
            return self.reason
        now = time.monotonic()
        if self._fd is not None:
            self._pending = _drain(self._fd) or self._pending
            if not self._pending or now < self._next:
                return ""
        elif now < self._next:
            return ""
        self._pending = False
        self.reason = self.quota.over(self.measure(), self.start)
        self._next = time.monotonic() + (GAP_S if self._fd is not None else EVERY_S)
        return self.reason

    @property
    def fd(self) -> int | None:
        """Its inotify descriptor (None where inotify is not available)."""
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def _watch(self, folders: list[str]) -> None:
        if self._fd is None or self._libc is None:
            return
        # Every folder again each time (a folder already watched gets its old watch back): one
        # removed and made again under the same name is a new folder to watch. A folder gone
        # since, or past the user's watch limit, fails: it is measured whenever another changes.
        for folder in folders:
            self._libc.inotify_add_watch(self._fd, os.fsencode(folder), EVENTS)


def _inotify() -> tuple[ctypes.CDLL | None, int | None]:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = int(libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
    except (OSError, AttributeError):
        return None, None
    return (libc, fd) if fd >= 0 else (None, None)


def _drain(fd: int) -> bool:
    """Whether any event came since the last call (all of them read; an overflow is one)."""
    came = False
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return came
        if not chunk:
            return came
        came = True


class FolderGuard:
    """Watches a kernel's folder between cells, in a thread of its own (`start`, `stop`)."""

    def __init__(
        self,
        quota: FolderQuota,
        roots: Sequence[Path],
        uid: int | None,
        on_over: Callable[[str], None],
        skip: Sequence[Path] = (),
    ) -> None:
        self.quota = quota
        self.on_over = on_over
        self._watch = FolderWatch(quota, roots, uid, skip)
        self._base = self._watch.start
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="codegen-ui-folder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def pause(self) -> None:
        """A cell runs: its own watch looks after the folder."""
        self._paused.set()

    def resume(self) -> None:
        """The cell ended: what the folder holds now is where growth is counted from."""
        self._base = self._watch.measure()
        self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._watch.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._changed() or self._paused.is_set():
                continue
            used = self._watch.measure()
            base = self._base
            grown = Usage(max(base.bytes, self.quota.bytes) + self.quota.bytes,
                          max(base.entries, self.quota.entries) + self.quota.entries)  # fmt: skip
            reason = self.quota.over(used, grown)
            if reason and not self._paused.is_set():
                self.on_over(reason)
                return

    def _changed(self) -> bool:
        fd = self._watch.fd
        if fd is None:
            return not self._stop.wait(EVERY_S * 4)
        try:
            ready, _, _ = select.select([fd], [], [], 0.5)
        except (OSError, ValueError):  # closed by `stop`
            return False
        return bool(ready) and _drain(fd)

"""How many kernels live, and for how long: a cap, pre-started kernels, an idle sweep.

`KernelPool.acquire` hands a session a started kernel (a pre-started one when ready, so the first
run does not wait for a start) or raises `ServerBusy` when the cap on live kernels is reached.
`release` shuts a session's kernel down and removes its folder. `sweep` (run every minute by
`start_sweeper`) parks kernels idle too long: the process stops, the folder stays, and the next
run starts a fresh kernel.
This module does not run code or know about sessions beyond the kernel handed out.
"""

from __future__ import annotations

import logging
import threading
import time

from codegen_ui.core import KernelError
from codegen_ui.kernel.backends import KernelMaker, PooledKernel, kernel_maker
from codegen_ui.kernel.client import Kernel
from codegen_ui.kernel.live import LiveKernel
from codegen_ui.kernel.sandbox import KernelConfig
from codegen_ui.settings import DEFAULTS, Settings

log = logging.getLogger("codegen_ui.kernel")


class ServerBusy(KernelError):
    """Every kernel slot is taken; the message is meant for the user."""


class Capacity:
    """A thread-safe count of live kernel processes against a cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.used >= self.limit:
                raise ServerBusy(
                    f"the server is busy: all {self.limit} Python kernels are in use. "
                    "Try again in a few minutes."
                )
            self.used += 1

    def give(self) -> None:
        with self._lock:
            self.used = max(0, self.used - 1)

    def free(self) -> int:
        with self._lock:
            return self.limit - self.used


class KernelPool:
    def __init__(
        self,
        config: KernelConfig | None = None,
        max_kernels: int = DEFAULTS.max_kernels,
        size: int = DEFAULTS.kernel_pool,
        idle_s: float = DEFAULTS.kernel_idle_minutes * 60,
        make: KernelMaker | None = None,
    ) -> None:
        self.config = config or KernelConfig()
        # Local kernels unless told otherwise (`from_settings` asks `backends` which).
        self.make: KernelMaker = make or (lambda slots: Kernel(config=self.config, slots=slots))
        self.capacity = Capacity(max_kernels)
        self.size = size
        self.idle_s = idle_s
        self._ready: list[PooledKernel] = []
        self._leased: list[PooledKernel] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a kernel became ready, or filling ended
        self._filling = False
        self._closed = False
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KernelPool:
        config = KernelConfig.from_settings(settings)
        return cls(
            config,
            settings.max_kernels,
            settings.kernel_pool,
            settings.kernel_idle_minutes * 60,
            kernel_maker(settings, config),
        )

    def acquire(self) -> PooledKernel:
        """A started kernel for one session; raises ServerBusy past the cap."""
        kernel = self._take_ready()
        if kernel is None:
            kernel = self.make(self.capacity)
            kernel.start()
        kernel.last_used = time.monotonic()
        with self._lock:
            self._leased.append(kernel)
        self.refill()
        return kernel

    def _take_ready(self) -> PooledKernel | None:
        """A pre-started kernel; waits for one being started when no slot is free meanwhile."""
        deadline = time.monotonic() + self.config.startup_timeout
        with self._changed:
            while True:
                while self._ready:
                    kernel = self._ready.pop(0)
                    if kernel.is_alive:
                        return kernel
                    kernel.shutdown()
                wait = deadline - time.monotonic()
                if not self._filling or self.capacity.free() > 0 or wait <= 0:
                    return None
                self._changed.wait(wait)

    def release(self, kernel: LiveKernel, keep_folder: bool = False) -> None:
        """The session ended: stop its kernel and remove its folder unless asked to keep it."""
        with self._lock:
            if kernel in self._leased:
                self._leased.remove(kernel)
        kernel.shutdown(keep_folder=keep_folder)
        self.refill()

    def refill(self, wait: bool = False) -> None:
        """Start kernels in the background until `size` are ready (within the cap)."""
        with self._lock:
            if self._filling or self._closed:
                return
            self._filling = True
        worker = self._worker = threading.Thread(target=self._fill, daemon=True, name="kernel-pool")
        worker.start()
        if wait:
            worker.join()

    def _fill(self) -> None:
        try:
            while not self._closed:
                with self._lock:
                    if len(self._ready) >= self.size:
                        return
                kernel = self.make(self.capacity)
                try:
                    kernel.start()
                except KernelError as exc:  # full, or kernels cannot start: acquire will say
                    log.info("kernel pool not refilled: %s", exc)
                    return
                with self._lock:
                    closed = self._closed
                    if not closed:
                        self._ready.append(kernel)
                        self._changed.notify_all()
                if closed:
                    kernel.shutdown()
                    return
        finally:
            with self._lock:
                self._filling = False
                self._changed.notify_all()

    def sweep(self, now: float | None = None) -> int:
        """Park leased kernels idle longer than `idle_s`; returns how many were parked."""
        if self.idle_s <= 0:
            return 0
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [k for k in self._leased if k.is_alive and now - k.last_used > self.idle_s]
        for kernel in idle:
            kernel.park()
        if idle:
            self.refill()
        return len(idle)

    def start_sweeper(self, every_s: float = 60.0) -> threading.Thread:
        """Call `sweep` every `every_s` seconds on a daemon thread until `close`."""

        def loop() -> None:
            while not self._stop.wait(every_s):
                self.sweep()

        worker = threading.Thread(target=loop, daemon=True, name="kernel-sweep")
        worker.start()
        return worker

    def close(self) -> None:
        """Shut every kernel of this pool down (ready and leased) and start no more."""
        self._stop.set()
        with self._lock:
            self._closed = True
            kernels = self._ready + self._leased
            self._ready, self._leased = [], []
        for kernel in kernels:
            kernel.shutdown()
        worker = self._worker
        if worker is not None:  # a kernel being pre-started is shut down by the filler itself
            worker.join(timeout=self.config.startup_timeout)

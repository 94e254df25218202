"""Jobs in parallel on K kernels, one thread each, for the benchmarks; and the progress line.

`run_pool` starts K kernels, gives each worker thread one `make_worker(kernel)` (a benchmark's
executor) and hands out keys until none are left; each result goes to `add` as it finishes,
and the first exception stops the pool and is raised here. `Progress` is the one-line bar with
the time left. It knows nothing of what a job does or how a result is judged.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TextIO, TypeVar

from codegen_ui.kernel import Kernel, LiveKernel

K = TypeVar("K")
W = TypeVar("W")
R = TypeVar("R", bound="Judged")


class Judged(Protocol):
    @property
    def passed(self) -> bool: ...


class Progress:
    """A one-line progress bar with the time left, on stderr (one line per update off a TTY)."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        every_s: float = 10.0,
        label: str = "mtpb",
        judged: bool = True,  # whether the jobs pass or fail (else no count of passes)
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.label = label
        self.judged = judged
        self.start = time.monotonic()
        self.done = self.passed = 0
        self._last = 0.0

    def update(self, passed: bool) -> None:
        self.done += 1
        self.passed += passed
        now = time.monotonic()
        if not self.tty and now - self._last < self.every_s and self.done < self.total:
            return
        self._last = now
        line = self.line(now - self.start)
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()

    def line(self, elapsed: float) -> str:
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(30 * self.done / self.total) if self.total else 30
        return (
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
            + (f"passed {self.passed}  " if self.judged else "")
            + f"elapsed {_clock(elapsed)}  left ~{_clock(left)}"
        )


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def run_pool(
    todo: list[K],
    job: Callable[[W, K], R],
    add: Callable[[R], None],
    make_worker: Callable[[LiveKernel], W],
    workers: int,
    stream: TextIO | None,
    kernel_factory: Callable[[], LiveKernel] = Kernel,
    label: str = "mtpb",
) -> None:
    """Run `job` for every key in `todo` on `workers` kernels; each result goes to `add`."""
    jobs: queue.Queue[K] = queue.Queue()
    for key in todo:
        jobs.put(key)
    finished: queue.Queue[R | BaseException] = queue.Queue()
    stop = threading.Event()
    kernels: list[LiveKernel] = []
    threads: list[threading.Thread] = []
    try:
        for _ in range(min(max(1, workers), len(todo))):
            kernels.append(kernel_factory())
            kernels[-1].start()  # one at a time: a failure surfaces here, plainly
        for n, kernel in enumerate(kernels):

            def work(kernel: LiveKernel = kernel) -> None:
                worker = make_worker(kernel)
                while not stop.is_set():
                    try:
                        key = jobs.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        finished.put(job(worker, key))
                    except BaseException as exc:  # surfaced by the main thread
                        finished.put(exc)
                        return

            thread = threading.Thread(target=work, daemon=True, name=f"{label}-worker-{n}")
            thread.start()
            threads.append(thread)
        progress = Progress(len(todo), stream, label=label)
        for _ in todo:
            item = finished.get()
            if isinstance(item, BaseException):
                raise item
            add(item)
            progress.update(item.passed)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)  # let a job in flight finish before its kernel goes
        for kernel in kernels:
            kernel.shutdown()

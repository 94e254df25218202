"""Samples in parallel: K kernels, one thread each, results appended as they finish.

`run_pool` hands each worker an `Executor` on its own kernel and a job function that turns a
sample key into a `SampleResult` (generate and score, or score only). The threads share
whatever the job closes over (the one model, whose lock serialises generation, so programs run
while the next turn is being written). A progress line with the time left goes to stderr.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from codegen_ui.kernel import LiveKernel
from codegen_ui.mtpb.execute import Executor
from codegen_ui.mtpb.results import ResultsFile, SampleKey, SampleResult

Job = Callable[[Executor, SampleKey], SampleResult]


class Progress:
    """A one-line progress bar with the time left, on stderr (one line per update off a TTY)."""

    def __init__(self, total: int, stream: TextIO | None = None, every_s: float = 10.0) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.start = time.monotonic()
        self.done = self.passed = 0
        self._last = 0.0

    def update(self, result: SampleResult) -> None:
        self.done += 1
        self.passed += result.passed
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
            f"mtpb [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
            f"passed {self.passed}  elapsed {_clock(elapsed)}  left ~{_clock(left)}"
        )


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def run_pool(
    todo: list[SampleKey],
    job: Job,
    results: ResultsFile,
    workers: int,
    stream: TextIO | None,
    kernel_factory: Callable[[], LiveKernel],
    limit_s: float,
) -> None:
    """Run `job` for every key in `todo` on `workers` kernels; each result goes to `results`."""
    jobs: queue.Queue[SampleKey] = queue.Queue()
    for key in todo:
        jobs.put(key)
    finished: queue.Queue[SampleResult | BaseException] = queue.Queue()
    stop = threading.Event()
    kernels: list[LiveKernel] = []
    threads: list[threading.Thread] = []
    try:
        for _ in range(min(max(1, workers), len(todo))):
            kernels.append(kernel_factory())
            kernels[-1].start()  # one at a time: a failure surfaces here, plainly
        for n, kernel in enumerate(kernels):

            def work(kernel: LiveKernel = kernel) -> None:
                executor = Executor(kernel, limit_s)
                while not stop.is_set():
                    try:
                        key = jobs.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        finished.put(job(executor, key))
                    except BaseException as exc:  # surfaced by the main thread
                        finished.put(exc)
                        return

            thread = threading.Thread(target=work, daemon=True, name=f"mtpb-worker-{n}")
            thread.start()
            threads.append(thread)
        progress = Progress(len(todo), stream)
        for _ in todo:
            item = finished.get()
            if isinstance(item, BaseException):
                raise item
            results.add(item)
            progress.update(item)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)  # let a sample in flight finish before its kernel goes
        for kernel in kernels:
            kernel.shutdown()

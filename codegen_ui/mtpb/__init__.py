"""MTPB, the CodeGen paper's multi-turn programming benchmark, run with the app's own engine.

`problems` reads the benchmark file and holds the equivalence rules, `wire` carries values out
of the kernel as plain data, `execute` runs a program and finds its answer, `run` drives the
samples (resumable, in parallel), `report` summarises them. The CLI imports from here.
"""

from codegen_ui.mtpb.problems import (
    MtpbError,
    Problem,
    fetch_data,
    is_equivalent,
    load_problems,
    select,
)
from codegen_ui.mtpb.report import Report, format_report, summarize
from codegen_ui.mtpb.run import ResultsFile, RunConfig, SampleResult, run_benchmark

__all__ = [
    "MtpbError",
    "Problem",
    "Report",
    "ResultsFile",
    "RunConfig",
    "SampleResult",
    "fetch_data",
    "format_report",
    "is_equivalent",
    "load_problems",
    "run_benchmark",
    "select",
    "summarize",
]

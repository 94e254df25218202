"""MTPB, the CodeGen paper's multi-turn programming benchmark, run as its reference runs it.

`problems` reads the benchmark file; `program` builds a sample's text byte for byte as the
reference sampler does and makes a program print its last value; `wire` and `harness` run
*inside the kernel* (the program, then its answer cast to the gold's type, as tagged JSON);
`verdicts` judges that answer here; `execute` drives one program in one kernel (its harness kept
installed by `evals.Harness`); `sampler` samples with the app's engine, then scores (`codegen-ui
mtpb`), `tries` adds `--fix` and `--state` (the program's own error and names, off by default),
`samplesfile` reads and scores samples made elsewhere (`mtpb score`); `results`,
`parallel` and `report` hold, parallelise and summarise them. The CLI imports from here.
"""

from codegen_ui.mtpb.execute import Executor, Verdict
from codegen_ui.mtpb.problems import MtpbError, Problem, fetch_data, load_problems, select
from codegen_ui.mtpb.report import Report, format_report, summarize
from codegen_ui.mtpb.results import ResultsFile, RunConfig, SampleResult
from codegen_ui.mtpb.sampler import run_benchmark
from codegen_ui.mtpb.samplesfile import read_samples, score_config, score_samples

__all__ = [
    "Executor",
    "MtpbError",
    "Problem",
    "Report",
    "ResultsFile",
    "RunConfig",
    "SampleResult",
    "Verdict",
    "fetch_data",
    "format_report",
    "load_problems",
    "read_samples",
    "run_benchmark",
    "score_config",
    "score_samples",
    "select",
    "summarize",
]

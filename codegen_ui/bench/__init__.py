"""The speed and memory benchmark (`codegen-ui bench`): a plan, its child processes, a model.

`plan` runs each measurement in a child process (`python -m codegen_ui.bench.work`) so memory
figures are of one engine alone, and turns the results into ratios and a table; `work` is the
child; `classroom` has N sessions submit a turn at the same moment; `texts` holds the stand-in
conversations and builds histories of a given token size from them; `randommodel` builds the
random-weight model with the real codegen-350M architecture; `bandwidth` measures the machine's
memory bandwidth, the limit single-stream decoding is reported against (the bytes a token reads
are the engine's to count); `llamacpp` runs llama.cpp's server on the
same `.gguf` file (`--llama-server`) and measures it as the engine is measured.
`apiload` load-tests a running server through its session API (`--api-load`).
"""

from codegen_ui.bench.apiload import LoadPlan, LoadResult, run_load
from codegen_ui.bench.apiload import table as load_table
from codegen_ui.bench.plan import BenchError, Plan, run, table
from codegen_ui.bench.randommodel import build, default_dir

__all__ = [
    "BenchError",
    "LoadPlan",
    "LoadResult",
    "Plan",
    "build",
    "default_dir",
    "load_table",
    "run",
    "run_load",
    "table",
]

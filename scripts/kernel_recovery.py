"""Time each kernel recovery: start, timeout -> interrupt, timeout -> restart, death -> restart.

Usage: python -m scripts.kernel_recovery [--repeat N] [--deadline S]
Each figure is the time from the event (the deadline passing, or the kernel dying) until the run
returns, and then until a follow-up run has finished; medians over N repeats, per sandbox mode.
"""

from __future__ import annotations

import argparse
import statistics
import time

from codegen_ui.kernel import Kernel, KernelConfig, sandbox_info
from codegen_ui.settings import SandboxMode

CASES = {
    "timeout -> interrupt": "while True:\n    pass",
    "timeout -> restart": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "while True:\n    pass",
    "death -> restart": "import os\nos._exit(1)",
}


def measure(kernel: Kernel, code: str, deadline: float) -> tuple[float, float]:
    start = time.monotonic()
    result = kernel.run(code, timeout=deadline)
    returned = time.monotonic()
    assert kernel.run("print(1)").status == "ok"
    done = time.monotonic()
    event = start + deadline if result.status == "timeout" else start  # death is at once
    return returned - event, done - event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=1.0)
    args = parser.parse_args()
    both: list[SandboxMode] = ["bwrap", "none"]
    modes = both if sandbox_info("bwrap").mode == "bwrap" else both[1:]
    print(f"{'mode':6} {'case':22} {'run returns (s)':>16} {'next run done (s)':>18}")
    for mode in modes:
        starts = []
        for _ in range(args.repeat):
            t = time.monotonic()
            with Kernel(config=KernelConfig(sandbox=mode)):
                starts.append(time.monotonic() - t)
        print(f"{mode:6} {'start':22} {statistics.median(starts):16.2f}")
        with Kernel(config=KernelConfig(sandbox=mode)) as kernel:
            for name, code in CASES.items():
                runs = [measure(kernel, code, args.deadline) for _ in range(args.repeat)]
                back = statistics.median(r[0] for r in runs)
                done = statistics.median(r[1] for r in runs)
                print(f"{mode:6} {name:22} {back:16.2f} {done:18.2f}")


if __name__ == "__main__":
    main()

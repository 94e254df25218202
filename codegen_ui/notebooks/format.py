"""Turns <-> Jupyter notebook cells (nbformat v4): the session format, and the `.py` export.

A session notebook starts with a preamble cell (the prompt's preamble, so "Run all" works in
Jupyter), then one code cell per turn whose source is the instruction comment followed by the
code, exactly as the prompt sees it. The turn itself (instruction, raw completion, the model and
the prompt format it was written with, sampling settings, status, timestamps) rides in the
cell's metadata under `codegen_ui`, and the notebook's `codegen_ui` metadata holds the title,
times, app version and the exact preamble; together they rebuild exactly the same prompt. Any
other notebook is read by `nbimport`; files are read and written by `io`. This module does not
list, name or find notebooks; that is the store's job.
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Sequence
from typing import Any

from codegen_ui.core import (
    FINISHED,
    PREAMBLE,
    GenerationStats,
    SamplingParams,
    Turn,
    instruction_comment,
    now,
    program_text,
)
from codegen_ui.errors import UserError

META_KEY = "codegen_ui"


class NotebookError(UserError, ValueError):
    """A file is not a notebook this app can read; the message says why."""


def turn_to_cell(turn: Turn) -> Any:
    from nbformat import from_dict
    from nbformat.v4 import new_code_cell

    meta = {
        "instruction": turn.instruction,
        "completion": turn.completion,
        "code": turn.code,
        "status": turn.status,
        "message": turn.message,
        "edited": turn.edited,
        "fixes": turn.fixes,
        "model": turn.model,
        "prompt_format": turn.prompt_format,
        "params": dataclasses.asdict(turn.params),
        "stats": dataclasses.asdict(turn.stats),
        "created": turn.created,
        "finished": turn.finished,
    }
    return new_code_cell(
        source=instruction_comment(turn.instruction) + turn.code,
        outputs=[from_dict(o) for o in turn.outputs],
        execution_count=turn.execution_count,
        metadata={META_KEY: meta},
    )


def is_turn_cell(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get(META_KEY)
    return cell.get("cell_type") == "code" and isinstance(meta, dict) and "instruction" in meta


def is_preamble_cell(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get(META_KEY)
    return isinstance(meta, dict) and meta.get("role") == "preamble"


def cell_to_turn(cell: Any) -> Turn:
    """A turn from a cell this app wrote (the metadata is the truth, the source a view)."""
    meta = cell.get("metadata", {}).get(META_KEY)
    if not isinstance(meta, dict) or not isinstance(meta.get("instruction"), str):
        raise NotebookError("the cell carries no codegen_ui turn")
    status = meta.get("status")
    execution_count = cell.get("execution_count")
    return Turn(
        instruction=meta["instruction"],
        params=SamplingParams(**_typed(SamplingParams, meta.get("params"))),
        model=_str(meta.get("model")),
        prompt_format=_str(meta.get("prompt_format")),  # "" in notebooks from before it
        completion=_str(meta.get("completion")),
        code=_code_of(cell, meta),
        outputs=tuple(cell.get("outputs", [])),
        # A turn saved mid-flight (the server died) is finished now: it will never run on.
        status=status if status in FINISHED else "not-run",
        message=_str(meta.get("message")),
        edited=bool(meta.get("edited", False)),
        fixes=_count(meta.get("fixes")),
        execution_count=execution_count if isinstance(execution_count, int) else None,
        stats=GenerationStats(**_typed(GenerationStats, meta.get("stats"))),
        created=_str(meta.get("created")),
        finished=_str(meta.get("finished")),
    )


def _code_of(cell: Any, meta: dict[str, Any]) -> str:
    # If the cell was edited in Jupyter, its source (minus the comment) is the code now.
    source = cell.get("source", "")
    header = instruction_comment(meta["instruction"])
    if source.startswith(header):
        return str(source[len(header) :])
    return _str(meta.get("code", source))


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _typed(cls: type, values: object) -> dict[str, Any]:
    """The entries of a saved dict that match a dataclass field by name and type."""
    if not isinstance(values, dict):
        return {}
    kept: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        value, default = values.get(f.name), f.default
        if f.name not in values or isinstance(value, bool) != isinstance(default, bool):
            continue
        if value is None and default is None:
            kept[f.name] = None
        elif isinstance(default, float) and isinstance(value, (int, float)):
            kept[f.name] = float(value)
        elif default is None and isinstance(value, int):
            kept[f.name] = value  # an optional int, like the seed
        elif default is not None and type(value) is type(default):
            kept[f.name] = value
    return kept


def preamble_cell(preamble: str) -> Any:
    from nbformat.v4 import new_code_cell

    return new_code_cell(source=preamble.rstrip("\n"), metadata={META_KEY: {"role": "preamble"}})


def to_notebook(turns: Sequence[Turn], metadata: dict[str, Any] | None = None) -> Any:
    """A session notebook; `metadata` goes under the notebook's `codegen_ui` key.

    `created` and `updated` are now unless `metadata` gives them.
    """
    from nbformat.v4 import new_notebook

    from codegen_ui.version import __version__

    stamp = now()
    meta = {
        "version": __version__,
        "preamble": PREAMBLE,
        "created": stamp,
        "updated": stamp,
        **(metadata or {}),
    }
    preamble = meta["preamble"]
    cells = [preamble_cell(preamble)] if preamble.strip() else []
    nb = new_notebook(cells=cells + [turn_to_cell(t) for t in turns])
    nb.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {
                "name": "python",
                "version": platform.python_version(),
                "mimetype": "text/x-python",
                "file_extension": ".py",
                "pygments_lexer": "ipython3",
                "codemirror_mode": {"name": "ipython", "version": 3},
                "nbconvert_exporter": "python",
            },
            META_KEY: meta,
        }
    )
    return nb


def to_script(turns: Sequence[Turn], preamble: str = PREAMBLE) -> str:
    """The program in the paper's format: the preamble, then `# instruction` and code per turn.

    This is exactly the prompt's history, so it is also what the model saw.
    """
    return program_text([(t.instruction, t.code) for t in turns], preamble)

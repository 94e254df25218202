"""Turns <-> Jupyter notebooks (nbformat v4), and atomic saving.

Each turn is a code cell whose source is the instruction comment followed by the code, exactly
as the prompt sees it, so the notebook reads naturally in Jupyter. The turn itself (instruction,
raw completion, sampling settings, status, timestamps) rides in the cell's metadata under
`codegen_ui`, which is how a saved session rebuilds exactly the same prompt. This module does
not list, name or find notebooks; that is the store's job.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from codegen_ui.model import SamplingParams
from codegen_ui.prompt import instruction_comment
from codegen_ui.session import GenerationStats, Turn

META_KEY = "codegen_ui"


class NotebookError(ValueError):
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
        "model": turn.model,
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


def cell_to_turn(cell: Any) -> Turn:
    """A turn from a cell this app wrote (the metadata is the truth, the source a view)."""
    meta = dict(cell.get("metadata", {}).get(META_KEY) or {})
    if "instruction" not in meta:
        raise NotebookError("the cell carries no codegen_ui turn")
    params = SamplingParams(**_known(SamplingParams, meta.get("params") or {}))
    stats = GenerationStats(**_known(GenerationStats, meta.get("stats") or {}))
    return Turn(
        instruction=meta["instruction"],
        params=params,
        model=meta.get("model", ""),
        completion=meta.get("completion", ""),
        code=_code_of(cell, meta),
        outputs=tuple(cell.get("outputs", [])),
        status=meta.get("status", "not-run"),
        message=meta.get("message", ""),
        edited=bool(meta.get("edited", False)),
        execution_count=cell.get("execution_count"),
        stats=stats,
        created=meta.get("created", ""),
        finished=meta.get("finished", ""),
    )


def _code_of(cell: Any, meta: dict[str, Any]) -> str:
    # If the cell was edited in Jupyter, its source (minus the comment) is the code now.
    source = cell.get("source", "")
    header = instruction_comment(meta["instruction"])
    if source.startswith(header):
        return str(source[len(header) :])
    return str(meta.get("code", source))


def _known(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in names}


def to_notebook(turns: list[Turn], metadata: dict[str, Any] | None = None) -> Any:
    from nbformat.v4 import new_notebook

    from codegen_ui import __version__

    nb = new_notebook(cells=[turn_to_cell(t) for t in turns])
    nb.metadata.update(
        {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            META_KEY: {"version": __version__, **(metadata or {})},
        }
    )
    return nb


def from_notebook(nb: Any) -> tuple[list[Turn], dict[str, Any]]:
    """The turns and the app's notebook metadata; cells without a turn are skipped."""
    turns = [
        cell_to_turn(c)
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code" and META_KEY in c.get("metadata", {})
    ]
    return turns, dict(nb.get("metadata", {}).get(META_KEY) or {})


def write_atomic(path: str | Path, text: str) -> None:
    """Write text so that a crash at any moment leaves the old file or the new one, whole."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def save(nb: Any, path: str | Path) -> None:
    import nbformat

    nbformat.validate(nb)
    write_atomic(path, nbformat.writes(nb) + "\n")


def load(path: str | Path) -> Any:
    import nbformat

    try:
        text = Path(path).read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path}: not a notebook (not valid JSON text: {exc})") from None
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path}: not a valid notebook ({exc.message})") from None
    except Exception as exc:  # nbformat raises assorted errors for non-notebook JSON
        raise NotebookError(f"{path}: not a notebook ({exc})") from None
    return nb

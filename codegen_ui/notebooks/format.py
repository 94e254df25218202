"""Turns <-> Jupyter notebooks (nbformat v4): the session format, parsing, and atomic saving.

A session notebook starts with a preamble cell (the prompt's preamble, so "Run all" works in
Jupyter), then one code cell per turn whose source is the instruction comment followed by the
code, exactly as the prompt sees it. The turn itself (instruction, raw completion, sampling
settings, status, timestamps) rides in the cell's metadata under `codegen_ui`, and the notebook's
`codegen_ui` metadata holds the title, times, app version and the exact preamble; together they
rebuild exactly the same prompt. Notebooks from Jupyter are converted by `codegen_ui.nbimport`.
This module does not list, name or find notebooks; that is the store's job.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codegen_ui.atomic import write_atomic
from codegen_ui.model import SamplingParams
from codegen_ui.prompt import PREAMBLE, instruction_comment, turn_text
from codegen_ui.session import GenerationStats, Turn, now

META_KEY = "codegen_ui"
STATUSES = ("generating", "running", "ok", "error", "timeout", "died", "empty", "cancelled")


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
        completion=_str(meta.get("completion")),
        code=_code_of(cell, meta),
        outputs=tuple(cell.get("outputs", [])),
        # A turn saved mid-flight (the server died) is finished now: it will never run on.
        status=status if status in STATUSES[2:] else "not-run",
        message=_str(meta.get("message")),
        edited=bool(meta.get("edited", False)),
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

    from codegen_ui import __version__

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


def from_notebook(nb: Any) -> tuple[list[Turn], dict[str, Any]]:
    """The turns and the app's notebook metadata (with `preamble` always set).

    Cells this app did not write (added in Jupyter, or a whole notebook from elsewhere) are
    converted as `codegen_ui.nbimport` says; its notes end up in `meta["notes"]`.
    """
    from codegen_ui.nbimport import convert

    result = convert(nb)
    meta = dict(result.meta)
    if result.notes:
        meta["notes"] = list(result.notes)
    return list(result.turns), meta


def to_script(turns: Sequence[Turn], preamble: str = PREAMBLE) -> str:
    """The program in the paper's format: the preamble, then `# instruction` and code per turn.

    This is exactly the prompt's history, so it is also what the model saw.
    """
    return preamble + "".join(turn_text(t.instruction, t.code) for t in turns)


def parse(data: bytes | str, name: str = "the file") -> Any:
    """A validated v4 notebook from file contents, or NotebookError saying what is wrong."""
    import nbformat
    from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        raw = json.loads(text)
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not a notebook (not valid JSON: {exc})") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a notebook (JSON nested too deeply)") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookError(f"{name} is not a notebook (no nbformat version in it)")
    if raw.get("nbformat") not in (3, 4):
        raise NotebookError(f"{name} has nbformat {raw.get('nbformat')!r}; only 3 and 4 are read")
    try:
        with warnings.catch_warnings():
            # Notebooks from older Jupyter lack cell ids; nbformat adds them, which is fine.
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            warnings.simplefilter("ignore", DuplicateCellId)
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{name} is not a valid notebook ({exc.message})") from None
    except Exception as exc:  # nbformat raises assorted errors for malformed notebooks
        raise NotebookError(f"{name} is not a valid notebook ({exc})") from None
    return nb


def load(path: str | Path) -> Any:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except OSError as exc:
        raise NotebookError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse(data, str(path))


def dumps(nb: Any) -> str:
    import nbformat

    nbformat.validate(nb)
    text = str(nbformat.writes(nb)) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (a browser can send them) cannot be stored; keep everything else.
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def save(nb: Any, path: str | Path) -> None:
    write_atomic(path, dumps(nb))

"""Any v4 notebook -> turns: the cells this app wrote, and code cells written by people.

A cell this app wrote is read back from its metadata. Any other code cell becomes a turn whose
instruction is its leading block of `# ` comment lines (when there is one) and whose code is the
rest; its outputs and execution count are kept. Markdown and raw cells (and their attachments)
have no place in a conversation, so they are left out, and a note says how many. `put_runs`
goes the other way for a notebook whose turns were run again (`codegen-ui replay`): each code
cell takes its turn's outputs, in place, and the notebook's other cells stay as they were.
Nothing here reads files, runs code or decides where a session is stored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codegen_ui.core import PREAMBLE, Turn, instruction_comment
from codegen_ui.notebooks.format import META_KEY, cell_to_turn, is_preamble_cell, is_turn_cell

_COMMENT = re.compile(r"# (.*\S)")  # one instruction line, as `instruction_comment` writes it


@dataclass(frozen=True)
class Conversion:
    turns: tuple[Turn, ...]
    meta: dict[str, Any]  # the notebook's codegen_ui metadata, `preamble` always set
    notes: tuple[str, ...] = ()  # what was left out or guessed, for the user
    dropped: int = 0  # cells left out (markdown, raw)


def split_instruction(source: str) -> tuple[str, str]:
    """(instruction, code) from a cell's source: the leading `# ` lines are the instruction.

    Only a block that `instruction_comment` would write back byte for byte counts, so the
    cell's source is always exactly the instruction comment plus the code.
    """
    lines: list[str] = []
    for line in source.split("\n"):
        match = _COMMENT.fullmatch(line)
        if match:
            lines.append(match.group(1))
        elif line == "#" and lines:
            lines.append("")
        else:
            break
    while lines and not lines[-1]:
        lines.pop()
    instruction = "\n".join(lines)
    header = instruction_comment(instruction)
    # A cell that is only a comment has no newline after it; its code is empty.
    if lines and (source + "\n").startswith(header):
        return instruction, source[len(header) :]
    return "", source


def code_cell_to_turn(cell: Any) -> Turn:
    """A turn from a code cell written by a person in Jupyter."""
    instruction, code = split_instruction(str(cell.get("source", "")))
    outputs = tuple(cell.get("outputs", []))
    count = cell.get("execution_count")
    if any(o.get("output_type") == "error" for o in outputs):
        status = "error"
    elif outputs or count is not None:
        status = "ok"
    else:
        status = "not-run"
    return Turn(
        instruction=instruction,
        code=code,
        outputs=outputs,
        status=status,  # type: ignore[arg-type]
        execution_count=count if isinstance(count, int) else None,
    )


def convert(nb: Any) -> Conversion:
    """Turns, metadata and notes from a parsed, validated v4 notebook."""
    meta_in = nb.get("metadata", {}).get(META_KEY)
    meta: dict[str, Any] = dict(meta_in) if isinstance(meta_in, dict) else {}
    if not isinstance(meta.get("preamble"), str):
        meta["preamble"] = PREAMBLE
    if not isinstance(meta.get("title"), str):
        meta.pop("title", None)
    meta.pop("notes", None)  # notes describe one conversion; they are made afresh each time
    turns: list[Turn] = []
    left_out: Counter[str] = Counter()
    bare = 0
    for cell in nb.get("cells", []):
        kind = cell.get("cell_type")
        if is_preamble_cell(cell):
            continue
        if is_turn_cell(cell):
            turns.append(cell_to_turn(cell))
        elif kind == "code":
            turn = code_cell_to_turn(cell)
            bare += not turn.instruction
            turns.append(turn)
        else:
            left_out[str(kind)] += 1
    notes = []
    if left_out:
        what = ", ".join(f"{n} {kind} cell{'s' * (n > 1)}" for kind, n in sorted(left_out.items()))
        notes.append(f"left out {what}: a session keeps only code cells")
    if bare:
        notes.append(
            f"{bare} code cell{'s have' if bare > 1 else ' has'} no leading '# ' comment, "
            "so the turn has an empty instruction"
        )
    return Conversion(tuple(turns), meta, tuple(notes), sum(left_out.values()))


def put_runs(nb: Any, turns: Sequence[Turn]) -> None:
    """Write each turn's outputs and execution count into the code cell it was read from
    (`convert` order: every code cell but the preamble), and into a cell this app wrote its
    status, message and finish time too. Sources, markdown and the preamble cell stay."""
    from nbformat import from_dict

    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    cells = [c for c in cells if not is_preamble_cell(c)]
    if len(cells) != len(turns):
        raise ValueError(f"{len(turns)} turns for {len(cells)} code cells")
    for cell, turn in zip(cells, turns, strict=True):
        cell["outputs"] = [from_dict(dict(o)) for o in turn.outputs]
        cell["execution_count"] = turn.execution_count
        meta = cell.get("metadata", {}).get(META_KEY)
        if isinstance(meta, dict) and "instruction" in meta:
            meta.update(status=turn.status, message=turn.message, finished=turn.finished)


def from_notebook(nb: Any) -> tuple[list[Turn], dict[str, Any]]:
    """The turns and the app's notebook metadata (with `preamble` always set).

    Cells this app did not write (added in Jupyter, or a whole notebook from elsewhere) are
    converted as `codegen_ui.notebooks.nbimport` says; its notes end up in `meta["notes"]`.
    """
    result = convert(nb)
    meta = dict(result.meta)
    if result.notes:
        meta["notes"] = list(result.notes)
    return list(result.turns), meta

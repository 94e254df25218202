"""What the page sends when a cell or a notebook banner is pressed, decoded into one `CellEvent`.

`decode` reads the `cell` event's data, as `web.script` writes it (`action`, `cell` numbered
from 1 and 0 for none, `revision`, `code`, `instruction`), into a typed `CellEvent`: a
`CellAction`, the index of the cell it acts on (None for a banner's action, which acts on the
whole notebook), the notebook revision it was drawn at and the editor's text. Anything else (an
unknown action, a number that is not a whole number, a cell action that names no cell) is one
`UserError`. It checks the event's shape only, and is pure: whether that cell still exists or
the revision is current is the controller's to decide, and it acts on nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from codegen_ui.errors import UserError
from codegen_ui.web.cellaction import CellAction

# A banner's buttons (a conflict, a fresh kernel) act on the notebook; every other on one cell.
NOTEBOOK_ACTIONS = frozenset({CellAction.REPLAY, CellAction.RELOAD, CellAction.KEEP_COPY})


@dataclass(frozen=True)
class CellEvent:
    """One press: what, on which cell (0 for the first), at which notebook revision."""

    action: CellAction
    index: int | None = None  # None for a banner's action: the notebook's, not one cell's
    revision: int = -1  # the notebook's revision when the page drew it; -1 when not sent
    code: str | None = None  # the editor's text, when the editor is open
    instruction: str | None = None  # the instruction field's text, when the editor is open


def decode(data: object) -> CellEvent:
    """The page's `cell` event data as a `CellEvent`; a `UserError` names what is wrong."""
    if not isinstance(data, Mapping):
        raise UserError("a cell event carries no data")
    name = data.get("action")
    try:
        action = CellAction(name if isinstance(name, str) else "")
    except ValueError:
        raise UserError(f"unknown cell action {name!r}") from None
    cell = _whole(data, "cell", 0)
    revision = _whole(data, "revision", -1)
    if cell < 0 or revision < -1:
        raise UserError(f"a cell event with cell {cell} at revision {revision}")
    index: int | None = None
    if action not in NOTEBOOK_ACTIONS:
        if cell == 0:
            raise UserError(f"a {action.value!r} press names no cell")
        index = cell - 1
    return CellEvent(action, index, revision, _text(data, "code"), _text(data, "instruction"))


def _whole(data: Mapping[object, object], name: str, default: int) -> int:
    value = data.get(name, default)
    # JSON numbers may arrive as floats; True is an int to Python but no number to the page.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise UserError(f"a cell event's {name} must be a whole number, not {value!r}")
    return value


def _text(data: Mapping[object, object], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise UserError(f"a cell event's {name} must be text, not {type(value).__name__}")
    return value

"""The notebook's cell actions, named once: the buttons' `data-action`, the events and the script.

`CellAction` is the one list. `web.notebook_html` writes its values into the buttons,
`web.cellevents` decodes the page's events into them, `web.controller` dispatches on them, and
`web.script` hands them to the page's script as JSON (`ACTION.RUN` and so on), so no action is
spelled anywhere else. It does nothing itself.
"""

from __future__ import annotations

import json
from enum import StrEnum


class CellAction(StrEnum):
    """What a press on a cell, or on a notebook banner, asks for."""

    EDIT = "edit"  # open the cell's editor
    LEAVE = "leave"  # close it, keeping what was typed
    RUN = "run"
    COMPLETE = "complete"  # continue the user's code from its end
    REGENERATE = "regenerate"  # write the cell again from its instruction
    FIX = "fix"  # the model corrects a cell whose run raised, shown the error
    DELETE = "delete"
    REPLAY = "replay"  # run every cell again in a fresh kernel
    RELOAD = "reload"  # take the saved version after a conflict
    KEEP_COPY = "keep-copy"  # keep this tab's version as a copy after a conflict

    @classmethod
    def as_json(cls) -> str:
        """`{"EDIT": "edit", ...}`: the actions as the page's script reads them."""
        return json.dumps({action.name: action.value for action in cls})

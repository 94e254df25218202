"""The page's cell events decoded: what `web.script` sends becomes one typed `CellEvent`, and
anything else one `UserError`, shown as a note that changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import SamplingParams
from codegen_ui.errors import UserError
from codegen_ui.notebooks import SessionStore
from codegen_ui.web.app import assemble
from codegen_ui.web.cellaction import CellAction
from codegen_ui.web.cellevents import NOTEBOOK_ACTIONS, CellEvent, decode
from codegen_ui.workspace import ModelHolder
from tests.fakes import EchoPool, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)


@pytest.mark.parametrize(
    ("data", "event"),
    [
        # What the script sends for a button in a cell: numbered from 1, an index from 0.
        (
            {"action": "run", "cell": 2, "revision": 7, "code": "x = 1", "instruction": None},
            CellEvent(CellAction.RUN, 1, 7, "x = 1", None),
        ),
        (
            {"action": "regenerate", "cell": 1, "revision": 0, "instruction": "add one"},
            CellEvent(CellAction.REGENERATE, 0, 0, None, "add one"),
        ),
        # JSON numbers may come as floats; a missing revision is -1 (Escape needs none).
        ({"action": "leave", "cell": 3.0}, CellEvent(CellAction.LEAVE, 2, -1)),
        (
            {"action": "keep-copy", "cell": 0, "revision": 4},
            CellEvent(CellAction.KEEP_COPY, None, 4),
        ),
        # A banner's action is the notebook's: a cell number, if any, is not its business.
        ({"action": "replay", "cell": 5}, CellEvent(CellAction.REPLAY, None, -1)),
        ({"action": "reload"}, CellEvent(CellAction.RELOAD)),
    ],
)
def test_what_the_page_sends_is_decoded_into_a_typed_event(
    data: dict[str, Any], event: CellEvent
) -> None:
    decoded = decode(data)
    assert decoded == event
    assert type(decoded.action) is CellAction


def test_every_action_decodes_and_only_the_banners_name_no_cell() -> None:
    for action in CellAction:
        event = decode({"action": action.value, "cell": 1, "revision": 0})
        assert event.action is action
        assert (event.index is None) == (action in NOTEBOOK_ACTIONS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "a cell event carries no data"),
        ("run", "a cell event carries no data"),
        ({"action": "explode", "cell": 1}, "unknown cell action 'explode'"),
        ({"cell": 1}, "unknown cell action None"),
        ({"action": "RUN", "cell": 1}, "unknown cell action 'RUN'"),  # values, not names
        ({"action": "run", "cell": 0, "revision": 1}, "a 'run' press names no cell"),
        ({"action": "delete"}, "a 'delete' press names no cell"),
        ({"action": "run", "cell": "2"}, "a cell event's cell must be a whole number, not '2'"),
        ({"action": "run", "cell": 1.5}, "a cell event's cell must be a whole number, not 1.5"),
        ({"action": "run", "cell": True}, "a cell event's cell must be a whole number, not True"),
        ({"action": "run", "cell": -1}, "a cell event with cell -1 at revision -1"),
        ({"action": "run", "cell": 1, "revision": -2}, "a cell event with cell 1 at revision -2"),
        ({"action": "run", "cell": 1, "code": 5}, "a cell event's code must be text, not int"),
        (
            {"action": "edit", "cell": 1, "instruction": ["x"]},
            "a cell event's instruction must be text, not list",
        ),
    ],
)
def test_bad_input_is_one_user_error_saying_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(UserError) as caught:
        decode(data)
    assert str(caught.value) == message


def test_a_bad_event_is_a_note_on_the_page_and_changes_nothing(tmp_path: Path) -> None:
    model = ScriptedModel().enqueue("a = 1\n")
    c = assemble(ModelHolder.ready(model), EchoPool(), SessionStore(tmp_path / "s"), False)
    try:
        list(c.submit("tab", "set a", GREEDY))
        ws = c.workspaces.get("tab")
        before = (ws.session.revision, [t.code for t in ws.session.turns], ws.page.editing)
        views = list(c.cell("tab", {"action": "delete", "cell": "1"}, GREEDY))
        assert len(views) == 1 and not views[0].busy
        assert "cell must be a whole number" in views[0].notebook
        assert (ws.session.revision, [t.code for t in ws.session.turns], ws.page.editing) == before
        # The same press, well formed, acts: the decoder was the only thing in the way.
        revision = ws.session.revision
        list(c.cell("tab", {"action": "delete", "cell": 1, "revision": revision}, GREEDY))
        assert ws.session.turns == []
    finally:
        c.workspaces.shutdown()

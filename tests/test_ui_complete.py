"""Complete from the page without a browser: a press on a cell of one's own code streams the
model's continuation into that cell through the same path as a turn (the fair queue, the
workspace's lock), keeps what was typed, runs, saves, and Undo takes it back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codegen_ui.core import Event, SamplingParams
from codegen_ui.notebooks import SessionStore
from codegen_ui.web.app import assemble
from codegen_ui.web.controller import Controller, View
from codegen_ui.workspace import ModelHolder
from tests.fakes import EchoPool, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)
ADD = 'def add(a, b):\n    """Return the sum of a and b."""\n'


class HeldModel(ScriptedModel):
    """A scripted model that holds any prompt containing "hold" until `go` is set."""

    def __init__(self) -> None:
        super().__init__(chunk=3)
        self.go = threading.Event()
        self.holding = threading.Event()

    def stream(
        self, prompt: str, params: SamplingParams, cancel: Any = None, prompt_format: str = "paper"
    ) -> Iterator[Event]:
        if "hold" in prompt:
            self.holding.set()
            self.go.wait(30)
        yield from super().stream(prompt, params, cancel)


@pytest.fixture
def model() -> HeldModel:
    return HeldModel()


@pytest.fixture
def app(model: HeldModel, tmp_path: Path) -> Iterator[Controller]:
    store = SessionStore(tmp_path / "sessions")
    c = assemble(ModelHolder.ready(model), EchoPool(), store, guarded=False)
    yield c
    c.workspaces.shutdown()


def press(c: Controller, key: str, action: str, cell: int, **kw: Any) -> list[View]:
    revision = kw.pop("revision", c.workspaces.get(key).session.revision)
    return list(c.cell(key, {"action": action, "cell": cell, "revision": revision, **kw}, GREEDY))


def test_complete_streams_into_the_cell_keeps_the_typed_prefix_runs_saves_and_undoes(
    app: Controller, model: HeldModel
) -> None:
    app.add_code("tab", "Add two numbers.")
    model.enqueue("    return a + b\n\n\n\nprint(add(1, 2))\n")
    views = press(app, "tab", "complete", 1, code=ADD)  # from the open editor
    assert model.calls[-1][0].endswith("# Add two numbers.\n" + ADD)
    assert views[0].busy and any('data-state="generating"' in v.notebook for v in views[1:-1])
    final = views[-1]
    ws = app.workspaces.get("tab")
    turn = ws.session.turns[0]
    assert turn.code == ADD + "    return a + b" and turn.status == "ok"
    assert 'data-editing="true"' not in final.notebook  # it streamed into the code view
    assert 'data-status="ok"' in final.notebook and final.can_undo
    assert ws.saved.id is not None
    assert [t.code for t in app.shelf.store.load(ws.saved.id)[0]] == [turn.code]
    app.undo("tab")
    assert ws.session.turns[0].code == ADD  # what was typed stays
    app.undo("tab")
    assert ws.session.turns[0].code == ""
    app.redo("tab")
    app.redo("tab")
    assert ws.session.turns[0].code == ADD + "    return a + b"


def test_a_refused_completion_keeps_the_editor_open_and_a_stale_press_does_nothing(
    app: Controller, model: HeldModel
) -> None:
    app.add_code("tab", "")
    view = press(app, "tab", "complete", 1, code="   ")[-1]
    assert "no code to complete" in view.notebook and 'data-editing="true"' in view.notebook
    list(app.cell("tab", {"action": "leave", "cell": 1, "code": "x = [1, 2"}, GREEDY))
    view = press(app, "tab", "complete", 1, revision=0)[-1]
    assert "nothing was done" in view.notebook and model.calls == []
    assert app.workspaces.get("tab").session.turns[0].code == "x = [1, 2"


def test_a_completion_waits_its_turn_in_the_fair_queue_behind_another_tabs_turn(
    app: Controller, model: HeldModel
) -> None:
    app.add_code("b", "")
    list(app.cell("b", {"action": "leave", "cell": 1, "code": "total = 0\n"}, GREEDY))
    model.enqueue("held = 1\n\n\n", "for n in range(3):\n    total += n\n\n\n")
    first = threading.Thread(target=lambda: list(app.submit("a", "hold the model", GREEDY)))
    first.start()
    assert model.holding.wait(10)
    views: list[View] = []
    shown = threading.Event()

    revision = app.workspaces.get("b").session.revision

    def complete() -> None:
        for view in app.cell("b", {"action": "complete", "cell": 1, "revision": revision}, GREEDY):
            views.append(view)
            shown.set()

    second = threading.Thread(target=complete)
    second.start()
    try:
        # The first busy view says where the completion stands: behind the other tab's turn.
        assert shown.wait(10)
        assert 'data-status="waiting"' in views[0].notebook
        assert "waiting for the model, 1 ahead" in views[0].notebook
    finally:
        model.go.set()
        first.join(30)
        second.join(30)
    prompts = [p for p, _ in model.calls]
    assert prompts[0].endswith("# hold the model\n")
    assert prompts[1].endswith("# My own code.\ntotal = 0\n") and len(prompts) == 2
    turn = app.workspaces.get("b").session.turns[0]
    assert turn.code == "total = 0\nfor n in range(3):\n    total += n" and turn.status == "ok"
    assert "continued your code (2 lines)" in turn.message

"""The application layer on its own, without a door: the fair queue asks the model holder how many
turns the model writes at once, and sessions start and autosave alike for every door.

The page's, the API's and the CLI's own tests drive these through their doors; here is what the
layer promises by itself (scripted model, echo kernels, a real store on disk)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from codegen_ui.core import Activity, SamplingParams, finish
from codegen_ui.engine import server_options
from codegen_ui.notebooks import SessionStore, convert, load
from codegen_ui.settings import DEFAULTS, Settings
from codegen_ui.workspace import (
    FairGate,
    ModelHolder,
    NotebookFile,
    SessionOptions,
    open_workbench,
    start_session,
)
from tests.fakes import EchoKernel, EchoPool, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32, temperature=0.0)


@dataclass
class BatchingModel(ScriptedModel):
    """A scripted model that says it writes `capacity` turns together."""

    capacity: int = 1

    def activity(self) -> Activity:
        return Activity(capacity=self.capacity)


@dataclass
class Page:
    """A door's state of a tab that counts what it is told."""

    reloads: int = 0
    switches: int = 0

    def reloaded(self) -> None:
        self.reloads += 1

    def switched(self) -> None:
        self.switches += 1


def test_the_holder_says_how_many_turns_its_model_writes_at_once() -> None:
    loading = ModelHolder("not loaded yet")
    assert loading.turns_at_once() == 1  # nothing is written before the model is there
    assert ModelHolder.ready(BatchingModel(capacity=3)).turns_at_once() == 3
    assert ModelHolder.ready(BatchingModel(capacity=0)).turns_at_once() == 1


def test_a_servers_streams_are_its_models_capacity() -> None:
    settings = Settings().replace(server_streams=7)
    assert server_options(settings).streams == 7
    assert server_options(Settings()).streams == DEFAULTS.server_streams


def test_the_gate_lets_through_as_many_as_the_holder_says(tmp_path: Path) -> None:
    bench = open_workbench(
        ModelHolder.ready(BatchingModel(capacity=2)),
        EchoPool(),
        SessionStore(tmp_path),
        False,
        Page,
    )
    gate = bench.workspaces.model.gate
    assert gate.limit == 2
    inside = threading.Barrier(3)  # two holders and this test meet inside at once
    release = threading.Event()
    entered: list[str] = []

    def hold(name: str) -> None:
        with gate.hold():
            entered.append(name)
            if name != "third":
                inside.wait(timeout=10)
                release.wait(timeout=10)

    threads = [threading.Thread(target=hold, args=(n,)) for n in ("first", "second")]
    for t in threads:
        t.start()
    inside.wait(timeout=10)  # both are in: the limit is two, not one
    assert gate.busy()
    third = threading.Thread(target=hold, args=("third",))
    third.start()
    while gate.waiting() == 0:
        third.join(0.01)
    assert "third" not in entered  # it waits for a place
    release.set()
    for t in [*threads, third]:
        t.join(timeout=10)
    assert entered[-1] == "third" and gate.waiting() == 0 and not gate.busy()


def test_a_fixed_gate_is_kept() -> None:
    assert FairGate(4).limit == 4


def test_a_session_starts_as_the_settings_say() -> None:
    settings = Settings().replace(
        run_timeout=7.0, auto_fix=2, kernel_state=False, prompt_format="chat"
    )
    options = SessionOptions.from_settings(settings)
    session = start_session(ScriptedModel(), EchoKernel(), options, preamble="import os")
    assert (session.run_timeout, session.auto_fix, session.read_state) == (7.0, 2, None)
    assert session.prompt_format_setting == "chat" and session.preamble == "import os"
    stated = start_session(ScriptedModel(), EchoKernel(), SessionOptions(kernel_state=True))
    assert stated.read_state is not None


def test_workspaces_start_their_sessions_alike_and_tell_the_door(tmp_path: Path) -> None:
    bench = open_workbench(
        ModelHolder.ready(ScriptedModel().enqueue("a = 1\n")),
        EchoPool(),
        SessionStore(tmp_path),
        False,
        Page,
        auto_fix=3,
        kernel_state=False,
    )
    ws = bench.workspaces.get("tab")
    assert (ws.session.auto_fix, ws.session.read_state) == (3, None)
    finish(ws.session.add_turn("set a", GREEDY))
    assert ws.saved.id is not None and ws.saved.id in ws.ownership.owned  # autosaved, owned
    bench.shelf.reload(ws)
    bench.shelf.new(ws)
    assert (ws.page.reloads, ws.page.switches) == (1, 1)
    assert ws.saved.id is None and ws.session.turns == []
    bench.workspaces.shutdown()


def test_a_notebook_file_is_saved_after_every_change(tmp_path: Path) -> None:
    out = tmp_path / "run.ipynb"
    model = ScriptedModel().enqueue("x = 2\n", "print(x)\n")
    meta = {"title": "lesson", "preamble": "import math"}
    session = start_session(model, EchoKernel(), SessionOptions(), preamble="import math")
    session.on_change = NotebookFile(out, meta, model.name)
    finish(session.add_turn("set x", GREEDY))
    first = convert(load(out))
    assert [t.code for t in first.turns] == ["x = 2\n"]
    assert first.meta["model"] == "scripted" and first.meta["title"] == "lesson"
    finish(session.add_turn("show x", GREEDY))
    assert [t.instruction for t in convert(load(out)).turns] == ["set x", "show x"]

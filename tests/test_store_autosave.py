"""Autosave on the app's own path (controller -> workspace -> shelf -> store): each finished
turn, edit and undo is on disk; a server killed mid-turn loses only that turn."""

from __future__ import annotations

import errno
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_ui.core import SamplingParams, Session
from codegen_ui.notebooks import SessionStore
from codegen_ui.web.app import assemble
from codegen_ui.workspace import ModelHolder
from tests.fakes import EchoKernel, EchoPool, ScriptedModel

ROOT = Path(__file__).resolve().parents[1]
GREEDY = SamplingParams(max_new_tokens=32)


def test_every_change_is_saved_as_it_happens(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s")
    model = ScriptedModel().enqueue("a = 1\n\n\n", "b = 2\n\n\n", "c = 3\n\n\n")
    c = assemble(ModelHolder.ready(model), EchoPool(), store, guarded=False)
    try:
        list(c.submit("tab", "Set a.", GREEDY))
        ws = c.workspaces.get("tab")
        sid = ws.saved.id
        assert sid is not None and ws.saved.error == ""

        def on_disk() -> list[tuple[str, str, str]]:
            return [(t.instruction, t.code, t.status) for t in store.load(sid)[0]]

        assert on_disk() == [("Set a.", "a = 1", "ok")]
        list(c.submit("tab", "Set b.", GREEDY))
        edit = {"action": "run", "cell": 2, "revision": ws.session.revision, "code": "b = 20"}
        list(c.cell("tab", edit, GREEDY))
        assert on_disk() == [("Set a.", "a = 1", "ok"), ("Set b.", "b = 20", "ok")]
        c.undo("tab")  # the edit
        assert on_disk() == [("Set a.", "a = 1", "ok"), ("Set b.", "b = 2", "ok")]
        c.undo("tab")  # the second turn
        assert on_disk() == [("Set a.", "a = 1", "ok")]
        turns, meta = store.load(sid)
        resumed = Session(model, EchoKernel(), turns, preamble=meta["preamble"])
        assert resumed.prompt_for("Set c.", 32).text == ws.session.prompt_for("Set c.", 32).text
        assert [i.id for i in store.list()] == [sid]
    finally:
        c.workspaces.shutdown()


def test_a_failed_save_is_shown_and_the_next_change_saves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SessionStore(tmp_path / "s")
    model = ScriptedModel().enqueue("a = 1\n\n\n", "b = 2\n\n\n")
    c = assemble(ModelHolder.ready(model), EchoPool(), store, guarded=False)
    try:
        list(c.submit("tab", "Set a.", GREEDY))
        ws = c.workspaces.get("tab")
        assert ws.saved.id is not None

        def full(fd: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        view = list(c.submit("tab", "Set b.", GREEDY))[-1]
        monkeypatch.undo()
        assert ws.saved.error.startswith("not saved:") and "No space left" in ws.saved.error
        assert "not saved: " in view.status  # the page says so; the turn itself went on
        assert [t.code for t in ws.session.turns] == ["a = 1", "b = 2"]
        assert [t.code for t in store.load(ws.saved.id)[0]] == ["a = 1"]
        c.undo("tab")  # the next change saves, and the note goes
        assert ws.saved.error == ""
        assert [t.code for t in store.load(ws.saved.id)[0]] == ["a = 1"]
    finally:
        c.workspaces.shutdown()


# A "server" that autosaves through the app's wiring, finishes one turn, then hangs in the
# second one's run.
SERVER = """
import sys, time
from codegen_ui.core import SamplingParams
from codegen_ui.notebooks import SessionStore
from codegen_ui.web.app import assemble
from codegen_ui.workspace import ModelHolder
from tests.fakes import EchoKernel, EchoPool, ScriptedModel

class SlowKernel(EchoKernel):
    def run(self, code, timeout=30.0, on_output=None):
        if "slow" in code:
            print("running", flush=True)
            time.sleep(600)
        return super().run(code, timeout, on_output)

model = ScriptedModel().enqueue("x = 1\\n\\n\\n", "slow()\\n\\n\\n")
c = assemble(ModelHolder.ready(model), EchoPool(make=SlowKernel), SessionStore(sys.argv[1]), False)
for instruction in ("Set x.", "Do the slow thing."):
    for _ in c.submit("tab", instruction, SamplingParams(max_new_tokens=32)):
        pass
"""


def test_a_server_killed_in_the_middle_of_a_turn_keeps_its_code(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(store.root)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    try:
        assert select.select([child.stdout], [], [], 120)[0], "the server never reached turn 2"
        assert child.stdout.readline() == "running\n"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
    (info,) = store.list()
    turns, _ = store.load(info.id)
    # The finished turn is whole; the one killed while running keeps its code, marked not run.
    assert [(t.instruction, t.code, t.status) for t in turns] == [
        ("Set x.", "x = 1", "ok"),
        ("Do the slow thing.", "slow()", "not-run"),
    ]
    assert turns[0].outputs[0]["text"] == "x = 1" and turns[1].outputs == ()
    assert (info.turns, info.error) == (2, "")

"""Autosave: each finished turn, edit and undo is on disk; a kill mid-turn loses only that turn."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from codegen_ui.core import Session
from codegen_ui.engine import SamplingParams
from codegen_ui.kernel import Output, RunResult
from codegen_ui.notebooks import SessionStore
from tests.fakes import ScriptedModel

ROOT = Path(__file__).resolve().parents[1]


class EchoRunner:
    """A scripted kernel: each run prints the code's length; `calls` records the code run."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def run(
        self, code: str, timeout: float = 30.0, on_output: Callable[[Output], None] | None = None
    ) -> RunResult:
        self.calls.append(code)
        out = {"output_type": "stream", "name": "stdout", "text": f"{len(code)}\n"}
        return RunResult("ok", (out,), len(self.calls))

    def restart(self) -> None:
        self.calls.append("<restart>")


def _drive(steps: Iterable[object]) -> None:
    for _ in steps:
        pass


def test_every_change_is_saved_as_it_happens(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s")
    info = store.create("autosaved")
    model = ScriptedModel().enqueue("a = 1\n\n\n", "b = 2\n\n\n", "c = 3\n\n\n")
    session = Session(model, EchoRunner(), preamble="# Import libraries.\n\n")
    session.on_change = store.autosaver(info.id)

    def on_disk() -> list[tuple[str, str, str]]:
        return [(t.instruction, t.code, t.status) for t in store.load(info.id)[0]]

    _drive(session.add_turn("Set a.", SamplingParams()))
    assert on_disk() == [("Set a.", "a = 1", "ok")]
    _drive(session.add_turn("Set b.", SamplingParams()))
    _drive(session.edit(1, "b = 20"))
    assert on_disk() == [("Set a.", "a = 1", "ok"), ("Set b.", "b = 20", "ok")]
    session.undo()
    assert on_disk() == [("Set a.", "a = 1", "ok")]
    turns, meta = store.load(info.id)
    resumed = Session(model, EchoRunner(), turns, preamble=meta["preamble"])
    assert resumed.prompt_for("Set c.", 32).text == session.prompt_for("Set c.", 32).text
    assert store.list()[0].title == "autosaved"


# A "server" that autosaves a session, finishes one turn, then hangs in the second one's run.
SERVER = """
import sys, time
from codegen_ui.kernel import RunResult
from codegen_ui.engine import SamplingParams
from codegen_ui.core import Session
from codegen_ui.notebooks import SessionStore
from tests.fakes import ScriptedModel

class Runner:
    def run(self, code, timeout=30.0, on_output=None):
        if "slow" in code:
            print("running", flush=True)
            time.sleep(600)
        return RunResult("ok", ({"output_type": "stream", "name": "stdout", "text": "1\\n"},), 1)
    def restart(self):
        pass

store = SessionStore(sys.argv[1])
session = Session(ScriptedModel().enqueue("x = 1\\n\\n\\n", "slow()\\n\\n\\n"), Runner())
session.on_change = store.autosaver(sys.argv[2])
for instruction in ("Set x.", "Do the slow thing."):
    for _ in session.add_turn(instruction, SamplingParams()):
        pass
"""


def test_a_server_killed_in_the_middle_of_a_turn_keeps_its_code(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s")
    sid = store.create("crash").id
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(store.root), sid],
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
    turns, _ = store.load(sid)
    # The finished turn is whole; the one killed while running keeps its code, marked not run.
    assert [(t.instruction, t.code, t.status) for t in turns] == [
        ("Set x.", "x = 1", "ok"),
        ("Do the slow thing.", "slow()", "not-run"),
    ]
    assert turns[0].outputs[0]["text"] == "1\n" and turns[1].outputs == ()
    assert [(i.id, i.turns, i.error) for i in store.list()] == [(sid, 2, "")]

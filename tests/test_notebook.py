"""The session format: a real session through a real kernel, saved, loaded, executed elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from codegen_ui.core import PREAMBLE, SamplingParams, Session, Turn
from codegen_ui.notebooks import (
    META_KEY,
    NotebookError,
    SessionStore,
    from_notebook,
    parse,
    to_notebook,
    to_script,
)
from tests.fakes import ScriptedModel

COMPLETIONS = [
    "xs = [3, 1, 2]\nprint(sorted(xs))\n\n\n# next",
    "total = sum(xs)\nprint('total', total)\nprint('never')",
    "def twice(v):\n    return 2 * v\n\n\n\n",
    "print(twice(total))\n<|endoftext|>",
]
INSTRUCTIONS = [
    "Make a list xs of three numbers and print it sorted.",
    "Add them up.\nPrint the total.",  # a two-line instruction
    "Define twice(v) returning 2 * v.",
    "Print twice the total.",
]


def _stdout(turn: Turn) -> str:
    return "".join(o["text"] for o in turn.outputs if o.get("name") == "stdout")


@pytest.fixture
def session(kernel: object) -> Session:
    """A finished four-turn session, with a hand edit, run in a real kernel."""
    model = ScriptedModel().enqueue(*COMPLETIONS)
    s = Session(model, kernel)  # type: ignore[arg-type]
    params = SamplingParams(max_new_tokens=64, temperature=0.2, seed=7)
    for number, instruction in enumerate(INSTRUCTIONS):
        for _ in s.add_turn(instruction, params):
            pass
        if number == 1:  # the user fixes the second turn by hand before going on
            for _ in s.edit(1, "total = sum(xs) + 10\nprint('total', total)\n"):
                pass
    return s


def test_round_trip_gives_the_same_turns_and_the_same_prompt(
    session: Session, tmp_path: Path
) -> None:
    assert [_stdout(t) for t in session.turns] == ["[1, 2, 3]\n", "total 16\n", "", "32\n"]
    store = SessionStore(tmp_path / "store")
    info = store.create("sorting", session.turns, {"preamble": session.preamble})
    turns, meta = store.load(info.id)
    assert turns == session.turns
    assert meta["title"] == "sorting" and meta["preamble"] == PREAMBLE
    resumed = Session(session.model, session.kernel, turns, preamble=meta["preamble"])
    for instruction in ("Print the total again.", "Second line\n\nafter a blank"):
        assert resumed.prompt_for(instruction, 64) == session.prompt_for(instruction, 64)
    # The file is a valid notebook a person can read: comment then code, in order.
    nb = nbformat.read(store.path(info.id), as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].source == PREAMBLE.rstrip("\n")
    assert nb.cells[2].source == "# Add them up.\n# Print the total.\n" + session.turns[1].code
    cell_meta = nb.cells[2].metadata[META_KEY]
    assert cell_meta["edited"] is True and cell_meta["params"]["seed"] == 7
    assert cell_meta["completion"] == COMPLETIONS[1]
    assert cell_meta["model"] == "scripted" and cell_meta["prompt_format"] == "paper"
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata[META_KEY]["version"]


def test_script_is_the_prompt_history_and_runs_with_python(
    session: Session, tmp_path: Path
) -> None:
    script = to_script(session.turns, session.preamble)
    assert script + "# next\n" == session.prompt_for("next", 64).text
    path = tmp_path / "program.py"
    path.write_text(script, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout == "".join(_stdout(t) for t in session.turns)


def test_exported_notebook_executes_under_nbclient_with_the_same_outputs(
    session: Session, tmp_path: Path
) -> None:
    from nbclient import NotebookClient

    store = SessionStore(tmp_path / "store")
    info = store.create("run me", session.turns)
    exported = store.export_ipynb(info.id)
    assert exported.suffix == ".ipynb" and exported.is_relative_to(store.exports_dir)
    nb = nbformat.read(exported, as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    ran = [c for c in nb.cells if "instruction" in c.metadata.get(META_KEY, {})]
    assert len(ran) == len(session.turns)
    for cell, turn in zip(ran, session.turns, strict=True):
        assert cell.outputs == list(turn.outputs)


def test_each_cell_records_the_format_and_model_it_was_written_with(kernel: object) -> None:
    model = ScriptedModel(name="smol", has_chat_template=True).enqueue("x = 1\n```", "y = x\n")
    s = Session(model, kernel, prompt_format="chat")  # type: ignore[arg-type]
    for instruction in ("Set x to 1.", "Copy x to y."):
        for _ in s.add_turn(instruction, SamplingParams(max_new_tokens=8)):
            pass
    s.set_code(s.add_code_cell(""), "z = 2")  # the user's own cell: written by no model
    nb = to_notebook(s.turns)
    metas = [c.metadata[META_KEY] for c in nb.cells[1:]]
    assert [(m["model"], m["prompt_format"]) for m in metas] == [
        ("smol", "chat"),
        ("smol", "chat"),
        ("", ""),
    ]
    turns, _ = from_notebook(nb)
    assert [t.prompt_format for t in turns] == ["chat", "chat", ""]
    # A notebook saved before turns recorded their format reads and replays as before.
    for cell in nb.cells[1:]:
        del cell.metadata[META_KEY]["prompt_format"]
    old, _ = from_notebook(nb)
    assert [t.prompt_format for t in old] == ["", "", ""] and [t.code for t in old] == [
        t.code for t in turns
    ]
    resumed = Session(model, kernel, old, prompt_format="chat")  # type: ignore[arg-type]
    assert [t.status for t in resumed.replay()][-1] == "ok" and resumed.turns[2].status == "ok"
    assert resumed.prompt_for("Print y.", 8) == s.prompt_for("Print y.", 8)


def test_turns_saved_mid_flight_load_as_not_run() -> None:
    nb = to_notebook([Turn("half done", completion="x = ", code="x = ", status="generating")])
    (turn,), _ = from_notebook(nb)
    assert turn.status == "not-run" and turn.code == "x = "


def test_code_edited_in_jupyter_is_read_from_the_source() -> None:
    nb = to_notebook([Turn("make x", code="x = 1\n", status="ok")])
    nb.cells[1].source = "# make x\nx = 2\n"
    (turn,), _ = from_notebook(nb)
    assert turn.code == "x = 2\n" and turn.instruction == "make x"


def test_a_custom_preamble_is_kept_exactly() -> None:
    preamble = "# Import libraries.\n\nimport math\n\n\n"
    turns, meta = from_notebook(to_notebook([Turn("a", code="a = 1")], {"preamble": preamble}))
    assert meta["preamble"] == preamble
    assert to_script(turns, meta["preamble"]) == preamble + "# a\na = 1\n\n"


def test_metadata_of_the_wrong_type_is_ignored_not_trusted() -> None:
    nb = to_notebook([Turn("t", code="t = 1", status="ok")])
    nb.cells[1].metadata[META_KEY].update(
        params={"max_new_tokens": "999", "temperature": 1, "seed": "x", "top_p": True},
        stats="nope",
        status="rm -rf",
        model=["m"],
    )
    (turn,), _ = from_notebook(nb)
    assert turn.params == SamplingParams(temperature=1.0)
    assert turn.status == "not-run" and turn.model == ""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe{", "not UTF-8"),
        (b"[1, 2]", "no nbformat"),
        (b'{"nbformat": 5, "nbformat_minor": 0}', "only 3 and 4"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "cells": 3, "metadata": {}}', "not a valid"),
        (json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}}).encode(), "not a valid"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": ' + b"[" * 50_000, "JSON"),
    ],
)
def test_what_is_not_a_notebook_gets_a_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(NotebookError, match=reason):
        parse(data, "upload.ipynb")

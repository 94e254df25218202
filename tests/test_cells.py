"""The notebook's cells as HTML: the stable hooks, the live state, the actions a cell offers."""

from __future__ import annotations

import re

from codegen_ui.core import GenerationStats, Turn
from codegen_ui.web.notebook_html import NotebookView, render_banner, render_cell, render_notebook


def stream(text: str) -> dict[str, object]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_a_cell_shows_instruction_highlighted_code_badge_outputs_and_hooks() -> None:
    turn = Turn(
        "add <two> numbers",
        code="x = 1 + 2\nprint(x)\n",
        outputs=(stream("3\n"),),
        status="ok",
        execution_count=4,
        message="a note",
        stats=GenerationStats(new_tokens=9, generate_s=0.5, run_s=0.25, trimmed_turns=2),
    )
    out = render_cell(turn, 2, NotebookView([turn]))
    assert 'data-cell="3"' in out and 'data-status="ok"' in out
    assert 'data-generate-s="0.5000"' in out and 'data-run-s="0.2500"' in out
    assert "add &lt;two&gt; numbers" in out
    assert '<span class="n">x</span>' in out  # pygments token classes
    assert "[4]" in out and "9 tokens in 0.5 s" in out and "2 early turns left out" in out
    assert '<div class="cg-msg">a note</div>' in out
    assert "3\n</pre>" in out
    actions = re.findall(r'data-action="([a-z-]+)"', out)
    assert actions == ["edit", "run", "regenerate", "delete"]
    assert " disabled" not in out


def test_states_use_the_public_vocabulary_and_a_working_cell_shows_a_star() -> None:
    nb = NotebookView([])
    cases = [
        ("generating", "running"),
        ("running", "running"),
        ("timeout", "error"),
        ("died", "error"),
        ("cancelled", "stopped"),
        ("empty", "empty"),
        ("not-run", "not-run"),
    ]
    for own, public in cases:
        out = render_cell(Turn("x", status=own, execution_count=3), 0, nb)  # type: ignore[arg-type]
        assert f'data-status="{public}"' in out and f'data-state="{own}"' in out
    writing = render_cell(Turn("x", status="generating"), 0, nb)
    assert "[*]" in writing and "writing code" in writing and "cg-caret" in writing
    queued = render_cell(Turn("x", status="generating"), 0, NotebookView([], ahead=2))
    assert 'data-status="waiting"' in queued and "waiting for the model, 2 ahead" in queued


def test_busy_disables_every_action_but_edit_and_a_cell_in_edit_mode_has_its_editor() -> None:
    turn = Turn("set <a>", code="a = '</textarea>'", status="ok")
    busy = render_cell(turn, 0, NotebookView([turn], busy=True))
    assert re.findall(r'data-action="(\w+)"[^>]*disabled', busy) == ["run", "regenerate", "delete"]
    editing = render_cell(turn, 0, NotebookView([turn], editing=0))
    assert 'data-editing="true"' in editing
    assert '<textarea class="cg-editor" data-field="code"' in editing
    assert "a = &#x27;&lt;/textarea&gt;&#x27;</textarea>" in editing  # escaped, cannot break out
    assert 'data-field="instruction"' in editing and "set &lt;a&gt;</textarea>" in editing
    assert re.findall(r'data-action="(\w+)"', editing) == ["run", "complete", "regenerate", "leave"]
    no_model = render_cell(turn, 0, NotebookView([turn], can_generate=False))
    assert re.findall(r'data-action="(\w+)"[^>]*disabled', no_model) == ["regenerate"]


def test_the_notebook_carries_revision_session_pending_toast_and_banners() -> None:
    turns = [Turn("one", code="a = 1", status="ok"), Turn("two", code="b = 2", status="error")]
    nb = NotebookView(
        turns, pending=["next <step>"], note="heads <up>", session_id="abc", revision=7,
        offer_replay=True, conflict="Not saved: changed elsewhere.",
    )  # fmt: skip
    out = render_notebook(nb)
    assert out.count('class="cg-cell') == 2
    assert 'data-revision="7"' in out and 'data-session="abc"' in out
    assert "<li>next &lt;step&gt;</li>" in out
    assert '<div class="cg-toast" role="status">heads &lt;up&gt;</div>' in out
    assert 'data-action="replay"' in out
    assert 'data-action="reload"' in out and 'data-action="keep-copy"' in out
    assert "No turns yet" in render_notebook(NotebookView([]))
    assert render_banner("") == "" and 'role="alert"' in render_banner("it <failed>")


def test_complete_is_offered_on_the_users_own_code_and_in_every_editor() -> None:
    own = Turn("My own code.", code="def add(a, b):\n", status="not-run", edited=True)
    generated = Turn("add", code="x = 1", status="ok")
    empty = Turn("My own code.", status="not-run", edited=True)
    actions = re.findall(r'data-action="(\w+)"', render_cell(own, 0, NotebookView([own])))
    assert actions == ["edit", "run", "complete", "regenerate", "delete"]
    assert "complete" not in render_cell(generated, 0, NotebookView([generated]))
    for turn in (generated, empty):  # the editor's text is the user's: Complete is there
        editing = render_cell(turn, 0, NotebookView([turn], editing=0))
        assert re.search(r'data-action="complete"[^>]*>Complete \(Ctrl\+Space\)<', editing)
    off = r'data-action="(\w+)"[^>]*disabled'
    assert "complete" in re.findall(off, render_cell(empty, 0, NotebookView([empty])))
    assert "complete" in re.findall(off, render_cell(own, 0, NotebookView([own], busy=True)))
    no_model = render_cell(own, 0, NotebookView([own], can_generate=False))
    assert re.findall(off, no_model) == ["complete", "regenerate"]


def test_every_action_the_page_can_send_is_one_cell_action_named_once() -> None:
    from codegen_ui.web.cellaction import CellAction
    from codegen_ui.web.script import NOTEBOOK_JS

    own = Turn("My own code.", code="x = 1", status="not-run", edited=True)
    raised = {"output_type": "error", "ename": "NameError", "evalue": "x", "traceback": []}
    failed = Turn("Print y.", code="print(y)", status="error", outputs=(raised,))  # Fix
    nb = NotebookView([own, failed], offer_replay=True, conflict="changed elsewhere")
    drawn = set(re.findall(r'data-action="([\w-]+)"', render_notebook(nb)))
    drawn |= set(
        re.findall(r'data-action="([\w-]+)"', render_cell(own, 0, NotebookView([own], editing=0)))
    )
    assert drawn == {
        a.value for a in CellAction
    }  # every button is an action, every action a button
    # The script reads the list from Python and spells no action of its own.
    assert NOTEBOOK_JS.startswith(f"const ACTION = {CellAction.as_json()};\n")
    body = NOTEBOOK_JS.split("\n", 1)[1]
    used = set(re.findall(r"ACTION\.(\w+)", body))
    assert used and used <= set(CellAction.__members__)
    for action in CellAction:
        assert f"'{action.value}'" not in body and f'"{action.value}"' not in body

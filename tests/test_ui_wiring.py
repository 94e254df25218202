"""The Gradio page's wiring without a browser: what an event shows is keyed by component and
put in order by Gradio, every view changes only what it means to, and the sampling settings
reach the handlers by name."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import gradio as gr
import pytest

from codegen_ui.core import SamplingParams
from codegen_ui.notebooks import SessionStore
from codegen_ui.settings import Settings
from codegen_ui.web.app import assemble
from codegen_ui.web.controller import Controller, View
from codegen_ui.web.layout import Components, page
from codegen_ui.web.ui import Handlers, _wire, build_app
from codegen_ui.workspace import ModelHolder
from tests.fakes import EchoPool, ScriptedModel

GREEDY = SamplingParams(max_new_tokens=32)
# Building a gr.Blocks leaves asyncio event loops (and their sockets) unclosed: Gradio's own
# (see conftest's `_collect_gradio_loops`), as in tests/test_api.py.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[gr.Blocks, Components, Handlers, Controller]]:
    model = ScriptedModel().enqueue("a = 1\n", "b = 2\n")
    c = assemble(ModelHolder.ready(model), EchoPool(), SessionStore(tmp_path / "s"), False)
    with gr.Blocks() as demo:
        parts = page(Settings())
        handlers = Handlers(c, parts)
        _wire(demo, parts, handlers)
    yield demo, parts, handlers, c
    c.workspaces.shutdown()


def parts_of(part: Any) -> list[Any]:
    """The components in a layout part, its own parts' included."""
    if dataclasses.is_dataclass(part):
        return [c for f in dataclasses.fields(part) for c in parts_of(getattr(part, f.name))]
    if isinstance(part, tuple):
        return [c for item in part for c in parts_of(item)]
    return [part] if isinstance(part, gr.components.Component) else []


def test_the_page_holds_the_layouts_components_and_only_those(tmp_path: Path) -> None:
    # Nothing made while wiring (an update built too early, say) may join the page.
    c = assemble(ModelHolder.ready(ScriptedModel()), EchoPool(), SessionStore(tmp_path), False)
    try:
        demo = build_app(c, Settings())
        made = [b for b in demo.blocks.values() if isinstance(b, gr.components.Component)]
        with gr.Blocks():
            parts = page(Settings())
        known = parts_of(parts)
        assert len(known) == len(set(known)) == 43
        texts = [b for b in made if isinstance(b, gr.Markdown) and b.elem_id is None]
        assert len(texts) == 2  # the heading and the prompt tab's explanation
        kinds = Counter(type(b).__name__ for b in made if b not in texts)
        assert kinds == Counter(type(b).__name__ for b in known)
    finally:
        c.workspaces.shutdown()


def test_every_event_that_shows_a_view_outputs_what_show_may_change(
    wired: tuple[gr.Blocks, Components, Handlers, Controller],
) -> None:
    demo, parts, h, _ = wired
    outputs = h.outputs()
    assert len(set(outputs)) == len(outputs) == 17
    col = parts.column
    buttons = {col.submit, col.stop, col.undo, col.redo, col.restart, col.replay, col.add_code}
    assert buttons <= set(outputs) and parts.timer not in outputs
    showing = [fn for fn in demo.fns.values() if fn.name not in ("export", "download_file")]
    shows = {fn.name: fn.outputs for fn in showing if fn.outputs and fn.name != "tick"}
    assert set(shows) >= {"load", "submit", "cell", "undo", "files", "restore"}
    # The page's load, Share and Copy to my own also show the follow view and the Share panel.
    following = [parts.follow, parts.work, parts.timer, parts.session.share.link]
    wider = {"load": following, "copy_own": following, "share": following[-1:],
             "end_share": following[-1:]}  # fmt: skip
    assert all(out == outputs + wider.get(name, []) for name, out in shows.items())


def test_a_busy_view_leaves_what_changes_only_at_the_end_and_buttons_only_when_asked(
    wired: tuple[gr.Blocks, Components, Handlers, Controller],
) -> None:
    _, parts, h, c = wired
    col, session = parts.column, parts.session
    views = list(c.submit("tab", "set a", GREEDY))
    busy, final = views[0], views[-1]
    assert busy.busy and not final.busy
    at_end = {parts.prompt.prompt, parts.prompt.info, session.title, session.saved,
              session.trash, session.files.files}  # fmt: skip
    shown = h.show(busy)
    assert not at_end & set(shown)
    assert shown[col.notebook] == busy.notebook and shown[col.instruction] == ""
    assert shown[col.stop].interactive is True and shown[col.undo].interactive is False
    quiet = h.show(busy, buttons=False)
    assert set(quiet) == set(shown) - set(h.outputs()[-7:])
    last = h.show(final)
    assert set(last) == set(h.outputs()) - {col.instruction}  # the box is left as typed
    assert last[parts.prompt.prompt] == final.prompt and last[session.title] == final.title
    assert last[col.stop].interactive is False and last[col.undo].interactive is True
    # A tab without a workspace clears the prompt and title, as before.
    empty = h.show(c.views.empty("busy"))
    assert empty[parts.prompt.prompt] == "" and empty[session.title] == ""


def test_gradio_puts_a_shown_dict_in_the_order_of_the_outputs_skipping_the_rest(
    wired: tuple[gr.Blocks, Components, Handlers, Controller],
) -> None:
    demo, parts, h, _ = wired
    undo = next(fn for fn in demo.fns.values() if fn.name == "undo")
    view = View(notebook="<p>nb</p>", status="ready", busy=True)
    values = asyncio.run(demo.postprocess_data(undo, h.show(view, buttons=False), None))
    outputs = h.outputs()
    assert len(values) == len(outputs)
    by_component = dict(zip(outputs, values, strict=True))
    assert by_component[parts.column.notebook] == "<p>nb</p>"
    assert by_component[parts.status] == "ready"
    # An update with no value leaves the component as it is (an HTML's carries its props).
    skipped = [
        out
        for out, value in by_component.items()
        if isinstance(value, dict) and value.get("__type__") == "update" and "value" not in value
    ]
    assert parts.prompt.prompt in skipped and parts.column.submit in skipped
    assert len(skipped) == len(outputs) - 3  # notebook, status and the (empty) banner change


def test_the_sampling_settings_reach_submit_and_cell_by_parameter_name(
    wired: tuple[gr.Blocks, Components, Handlers, Controller],
) -> None:
    demo, parts, h, _ = wired
    knobs = parts.settings
    for name in ("submit", "cell"):
        fn = next(fn for fn in demo.fns.values() if fn.name == name)
        assert fn.input_keyword_names == ["temperature", "top_p", "max_new", "seed"]
        assert fn.inputs[-4:] == [knobs.temperature, knobs.top_p, knobs.max_new, knobs.seed]
        params = inspect.signature(getattr(h, name)).parameters
        keyword_only = [p.name for p in params.values() if p.kind is p.KEYWORD_ONLY]
        assert keyword_only == fn.input_keyword_names


def test_a_files_panel_download_press_is_decoded_by_the_controller(tmp_path: Path) -> None:
    c = assemble(ModelHolder.ready(ScriptedModel()), EchoPool(), SessionStore(tmp_path), False)
    try:
        upload = tmp_path / "upload" / "data.csv"
        upload.parent.mkdir()
        upload.write_bytes(b"a,b\n1,2\n")
        c.upload_files("tab", [str(upload)])
        got = c.file_pressed("tab", {"name": "data.csv"})
        assert got.path is not None and Path(got.path).read_bytes() == b"a,b\n1,2\n"
        assert got.files is not None and "could not be downloaded" not in got.files
        for bad in ({"name": "../../etc/passwd"}, None, "data.csv"):
            refused = c.file_pressed("tab", bad)
            assert refused.path is None and "could not be downloaded" in (refused.files or "")
    finally:
        c.workspaces.shutdown()


def test_a_files_panel_download_press_shows_the_file_and_the_panel_by_name(
    wired: tuple[gr.Blocks, Components, Handlers, Controller], tmp_path: Path
) -> None:
    demo, parts, h, c = wired
    files = parts.session.files
    fn = next(fn for fn in demo.fns.values() if fn.name == "download_file")
    assert set(fn.outputs) == {files.file, files.files}
    upload = tmp_path / "upload" / "data.csv"
    upload.parent.mkdir()
    upload.write_bytes(b"a,b\n1,2\n")
    c.upload_files("tab", [str(upload)])
    tab = cast(gr.Request, SimpleNamespace(session_hash="tab"))

    def press(request: gr.Request, name: str) -> dict[Any, Any]:
        evt = cast(gr.EventData, SimpleNamespace(_data={"name": name}))
        values = asyncio.run(demo.postprocess_data(fn, h.download_file(evt, request), None))
        return dict(zip(fn.outputs, values, strict=True))

    sent = press(tab, "data.csv")
    assert Path(sent[files.file]["path"]).read_bytes() == b"a,b\n1,2\n"
    assert 'data-file="data.csv"' in sent[files.files]
    gone = press(tab, "gone.csv")
    assert gone[files.file] is None  # the hidden button keeps no older file to press
    assert "gone.csv could not be downloaded" in gone[files.files]
    # A tab without a workspace: nothing to send, and the panel is left as it is.
    other = press(cast(gr.Request, SimpleNamespace(session_hash="no such tab")), "data.csv")
    assert other[files.file] is None
    left = other[files.files]
    assert isinstance(left, dict) and left.get("__type__") == "update" and "value" not in left

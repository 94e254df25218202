"""The Gradio page: components, layout and event wiring, and nothing else.

Each handler is a few lines that call one `Controller` action with the browser session's key and
show the `View`s it returns. The notebook is one `gr.HTML` whose script (`web.script`) sends
every cell's buttons and keys as one `cell` event. Prompting, parsing, saving and rendering live
elsewhere; the collaborators are built and the server launched in `codegen_ui.web.app`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from codegen_ui.core import SamplingParams
from codegen_ui.settings import Settings
from codegen_ui.web.api import SessionApi
from codegen_ui.web.controller import CellEvent, Controller, View
from codegen_ui.web.endpoints import endpoints
from codegen_ui.web.layout import (
    DOWNLOADS,
    Components,
    notebook_column,
    prompt_tab,
    session_panel,
    settings_panel,
)
from codegen_ui.web.notebook_html import render_banner

TIMER_S = 1.0  # how often the status bar refreshes while the model loads


def _params(temperature: float, top_p: float, max_new: float, seed: float | None) -> SamplingParams:
    return SamplingParams(
        max_new_tokens=int(max_new),
        temperature=float(temperature),
        top_p=float(top_p),
        seed=None if seed is None or seed < 0 else int(seed),  # -1 (or empty) draws a fresh seed
    )


def _key(request: gr.Request) -> str:
    return str(request.session_hash)


OUTPUTS = ("notebook", "status", "banner", "prompt", "prompt_info", "instruction", "title",
           "saved", "trash", "files")  # fmt: skip
BUTTONS = ("submit", "stop", "undo", "redo", "restart", "replay", "add_code")
SETTINGS = ("temperature", "top_p", "max_new", "seed")


def build_app(
    controller: Controller, settings: Settings, api: SessionApi | None = None
) -> gr.Blocks:
    """The Blocks app over a controller, with the session API's endpoints when given; launch
    it with `launch`."""
    c: Components = {}
    with gr.Blocks(title="codegen-ui", analytics_enabled=False, fill_width=True) as demo:
        gr.Markdown("### codegen-ui: describe each step in English, get Python, run it")
        c["status"] = gr.Markdown("starting…", elem_id="status")
        c["banner"] = gr.HTML("", elem_id="banner", js_on_load=None)
        with gr.Row():
            with gr.Column(scale=3, min_width=320), gr.Tabs():
                with gr.Tab("Notebook", elem_id="tab-notebook"):
                    notebook_column(c)
                with gr.Tab("Prompt", elem_id="tab-prompt"):
                    prompt_tab(c)
            with gr.Column(scale=1, min_width=280):
                settings_panel(c, settings)
                session_panel(c)
        c["timer"] = gr.Timer(TIMER_S)
        _wire(demo, c, Handlers(controller))
        if api is not None:
            endpoints(api)  # the page's own events stay private; these are the public ones
    demo.queue(default_concurrency_limit=settings.max_kernels)
    return demo


Shown = tuple[Any, ...]  # one value (or gr.skip()) per name in OUTPUTS, then BUTTONS


def _submitbutton(blocked: str, busy: bool) -> Any:
    label = "Submit (unavailable: the model failed to load)" if blocked else "Submit"
    return gr.Button(label, interactive=not (blocked or busy))


def _choices(choices: tuple[tuple[str, str], ...] | None, value: str | None) -> Any:
    return gr.skip() if choices is None else gr.Dropdown(choices=list(choices), value=value)


class Handlers:
    """Gradio event handlers: each calls one controller action and shows what it returns."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def show(self, view: View, key: str, buttons: bool = True) -> Shown:
        final = not view.busy  # downloads, title and the session list change only at the end
        shown = (
            view.notebook,
            view.status,
            render_banner(view.blocked),
            view.prompt if final else gr.skip(),
            view.prompt_info if final else gr.skip(),
            view.instruction if view.instruction is not None else gr.skip(),
            view.title if final else gr.skip(),
            _choices(view.sessions, view.session_id),
            _choices(view.trash, None),
            view.files if view.files is not None else gr.skip(),
        )
        if not buttons:
            return shown + (gr.skip(),) * len(BUTTONS)
        idle = not view.busy
        return (
            *shown,
            _submitbutton(view.blocked, view.busy),
            gr.Button(interactive=view.busy),
            gr.Button(interactive=idle and view.can_undo),
            gr.Button(interactive=idle and view.can_redo),
            gr.Button(interactive=idle),
            gr.Button(interactive=idle),
            gr.Button(interactive=idle),
        )

    def stream(self, views: Iterator[View], request: gr.Request) -> Iterator[Shown]:
        busy: bool | None = None
        for view in views:  # buttons change only when the busy state does
            yield self.show(view, _key(request), buttons=view.busy != busy)
            busy = view.busy

    def load(self, request: gr.Request) -> Shown:
        session_id = dict(request.query_params).get("session")
        return self.show(self.c.open_page(_key(request), session_id), _key(request))

    def submit(
        self, text: str, t: float, p: float, n: float, s: float | None, request: gr.Request
    ) -> Iterator[Shown]:
        yield from self.stream(self.c.submit(_key(request), text, _params(t, p, n, s)), request)

    def cell(
        self, t: float, p: float, n: float, s: float | None, evt: gr.EventData, request: gr.Request
    ) -> Iterator[Shown]:
        event = CellEvent.parse(getattr(evt, "_data", None))
        views = self.c.cell(_key(request), event, _params(t, p, n, s))
        yield from self.stream(views, request)

    def replay(self, request: gr.Request) -> Iterator[Shown]:
        yield from self.stream(self.c.replay(_key(request)), request)

    def add_code(self, text: str, request: gr.Request) -> Shown:
        return self.show(self.c.add_code(_key(request), text), _key(request))

    def undo(self, request: gr.Request) -> Shown:
        return self.show(self.c.undo(_key(request)), _key(request))

    def redo(self, request: gr.Request) -> Shown:
        return self.show(self.c.redo(_key(request)), _key(request))

    def restart(self, request: gr.Request) -> Shown:
        return self.show(self.c.restart(_key(request)), _key(request))

    def example(self, name: str, request: gr.Request) -> Shown:
        return self.show(self.c.load_example(_key(request), name), _key(request))

    def upload(self, path: str, request: gr.Request) -> Shown:
        return self.show(self.c.upload(_key(request), path), _key(request))

    def rename(self, text: str, request: gr.Request) -> Shown:
        return self.show(self.c.rename(_key(request), text), _key(request))

    def new(self, request: gr.Request) -> Shown:
        return self.show(self.c.new_session(_key(request)), _key(request))

    def open(self, session_id: str | None, request: gr.Request) -> Shown:
        return self.show(self.c.open_session(_key(request), session_id), _key(request))

    def copy(self, request: gr.Request) -> Shown:
        return self.show(self.c.duplicate_session(_key(request)), _key(request))

    def delete(self, session_id: str | None, request: gr.Request) -> Shown:
        return self.show(self.c.delete_session(_key(request), session_id), _key(request))

    # Written when pressed, from the saved session; None (nothing saved yet) fetches nothing.
    def download_ipynb(self, request: gr.Request) -> str | None:
        return self.c.export(_key(request), "ipynb")

    def download_py(self, request: gr.Request) -> str | None:
        return self.c.export(_key(request), "py")

    def download_zip(self, request: gr.Request) -> str | None:
        return self.c.export(_key(request), "zip")

    def upload_files(self, files: list[str] | None, request: gr.Request) -> Shown:
        return self.show(self.c.upload_files(_key(request), list(files or [])), _key(request))

    def files(self, evt: gr.EventData, request: gr.Request) -> Shown:
        data = getattr(evt, "_data", None)
        return self.show(self.c.files_action(_key(request), data), _key(request))

    def download_file(self, evt: gr.EventData, request: gr.Request) -> tuple[Any, Any]:
        data = getattr(evt, "_data", None)
        name = str(data.get("name") or "") if isinstance(data, dict) else ""
        path, panel = self.c.download_file(_key(request), name)
        return path, panel if panel is not None else gr.skip()

    def restore(self, session_id: str | None, request: gr.Request) -> Shown:
        return self.show(self.c.restore_session(_key(request), session_id), _key(request))

    def stop(self, request: gr.Request) -> None:
        self.c.stop(_key(request))

    def tick(self, request: gr.Request) -> tuple[Any, ...]:
        ws = self.c.workspaces.peek(_key(request))
        settling = ws is None or ws.kernel.state == "restarting"
        blocked = self.c.views.blocked()
        busy = ws is not None and ws.lock.locked()
        return (
            self.c.status(ws),
            render_banner(blocked),
            _submitbutton(blocked, busy),
            gr.Timer(active=self.c.holder.loading or settling),
        )

    def unload(self, request: gr.Request) -> None:
        self.c.close_page(_key(request))  # the tab closed: its kernel waits out the grace


def _wire(demo: gr.Blocks, c: Components, h: Handlers) -> None:
    out = [c[name] for name in OUTPUTS + BUTTONS]
    knobs = [c[name] for name in SETTINGS]
    # No public API endpoints; no progress pulse over the page: the cells show what runs.
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    work = {**private, "concurrency_id": "work"}
    instant = {**private, "concurrency_limit": None}
    demo.load(h.load, None, out, **private)
    gr.on([c["submit"].click, c["instruction"].submit], h.submit, [c["instruction"], *knobs], out,
          **work)  # fmt: skip
    # Edit and Escape must answer while the tab's own turn streams: not behind the work queue.
    c["notebook"].cell(h.cell, knobs, out, **instant)
    c["add_code"].click(h.add_code, c["instruction"], out, **work)
    c["replay"].click(h.replay, None, out, **work)
    c["undo"].click(h.undo, None, out, **work)
    c["redo"].click(h.redo, None, out, **work)
    c["restart"].click(h.restart, None, out, **work)
    c["load_example"].click(h.example, c["example"], out, **work)
    c["upload"].upload(h.upload, c["upload"], out, **work)
    c["title"].blur(h.rename, c["title"], out, **work)
    c["new"].click(h.new, None, out, **work)
    c["open"].click(h.open, c["saved"], out, **work)
    c["copy"].click(h.copy, None, out, **work)
    c["delete"].click(h.delete, c["saved"], out, **work)
    c["restore"].click(h.restore, c["trash"], out, **work)
    for fmt in DOWNLOADS:
        file = c[f"file_{fmt}"]
        handler = getattr(h, f"download_{fmt}")
        c[f"download_{fmt}"].click(handler, None, file, **work).then(
            None, None, None, js=f"() => document.querySelector('#file-{fmt}')?.click()"
        )
    c["upload_files"].upload(h.upload_files, c["upload_files"], out, **work)
    c["files"].files(h.files, None, out, **work)
    c["files"].filedownload(h.download_file, None, [c["file_data"], c["files"]], **private).then(
        None, None, None, js="() => document.querySelector('#file-data')?.click()"
    )
    c["stop"].click(h.stop, None, None, **instant)
    c["timer"].tick(h.tick, None, [c["status"], c["banner"], c["submit"], c["timer"]], **instant)
    demo.unload(h.unload)

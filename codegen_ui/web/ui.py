"""The Gradio page: components, layout and event wiring, and nothing else.

Each handler is a few lines that call one `Controller` action with the browser session's key and
show the `View`s it returns. Prompting, parsing, saving and rendering live elsewhere; the
collaborators are built and the server launched in `codegen_ui.web.app`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from codegen_ui.engine import SamplingParams
from codegen_ui.settings import Settings
from codegen_ui.web.controller import Controller, View
from codegen_ui.web.examples import EXAMPLES

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


Components = dict[str, Any]  # the page's components by name
OUTPUTS = ("notebook", "status", "prompt", "prompt_info", "cell", "editor", "instruction",
           "title", "saved")  # fmt: skip
SETTINGS = ("temperature", "top_p", "max_new", "seed")
DOWNLOADS = ("ipynb", "py")


def build_app(controller: Controller, settings: Settings) -> gr.Blocks:
    """The Blocks app over a controller; launch it with `launch`."""
    c: Components = {}
    with gr.Blocks(title="codegen-ui", analytics_enabled=False, fill_width=True) as demo:
        gr.Markdown("### codegen-ui: describe each step in English, get Python, run it")
        c["status"] = gr.Markdown("starting…", elem_id="status")
        with gr.Row():
            with gr.Column(scale=3):
                _notebook_column(c)
            with gr.Column(scale=1):
                _settings_panel(c, settings)
                _session_panel(c)
        c["timer"] = gr.Timer(TIMER_S)
        _wire(demo, c, Handlers(controller))
    demo.queue(default_concurrency_limit=settings.max_kernels)
    return demo


def _button(label: str, elem_id: str, **kw: Any) -> Any:
    return gr.Button(label, size=kw.pop("size", "md"), min_width=kw.pop("min_width", 90),
                     elem_id=elem_id, **kw)  # fmt: skip


def _notebook_column(c: Components) -> None:
    c["notebook"] = gr.HTML(elem_id="notebook", js_on_load=None, max_height=720)
    c["instruction"] = gr.Textbox(
        elem_id="instruction",
        show_label=False,
        lines=1,
        max_lines=8,
        placeholder="Describe the next step (Enter runs it, Shift+Enter adds a line)",
    )
    with gr.Row():
        c["submit"] = _button("Submit", "submit", variant="primary")
        c["stop"] = _button("Stop", "stop", variant="stop")
        c["regenerate"] = _button("Regenerate", "regenerate")
        c["undo"] = _button("Undo", "undo")
        c["restart"] = _button("Restart kernel", "restart-kernel")
        c["replay"] = _button("Replay all", "replay")
    with gr.Accordion("Edit and re-run a cell", open=True):
        c["cell"] = gr.Number(label="Cell", value=0, precision=0, elem_id="cell-number")
        c["editor"] = gr.Code(language="python", label="Code", elem_id="code-editor")
        c["run_code"] = gr.Button("Run this code in the cell", elem_id="run-code")


def _settings_panel(c: Components, s: Settings) -> None:
    with gr.Accordion("Settings", open=True):
        c["temperature"] = gr.Slider(
            0, 1.5, s.temperature, step=0.05, label="Temperature (0 = greedy)"
        )
        c["top_p"] = gr.Slider(0.05, 1, s.top_p, step=0.05, label="Top-p")
        c["max_new"] = gr.Slider(16, 512, s.max_new_tokens, step=16, label="Max new tokens")
        seed = -1 if s.seed is None else s.seed
        c["seed"] = gr.Number(seed, precision=0, label="Seed (-1 = a fresh one each turn)")
    with gr.Accordion("Examples", open=True):
        titles = [t for t, _ in EXAMPLES]
        c["example"] = gr.Dropdown(
            titles, value=titles[0], label="Multi-turn example", elem_id="example"
        )
        c["load_example"] = gr.Button("Load as pending turns", elem_id="load-example")


def _session_panel(c: Components) -> None:
    with gr.Accordion("Session", open=True):
        c["title"] = gr.Textbox(label="Title (saved when you leave the box)", elem_id="title")
        c["saved"] = gr.Dropdown([], label="Saved sessions", elem_id="session-list")
        with gr.Row():
            c["open"] = _button("Open", "open-session", size="sm", min_width=60)
            c["new"] = _button("New", "new-session", size="sm", min_width=60)
            c["copy"] = _button("Copy", "duplicate-session", size="sm", min_width=60)
            c["delete"] = _button("Delete", "delete-session", size="sm", min_width=60,
                                  variant="stop")  # fmt: skip
        for fmt in DOWNLOADS:
            c[f"download_{fmt}"] = _button(f"Download .{fmt}", f"download-{fmt}")
            # The file is made when the button is pressed, then handed to this hidden one.
            c[f"file_{fmt}"] = gr.DownloadButton(elem_id=f"file-{fmt}", elem_classes="cg-hidden")
        c["upload"] = gr.UploadButton(
            "Upload .ipynb", file_types=[".ipynb"], elem_id="upload-ipynb"
        )
    with gr.Accordion("Prompt inspector", open=False):
        c["prompt_info"] = gr.Markdown(elem_id="prompt-info")
        c["prompt"] = gr.Code(
            label="Exact prompt of the last turn", interactive=False, elem_id="prompt"
        )


Shown = tuple[Any, ...]  # one value (or gr.skip()) per name in OUTPUTS


class Handlers:
    """Gradio event handlers: each calls one controller action and shows what it returns."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def show(self, view: View, key: str) -> Shown:
        final = not view.busy  # downloads, title and the session list change only at the end
        sessions = view.sessions
        return (
            view.notebook,
            view.status,
            view.prompt,
            view.prompt_info,
            view.cells if view.code is not None else gr.skip(),
            view.code if view.code is not None else gr.skip(),
            view.instruction if view.instruction is not None else gr.skip(),
            view.title if final else gr.skip(),
            gr.Dropdown(choices=list(sessions), value=view.session_id)
            if sessions is not None
            else gr.skip(),
        )

    def stream(self, views: Iterator[View], request: gr.Request) -> Iterator[Shown]:
        for view in views:
            yield self.show(view, _key(request))

    def load(self, request: gr.Request) -> Shown:
        return self.show(self.c.open_page(_key(request)), _key(request))

    def submit(
        self, text: str, t: float, p: float, n: float, s: float | None, request: gr.Request
    ) -> Iterator[Shown]:
        yield from self.stream(self.c.submit(_key(request), text, _params(t, p, n, s)), request)

    def regenerate(
        self, t: float, p: float, n: float, s: float | None, request: gr.Request
    ) -> Iterator[Shown]:
        yield from self.stream(self.c.regenerate(_key(request), _params(t, p, n, s)), request)

    def run_code(self, index: float, code: str, request: gr.Request) -> Iterator[Shown]:
        yield from self.stream(self.c.run_code(_key(request), int(index or 0) - 1, code), request)

    def replay(self, request: gr.Request) -> Iterator[Shown]:
        yield from self.stream(self.c.replay(_key(request)), request)

    def undo(self, request: gr.Request) -> Shown:
        return self.show(self.c.undo(_key(request)), _key(request))

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

    def stop(self, request: gr.Request) -> None:
        self.c.stop(_key(request))

    def cell(self, index: float, request: gr.Request) -> str:
        return self.c.cell_code(_key(request), int(index or 0) - 1)

    def tick(self, request: gr.Request) -> tuple[str, Any]:
        ws = self.c.workspaces.peek(_key(request))
        settling = ws is None or ws.kernel.state == "restarting"
        return self.c.status(ws), gr.Timer(active=self.c.holder.loading or settling)

    def unload(self, request: gr.Request) -> None:
        self.c.close_page(_key(request))  # the tab closed: its kernel goes too


def _wire(demo: gr.Blocks, c: Components, h: Handlers) -> None:
    out = [c[name] for name in OUTPUTS]
    knobs = [c[name] for name in SETTINGS]
    private: dict[str, Any] = {"api_visibility": "private"}  # no public API endpoints
    work = {**private, "concurrency_id": "work"}
    instant = {**private, "concurrency_limit": None, "show_progress": "hidden"}
    demo.load(h.load, None, out, **private)
    gr.on([c["submit"].click, c["instruction"].submit], h.submit, [c["instruction"], *knobs], out,
          **work)  # fmt: skip
    c["regenerate"].click(h.regenerate, knobs, out, **work)
    c["run_code"].click(h.run_code, [c["cell"], c["editor"]], out, **work)
    c["replay"].click(h.replay, None, out, **work)
    c["undo"].click(h.undo, None, out, **work)
    c["restart"].click(h.restart, None, out, **work)
    c["load_example"].click(h.example, c["example"], out, **work)
    c["upload"].upload(h.upload, c["upload"], out, **work)
    c["title"].blur(h.rename, c["title"], out, **work)
    c["new"].click(h.new, None, out, **work)
    c["open"].click(h.open, c["saved"], out, **work)
    c["copy"].click(h.copy, None, out, **work)
    c["delete"].click(h.delete, c["saved"], out, **work)
    for fmt in DOWNLOADS:
        file = c[f"file_{fmt}"]
        handler = getattr(h, f"download_{fmt}")
        c[f"download_{fmt}"].click(handler, None, file, **work).then(
            None, None, None, js=f"() => document.querySelector('#file-{fmt}')?.click()"
        )
    c["stop"].click(h.stop, None, None, **instant)
    c["cell"].input(h.cell, c["cell"], c["editor"], **instant)
    c["timer"].tick(h.tick, None, [c["status"], c["timer"]], **instant)
    demo.unload(h.unload)

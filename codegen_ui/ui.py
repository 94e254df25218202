"""The Gradio page: components, layout and event wiring, and nothing else.

Each handler is a few lines that call one `Controller` action with the browser session's key and
show the `View`s it returns. Prompting, parsing, saving and rendering live elsewhere. Building
the app (`build_app`) is separate from launching it (`launch`), so tests can launch it on any port.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import gradio as gr

from codegen_ui.controller import Controller, View
from codegen_ui.examples import EXAMPLES
from codegen_ui.model import SamplingParams
from codegen_ui.pool import KernelPool
from codegen_ui.render import CSS, code_css
from codegen_ui.sandbox import kernels_root
from codegen_ui.settings import Settings
from codegen_ui.shelf import LOCAL_HOSTS, Shelf
from codegen_ui.store import SessionStore
from codegen_ui.web import FairGate, ModelHolder
from codegen_ui.workspace import Workspaces

MAX_UPLOAD = "5mb"  # the biggest notebook a user may upload
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


def build_app(controller: Controller, settings: Settings) -> gr.Blocks:
    """The Blocks app over a controller; launch it with `launch`."""
    with gr.Blocks(title="codegen-ui", analytics_enabled=False, fill_width=True) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown("### codegen-ui: describe each step in English, get Python, run it")
        status = gr.Markdown("starting…", elem_id="status")
        with gr.Row():
            with gr.Column(scale=3):
                notebook = gr.HTML(elem_id="notebook", js_on_load=None, max_height=720)
                instruction = gr.Textbox(
                    elem_id="instruction",
                    show_label=False,
                    lines=1,
                    max_lines=8,
                    placeholder="Describe the next step (Enter runs it, Shift+Enter adds a line)",
                )
                with gr.Row():
                    submit = gr.Button(
                        "Submit", size="md", min_width=90, variant="primary", elem_id="submit"
                    )
                    stop = gr.Button(
                        "Stop", size="md", min_width=90, variant="stop", elem_id="stop"
                    )
                    regenerate = gr.Button(
                        "Regenerate", size="md", min_width=90, elem_id="regenerate"
                    )
                    undo = gr.Button("Undo", size="md", min_width=90, elem_id="undo")
                    restart = gr.Button(
                        "Restart kernel", size="md", min_width=90, elem_id="restart-kernel"
                    )
                    replay = gr.Button("Replay all", size="md", min_width=90, elem_id="replay")
                with gr.Accordion("Edit and re-run a cell", open=True):
                    cell = gr.Number(label="Cell", value=0, precision=0, elem_id="cell-number")
                    editor = gr.Code(
                        language="python", label="Code", elem_id="code-editor", interactive=True
                    )
                    run_code = gr.Button("Run this code in the cell", elem_id="run-code")
            with gr.Column(scale=1):
                with gr.Accordion("Settings", open=True):
                    temperature = gr.Slider(
                        0, 1.5, settings.temperature, step=0.05, label="Temperature (0 = greedy)"
                    )
                    top_p = gr.Slider(0.05, 1, settings.top_p, step=0.05, label="Top-p")
                    max_new = gr.Slider(
                        16, 512, settings.max_new_tokens, step=16, label="Max new tokens"
                    )
                    seed = gr.Number(
                        -1 if settings.seed is None else settings.seed,
                        precision=0,
                        label="Seed (-1 = a fresh one each turn)",
                    )
                with gr.Accordion("Examples", open=True):
                    example = gr.Dropdown(
                        [t for t, _ in EXAMPLES],
                        value=EXAMPLES[0][0],
                        label="Multi-turn example",
                        elem_id="example",
                    )
                    load_example = gr.Button("Load as pending turns", elem_id="load-example")
                with gr.Accordion("Session", open=True):
                    title = gr.Textbox(
                        label="Title (saved when you leave the box)", elem_id="title"
                    )
                    saved = gr.Dropdown(
                        [], label="Saved sessions", elem_id="session-list", allow_custom_value=False
                    )
                    with gr.Row():
                        open_session = gr.Button(
                            "Open", size="sm", min_width=60, elem_id="open-session"
                        )
                        new_session = gr.Button(
                            "New", size="sm", min_width=60, elem_id="new-session"
                        )
                        duplicate = gr.Button(
                            "Copy", size="sm", min_width=60, elem_id="duplicate-session"
                        )
                        delete = gr.Button(
                            "Delete",
                            size="sm",
                            min_width=60,
                            variant="stop",
                            elem_id="delete-session",
                        )
                    download_ipynb = gr.DownloadButton("Download .ipynb", elem_id="download-ipynb")
                    download_py = gr.DownloadButton("Download .py", elem_id="download-py")
                    upload = gr.UploadButton(
                        "Upload .ipynb", file_types=[".ipynb"], elem_id="upload-ipynb"
                    )
                with gr.Accordion("Prompt inspector", open=False):
                    prompt_info = gr.Markdown(elem_id="prompt-info")
                    prompt = gr.Code(
                        label="Exact prompt of the last turn", interactive=False, elem_id="prompt"
                    )
        timer = gr.Timer(TIMER_S)

        outputs = [
            notebook,
            status,
            prompt,
            prompt_info,
            cell,
            editor,
            instruction,
            download_ipynb,
            download_py,
            title,
            saved,
        ]
        settings_in = [temperature, top_p, max_new, seed]

        def show(view: View, request: gr.Request) -> tuple[Any, ...]:
            final = not view.busy
            return (
                view.notebook,
                view.status,
                view.prompt,
                view.prompt_info,
                view.cells if view.code is not None else gr.skip(),
                view.code if view.code is not None else gr.skip(),
                view.instruction if view.instruction is not None else gr.skip(),
                controller.export(_key(request), "ipynb") if final else gr.skip(),
                controller.export(_key(request), "py") if final else gr.skip(),
                view.title if final else gr.skip(),
                gr.Dropdown(choices=list(view.sessions), value=view.session_id)
                if view.sessions is not None
                else gr.skip(),
            )

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            return show(controller.open_page(_key(request)), request)

        def on_submit(
            text: str, t: float, p: float, n: float, s: float | None, request: gr.Request
        ) -> Iterator[tuple[Any, ...]]:
            for view in controller.submit(_key(request), text, _params(t, p, n, s)):
                yield show(view, request)

        def on_regenerate(
            t: float, p: float, n: float, s: float | None, request: gr.Request
        ) -> Iterator[tuple[Any, ...]]:
            for view in controller.regenerate(_key(request), _params(t, p, n, s)):
                yield show(view, request)

        def on_run_code(index: float, code: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
            for view in controller.run_code(_key(request), int(index or 0) - 1, code):
                yield show(view, request)

        def on_replay(request: gr.Request) -> Iterator[tuple[Any, ...]]:
            for view in controller.replay(_key(request)):
                yield show(view, request)

        def on_undo(request: gr.Request) -> tuple[Any, ...]:
            return show(controller.undo(_key(request)), request)

        def on_restart(request: gr.Request) -> tuple[Any, ...]:
            return show(controller.restart(_key(request)), request)

        def on_example(name: str, request: gr.Request) -> tuple[Any, ...]:
            return show(controller.load_example(_key(request), name), request)

        def on_upload(path: str, request: gr.Request) -> tuple[Any, ...]:
            return show(controller.upload(_key(request), path), request)

        def on_stop(request: gr.Request) -> None:
            controller.stop(_key(request))

        def on_cell(index: float, request: gr.Request) -> str:
            return controller.cell_code(_key(request), int(index or 0) - 1)

        def on_title(text: str, request: gr.Request) -> tuple[Any, ...]:
            return show(controller.rename(_key(request), text), request)

        def on_new(request: gr.Request) -> tuple[Any, ...]:
            return show(controller.new_session(_key(request)), request)

        def on_open(session_id: str | None, request: gr.Request) -> tuple[Any, ...]:
            return show(controller.open_session(_key(request), session_id), request)

        def on_duplicate(request: gr.Request) -> tuple[Any, ...]:
            return show(controller.duplicate_session(_key(request)), request)

        def on_delete(session_id: str | None, request: gr.Request) -> tuple[Any, ...]:
            return show(controller.delete_session(_key(request), session_id), request)

        def on_tick(request: gr.Request) -> tuple[str, Any]:
            ws = controller.workspaces.peek(_key(request))
            settling = ws is None or ws.kernel.state in ("starting", "restarting")
            active = controller.holder.loading or settling
            return controller.status(ws), gr.Timer(active=active)

        private: dict[str, Any] = {"api_visibility": "private"}
        work = {**private, "concurrency_id": "work"}
        demo.load(on_load, None, outputs, **private)
        gr.on(
            [submit.click, instruction.submit],
            on_submit,
            [instruction, *settings_in],
            outputs,
            **work,
        )
        regenerate.click(on_regenerate, settings_in, outputs, **work)
        run_code.click(on_run_code, [cell, editor], outputs, **work)
        replay.click(on_replay, None, outputs, **work)
        undo.click(on_undo, None, outputs, **work)
        restart.click(on_restart, None, outputs, **work)
        load_example.click(on_example, example, outputs, **work)
        upload.upload(on_upload, upload, outputs, **work)
        stop.click(on_stop, None, None, concurrency_limit=None, **private)
        cell.input(on_cell, cell, editor, concurrency_limit=None, **private)
        title.blur(on_title, title, outputs, **work)
        new_session.click(on_new, None, outputs, **work)
        open_session.click(on_open, saved, outputs, **work)
        duplicate.click(on_duplicate, None, outputs, **work)
        delete.click(on_delete, saved, outputs, **work)
        timer.tick(
            on_tick,
            None,
            [status, timer],
            concurrency_limit=None,
            show_progress="hidden",
            **private,
        )

        def on_unload(request: gr.Request) -> None:
            controller.close_page(_key(request))  # the tab closed: its kernel goes too

        demo.unload(on_unload)
    demo.queue(default_concurrency_limit=settings.max_kernels)
    return demo


def create(settings: Settings, holder: ModelHolder | None = None) -> tuple[gr.Blocks, Controller]:
    """The app for these settings; the model starts loading in the background unless given."""
    if holder is None:
        holder = ModelHolder(settings.model, settings.device).start()
    pool = KernelPool.from_settings(settings)
    pool.refill()  # pre-start kernels so the first tabs do not wait for one
    pool.start_sweeper()
    workspaces = Workspaces(holder, pool, FairGate(1), run_timeout=settings.run_timeout)
    workspaces.start_sweeper()
    shelf = Shelf(SessionStore(settings.sessions_dir), guarded=settings.host not in LOCAL_HOSTS)
    controller = Controller(holder, workspaces, shelf)
    return build_app(controller, settings), controller


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """Serve the app: no monitoring endpoint, a cap on uploads, nothing but the app served."""
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        "max_file_size": MAX_UPLOAD,
        "enable_monitoring": False,
        "footer_links": ["gradio", "settings"],  # no API page
        "blocked_paths": [str(kernels_root(settings.kernels_dir))],
        "css": CSS + code_css(),
        "show_error": False,
        "ssr_mode": False,
        "mcp_server": False,
        "run_history": False,
    }
    options.update(kwargs)
    return demo.launch(**options)


def serve(settings: Settings) -> None:
    """Build, launch and block; on Ctrl-C or SIGTERM every kernel is shut down."""
    demo, controller = create(settings)
    # SIGTERM (a container stopping) ends the server like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        launch(demo, settings)
    finally:
        controller.workspaces.shutdown()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt

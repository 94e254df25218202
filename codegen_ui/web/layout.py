"""The page's components and where they sit, without any behaviour.

`notebook_column` (the notebook, the instruction box and the buttons under it), `prompt_tab`
(the prompt inspector), `settings_panel`, `session_panel` and `files_panel` each add their
components to one dict by name; `ui` wires them to the handlers. Stable `elem_id`s are the
page's hooks for automation. Nothing here handles an event.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from codegen_ui.settings import Settings
from codegen_ui.web.examples import EXAMPLES
from codegen_ui.web.filespanel import FILES_JS
from codegen_ui.web.script import NOTEBOOK_JS

Components = dict[str, Any]  # the page's components by name
DOWNLOADS = ("ipynb", "py", "zip")  # .zip: the notebook with its data files


def button(label: str, elem_id: str, **kw: Any) -> Any:
    return gr.Button(label, size=kw.pop("size", "md"), min_width=kw.pop("min_width", 80),
                     elem_id=elem_id, **kw)  # fmt: skip


def notebook_column(c: Components) -> None:
    # No max height: the page has one scroll, on a desktop and on a phone alike.
    c["notebook"] = gr.HTML(elem_id="notebook", js_on_load=NOTEBOOK_JS)
    c["instruction"] = gr.Textbox(
        elem_id="instruction",
        show_label=False,
        lines=1,
        max_lines=8,
        placeholder="Describe the next step (Enter runs it, Shift+Enter adds a line)",
    )
    with gr.Row():
        c["submit"] = button("Submit", "submit", variant="primary")
        c["add_code"] = button("+ Code cell", "add-code")
        c["stop"] = button("Stop", "stop", variant="stop", interactive=False)
        c["undo"] = button("Undo", "undo", interactive=False)
        c["redo"] = button("Redo", "redo", interactive=False)
        c["restart"] = button("Restart kernel", "restart-kernel")
        c["replay"] = button("Replay all", "replay")


def prompt_tab(c: Components) -> None:
    text = "The exact prompt of the next turn: the preamble, each cell's instruction as a comment"
    gr.Markdown(text + " and its code, then your next instruction. Outputs never enter it.")
    c["prompt_info"] = gr.Markdown(elem_id="prompt-info")
    c["prompt"] = gr.Code(label="Next prompt", interactive=False, elem_id="prompt")


def settings_panel(c: Components, s: Settings) -> None:
    with gr.Accordion("Settings", open=True):
        c["temperature"] = gr.Slider(
            0, 1.5, s.temperature, step=0.05, label="Temperature (0 = greedy)"
        )
        c["top_p"] = gr.Slider(0.05, 1, s.top_p, step=0.05, label="Top-p")
        c["max_new"] = gr.Slider(16, 512, s.max_new_tokens, step=16, label="Max new tokens")
        seed = -1 if s.seed is None else s.seed
        c["seed"] = gr.Number(seed, precision=0, label="Seed (-1 = a fresh one each turn)")
    with gr.Accordion("Examples", open=False):
        titles = [t for t, _ in EXAMPLES]
        c["example"] = gr.Dropdown(
            titles, value=titles[0], label="Multi-turn example", elem_id="example"
        )
        c["load_example"] = gr.Button("Load as pending turns", elem_id="load-example")


def session_panel(c: Components) -> None:
    with gr.Accordion("Session", open=True):
        c["title"] = gr.Textbox(label="Title (saved when you leave the box)", elem_id="title")
        c["saved"] = gr.Dropdown([], label="Saved sessions", elem_id="session-list")
        with gr.Row():
            c["open"] = button("Open", "open-session", size="sm", min_width=60)
            c["new"] = button("New", "new-session", size="sm", min_width=60)
            c["copy"] = button("Copy", "duplicate-session", size="sm", min_width=60)
            c["delete"] = button("Delete", "delete-session", size="sm", min_width=60,
                                  variant="stop")  # fmt: skip
        for fmt in DOWNLOADS:
            c[f"download_{fmt}"] = button(f"Download .{fmt}", f"download-{fmt}")
            # The file is made when the button is pressed, then handed to this hidden one.
            c[f"file_{fmt}"] = gr.DownloadButton(elem_id=f"file-{fmt}", elem_classes="cg-hidden")
        c["upload"] = gr.UploadButton(
            "Upload .ipynb or .zip", file_types=[".ipynb", ".zip"], elem_id="upload-ipynb"
        )
    files_panel(c)
    with gr.Accordion("Trash", open=False):
        c["trash"] = gr.Dropdown([], label="Deleted sessions (kept a week)", elem_id="trash-list")
        c["restore"] = button("Restore", "restore-session", size="sm")


def files_panel(c: Components) -> None:
    """The session's data files (its kernel's folder): upload here or drop on the notebook."""
    with gr.Accordion("Files", open=True, elem_id="files-panel"):
        c["files"] = gr.HTML(elem_id="files", js_on_load=FILES_JS)
        with gr.Group(elem_id="upload-files"):  # holds the button and its file input
            c["upload_files"] = gr.UploadButton(
                "Upload files", file_count="multiple", elem_id="upload-files-button", size="sm"
            )
        c["file_data"] = gr.DownloadButton(elem_id="file-data", elem_classes="cg-hidden")

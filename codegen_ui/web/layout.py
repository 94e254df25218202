"""The page's components and where they sit, without any behaviour.

`page` lays out the whole page inside the caller's `gr.Blocks` and returns its `Components`: a
frozen object whose fields are the page's parts, each built by one function here
(`notebook_column`, `prompt_tab`, `settings_panel`, `session_panel`, `share_panel` and
`files_panel`), so a
component is reached by a name the type checker knows; `ui` wires them to the handlers. Stable
`elem_id`s are the page's hooks for automation. Nothing here handles an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from codegen_ui.core import FRESH_SEED, MAX_NEW_TOKENS_RANGE, TEMPERATURE_RANGE, TOP_P_RANGE
from codegen_ui.settings import Settings
from codegen_ui.web.examples import EXAMPLES
from codegen_ui.web.filespanel import FILES_JS
from codegen_ui.web.followhtml import FOLLOW_JS, SHARE_JS, render_share
from codegen_ui.web.present import PRESENT_HTML, PRESENT_JS
from codegen_ui.web.script import NOTEBOOK_JS

TIMER_S = 1.0  # how often the status bar refreshes while the model loads


@dataclass(frozen=True)
class NotebookColumn:
    """The notebook, the instruction box and the buttons under it."""

    notebook: gr.HTML
    instruction: gr.Textbox
    submit: gr.Button
    add_code: gr.Button
    stop: gr.Button
    undo: gr.Button
    redo: gr.Button
    restart: gr.Button
    replay: gr.Button


@dataclass(frozen=True)
class PromptTab:
    """The prompt inspector: the next turn's prompt and a line about its size."""

    info: gr.Markdown
    prompt: gr.Code


@dataclass(frozen=True)
class SettingsPanel:
    """The sampling settings, and the examples to load as pending turns."""

    temperature: gr.Slider
    top_p: gr.Slider
    max_new: gr.Slider
    seed: gr.Number
    example: gr.Dropdown
    load_example: gr.Button


@dataclass(frozen=True)
class Download:
    """One download: the button pressed, and the hidden one the file is then handed to."""

    fmt: str  # "ipynb", "py" or "zip" (the notebook with its data files)
    button: gr.Button
    file: gr.DownloadButton


@dataclass(frozen=True)
class FilesPanel:
    """The session's data files (its kernel's folder)."""

    files: gr.HTML
    upload: gr.UploadButton
    file: gr.DownloadButton  # hidden: a file pressed in the list is handed to it


@dataclass(frozen=True)
class SharePanel:
    """Share to follow: the owner's follow link, and the buttons that make and end it."""

    share: gr.Button
    revoke: gr.Button
    link: gr.HTML


@dataclass(frozen=True)
class SessionPanel:
    """The session's title, the saved sessions, downloads, uploads, its files and the trash."""

    title: gr.Textbox
    saved: gr.Dropdown
    open: gr.Button
    new: gr.Button
    copy: gr.Button
    delete: gr.Button
    downloads: tuple[Download, ...]
    upload: gr.UploadButton
    files: FilesPanel
    trash: gr.Dropdown
    restore: gr.Button
    share: SharePanel


@dataclass(frozen=True)
class Components:
    """The whole page, part by part."""

    status: gr.Markdown
    banner: gr.HTML  # why the model cannot write code, when it cannot
    column: NotebookColumn
    prompt: PromptTab
    settings: SettingsPanel
    session: SessionPanel
    timer: gr.Timer  # refreshes the status line while the model loads
    work: gr.Row  # the notebook and the side panels: hidden in a tab that follows
    follow: gr.HTML  # what a tab that follows a session shows (empty in any other)
    present: gr.HTML  # the presentation mode toggle (the page's own script: no event)


def page(s: Settings) -> Components:
    """Lay out the page (inside the caller's `gr.Blocks`) and return its components."""
    with gr.Row(equal_height=True):
        gr.Markdown(
            "### codegen-ui: describe each step in English, get Python, run it",
            elem_classes="cg-heading",
        )
        present = gr.HTML(
            PRESENT_HTML, elem_id="present", js_on_load=PRESENT_JS, min_width=160, scale=0
        )
    status = gr.Markdown("starting…", elem_id="status")
    banner = gr.HTML("", elem_id="banner", js_on_load=None)
    follow = gr.HTML("", elem_id="follow", js_on_load=FOLLOW_JS)
    with gr.Row(elem_id="work") as work:
        with gr.Column(scale=3, min_width=320), gr.Tabs():
            with gr.Tab("Notebook", elem_id="tab-notebook"):
                column = notebook_column()
            with gr.Tab("Prompt", elem_id="tab-prompt"):
                prompt = prompt_tab()
        with gr.Column(scale=1, min_width=280, elem_id="side-panels"):
            settings = settings_panel(s)
            session = session_panel()
    timer = gr.Timer(TIMER_S)
    return Components(
        status=status,
        banner=banner,
        column=column,
        prompt=prompt,
        settings=settings,
        session=session,
        timer=timer,
        work=work,
        follow=follow,
        present=present,
    )


def button(label: str, elem_id: str, **kw: Any) -> gr.Button:
    return gr.Button(label, size=kw.pop("size", "md"), min_width=kw.pop("min_width", 80),
                     elem_id=elem_id, **kw)  # fmt: skip


def notebook_column() -> NotebookColumn:
    # No max height: the page has one scroll, on a desktop and on a phone alike.
    notebook = gr.HTML(elem_id="notebook", js_on_load=NOTEBOOK_JS)
    instruction = gr.Textbox(
        elem_id="instruction",
        show_label=False,
        lines=1,
        max_lines=8,
        placeholder="Describe the next step (Enter runs it, Shift+Enter adds a line)",
    )
    with gr.Row(elem_id="work-buttons"):
        return NotebookColumn(
            notebook=notebook,
            instruction=instruction,
            submit=button("Submit", "submit", variant="primary"),
            add_code=button("+ Code cell", "add-code"),
            stop=button("Stop", "stop", variant="stop", interactive=False),
            undo=button("Undo", "undo", interactive=False),
            redo=button("Redo", "redo", interactive=False),
            restart=button("Restart kernel", "restart-kernel"),
            replay=button("Replay all", "replay"),
        )


def prompt_tab() -> PromptTab:
    gr.Markdown(
        "The exact prompt of the next turn, in the format named below. Paper: the preamble, "
        "each cell's instruction as a comment and its code, then your next instruction. Chat: "
        "the model's own chat template, each instruction a user message and each cell's code "
        "the assistant's answer. Outputs never enter it."
    )
    return PromptTab(
        info=gr.Markdown(elem_id="prompt-info"),
        prompt=gr.Code(label="Next prompt", interactive=False, elem_id="prompt"),
    )


def settings_panel(s: Settings) -> SettingsPanel:
    with gr.Accordion("Settings", open=True):
        # The bounds are the session API's too (core's ranges).
        temperature = gr.Slider(*TEMPERATURE_RANGE, s.temperature, step=0.05,
                                label="Temperature (0 = greedy)")  # fmt: skip
        top_p = gr.Slider(*TOP_P_RANGE, s.top_p, step=0.05, label="Top-p")
        max_new = gr.Slider(*MAX_NEW_TOKENS_RANGE, s.max_new_tokens, step=1, label="Max new tokens")
        seed = FRESH_SEED if s.seed is None else s.seed
        seed_box = gr.Number(
            seed, precision=0, label=f"Seed ({FRESH_SEED} = a fresh one each turn)"
        )
    with gr.Accordion("Examples", open=False):
        titles = [t for t, _ in EXAMPLES]
        example = gr.Dropdown(
            titles, value=titles[0], label="Multi-turn example", elem_id="example"
        )
        load = gr.Button("Load as pending turns", elem_id="load-example")
    return SettingsPanel(
        temperature=temperature,
        top_p=top_p,
        max_new=max_new,
        seed=seed_box,
        example=example,
        load_example=load,
    )


def session_panel() -> SessionPanel:
    with gr.Accordion("Session", open=True):
        title = gr.Textbox(label="Title (saved when you leave the box)", elem_id="title")
        saved = gr.Dropdown([], label="Saved sessions", elem_id="session-list")
        with gr.Row():
            small: dict[str, Any] = {"size": "sm", "min_width": 60}
            open_ = button("Open", "open-session", **small)
            new = button("New", "new-session", **small)
            copy = button("Copy", "duplicate-session", **small)
            delete = button("Delete", "delete-session", variant="stop", **small)
        downloads = tuple(download(fmt) for fmt in ("ipynb", "py", "zip"))
        upload = gr.UploadButton(
            "Upload .ipynb or .zip", file_types=[".ipynb", ".zip"], elem_id="upload-ipynb"
        )
    share = share_panel()
    files = files_panel()
    with gr.Accordion("Trash", open=False):
        trash = gr.Dropdown([], label="Deleted sessions (kept a week)", elem_id="trash-list")
        restore = button("Restore", "restore-session", size="sm")
    return SessionPanel(
        title=title,
        saved=saved,
        open=open_,
        new=new,
        copy=copy,
        delete=delete,
        downloads=downloads,
        upload=upload,
        files=files,
        trash=trash,
        restore=restore,
        share=share,
    )


def share_panel() -> SharePanel:
    """Share to follow: a read-only live link to this session, for a class."""
    with gr.Accordion("Share to follow", open=False, elem_id="share-panel"):
        link = gr.HTML(render_share(None), elem_id="share-link", js_on_load=SHARE_JS)
        with gr.Row():
            share = button("Share", "share", size="sm", min_width=60)
            revoke = button("Stop sharing", "stop-sharing", size="sm", min_width=60)
    return SharePanel(share=share, revoke=revoke, link=link)


def download(fmt: str) -> Download:
    # The file is made when the button is pressed, then handed to the hidden one.
    pressed = button(f"Download .{fmt}", f"download-{fmt}")
    file = gr.DownloadButton(elem_id=f"file-{fmt}", elem_classes="cg-hidden")
    return Download(fmt=fmt, button=pressed, file=file)


def files_panel() -> FilesPanel:
    """The session's data files (its kernel's folder): upload here or drop on the notebook."""
    with gr.Accordion("Files", open=True, elem_id="files-panel"):
        files = gr.HTML(elem_id="files", js_on_load=FILES_JS)
        with gr.Group(elem_id="upload-files"):  # holds the button and its file input
            upload = gr.UploadButton(
                "Upload files", file_count="multiple", elem_id="upload-files-button", size="sm"
            )
        file = gr.DownloadButton(elem_id="file-data", elem_classes="cg-hidden")
    return FilesPanel(files=files, upload=upload, file=file)

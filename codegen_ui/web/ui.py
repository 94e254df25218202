"""The Gradio page's event wiring, and nothing else: the components are `web.layout`'s.

Each handler is a few lines that call one `Controller` action with the browser session's key and
show the `View`s it returns. What an event shows is a dict keyed by the page's components, built
by name in `Handlers.show` (a component left out stays as it is); Gradio puts it in the order of
the event's outputs, so nothing depends on their order. The sampling settings reach the handlers
by parameter name too. The notebook is one `gr.HTML` whose script (`web.script`) sends every
cell's buttons and keys as one `cell` event, which the controller decodes. A page opened with
`?follow=<token>` is a follower's: its load hands the tab to `web.follow` (read-only, no
workspace) and shows the follow view instead of the notebook and panels; the view then lives on
`web.followfeed`'s events, not on Gradio's queue. Prompting, parsing, saving, following and
rendering live elsewhere; the collaborators are built and the server launched in
`codegen_ui.web.app`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr
from gradio.blocks import Block
from gradio.components import Component

from codegen_ui.core import asked_sampling
from codegen_ui.errors import UserError
from codegen_ui.settings import Settings
from codegen_ui.web.api import SessionApi
from codegen_ui.web.controller import Controller, View
from codegen_ui.web.endpoints import endpoints
from codegen_ui.web.follow import Follow
from codegen_ui.web.followfeed import Feed
from codegen_ui.web.followhtml import FOLLOW_PARAM, render_follow, render_share
from codegen_ui.web.layout import Components, page
from codegen_ui.web.notebook_html import render_banner

# What one event changes, by component; a component left out stays as it is. Gradio turns it
# into its list of outputs (`Blocks.postprocess_data`), so no handler depends on their order.
Shown = dict[Block, Any]


def _key(request: gr.Request) -> str:
    return str(request.session_hash)


def build_app(
    controller: Controller,
    settings: Settings,
    api: SessionApi | None = None,
    feed: Feed | None = None,
) -> gr.Blocks:
    """The Blocks app over a controller, with the session API's endpoints when given, and the
    follow links of `feed` (served by `launch`); launch it with `launch`."""
    with gr.Blocks(title="codegen-ui", analytics_enabled=False, fill_width=True) as demo:
        c = page(settings)
        _wire(demo, c, Handlers(controller, c, feed))
        if api is not None:
            endpoints(api)  # the page's own events stay private; these are the public ones
    demo.queue(default_concurrency_limit=settings.max_kernels)
    return demo


def _submitbutton(blocked: str, busy: bool) -> Any:
    label = "Submit (unavailable: the model failed to load)" if blocked else "Submit"
    return gr.Button(label, interactive=not (blocked or busy))


def _choices(choices: tuple[tuple[str, str], ...] | None, value: str | None) -> Any:
    return None if choices is None else gr.Dropdown(choices=list(choices), value=value)


class Handlers:
    """Gradio event handlers: each calls one controller action and shows what it returns."""

    def __init__(self, controller: Controller, page: Components, feed: Feed | None = None) -> None:
        self.controller = controller
        self.page = page
        self.feed = feed or Feed(Follow(controller.workspaces, controller.shelf))
        self.f = self.feed.follow

    def outputs(self) -> list[Component]:
        """Every component `show` may change: the outputs of each event that shows a view."""
        p = self.page
        col, session = p.column, p.session
        return [col.notebook, p.status, p.banner, p.prompt.prompt, p.prompt.info, col.instruction,
                session.title, session.saved, session.trash, session.files.files, col.submit,
                col.stop, col.undo, col.redo, col.restart, col.replay, col.add_code]  # fmt: skip

    def show(self, view: View, buttons: bool = True) -> Shown:
        """The page's components as this view has them; None in the view leaves one as it is.
        Only while an event runs: an update is a component too, and one made while the page's
        `gr.Blocks` is being built would join the page."""
        p = self.page
        col, session = p.column, p.session
        shown: dict[Component, Any] = {
            col.notebook: view.notebook,
            p.status: view.status,
            p.banner: render_banner(view.blocked),
            p.prompt.prompt: view.prompt,
            p.prompt.info: view.prompt_info,
            col.instruction: view.instruction,
            session.title: view.title,
            session.saved: _choices(view.sessions, view.session_id),
            session.trash: _choices(view.trash, None),
            session.files.files: view.files,
        }
        if buttons:
            idle = not view.busy
            shown |= {
                col.submit: _submitbutton(view.blocked, view.busy),
                col.stop: gr.Button(interactive=view.busy),
                col.undo: gr.Button(interactive=idle and view.can_undo),
                col.redo: gr.Button(interactive=idle and view.can_redo),
                col.restart: gr.Button(interactive=idle),
                col.replay: gr.Button(interactive=idle),
                col.add_code: gr.Button(interactive=idle),
            }
        return {part: value for part, value in shown.items() if value is not None}

    def stream(self, views: Iterator[View], request: gr.Request) -> Iterator[Shown]:
        busy: bool | None = None
        for view in views:  # buttons change only when the busy state does
            yield self.show(view, buttons=view.busy != busy)
            busy = view.busy

    def load(self, request: gr.Request) -> Shown:
        query, key = dict(request.query_params), _key(request)
        if FOLLOW_PARAM in query:
            return self.follow_page(key, query[FOLLOW_PARAM])
        shown = self.show(self.controller.open_page(key, query.get("session")))
        shown[self.page.session.share.link] = render_share(self.f.token(key))
        return shown

    # ---- share to follow (the rules are `web.follow`'s) ---------------------------------------
    def follow_page(self, key: str, token: str) -> Shown:
        """A follower's tab: the follow view alone; no workspace, no kernel, no timer."""
        frame = self.f.watch(key, token)
        p = self.page
        status = "following live, read-only" if frame.html else "nothing to follow"
        return {p.follow: render_follow(frame, token), p.work: gr.Row(visible=False),
                p.timer: gr.Timer(active=False), p.status: status}  # fmt: skip

    def share(self, request: gr.Request) -> Shown:
        key, note = _key(request), ""
        token: str | None
        try:
            token = self.f.share(key)
        except UserError as exc:
            token, note = self.f.token(key), str(exc)
        shown = self._quiet(key, "")
        followers = 0 if token is None else self.feed.followers(token)
        shown[self.page.session.share.link] = render_share(token, followers, note)
        return shown

    def _quiet(self, key: str, note: str) -> Shown:
        """The tab's view after a share press; nothing while its own action runs (that action
        shows its views, and the buttons stay as it left them)."""
        return (
            {}
            if self.controller.pulse(key).busy
            else self.show(self.controller.error_view(key, note))
        )

    def end_share(self, request: gr.Request) -> Shown:
        key = _key(request)
        try:
            note = self.f.revoke(key)
        except UserError as exc:
            note = str(exc)
        shown = self._quiet(key, note)
        shown[self.page.session.share.link] = render_share(self.f.token(key), note=note)
        return shown

    def copy_own(self, request: gr.Request) -> Iterator[Shown]:
        """Copy to my own: the tab stops following and works on its own copy, replayed."""
        key, p = _key(request), self.page
        token = self.f.following(key) or ""
        try:
            note = self.f.copy_to_own(key)
        except UserError as exc:
            yield {p.follow: render_follow(self.f.frame(token), token), p.status: str(exc)}
            return
        shown = self.show(self.controller.error_view(key, note))
        shown |= {p.follow: "", p.work: gr.Row(visible=True), p.timer: gr.Timer(active=True),
                  p.session.share.link: render_share(None)}  # fmt: skip
        yield shown
        yield from self.stream(self.controller.replay(key), request)

    # The sampling settings come by name (`_knobs`), after what Gradio fills in itself.
    def submit(
        self,
        text: str,
        request: gr.Request,
        *,
        temperature: float,
        top_p: float,
        max_new: float,
        seed: float | None,
    ) -> Iterator[Shown]:
        params = asked_sampling(temperature, top_p, max_new, seed)
        yield from self.stream(self.controller.submit(_key(request), text, params), request)

    def cell(
        self,
        evt: gr.EventData,
        request: gr.Request,
        *,
        temperature: float,
        top_p: float,
        max_new: float,
        seed: float | None,
    ) -> Iterator[Shown]:
        params = asked_sampling(temperature, top_p, max_new, seed)
        data = getattr(evt, "_data", None)  # decoded by the controller (`web.cellevents`)
        yield from self.stream(self.controller.cell(_key(request), data, params), request)

    def replay(self, request: gr.Request) -> Iterator[Shown]:
        yield from self.stream(self.controller.replay(_key(request)), request)

    def add_code(self, text: str, request: gr.Request) -> Shown:
        return self.show(self.controller.add_code(_key(request), text))

    def undo(self, request: gr.Request) -> Shown:
        return self.show(self.controller.undo(_key(request)))

    def redo(self, request: gr.Request) -> Shown:
        return self.show(self.controller.redo(_key(request)))

    def restart(self, request: gr.Request) -> Shown:
        return self.show(self.controller.restart(_key(request)))

    def example(self, name: str, request: gr.Request) -> Shown:
        return self.show(self.controller.load_example(_key(request), name))

    def upload(self, path: str, request: gr.Request) -> Shown:
        return self.show(self.controller.upload(_key(request), path))

    def rename(self, text: str, request: gr.Request) -> Shown:
        return self.show(self.controller.rename(_key(request), text))

    def new(self, request: gr.Request) -> Shown:
        return self.show(self.controller.new_session(_key(request)))

    def open(self, session_id: str | None, request: gr.Request) -> Shown:
        return self.show(self.controller.open_session(_key(request), session_id))

    def copy(self, request: gr.Request) -> Shown:
        return self.show(self.controller.duplicate_session(_key(request)))

    def delete(self, session_id: str | None, request: gr.Request) -> Shown:
        return self.show(self.controller.delete_session(_key(request), session_id))

    def download(self, fmt: str) -> Callable[[gr.Request], str | None]:
        """The handler of one download button: the file is written when pressed, from the saved
        session; None (nothing saved yet) fetches nothing."""

        def export(request: gr.Request) -> str | None:
            return self.controller.export(_key(request), fmt)

        return export

    def upload_files(self, files: list[str] | None, request: gr.Request) -> Shown:
        return self.show(self.controller.upload_files(_key(request), list(files or [])))

    def files(self, evt: gr.EventData, request: gr.Request) -> Shown:
        data = getattr(evt, "_data", None)
        return self.show(self.controller.files_action(_key(request), data))

    def download_file(self, evt: gr.EventData, request: gr.Request) -> Shown:
        """The file to send (None sends nothing: the hidden button must not keep an older one)
        and, from a tab with a workspace, the Files panel drawn again (saying why, if no file)."""
        got = self.controller.file_pressed(_key(request), getattr(evt, "_data", None))
        files = self.page.session.files
        shown: Shown = {files.file: got.path}
        if got.files is not None:
            shown[files.files] = got.files
        return shown

    def restore(self, session_id: str | None, request: gr.Request) -> Shown:
        return self.show(self.controller.restore_session(_key(request), session_id))

    def stop(self, request: gr.Request) -> None:
        self.controller.stop(_key(request))

    def tick(self, request: gr.Request) -> Shown:
        pulse, p = self.controller.pulse(_key(request)), self.page
        return {
            p.status: pulse.status,
            p.banner: render_banner(pulse.blocked),
            p.column.submit: _submitbutton(pulse.blocked, pulse.busy),
            p.timer: gr.Timer(active=pulse.again),
        }

    def unload(self, request: gr.Request) -> None:
        self.controller.close_page(_key(request))  # the tab closed: its kernel waits out the grace
        self.f.leave(_key(request))


def _knobs(c: Components) -> dict[str, Component]:
    """The sampling settings, by the names of the parameters `submit` and `cell` take them as."""
    st = c.settings
    return {"temperature": st.temperature, "top_p": st.top_p, "max_new": st.max_new,
            "seed": st.seed}  # fmt: skip


def _wire(demo: gr.Blocks, c: Components, h: Handlers) -> None:
    out = h.outputs()
    col, session, files = c.column, c.session, c.session.files
    # No public API endpoints; no progress pulse over the page: the cells show what runs.
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    # What waits for the model or runs every cell (a turn, a replay, an upload's files, a kernel
    # restart) shares the "work" queue, `max_kernels` at once. What needs no model (open a
    # session, an editor, undo, the files, share) never waits behind it: a class generating
    # must not starve the page. A tab's own actions still go one at a time (its workspace's
    # lock says so when one must wait).
    work = {**private, "concurrency_id": "work"}
    instant = {**private, "concurrency_limit": None}
    quick = {**private, "concurrency_id": "quick", "concurrency_limit": None}
    share = c.session.share
    page = [*out, c.follow, c.work, c.timer, share.link]
    demo.load(h.load, None, page, **quick)
    share.share.click(h.share, None, [*out, share.link], **quick)
    share.revoke.click(h.end_share, None, [*out, share.link], **quick)
    c.follow.copy(h.copy_own, None, page, **work)
    gr.on([col.submit.click, col.instruction.submit], h.submit, col.instruction, out,
          inputs_kwargs=_knobs(c), **work)  # fmt: skip
    # Edit and Escape must answer while the tab's own turn streams: not behind the work queue.
    # "always_last": a key pressed while the previous cell event is still finishing (Edit, then
    # Shift+Enter at once, on a busy server) is sent when it ends; Gradio's default ("once")
    # dropped it without a word.
    col.notebook.cell(
        h.cell, None, out, inputs_kwargs=_knobs(c), trigger_mode="always_last", **instant
    )
    col.add_code.click(h.add_code, col.instruction, out, **quick)
    col.replay.click(h.replay, None, out, **work)
    col.undo.click(h.undo, None, out, **quick)
    col.redo.click(h.redo, None, out, **quick)
    col.restart.click(h.restart, None, out, **work)
    c.settings.load_example.click(h.example, c.settings.example, out, **work)
    session.upload.upload(h.upload, session.upload, out, **work)
    session.title.blur(h.rename, session.title, out, **quick)
    session.new.click(h.new, None, out, **quick)
    session.open.click(h.open, session.saved, out, **quick)
    session.copy.click(h.copy, None, out, **quick)
    session.delete.click(h.delete, session.saved, out, **quick)
    session.restore.click(h.restore, session.trash, out, **quick)
    for d in session.downloads:
        d.button.click(h.download(d.fmt), None, d.file, **quick).then(
            None, None, None, js=_press(d.file)
        )
    files.upload.upload(h.upload_files, files.upload, out, **work)
    files.files.files(h.files, None, out, **quick)
    files.files.filedownload(h.download_file, None, [files.file, files.files], **quick).then(
        None, None, None, js=_press(files.file)
    )
    col.stop.click(h.stop, None, None, **instant)
    c.timer.tick(h.tick, None, [c.status, c.banner, col.submit, c.timer], **instant)
    demo.unload(h.unload)


def _press(hidden: gr.DownloadButton) -> str:
    """The script that presses a hidden download button once its file is there."""
    return f"() => document.querySelector('#{hidden.elem_id}')?.click()"

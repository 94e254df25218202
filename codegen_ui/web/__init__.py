"""The web app: a Gradio page, the session API and its MCP tools, over the application layer.

The sessions, their kernels, autosave, who owns what, the fair queue and the model holder are
the application layer's (`codegen_ui.workspace`); this package adapts them to a page and to API
calls. `pagestate` (what the page keeps of a tab: its editor, pending examples), `controller`
(the page's actions, without Gradio) and its parts: `actions` (how any action runs on a tab:
one at a time, paced, failures as notes), `turnactions` (submit, replay, undo, restart,
examples), `cellpresses` (a press on one cell), `sessionactions` (the sessions panel) and
`fileactions` (the Files panel); `cellaction` (the cell actions, one enum), `cellevents` (the
page's cell events decoded into typed ones, pure), `views` (what a tab shows, as data),
`notebook_html` and `render` (the notebook's cells and their outputs as safe HTML), `style`
(the stylesheet), `script` (the page's own JS), `examples`, `filedesk` and `filespanel` (the
Files panel: its actions, its HTML and script), `api` (the session API for scripts, agents and
MCP, by session id), `endpoints` (its Gradio endpoints and MCP tools), `layout` (the
components, as one typed object, no behaviour), `ui` (the event wiring only) and `app` (the
composition root). Share to follow: `sharing` (follow links' tokens and frames, pure), `follow`
(who may share, follow and copy: the rules, for every door), `followfeed` (the frames as
server-sent events to each follower), `followhtml` (the follow view and the Share panel, with
their script) and `present` (presentation mode). Importing this package does not import
Gradio: `serve` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codegen_ui.settings import Settings

__all__ = ["serve"]


def serve(settings: Settings) -> None:
    """Build the app for these settings, serve it and block (see `codegen_ui.web.app`)."""
    from codegen_ui.web.app import serve as serve_app

    serve_app(settings)

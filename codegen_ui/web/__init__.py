"""The web app: a Gradio page over the session, one kernel per browser tab, one shared model.

`shared` (the model and its queue), `zerogpu` (generation under `spaces.GPU` on a Space),
`workspace` (a tab's session and kernel), `tracked` (a tab's kernel and its state), `shelf` (the
sessions panel), `controller` (the page's actions, a cell's included, without Gradio),
`cellaction` (the cell actions, one enum), `cellevents` (the page's cell events decoded into
typed ones, pure), `views` (what a tab shows, as data), `notebook_html` and `render` (the
notebook's cells and their outputs as safe HTML), `style` (the stylesheet), `script` (the page's
own JS), `examples`, `filedesk` and `filespanel` (the Files panel: its actions, its HTML and
script), `api` (the session API for scripts, agents and MCP, by session id), `endpoints` (its
Gradio endpoints and MCP tools), `layout` (the components, as one typed object, no behaviour),
`ui` (the event wiring only) and `app` (the composition root). Share to follow: `sharing`
(follow links' tokens and frames, pure), `follow` (who may share, follow and copy: the rules,
for every door), `followfeed` (the frames as server-sent events to each follower), `followhtml`
(the follow view and the Share panel, with their script) and `present` (presentation mode).
Importing this package does not import Gradio: `serve` does.
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

"""The web app's one composition root: build the collaborators, the page, and serve it.

`create` wires the application layer (`codegen_ui.workspace`: the shared model loading in the
background, the workspaces over the kernel pool, the sessions shelf over the store), the controller,
the follow links and their feed, and the session API into the Gradio page of `ui`; `launch` serves
it with nothing but the app (the API's endpoints, and the follow links' read-only routes) exposed;
`serve` does both and shuts every kernel down on exit. Nothing else in the package constructs these
objects."""

from __future__ import annotations

import functools
import signal
from typing import TYPE_CHECKING, Any

from codegen_ui.engine import settings_model
from codegen_ui.files import FileLimits
from codegen_ui.kernel import KernelPool, KernelSource, hide_server, kernels_root
from codegen_ui.notebooks import SessionStore
from codegen_ui.settings import Settings
from codegen_ui.web.api import SessionApi
from codegen_ui.web.controller import Controller
from codegen_ui.web.follow import Follow
from codegen_ui.web.followfeed import Feed, routes
from codegen_ui.web.followhtml import FOLLOW_CSS
from codegen_ui.web.pagestate import PageState
from codegen_ui.web.present import PRESENT_CSS
from codegen_ui.web.style import CSS, code_css
from codegen_ui.workspace import LOCAL_HOSTS, FairGate, ModelHolder, open_workbench

if TYPE_CHECKING:
    from collections.abc import Callable

    import gradio as gr

    from codegen_ui.core import CodeModel

MAX_NOTEBOOK_MB = 5  # the biggest notebook a user may upload (a .zip adds its files)


def _settings_model(
    settings: Settings, name: str, device: str, progress: Callable[[str], None] | None = None
) -> CodeModel:
    # The holder's loader: it names the settings' own model and device.
    return settings_model(settings, progress)


def create(
    settings: Settings, holder: ModelHolder | None = None
) -> tuple[gr.Blocks, Controller, Feed]:
    """The app for these settings, its controller and its follow links' feed (`launch` serves
    the feed's routes); the model starts loading in the background unless given."""
    if holder is None:
        loader = functools.partial(_settings_model, settings)
        holder = ModelHolder(
            settings.model, settings.device, loader=loader, prompt_format=settings.prompt_format
        ).start()
    pool = KernelPool.from_settings(settings)
    pool.refill()  # pre-start kernels so the first tabs do not wait for one
    pool.start_sweeper()
    store = SessionStore(settings.sessions_dir, FileLimits.from_settings(settings))
    guarded = settings.host not in LOCAL_HOSTS
    controller = assemble(
        holder,
        pool,
        store,
        guarded,
        # No gate given: the workspaces' lets as many turns through at once as the model writes
        # together (`ModelHolder.turns_at_once`: an engine's batch, a server's streams).
        run_timeout=settings.run_timeout,
        grace_s=settings.kernel_grace_minutes * 60,
        auto_fix=settings.auto_fix,
        kernel_state=settings.kernel_state,
    )
    controller.workspaces.start_sweeper()
    from codegen_ui.web.ui import build_app

    feed = Feed(Follow(controller.workspaces, controller.shelf))
    api = SessionApi(controller.bench, settings, feed.follow) if settings.api else None
    return build_app(controller, settings, api, feed), controller, feed


def assemble(
    holder: ModelHolder,
    kernels: KernelSource,
    store: SessionStore,
    guarded: bool,
    gate: FairGate | None = None,
    **workspace_options: Any,
) -> Controller:
    """The page's controller over the application layer on these collaborators, with every
    change autosaved to `store` (`workspace.open_workbench`).

    `guarded`: other people can reach the server, so a tab may change only what it made.
    Tests build their controllers here too, so they take the app's own wiring.
    """
    bench = open_workbench(holder, kernels, store, guarded, PageState, gate, **workspace_options)
    return Controller(bench)


def launch(demo: gr.Blocks, settings: Settings, feed: Feed | None = None, **kwargs: Any) -> Any:
    """Serve the app: no monitoring endpoint, a cap on uploads, nothing but the app (and the
    feed's read-only follow routes) served."""
    options: dict[str, Any] = {
        "server_name": settings.host,
        "server_port": settings.port,
        # A data file, or a session .zip with all its files.
        "max_file_size": f"{settings.files_session_mb + MAX_NOTEBOOK_MB}mb",
        "enable_monitoring": False,
        # "Use via API" lists the session API's endpoints (the page's own are private).
        "footer_links": ["api", "gradio", "settings"] if settings.api else ["gradio", "settings"],
        "blocked_paths": [str(kernels_root(settings.kernels_dir))],
        "css": CSS + code_css() + FOLLOW_CSS,
        # Gradio scopes `css` under its container; presentation mode styles the page from
        # <body> (its class), so its sheet goes in the head as it is.
        "head": f"<style>{PRESENT_CSS}</style>",
        "show_error": False,
        "ssr_mode": False,
        "mcp_server": settings.mcp,  # the API's endpoints as MCP tools, at /gradio_api/mcp
        "run_history": False,
        # FastAPI's own `routes`: they come before Gradio's, and only read.
        "app_kwargs": {"routes": routes(feed)} if feed is not None else {},
    }
    options.update(kwargs)
    return demo.launch(**options)


def serve(settings: Settings) -> None:
    """Build, launch and block; on Ctrl-C or SIGTERM every kernel is shut down."""
    hide_server()  # before anything else: no same-user process reads our /proc environ
    demo, controller, feed = create(settings)
    # SIGTERM (a container stopping) ends the server like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        launch(demo, settings, feed)
    finally:
        feed.stop()
        controller.workspaces.shutdown()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt

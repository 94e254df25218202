"""The session API's operations as named Gradio endpoints: "Use via API", and MCP tools.

`endpoints` registers each operation of a `SessionApi` with `gr.api` inside the app's Blocks,
under its own name (`/new_session`, `/turn`, ...). Gradio types each endpoint from the method's
signature and takes its description from the docstring; with `--mcp` the same endpoints are
the MCP tools, named after the functions. A `UserError` becomes `gr.Error`, the one line a
client sees. The operations themselves live in `web.api`; nothing here decides anything.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any

from codegen_ui.errors import UserError
from codegen_ui.web.api import SessionApi


def endpoints(api: SessionApi) -> None:
    """Register the operations as named endpoints; call it inside the app's `gr.Blocks`.

    Work that takes a kernel or the model shares the page's "work" queue (its limit is
    `max_kernels`); reading the notebook, closing and sharing wait for nothing."""
    import gradio as gr

    # Named by the methods themselves: a misspelt operation is an attribute error to mypy.
    waits = (api.new_session, api.turn, api.run_cell, api.fix_cell)
    others = (api.notebook, api.close_session, api.share_session, api.stop_sharing)
    for method in (*waits, *others, api.followed_notebook):
        quick = method not in waits
        gr.api(
            _edge(method, lambda text: gr.Error(text, print_exception=False)),
            api_name=method.__name__,
            concurrency_id=None if quick else "work",
            concurrency_limit=None if quick else "default",
            api_visibility="public",
        )


def _edge(method: Callable[..., Any], error: Callable[[str], Exception]) -> Callable[..., Any]:
    """The method with its name, docstring and types for Gradio, its UserErrors raised as
    `error(message)`: the one line a client sees (any other exception is logged by Gradio)."""
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(*args, **kwargs)
            except UserError as exc:
                raise error(str(exc)) from None

        wrapper: Callable[..., Any] = streaming
    else:

        @functools.wraps(method)
        def plain(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except UserError as exc:
                raise error(str(exc)) from None

        wrapper = plain
    # Gradio reads the return type from the signature as written: give it the evaluated one,
    # and for a stream the type of each update.
    signature = inspect.signature(method, eval_str=True)
    returns = signature.return_annotation
    if typing.get_origin(returns) is Iterator:
        returns = typing.get_args(returns)[0]
    wrapper.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
    return wrapper

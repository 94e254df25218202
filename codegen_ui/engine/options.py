"""What loading a model takes beyond its name, and how loading fails.

`ServerOptions` says how to reach a model server (a model setting that is an http(s) URL ending
in /v1); `ModelLoadError` is the one-line failure of any backend's loading (a missing folder, a
server that is not there), `ModelUnavailable` the kind a fallback model may answer;
`require_local` makes a missing `local` extra (torch, gguf) such a failure, naming it. The port
itself (`CodeModel` and the types it streams) is the domain's, in `codegen_ui.core`. Defaults
come from `settings.DEFAULTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen_ui.errors import MissingExtra, UserError, require_extra
from codegen_ui.settings import DEFAULTS


class ModelLoadError(UserError, RuntimeError):
    """The model could not be loaded; the message is one line meant for the user."""


class ModelUnavailable(ModelLoadError):
    """A hub id that cannot be had here: not in the local cache, and the hub unreachable or
    without it (the case where the packaged fallback model may run instead)."""


def require_local(feature: str, *modules: str) -> None:
    """The in-process engine's packages (the `local` extra) are installed, or ModelLoadError
    saying to install it."""
    try:
        require_extra("local", feature, *modules)
    except MissingExtra as exc:
        raise ModelLoadError(str(exc)) from None


@dataclass(frozen=True)
class ServerOptions:
    """How to reach a model server (a model setting that is an http(s) URL ending in /v1)."""

    served_model: str = ""  # the name the server knows the model by ("": the one it lists)
    tokenizer: str = ""  # hub id or folder of the model's tokenizer ("": the server's, if any)
    context_size: int = DEFAULTS.context_size  # prompt plus completion, if the server is silent
    timeout: float = DEFAULTS.server_timeout  # seconds for a connection, an answer, a token
    api_key: str = field(default="", repr=False)  # from CODEGEN_UI_API_KEY; never shown
    streams: int = DEFAULTS.server_streams  # turns sent at once (the server batches them)

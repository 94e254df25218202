"""What loading a model takes beyond its name, and how loading fails.

`ServerOptions` says how to reach a model server (a model setting that is an http(s) URL ending
in /v1); `ModelLoadError` is the one-line failure of any backend's loading (a missing folder, a
server that is not there). The port itself (`CodeModel` and the types it streams) is the
domain's, in `codegen_ui.core`. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen_ui.errors import UserError


class ModelLoadError(UserError, RuntimeError):
    """The model could not be loaded; the message is one line meant for the user."""


@dataclass(frozen=True)
class ServerOptions:
    """How to reach a model server (a model setting that is an http(s) URL ending in /v1)."""

    served_model: str = ""  # the name the server knows the model by ("": the one it lists)
    tokenizer: str = ""  # hub id or folder of the model's tokenizer ("": the server's, if any)
    context_size: int = 0  # prompt plus completion tokens, when the server does not say
    timeout: float = 60.0  # seconds to wait for a connection, an answer or the next token
    api_key: str = field(default="", repr=False)  # from CODEGEN_UI_API_KEY; never shown

"""The Jupyter magic: `%load_ext codegen_ui.magic`, then `%%codegen` cells write the next cell.

`%%codegen [--model M] [--temperature T] [--prompt-format F] [--run]` takes the cell's body as
the instruction. The history is every earlier cell this kernel ran, in order: its `%%codegen`
instruction and the code cell that followed it (a code cell of the user's own, with no
instruction before it, gets the app's own-code instruction). In the paper's prompt format each
is a `# ` comment and its code after the preamble; in chat (the default for a model with a
chat template, `CODEGEN_UI_PROMPT_FORMAT` or `--prompt-format` to choose) a user message and
the assistant's fenced code. The code the model writes, cut by that format's rules, goes into
the next cell through one `shell.set_next_input` payload and is not run; `--run` runs it here
instead (no next cell), trying again while it raises (the `auto_fix` setting's tries at
most), and it joins the history as if it had been a cell.
`%codegen_prompt [instruction]` prints the prompt that would be sent. The model is loaded on
first use, once per kernel (`--model` may also be a model server's URL ending in /v1);
settings come from `CODEGEN_UI_*` as for the app.

`inputs` parses cells and the input history (pure), `shell` holds the magics and the model.
It reads the kernel's own input history (`In`), not the notebook file, so "earlier" means
"ran earlier in this kernel". Importing the package imports neither IPython nor torch.
"""

from __future__ import annotations

import sys
from typing import Any

from codegen_ui.errors import UserError
from codegen_ui.magic.inputs import MagicError, Options, history_from_inputs, parse_options

__all__ = [
    "MagicError",
    "Options",
    "history_from_inputs",
    "load_ipython_extension",
    "loaded_models",
    "parse_options",
]


def loaded_models() -> int:
    """How many models this process has loaded for the magic (once per kernel each)."""
    from codegen_ui.magic.shell import _MODELS

    return len(_MODELS)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext codegen_ui.magic`: register `%%codegen` and `%codegen_prompt`."""
    from codegen_ui.magic.shell import Codegen

    magics = Codegen(ipython)

    def codegen(line: str, cell: str) -> None:
        try:
            magics.codegen(line, cell)
        except UserError as exc:
            print(f"codegen: {exc}", file=sys.stderr)

    def codegen_prompt(line: str) -> None:
        try:
            magics.codegen_prompt(line)
        except UserError as exc:
            print(f"codegen: {exc}", file=sys.stderr)

    ipython.register_magic_function(codegen, magic_kind="cell", magic_name="codegen")
    ipython.register_magic_function(codegen_prompt, magic_kind="line", magic_name="codegen_prompt")

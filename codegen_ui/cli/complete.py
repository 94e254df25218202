"""`codegen-ui complete FILE.py`: the model's continuation of a file, printed for the terminal.

In the paper format the prompt is the file's text exactly (no preamble, no instruction comment);
in chat the file is the start of the assistant's fenced answer to "Continue this code.". The
continuation is cut by that format's rules (`core.continue_code`) and printed as it is, so
`>> FILE.py` appends it.
Notes (no code added, the token limit reached) go to stderr. It runs nothing and writes no file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from codegen_ui.cli.common import (
    CliError,
    add_model_flags,
    sampling_params,
    settings_from,
)


def read_code_file(path: str) -> str:
    try:
        code = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"file {path!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read file {path!r}: {exc}") from None
    if not code.strip():
        raise CliError(f"file {path!r} is empty: there is no code to complete")
    return code


def cmd_complete(args: argparse.Namespace) -> int:
    from codegen_ui.core import continue_code, resolve_format

    settings = settings_from(args)
    code = read_code_file(args.file)
    from codegen_ui.engine import settings_model

    model = settings_model(settings)
    params = sampling_params(settings)
    fmt = resolve_format(settings.prompt_format, model.has_chat_template)
    try:
        added, finished = continue_code(model, code, params, prompt_format=fmt)
    finally:
        # Stop the engine thread before the interpreter ends: torch's threads torn down under
        # a running one abort the process ("terminate called without an active exception").
        close = getattr(model, "close", None)
        if callable(close):
            close()
    if finished.stop_reason == "error":  # a model server failed mid-way
        raise CliError(f"the model failed: {finished.message}")
    sys.stdout.write(added)
    if added and not added.endswith("\n") and sys.stdout.isatty():
        sys.stdout.write("\n")  # only on a terminal: piped, the text stays exact
    sys.stdout.flush()
    if not added:
        print("note: the model added nothing (it went on with a comment or stopped at once)",
              file=sys.stderr)  # fmt: skip
    elif finished.stop_reason == "length":
        print(f"note: the model used all {params.max_new_tokens} new tokens; the code may be "
              "cut short", file=sys.stderr)  # fmt: skip
    return 0


def add(sub: Any) -> None:
    complete = sub.add_parser(
        "complete", help="print the model's continuation of a Python file (nothing is run)"
    )
    complete.add_argument("file", help="the code to continue, e.g. a signature and a docstring")
    add_model_flags(complete)
    complete.set_defaults(func=cmd_complete)

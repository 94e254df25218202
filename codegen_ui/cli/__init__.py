"""The command line (`codegen-ui`, `python -m codegen_ui`): `main` parses, wires and prints.

`main` holds the parser of every command and the one place errors become messages and exit
codes; `common` what the groups share (`CliError`, the model flags); one module per group:
`converse` (run, serve: a conversation headless or in the browser), `complete` (a file's
continuation), `notebooks` (export, replay), `mtpb`, `humaneval`, `bench`, `doctor`, `convert`.
"""

from codegen_ui.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

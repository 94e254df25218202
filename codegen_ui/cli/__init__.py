"""The command line (`codegen-ui`, `python -m codegen_ui`): `main` parses, wires and prints."""

from codegen_ui.cli.main import main

__all__ = ["main"]

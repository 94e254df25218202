"""The command line's entry point: the parser of every command, and the one place errors become
messages.

Each command group lives in its own module (`converse`: run and serve; `complete`: continue a
file's code; `notebooks`: export and
replay; `mtpb`; `humaneval`; `bench`; `doctor`: the sandbox's layers; `convert`) and raises the
`UserError` family; `main` prints any of them as one line on stderr with exit status 2. Errors
raised by generated code are results, not failures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from codegen_ui.cli import bench, complete, converse, convert, doctor, humaneval, mtpb, notebooks
from codegen_ui.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegen-ui", description="Conversational program synthesis in a notebook."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (converse, complete, notebooks, mtpb, humaneval, bench, doctor, convert):
        group.add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"codegen-ui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("codegen-ui: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

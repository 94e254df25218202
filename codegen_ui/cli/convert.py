"""`codegen-ui convert gptj SRC DST`: a CodeGen checkpoint rewritten for serving engines.

vLLM (and others) serve GPT-J natively but not CodeGen; the GPT-J form computes the same logits
(`codegen_ui.engine.gptj` does the work). This module only parses the flags and reports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add(sub: Any) -> None:
    convert = sub.add_parser("convert", help="rewrite a model for a serving engine")
    kinds = convert.add_subparsers(dest="kind", required=True)
    gptj = kinds.add_parser(
        "gptj", help="a CodeGen checkpoint as GPT-J (same logits), with its tokenizer"
    )
    gptj.add_argument("src", help="hub id or folder of a CodeGen checkpoint")
    gptj.add_argument("dst", help="a new folder for the GPT-J checkpoint")
    gptj.set_defaults(func=cmd_convert_gptj)


def cmd_convert_gptj(args: argparse.Namespace) -> int:
    from codegen_ui.engine import convert_to_gptj

    print(f"converting {args.src} to GPT-J ...", file=sys.stderr)
    out = convert_to_gptj(args.src, Path(args.dst))
    print(f"wrote {out}: serve it with `vllm serve {out}`")
    return 0

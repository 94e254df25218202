"""Run the simple notebook sessions (`tests/notebook_sessions.py`) with a model, in both prompt
formats, in a real kernel (a fresh one per session), and print how many pass.

    PYTHONPATH=. python scripts/notebook_sessions.py MODEL [--set held-out] [--formats chat]
        [--precision exact] [--kernel-state] [--auto-fix N] [--tokenizer FOLDER]

MODEL may be a model server's `/v1` URL (llama.cpp's llama-server on the `.gguf`, say), with
`--tokenizer` naming the model's folder for its chat template.

The app's defaults (precision, greedy, max new tokens a turn, no kernel state, no auto-fix)
unless a flag says otherwise. A figure for the docs, not a test: the small model's.
"""

from __future__ import annotations

import argparse
import json
import sys

from codegen_ui.core import SamplingParams, Session, finish
from codegen_ui.engine import ServerOptions, load_model
from codegen_ui.kernel import Kernel, read_state
from codegen_ui.settings import DEFAULTS
from tests.notebook_sessions import HELD_OUT, TUNING, answered, printed


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--precision", default=DEFAULTS.precision)
    p.add_argument(
        "--kernel-state", action="store_true", help="the prompt tells the kernel's state"
    )
    p.add_argument("--auto-fix", type=int, default=DEFAULTS.auto_fix, help="tries at a raise")
    p.add_argument("--set", choices=["tuning", "held-out", "both"], default="both")
    p.add_argument("--formats", default="paper,chat")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--tokenizer", default="", help="a model server's tokenizer folder")
    args = p.parse_args()
    sets = {"tuning": TUNING, "held-out": HELD_OUT, "both": TUNING + HELD_OUT}[args.set]
    server = ServerOptions(tokenizer=args.tokenizer)
    model = load_model(args.model, device="cpu", precision=args.precision, server=server)
    params = SamplingParams(max_new_tokens=DEFAULTS.max_new_tokens)
    summary = {}
    for fmt in args.formats.split(","):
        passed = []
        for case in sets:
            with Kernel() as kernel:
                session = Session(
                    model,
                    kernel,
                    run_timeout=20,
                    prompt_format=fmt,
                    auto_fix=args.auto_fix,
                    read_state=read_state if args.kernel_state else None,
                )
                for instruction in case.turns:
                    turn = finish(session.add_turn(instruction, params))
                    if args.verbose:
                        print(f"[{fmt}] {instruction}\n{turn.code}\n-> {turn.status}", flush=True)
                last = session.turns[-1]
                ok = answered(printed(last.outputs), case.expected)
            verdict = "PASS" if ok else "fail"
            statuses = [t.status for t in session.turns]
            shown = printed(last.outputs)[-60:]
            print(f"{fmt:5} {verdict} {case.name}: {shown!r} statuses={statuses}", flush=True)
            passed.append(ok)
        summary[fmt] = f"{sum(passed)} of {len(passed)}"
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
